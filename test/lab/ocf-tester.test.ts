// resource-agents' own conformance tool against ocf:heartbeat:lvs in a lab director, and what it
// leaves on the system afterwards (its last step is a stop).
import assert from 'node:assert/strict';
import { defaultSpec, Topology } from '../../lab';
import { BOOT_TIMEOUT_MS, labKernel } from '../support/lab';
import { AGENT, reset, setSysctls, show, snapshot, VIP } from '../support/lvs-agent';

describe('ocf-tester against ocf:heartbeat:lvs', function () {
  let topo: Topology;
  before(async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    topo = await Topology.create(await labKernel(), defaultSpec(1, 0));
  });
  after(async function () {
    this.timeout(60_000);
    await topo?.destroy();
  });

  it('passes all tests, promote and demote included, and leaves the system as it found it', async function () {
    this.timeout(400_000);
    await reset(topo, 'd1');
    // Not the defaults, so that a restore to defaults would show.
    await setSysctls(topo, 'd1', {
      'net.ipv4.conf.all.arp_ignore': '2',
      'net.ipv4.conf.all.arp_announce': '1',
      'net.ipv4.conf.lo.arp_announce': '1',
    });
    const before = await snapshot(topo, 'd1');
    const r = await topo.exec('d1', ['ocf-tester', '-n', 'lvs', '-o', `vip=${VIP}`, '-o', 'nic=eth0', AGENT], {
      env: { OCF_ROOT: '/usr/lib/ocf' },
      timeoutMs: 360_000,
    });
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 0, show(r));
    assert.match(out, /lvs passed all tests/, show(r));
    assert.doesNotMatch(out, /does not support promotable clones|partially supports|does not support the (promote|demote) action/, show(r));
    assert.deepEqual(await snapshot(topo, 'd1'), before, `ocf-tester's final stop must leave the system as found\n${out}`);
  });
});
