// Two VIPs promoted on different directors (lab/directors.ts, layout 'two-vips'): lvs for
// 198.51.100.100 from `lvskit bootstrap --apply`, lvs2 for .101 added by scenario 1 to the running
// cluster, under client load, by a second run with both VIPs and --placement spread, which promotes
// it on the other director. Each director forwards one VIP and is a DR real server (VIP on lo, ARP hidden) for
// the other; r1 serves both. The client requests both VIPs every 100 ms; the sampler watches both
// directors and who answers ARP for each VIP. A looping packet (a director balancing again what the
// other sent it) shows as a timeout, or as IPVS connection entries for the same client connection
// on both directors.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SECOND_LVS } from '../../lab/directors';
import { outage } from '../../lab/load';
import { ipvsConnections, labNow, servicesFor, vipOn } from '../../lab/observe';
import { crmMon, pacemakerLog, promotedNode, summary } from '../../lab/pacemaker';
import { answeredByAll, assertSampledInvariants, failoverFile, until } from '../support/failover';

describe('two VIPs promoted on different directors, each a real server for the other (lab)', function () {
  const f = failoverFile({ layout: 'two-vips', secondVipLater: true }, 'every VIP');
  const { cluster: c, topo, sampler: smp, since } = f;
  /** The director of each VIP. */
  const holder = new Map<string, string>();

  it('1. bootstrap --apply adds the second VIP to the running cluster: promoted once, on the other director; the first VIP keeps its director, pacemaker starts or stops nothing of lvs or lvsd, its client is not interrupted', async function () {
    this.timeout(2_000_000); // bootstrap's 1200 s limit and two waits for a promotion
    const first = c().vips[0]!;
    const before = await c().promoted();
    assert.ok(before, 'lvs is promoted before the second VIP is added');
    const t0 = await labNow(topo().kernel);
    const p2 = await c().addSecondVip();
    const t1 = await labNow(topo().kernel);
    console.log(`      ${SECOND_LVS} promoted on ${p2} ${((t1 - t0) / 1000).toFixed(1)} s after bootstrap began; lvs on ${before}`);
    assert.notEqual(p2, before, `${SECOND_LVS} is promoted on the other director`);
    assert.equal(await c().promoted(), before, `lvs stays promoted on ${before}`);
    const acted = /Requesting local execution of (start|stop|promote|demote) operation for (lvs|lvsd)(?::\d+)? on /;
    for (const d of c().directors) {
      const lines = (await pacemakerLog(topo(), d, t0)).map((l) => l.text).filter((t) => acted.test(t));
      assert.deepEqual(lines, [], `no start, stop, promote or demote of lvs or lvsd on ${d} while the VIP was added`);
    }
    // Created with its placement in one CIB change: promoted once, where it stays (never beside lvs first).
    const moved = new RegExp(`Requesting local execution of (promote|demote|stop) operation for ${SECOND_LVS}(?::\\d+)? on `);
    const logs = await Promise.all(c().directors.map((d) => pacemakerLog(topo(), d, t0)));
    const moves = logs.flat().map((l) => l.text).filter((t) => moved.test(t));
    assert.deepEqual(moves.map((t) => moved.exec(t)![1]), ['promote'], `${SECOND_LVS} promoted once and never demoted or stopped: ${moves.join(' | ')}`);
    // An interruption of the first VIP (its lvs demoted and promoted again) is seconds of failed
    // requests in UML; the guest's one CPU, busy with pcs, may starve the odd request past its limit.
    const samples = await f.load(first).samples();
    const window = samples.filter((x) => x.at > t0 && x.at < t1);
    const failed = window.filter((x) => !x.ok);
    const run = outage(samples, t0, t1 - t0);
    console.log(`      ${first}: ${window.length - failed.length}/${window.length} requests answered while the second VIP was added, longest run of failures ${Math.round(run.ms ?? Infinity)} ms`);
    assert.ok(window.length >= 20, `requests through ${first} while the second VIP was added: ${window.length}`);
    assert.ok(failed.length <= window.length * 0.1, `at most 10 % of the requests through ${first} fail: ${failed.length} of ${window.length}`);
    assert.ok(run.ms !== undefined && run.ms < 3000, `no run of failed requests through ${first} of 3 s or more: ${run.ms === undefined ? 'not over' : `${Math.round(run.ms)} ms`} (${run.failed} requests)`);
    await assertSampledInvariants(smp(), topo(), since());
  });

  it('2. each VIP is promoted on its own director, on its NIC there and on lo (ARP hidden) on the other, its services only where it is held', async function () {
    this.timeout(300_000);
    const view = await crmMon(topo(), c().directors[0]!);
    for (const vip of c().vips) {
      const id = c().lvsOf(vip);
      const p = view ? promotedNode(view, id) : undefined;
      assert.ok(p, `${id} (${vip}) is promoted: ${summary(view)}`);
      holder.set(vip, p);
    }
    const [a, b] = c().vips.map((v) => holder.get(v)!);
    assert.notEqual(a, b, `the VIPs are promoted on different directors: ${summary(view)}`);
    assert.equal(SECOND_LVS, c().lvsOf(c().vips[1]!));
    for (const vip of c().vips) {
      const director = holder.get(vip)!;
      const peer = c().directors.find((d) => d !== director)!;
      assert.deepEqual(await vipOn(topo(), director, 'eth0', vip), [24], `${vip} on ${director}'s eth0`);
      assert.deepEqual(await vipOn(topo(), peer, 'lo', vip), [32], `${vip} on ${peer}'s lo (a real server for it)`);
      assert.deepEqual(await vipOn(topo(), peer, 'eth0', vip), [], `${vip} not on ${peer}'s eth0`);
      await until(`${director} to have ${vip}'s service`, 120_000, async () => ((await servicesFor(topo(), director, vip)).length > 0 ? true : undefined));
      assert.deepEqual(await servicesFor(topo(), peer, vip), [], `no service for ${vip} on ${peer}`);
    }
    await assertSampledInvariants(smp(), topo(), since());
  });

  it('3. requests to both VIPs reach the real servers on both sides, with no loop', async function () {
    this.timeout(300_000);
    const servers = [...c().directors, ...c().reals];
    const t0 = await labNow(topo().kernel);
    for (const vip of c().vips) await answeredByAll(f.load(vip), servers, t0);
    // A settled window: a loop would time out every request sent to the peer director (a third of
    // them); UML's one CPU, shared with pacemaker, may starve the odd request past its 1 s limit.
    await sleep(10_000);
    // Connections the table already holds (the second VIP may have moved once right after it was
    // added, docs/bootstrap.md: a connection open across that move is in both tables, as across any
    // failover) are left out; a loop shows in the connections made from now on.
    const [d1, d2] = c().directors as [string, string];
    const conns = async (d: string) => new Set((await ipvsConnections(topo(), d)).filter((x) => c().vips.some((v) => x.virtual.startsWith(`${v}:`))).map((x) => `${x.client} ${x.virtual}`));
    const known = new Set([...(await conns(d1)), ...(await conns(d2))]);
    const t1 = await labNow(topo().kernel);
    await sleep(10_000);
    for (const vip of c().vips) {
      const window = (await f.load(vip).samples()).filter((x) => x.at > t1 && x.at < t1 + 9_000);
      assert.ok(window.length >= 20, `requests through ${vip} in 9 s: ${window.length}`);
      const failed = window.filter((x) => !x.ok);
      console.log(`      ${vip}: ${window.length - failed.length}/${window.length} requests answered in 9 s`);
      assert.ok(failed.length <= window.length * 0.1, `at most 10 % of the requests through ${vip} fail: ${failed.map((x) => `${x.status} after ${Math.round(x.ms)} ms`).join(', ')}`);
    }
    // No new client connection is in both directors' IPVS tables: each VIP is balanced once.
    const fresh = async (d: string) => new Set([...(await conns(d))].filter((x) => !known.has(x)));
    const on1 = await fresh(d1);
    const on2 = await fresh(d2);
    const both = [...on1].filter((x) => on2.has(x));
    assert.ok(on1.size > 0 && on2.size > 0, `both directors balanced new connections (${on1.size} on ${d1}, ${on2.size} on ${d2}; ${known.size} older left out)`);
    assert.deepEqual(both.slice(0, 5), [], `no connection balanced by both directors (${both.length})`);
    await assertSampledInvariants(smp(), topo(), since());
  });

  it('4. the director of the second VIP dies: the survivor holds both VIPs (spread keeps them apart only while it can), requests to both resume', async function () {
    this.timeout(480_000);
    const second = c().vips[1]!;
    const dead = holder.get(second);
    assert.ok(dead, 'the directors are known (the scenarios before passed)');
    const survivor = c().directors.find((d) => d !== dead)!;
    const t = await c().failover(f.load(second), 'kill', { vip: second, node: dead, sampler: smp() });
    console.log(`      ${second}: ${dead} killed, ${SECOND_LVS} promoted on ${t.promoted ?? 'none'}, outage ${t.outage.ms ?? '?'} ms`);
    assert.equal(t.promoted, survivor, `${SECOND_LVS} is promoted on ${survivor}: ${JSON.stringify(t)}`);
    assert.ok(t.outage.ms !== undefined, `requests through ${second} resume`);
    const view = await crmMon(topo(), survivor);
    const t0 = await labNow(topo().kernel);
    for (const vip of c().vips) {
      assert.equal(view ? promotedNode(view, c().lvsOf(vip)) : undefined, survivor, `${c().lvsOf(vip)} (${vip}) promoted on ${survivor}: ${summary(view)}`);
      assert.deepEqual(await vipOn(topo(), survivor, 'eth0', vip), [24], `${vip} on ${survivor}'s eth0`);
      await until(`${survivor} to have ${vip}'s service`, 120_000, async () => ((await servicesFor(topo(), survivor, vip)).length > 0 ? true : undefined));
      await until(`answers through ${vip} after the failover`, 60_000, async () => ((await f.load(vip).samples()).some((x) => x.at > t0 && x.ok) ? true : undefined));
    }
    await assertSampledInvariants(smp(), topo(), since());
  });
});
