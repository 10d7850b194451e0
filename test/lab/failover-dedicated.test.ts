// Dedicated directors on real corosync + pacemaker (lab/directors.ts, layout 'dedicated'): two
// directors that are not real servers, two real servers, a client sending a request through the VIP
// every 100 ms, the sampler watching both directors' IPVS tables and who answers ARP for the VIP for
// the whole file. Here nothing answers the client unless a director's IPVS table forwards, so
// "requests resume" means "the new director's table forwards". The scenarios share the cluster, in
// order. Outages are printed for the record; assertions bound them generously.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { reviveNode } from '../../lab/faults';
import { clientArp, ipvsTable, labNow, servicesFor, vipOn, vipOnNic } from '../../lab/observe';
import { assertSampledInvariants, failoverFile, printTimeline, RESUME_BOUND_MS, SETTLE_MS, settled, until } from '../support/failover';

describe('failover of dedicated directors (not real servers) on real corosync + pacemaker (lab)', function () {
  const f = failoverFile({ layout: 'dedicated' });
  const { cluster: c, topo, sampler: smp, since } = f;
  const l = () => f.load();
  let first = '';
  let second = '';

  /** The reals (not the directors) that answered requests sent after `at`, waiting until every real has. */
  async function answeredByEveryReal(at: number, what: string): Promise<Set<string>> {
    return until(`answers from ${c().reals.join(', ')} ${what}`, 120_000, async () => {
      const got = new Set((await l().samples()).filter((x) => x.at > at && x.ok).map((x) => x.real));
      return c().reals.every((r) => got.has(r)) ? got : undefined;
    });
  }

  it('1. one director is promoted and forwards to both real servers; the other has no service for the VIP', async function () {
    this.timeout(300_000);
    first = await c().waitPromoted();
    const other = c().directors.find((d) => d !== first)!;
    await settled(c(), first, { promoted: first, unpromoted: [other] });
    assert.deepEqual(await vipOnNic(topo()), [first], `only ${first} holds the VIP on its NIC`);
    const reals = c().reals.map((r) => `${topo().node(r).ip}:80`).sort();
    await until(`both reals at weight 1 in ${first}'s table`, 120_000, async () => {
      const v = (await ipvsTable(topo(), first)).find((x) => x.service === `TCP ${c().vip}:80`);
      return v && v.reals.map((r) => r.address).sort().join() === reals.join() && v.reals.every((r) => r.weight === 1) ? true : undefined;
    });
    assert.deepEqual(await servicesFor(topo(), other), [], `no IPVS service for the VIP on ${other}`);
    const answered = await answeredByEveryReal(since(), 'through the VIP');
    assert.ok(c().directors.every((d) => !answered.has(d)), `the directors do not serve: ${[...answered].join(', ')}`);
    await assertSampledInvariants(smp(), topo(), since());
  });

  it('2. the promoted director dies: the other is promoted, requests resume through its table; no loop, one ARP answer, at every sample', async function () {
    this.timeout(600_000);
    assert.ok(first, 'the promoted director is known (test 1 passed)');
    // Leaves: `first` dead, `second` promoted.
    const t = await c().failover(l(), 'kill', { node: first, sampler: smp() });
    printTimeline('dedicated directors, promoted director killed', t);
    assert.ok(t.promoted && t.promoted !== first, `the other director is promoted: ${JSON.stringify(t.promoted)}`);
    second = t.promoted;
    assert.ok(t.outage.ms !== undefined && t.outage.ms < RESUME_BOUND_MS, `requests resume within ${RESUME_BOUND_MS / 1000} s: ${JSON.stringify(t.outage)}`);
    assert.deepEqual(await vipOn(topo(), second, 'eth0'), [24], `the VIP on ${second}'s eth0`);
    assert.equal((await clientArp(topo()))?.mac, topo().node(second).mac, `the client's ARP entry names ${second}`);
    // Only a table forwards here: answers from the reals after the outage came through the new director's.
    const answered = await answeredByEveryReal(t.outage.firstOkAfter!, 'after the outage');
    assert.ok(!answered.has(second), `${second} does not serve itself`);
    const after = (await l().samples()).filter((x) => x.ok && x.at >= t.outage.firstOkAfter!);
    assert.ok(after.every((x) => x.mac === topo().node(second).mac), 'every answer after the outage went through the new director');
    assert.ok((await servicesFor(topo(), second)).length > 0, `${second} has the VIP's services`);
    await assertSampledInvariants(smp(), topo(), since());
  });

  it('3. the dead director returns: unpromoted, without services for the VIP, no preemption; one ARP answer throughout', async function () {
    this.timeout(600_000);
    assert.ok(first, 'the promoted director is known (test 1 passed)');
    await reviveNode(topo(), first);
    await settled(c(), first, { promoted: second, unpromoted: [first] });
    await sleep(10_000);
    await settled(c(), second, { promoted: second, unpromoted: [first] }, SETTLE_MS);
    assert.deepEqual(await vipOnNic(topo()), [second], `only ${second} holds the VIP on its NIC`);
    assert.deepEqual(await vipOn(topo(), first, 'lo'), [32], `${first} has the VIP on lo (unpromoted)`);
    assert.deepEqual(await servicesFor(topo(), first), [], `no IPVS service for the VIP on ${first}`);
    const t0 = await labNow(topo().kernel);
    await answeredByEveryReal(t0, 'with both directors up');
    await assertSampledInvariants(smp(), topo(), since());
  });
});
