import assert from 'node:assert/strict';
import { UsageError } from '../../../src/errors';
import { parseLdirectordArgs } from '../../../src/ldirectord/cli';

describe('ldirectord/cli: the ldirectord command line', () => {
  it('defaults to /etc/ha.d/ldirectord.cf', () => {
    assert.deepEqual(parseLdirectordArgs(['start']), { debug: false, configfile: '/etc/ha.d/ldirectord.cf', command: 'start' });
  });

  it('resolves a bare config name in /etc/ha.d and keeps a path', () => {
    assert.equal((parseLdirectordArgs(['web.cf', 'reload']) as { configfile: string }).configfile, '/etc/ha.d/web.cf');
    assert.equal((parseLdirectordArgs(['/srv/x.cf', 'status']) as { configfile: string }).configfile, '/srv/x.cf');
  });

  it('accepts -d and every LSB command ldirectord has', () => {
    for (const c of ['start', 'stop', 'restart', 'try-restart', 'reload', 'force-reload', 'status']) {
      assert.deepEqual(parseLdirectordArgs(['-d', c]), { debug: true, configfile: '/etc/ha.d/ldirectord.cf', command: c });
    }
  });

  it('rejects unknown commands and options with a usage error', () => {
    assert.throws(() => parseLdirectordArgs(['bounce']), (e) => e instanceof UsageError && /unknown command 'bounce'/.test(e.message));
    assert.throws(() => parseLdirectordArgs(['-x', 'start']), (e) => e instanceof UsageError && /unknown option '-x'/.test(e.message));
    assert.throws(() => parseLdirectordArgs([]), UsageError);
    assert.throws(() => parseLdirectordArgs(['a', 'b', 'start']), UsageError);
  });
});
