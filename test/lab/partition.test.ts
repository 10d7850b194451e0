// A partition of three directors on real corosync + pacemaker (lab): the seeds' layout with three
// directors, corosync on the LAN, the cluster built by `lvskit bootstrap --apply` (no fencing: the
// lab has no fence device; quorum alone must keep the partition safe). The promoted director is
// partitioned from the other two: its switch ports leave the bridge, its NIC keeps carrier and every
// process keeps running, so no link watcher helps: only quorum tells it to give the VIP up
// (no-quorum-policy=demote, which bootstrap sets). The sampler watches who answers ARP for the VIP
// from the client's side every ~100 ms for the whole file: never two, exactly one once the cluster
// has settled, and still one after the partition heals.
import assert from 'node:assert/strict';
import { rejoin } from '../../lab/faults';
import { labNow as labClock, vipOn, vipOnNic } from '../../lab/observe';
import { assertSampledInvariants, explain, failoverFile, printTimeline, RESUME_BOUND_MS, settled, SETTLE_MS, until } from '../support/failover';
import { handover, oneDirectorFor, quorum, wholeAgain } from '../support/partition';

describe('a partition of three directors: one director answers for the VIP, before, during and after (lab)', function () {
  // lvsd checks every 5 s, not 1 s: three directors, four HTTP servers and pacemaker share one CPU, and
  // with 1 s the monitors after the heal outran their 30 s timeout.
  const f = failoverFile({ layout: 'seeds', directors: 3, reals: 1, checkInterval: 5 });
  const { cluster: c, topo, sampler: smp } = f;
  const labNow = () => labClock(topo().kernel);
  let first = '';
  let promoted = '';
  let partitionedAt = 0;

  it('1. three directors, one promoted: the VIP on its NIC, no-quorum-policy=demote, the cluster quorate', async function () {
    this.timeout(240_000);
    first = await c().waitPromoted();
    assert.deepEqual(await vipOnNic(topo()), [first], `only ${first} holds the VIP on its NIC`);
    const policy = await topo().run(first, ['crm_attribute', '-t', 'crm_config', '-n', 'no-quorum-policy', '-G', '-q']);
    assert.equal(policy.trim(), 'demote', 'bootstrap set no-quorum-policy=demote');
    for (const d of c().directors) assert.ok((await quorum(c(), d)).quorate, `${d} is quorate`);
    await oneDirectorFor(c(), smp(), first, 5000);
  });

  it('2. the promoted director is partitioned from the other two: they promote one of them; the partitioned one loses quorum and gives the VIP up', async function () {
    this.timeout(600_000);
    assert.ok(first, 'the promoted director is known (test 1 passed)');
    const others = c().directors.filter((d) => d !== first);
    const t = await c().failover(f.load(), 'isolate', { node: first, sampler: smp() });
    partitionedAt = t.faultAt;
    printTimeline('promoted director partitioned from the other two', t);
    if (!t.promoted || !others.includes(t.promoted)) assert.fail(`one of ${others.join(', ')} must be promoted, not ${t.promoted ?? 'none'}\n${await explain(c(), t.faultAt)}`);
    promoted = t.promoted;
    assert.ok(t.outage.ms !== undefined && t.outage.ms < RESUME_BOUND_MS, `requests resume within ${RESUME_BOUND_MS / 1000} s: ${JSON.stringify(t.outage)}`);

    // The partitioned director: no quorum, so its lvs is demoted: the VIP on lo, not on eth0.
    await until(`${first} to drop the VIP from its eth0 without quorum`, SETTLE_MS, async () => ((await vipOn(topo(), first, 'eth0')).length === 0 ? true : undefined), 1000).catch(
      async (err: Error) => assert.fail(`${err.message}\n${await explain(c(), t.faultAt)}`),
    );
    assert.equal((await quorum(c(), first)).quorate, false, `${first} has lost quorum`);
    for (const d of others) assert.ok((await quorum(c(), d)).quorate, `${d} is quorate (two of three)`);
    await until(`${first} to be a real server (VIP on lo)`, SETTLE_MS, async () => ((await vipOn(topo(), first, 'lo')).join() === '32' ? true : undefined), 1000);
    const h = await handover(smp(), c().vip, first, promoted, t.faultAt);
    const rel = (at: number | undefined) => (at === undefined ? 'not seen by the sampler' : `${((at - t.faultAt) / 1000).toFixed(2)} s after the partition`);
    console.log(`      ${first} (no quorum) dropped the VIP from eth0 ${rel(h.droppedAt)}; ${promoted} took it ${rel(h.takenAt)}; both held it ${h.overlapMs} ms (the client could reach only ${promoted})`);

    await oneDirectorFor(c(), smp(), promoted, 10_000);
    await assertSampledInvariants(smp(), topo(), f.since());
  });

  it('3. the partition heals: the cluster is whole again, the VIP stays where it is, one director answers for it', async function () {
    this.timeout(600_000);
    assert.ok(promoted, 'the director promoted during the partition is known (test 2 passed)');
    const healedAt = await labNow();
    await rejoin(topo(), first);
    await wholeAgain(c(), promoted);
    const unpromoted = c().directors.filter((d) => d !== promoted);
    await settled(c(), promoted, { promoted, unpromoted });
    await settled(c(), first, { promoted, unpromoted });
    for (const d of c().directors) assert.ok((await quorum(c(), d)).quorate, `${d} is quorate again`);
    await oneDirectorFor(c(), smp(), promoted, 10_000);
    assert.deepEqual(await vipOn(topo(), first, 'lo'), [32], `${first} is a real server (VIP on lo)`);
    console.log(`      one cluster again ${(((await labNow()) - healedAt) / 1000).toFixed(1)} s after the partition healed; ${promoted} still the director`);
    // From the partition to now: never two directors answering ARP for the VIP.
    await assertSampledInvariants(smp(), topo(), partitionedAt);
  });
});
