// Corosync on its own network (lab/directors.ts, layout 'dedicated' with corosyncNetwork): each
// director has eth1 on a second bridge (203.0.113.0/24) that carries corosync's ring, and the VIP on
// eth0, the client's LAN. When the promoted director's eth0 loses link the cluster stays whole, so
// only lvskit can notice: another director must be promoted and the cut one must drop its VIP, and
// when the link returns there must be one director. The sampler watches both directors and who
// answers ARP for the VIP for the whole file. Outages are printed for the record.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { restoreLink } from '../../lab/faults';
import { clientArp, labNow, servicesFor, vipOn, vipOnNic } from '../../lab/observe';
import { allOnline, crmMon, summary } from '../../lab/pacemaker';
import { firstWithout } from '../../lab/sampler';
import { RING } from '../../lab/topology';
import { assertPromoted, assertSampledInvariants, failoverFile, printTimeline, RESUME_BOUND_MS, settled, until } from '../support/failover';

describe('failover with corosync on its own network, the VIP\'s NIC losing link (lab)', function () {
  const f = failoverFile({ layout: 'dedicated', corosyncNetwork: true });
  const { cluster: c, topo, sampler: smp, since } = f;
  const l = () => f.load();
  let first = '';
  let other = '';

  /** Both directors online in one cluster, as `from` sees it. */
  async function whole(from: string): Promise<void> {
    const v = await crmMon(topo(), from);
    assert.ok(v && allOnline(v, c().directors), `${from} sees every director online: ${summary(v)}`);
  }

  it('1. corosync\'s ring runs on eth1 (203.0.113.0/24), the VIP on the promoted director\'s eth0', async function () {
    this.timeout(120_000);
    first = await c().waitPromoted();
    other = c().directors.find((d) => d !== first)!;
    for (const d of c().directors) {
      const ring = await topo().run(d, ['corosync-cmapctl', '-g', `nodelist.node.${c().directors.indexOf(d)}.ring0_addr`]);
      assert.match(ring, new RegExp(`= ${topo().node(d).ringIp!.replaceAll('.', '\\.')}$`, 'm'), `${d}'s ring address is on the cluster network`);
      assert.ok(topo().node(d).ringIp!.startsWith(RING.subnet.split('.').slice(0, 3).join('.')));
    }
    await whole(first);
    assert.deepEqual(await vipOnNic(topo()), [first], `only ${first} holds the VIP on its NIC`);
    await assertSampledInvariants(smp(), topo(), since());
  });

  it('2. the promoted director\'s eth0 loses link: the cluster stays whole, the other director is promoted, the cut one drops its VIP', async function () {
    this.timeout(600_000);
    assert.ok(first, 'the promoted director is known (test 1 passed)');
    const t = await c().failover(l(), 'cut', { node: first, sampler: smp() });
    printTimeline('corosync on eth1, the promoted director\'s eth0 lost link', t);
    await assertPromoted(c(), t, other);
    assert.ok(t.outage.ms !== undefined && t.outage.ms < RESUME_BOUND_MS, `requests resume within ${RESUME_BOUND_MS / 1000} s: ${JSON.stringify(t.outage)}`);
    assert.deepEqual(await vipOn(topo(), other, 'eth0'), [24], `the VIP on ${other}'s eth0`);
    // The cut director gives the VIP up by itself; when, the sampler says.
    await until(`${first} to drop the VIP from its eth0`, 180_000, async () => ((await vipOn(topo(), first, 'eth0')).length === 0 ? true : undefined), 1000);
    const dropped = firstWithout(await smp().ticks(), first, c().vip, 'eth0', t.faultAt);
    console.log(`      the cut director ${first} dropped the VIP from eth0 ${dropped ? `${Math.round(dropped.at - t.faultAt)} ms after the cut (first sample without it; samples every ~100 ms)` : '(not seen by the sampler)'}`);
    // The cluster never split: corosync's ring is on eth1.
    await whole(first);
    await whole(other);
    await assertSampledInvariants(smp(), topo(), since());
  });

  it('3. when the link returns there is one director: the cut one is an unpromoted candidate, the client stays with the new director', async function () {
    this.timeout(600_000);
    assert.ok(first, 'the promoted director is known (test 1 passed)');
    await restoreLink(topo(), first);
    await settled(c(), other, { promoted: other, unpromoted: [first] });
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await vipOnNic(topo()), [other], `exactly one director (${other}) holds the VIP on its NIC after the link returned`);
      await sleep(2000);
    }
    assert.deepEqual(await vipOn(topo(), first, 'lo'), [32], `${first} has the VIP on lo (unpromoted)`);
    assert.deepEqual(await servicesFor(topo(), first), [], `no IPVS service for the VIP on ${first}`);
    assert.equal((await clientArp(topo()))?.mac, topo().node(other).mac, `the client's ARP entry names ${other}`);
    const t0 = await labNow(topo().kernel);
    await until('answers after the link returned', 60_000, async () => ((await l().samples()).some((x) => x.at > t0 && x.ok) ? true : undefined));
    await assertSampledInvariants(smp(), topo(), since());
  });
});
