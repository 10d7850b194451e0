import assert from 'node:assert/strict';
import { chooseTarget } from '../../../src/checker/log';

describe('checker/log: where lvsd logs', () => {
  const file = '/var/log/ldirectord.log';
  it('supervised=yes in the foreground: stdout, as ldirectord (for daemontools)', () => {
    assert.deepEqual(chooseTarget(file, { debug: false, detached: false, supervised: true, env: {} }), { kind: 'stdout' });
  });
  it('systemd\'s journal and -d come first; a detached lvsd (stdout is /dev/null) keeps its logfile', () => {
    assert.deepEqual(chooseTarget(file, { debug: false, detached: false, supervised: true, env: { JOURNAL_STREAM: '8:1' } }), { kind: 'journal' });
    assert.deepEqual(chooseTarget(file, { debug: true, detached: false, supervised: true, env: {} }), { kind: 'stderr' });
    assert.deepEqual(chooseTarget(file, { debug: false, detached: true, supervised: true, env: {} }), { kind: 'file', path: file });
    assert.deepEqual(chooseTarget('local0', { debug: false, detached: true, supervised: false, env: {} }), { kind: 'syslog', facility: 'local0' });
  });
});
