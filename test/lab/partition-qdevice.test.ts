// Two directors and a quorum device on real corosync + pacemaker (lab): the seeds' layout with
// corosync's ring on its own network (eth1, bridge ha0) and corosync-qnetd on a third host on the
// LAN (lab/directors.ts `qdevice`), built by `lvskit bootstrap --apply --qdevice …` (no fencing: the
// lab has none). The ring between the directors is cut (d2's eth1 loses link); both still reach the
// LAN, the client and the quorum device, so each half asks the device. ffsplit votes for one half
// only, the one with the lowest node id (d1) in a 50:50 split (corosync-qdevice(8), tie_breaker);
// the test makes d2 the promoted director first, so that the half that loses quorum is the one
// holding the VIP: it must give it up (no-quorum-policy=demote, set by bootstrap) and d1 take it.
import assert from 'node:assert/strict';
import { QNETD_NODE } from '../../lab/directors';
import { pacemakerEvents, recordFailover } from '../../lab/failover';
import { cutLink, restoreLink } from '../../lab/faults';
import { labNow as labClock, vipOn } from '../../lab/observe';
import { LAN } from '../../lab/topology';
import { assertSampledInvariants, explain, failoverFile, printTimeline, RESUME_BOUND_MS, settled, SETTLE_MS, until } from '../support/failover';
import { handover, oneDirectorFor, quorum, wholeAgain } from '../support/partition';

describe('two directors and a quorum device: the ring between them cut, one director keeps the VIP (lab)', function () {
  const f = failoverFile({ layout: 'seeds', directors: 2, reals: 1, corosyncNetwork: true, qdevice: true });
  const { cluster: c, topo, sampler: smp } = f;
  const labNow = () => labClock(topo().kernel);
  const [D1, D2] = ['d1', 'd2'];

  it('1. the cluster counts the quorum device\'s vote: 3 votes expected, two_node off, no-quorum-policy=demote; bootstrap found the device in place', async function () {
    this.timeout(240_000);
    await c().waitPromoted();
    for (const d of c().directors) {
      const q = await quorum(c(), d);
      assert.ok(q.quorate, `${d} is quorate`);
      assert.match(q.text, /^Expected votes:\s+3$/m, `${d}: two nodes and the device`);
      assert.match(q.text, /^Total votes:\s+3$/m, `${d}: the device votes`);
      assert.match(q.text, /^Flags:.*\bQdevice\b/m, `${d}: corosync-quorumtool shows the device`);
      assert.doesNotMatch(q.text, /\b2Node\b/, `${d}: two_node is off`);
    }
    assert.match(await topo().run(D1, ['crm_attribute', '-t', 'crm_config', '-n', 'no-quorum-policy', '-G', '-q']), /^demote\s*$/);
    assert.match(c().bootstrapOutput, new RegExp(`quorum device: corosync-qnetd on ${LAN.qnetd.replaceAll('.', '\\.')}, algorithm ffsplit`));
    const qnetd = await topo().run(QNETD_NODE, ['corosync-qnetd-tool', '-l']);
    assert.match(qnetd, /Cluster "lab":/, `corosync-qnetd on ${QNETD_NODE} serves the cluster: ${qnetd}`);
  });

  it('2. d2 is the promoted director (d1 in standby for a moment if it was d1): the director on the side the device will not vote for', async function () {
    this.timeout(SETTLE_MS * 3);
    if ((await c().promoted()) === D1) {
      await topo().run(D1, ['crm_attribute', '-N', D1, '-n', 'standby', '-v', 'on']);
      await c().waitPromoted({ not: D1, timeoutMs: SETTLE_MS });
      await topo().run(D1, ['crm_attribute', '-N', D1, '-n', 'standby', '-v', 'off']);
    }
    await settled(c(), D1, { promoted: D2, unpromoted: [D1] });
    await c().waitChecker(D1);
    await oneDirectorFor(c(), smp(), D2, 5000);
  });

  it('3. the ring between the directors is cut: d2 loses quorum and gives the VIP up, d1 keeps quorum through the device and takes it', async function () {
    this.timeout(600_000);
    const t = await recordFailover(topo(), f.load(), {
      node: D2,
      fault: 'lost its link to d1 (eth1, corosync\'s ring, down; the LAN and the quorum device still reachable)',
      inject: () => cutLink(topo(), D2, 'eth1'),
      promoted: () => c().promoted([D1]),
      settle: (p) => c().waitChecker(p),
      details: async (p, since) => [...(await pacemakerEvents(topo(), p, since)), ...(await pacemakerEvents(topo(), D2, since))],
      sampler: smp(),
    });
    printTimeline('the ring between the directors cut, the promoted director on the losing side', t);
    if (t.promoted !== D1) assert.fail(`${D1} must be promoted, not ${t.promoted ?? 'none'}\n${await explain(c(), t.faultAt)}`);
    assert.ok(t.outage.ms !== undefined && t.outage.ms < RESUME_BOUND_MS, `requests resume within ${RESUME_BOUND_MS / 1000} s: ${JSON.stringify(t.outage)}`);
    await until(`${D2} to drop the VIP from its eth0 without quorum`, SETTLE_MS, async () => ((await vipOn(topo(), D2, 'eth0')).length === 0 ? true : undefined), 1000).catch(
      async (err: Error) => assert.fail(`${err.message}\n${await explain(c(), t.faultAt)}`),
    );
    assert.equal((await quorum(c(), D2)).quorate, false, `${D2} has lost quorum`);
    assert.ok((await quorum(c(), D1)).quorate, `${D1} is quorate: its own vote and the device's`);
    await until(`${D2} to be a real server (VIP on lo)`, SETTLE_MS, async () => ((await vipOn(topo(), D2, 'lo')).join() === '32' ? true : undefined), 1000);
    const h = await handover(smp(), c().vip, D2, D1, t.faultAt);
    const rel = (at: number | undefined) => (at === undefined ? 'not seen by the sampler' : `${((at - t.faultAt) / 1000).toFixed(2)} s after the cut`);
    console.log(`      ${D2} (no quorum) dropped the VIP from eth0 ${rel(h.droppedAt)}; ${D1} took it ${rel(h.takenAt)}; both held it ${h.overlapMs} ms`);
    await oneDirectorFor(c(), smp(), D1, 10_000);
    await assertSampledInvariants(smp(), topo(), f.since());
  });

  it('4. the ring returns: one cluster, d1 still the director, d2 a real server', async function () {
    this.timeout(600_000);
    const back = await labNow();
    await restoreLink(topo(), D2, 'eth1');
    await wholeAgain(c(), D1);
    await settled(c(), D1, { promoted: D1, unpromoted: [D2] });
    await settled(c(), D2, { promoted: D1, unpromoted: [D2] });
    for (const d of c().directors) assert.ok((await quorum(c(), d)).quorate, `${d} is quorate again`);
    await oneDirectorFor(c(), smp(), D1, 10_000);
    console.log(`      one cluster again ${(((await labNow()) - back) / 1000).toFixed(1)} s after the ring returned`);
    await assertSampledInvariants(smp(), topo(), f.since());
  });
});
