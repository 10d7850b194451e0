import assert from 'node:assert/strict';
import { policyGivesUp, policyOf, quorateIn } from '../../../src/pacemaker/quorum';

describe('pacemaker/quorum: this node\'s quorum as corosync reports it', () => {
  it('reads the Quorate line of corosync-quorumtool -m (captured from corosync 3.1.7) and nothing else', () => {
    const block = [
      'Quorum information', '------------------', 'Date:             Thu Dec  3 13:31:57 2026', 'Quorum provider:  corosync_votequorum',
      'Nodes:            1', 'Node ID:          1', 'Ring ID:          1.5', 'Quorate:          Yes', '', 'Votequorum information',
      'Flags:            Quorate ',
    ];
    assert.deepEqual(block.map(quorateIn).filter((x) => x !== undefined), [true]);
    assert.equal(quorateIn('Quorate:          No'), false);
  });

  it('gives the VIP up under every no-quorum-policy that takes the promoted role away', () => {
    for (const p of ['stop', 'demote', 'fence', 'suicide']) assert.equal(policyGivesUp(p), true, p);
    for (const p of ['ignore', 'freeze']) assert.equal(policyGivesUp(p), false, p);
  });

  it('reads no-quorum-policy: the value, stop when it is not set (exit 105), unknown when crm_attribute fails otherwise', () => {
    assert.equal(policyOf(0, 'demote\n'), 'demote');
    assert.equal(policyOf(105, ''), 'stop');
    assert.equal(policyOf(102, ''), undefined, 'the CIB did not answer');
    assert.equal(policyOf(null, ''), undefined, 'timed out');
  });
});
