import assert from 'node:assert/strict';
import { UsageError } from '../../../src/errors';
import { DIALECTS, dialectOf, vocabulary } from '../../../src/pcs/dialect';

describe('pcs/dialect: pcs --version to a dialect', () => {
  it('maps real pcs --version outputs to their dialect', () => {
    // Debian 10 (0.10.1), RHEL 7 (0.9.169), Debian 11 (0.10.8), Debian 12 (0.11.5), RHEL 10 (0.12.0), pre-releases.
    const seen: Record<string, string> = {
      '0.9.169': '0.9',
      '0.9.170\n': '0.9',
      '0.10.1': '0.10',
      '0.10.8': '0.10',
      '0.10.18': '0.10',
      '0.11.5': '0.11',
      '0.11.1.alpha.1': '0.11',
      '0.12.0': '0.12',
      '0.12.0a1': '0.12',
      '0.12.3': '0.12',
      '0.11': '0.11',
    };
    for (const [version, dialect] of Object.entries(seen)) assert.equal(dialectOf(version), dialect, version);
  });

  it('treats a later 0.x as 0.12 and refuses what predates 0.9 or is not a version', () => {
    assert.equal(dialectOf('0.13.1'), '0.12');
    assert.throws(() => dialectOf('0.8.7'), (e) => e instanceof UsageError && /pcs 0\.8\.7 is not supported/.test(e.message));
    assert.throws(() => dialectOf('1.0.0'), UsageError);
    assert.throws(() => dialectOf('pcs'), (e) => e instanceof UsageError && /not a pcs version: 'pcs'/.test(e.message));
    assert.throws(() => dialectOf(''), UsageError);
  });

  it('names the clone and the roles as each pcs writes them (ocf.md §4)', () => {
    assert.deepEqual(
      DIALECTS.map((d) => [d, vocabulary(d).cloneId, vocabulary(d).promoted, vocabulary(d).unpromoted]),
      [
        ['0.9', 'lvs-master', 'Master', 'Slave'],
        ['0.10', 'lvs-clone', 'Master', 'Slave'],
        ['0.11', 'lvs-clone', 'Promoted', 'Unpromoted'],
        ['0.12', 'lvs-clone', 'Promoted', 'Unpromoted'],
      ],
    );
  });
});
