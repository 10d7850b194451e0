// Dual stack on real corosync + pacemaker (lab/directors.ts, layout 'dual-stack'): the seeds' layout
// with IPv6 on every node, built by one `lvskit bootstrap --apply --vip 198.51.100.100 --vip
// 2001:db8::100/64 --sync-interface eth0` (lvs and lvs2, default placement: one director holds both).
// The client requests both VIPs every 200 ms for the whole file (an IPv4 and an IPv6 client, one
// node); the sampler watches the IPv4 VIP (it speaks ARP only). The IPv6 VIP is read back at each step
// from the nodes themselves: where it sits (ip), the IPVS table, who answers a neighbour solicitation
// (ndisc6), the client's neighbour cache.
import assert from 'node:assert/strict';
import { ECHO_PORT, startChat } from '../../lab/echo';
import { ip6, PREFIX6 } from '../../lab/ipv6';
import { outage } from '../../lab/load';
import { clientArp, ipvsConnections, labNow, servicesFor, vipOn } from '../../lab/observe';
import { crmMon, pacemakerLog, promotedNode, summary } from '../../lab/pacemaker';
import { answeredByAll, assertPromoted, assertSampledInvariants, failoverFile, printTimeline, RESUME_BOUND_MS, until } from '../support/failover';
import { addr6On, ndiscAnswers } from '../support/ipv6';

describe('dual stack: an IPv4 and an IPv6 VIP on one director, failover on real corosync + pacemaker (lab)', function () {
  // Two lvs instances per director (each OCF action is a Node start, ~0.9 s of the one-CPU guest's
  // CPU) beside twice the checks and clients: at lvsd's 1 s interval and a request every 100 ms per
  // VIP the guest ran at a load of 9 and lvs monitors outran their 30 s timeout. Checks every 3 s,
  // a request every 200 ms per VIP.
  const f = failoverFile({ layout: 'dual-stack', syncInterface: 'eth0', checkInterval: 3 }, 'every VIP', 200);
  const { cluster: c, topo, sampler: smp, since } = f;
  const v4 = () => c().vips[0]!;
  const v6 = () => c().vips[1]!;
  /** The director holding both VIPs, set by scenario 1. */
  let holder = '';

  /** Where every VIP is on `director` and `peer`, and their services: held by the director, served as a real server by the peer. */
  async function assertRoles(director: string, peer: string): Promise<void> {
    assert.deepEqual(await vipOn(topo(), director, 'eth0', v4()), [24], `${v4()} on ${director}'s eth0`);
    const six = await addr6On(topo(), director, 'eth0', v6());
    assert.deepEqual(six.map((a) => a.prefix), [PREFIX6], `${v6()}/${PREFIX6} on ${director}'s eth0`);
    assert.ok(six.every((a) => a.nodad && !a.tentative && !a.dadfailed), `${v6()} usable at once on ${director} (no DAD): ${JSON.stringify(six)}`);
    assert.deepEqual(await vipOn(topo(), peer, 'lo', v4()), [32], `${v4()}/32 on ${peer}'s lo`);
    assert.deepEqual(await vipOn(topo(), peer, 'lo', v6()), [128], `${v6()}/128 on ${peer}'s lo`);
    for (const vip of c().vips) {
      assert.deepEqual(await vipOn(topo(), peer, 'eth0', vip), [], `${vip} not on ${peer}'s eth0`);
      await until(`${director} to have ${vip}'s services`, 120_000, async () => ((await servicesFor(topo(), director, vip)).length === 2 ? true : undefined));
      assert.deepEqual(await servicesFor(topo(), peer, vip), [], `no service for ${vip} on ${peer}`);
    }
    // Only the director answers for the IPv6 VIP on the wire (the /128 on a real server's lo is never advertised).
    await until(`one host, ${director}, answering neighbour solicitations for ${v6()}`, 30_000, async () => {
      const macs = await ndiscAnswers(topo(), 'client', v6());
      return macs.length === 1 && macs[0] === topo().node(director).mac ? true : undefined;
    });
  }

  it('1. bootstrap promotes both VIPs on one director: on its eth0 (IPv6 without DAD), on the other director\'s lo, services only where held; status shows each VIP and its role', async function () {
    this.timeout(300_000);
    const view = await crmMon(topo(), c().directors[0]!);
    const p4 = view ? promotedNode(view, c().lvsOf(v4())) : undefined;
    const p6 = view ? promotedNode(view, c().lvsOf(v6())) : undefined;
    assert.ok(p4 && p4 === p6, `lvs (${v4()}) and lvs2 (${v6()}) promoted on one director: ${summary(view)}`);
    holder = p4;
    const peer = c().directors.find((d) => d !== holder)!;
    console.log(`      lvs2's actions so far:\n${(await c().history()).split('\n').filter((l) => /lvs2|^pacemaker on/.test(l)).map((l) => `        ${l}`).join('\n')}`);
    await assertRoles(holder, peer);
    // An instance of an anonymous clone may be named lvs or lvs:0.
    const line = (s: string, id: string) => s.split('\n').map((l) => l.trim()).find((l) => new RegExp(`^${id}(?::\\d+)?: `).test(l))?.replace(/^(\w+):\d+:/, '$1:');
    const onHolder = await c().status(holder);
    const onPeer = await c().status(peer);
    assert.match(line(onHolder, 'lvs') ?? '', new RegExp(`^lvs: PROMOTED\\s+VIP ${v4().replaceAll('.', '\\.')} on eth0`), onHolder);
    assert.match(line(onHolder, 'lvs2') ?? '', new RegExp(`^lvs2: PROMOTED\\s+VIP ${v6()} on eth0, answering neighbour solicitations`), onHolder);
    assert.match(line(onPeer, 'lvs') ?? '', new RegExp(`^lvs: UNPROMOTED\\s+VIP ${v4().replaceAll('.', '\\.')} on lo`), onPeer);
    assert.match(line(onPeer, 'lvs2') ?? '', new RegExp(`^lvs2: UNPROMOTED\\s+VIP ${v6()} on lo, not advertised`), onPeer);
    await assertSampledInvariants(smp(), topo(), since());
  });

  it('2. an IPv4 client and an IPv6 client each get answers from every real server, the unpromoted director included', async function () {
    this.timeout(300_000);
    const servers = [...c().directors, ...c().reals];
    const t0 = await labNow(topo().kernel);
    for (const vip of c().vips) await answeredByAll(f.load(vip), servers, t0);
    await assertSampledInvariants(smp(), topo(), since());
  });

  it('3. the director dies (sync on): both VIPs move to the other, both clients resume, the IPv6 client\'s neighbour cache names the new director, an IPv6 connection survives', async function () {
    this.timeout(600_000);
    assert.ok(holder, 'the director is known (scenario 1 passed)');
    const dead = holder;
    const survivor = c().directors.find((d) => d !== dead)!;
    const real = c().reals[0]!;
    const client6 = ip6(topo(), 'client');
    const chat = await startChat(topo(), { address: v6(), intervalMs: 200 });
    try {
      const port = (await chat.lines()).find((x) => x.kind === 'connected')!.n;
      const mine = (x: { client: string; virtual: string }) => x.client === `[${client6}]:${port}` && x.virtual === `[${v6()}]:${ECHO_PORT}`;
      // The survivor has the IPv6 connection from the master's sync daemon before the failure.
      await until(`the IPv6 connection in ${survivor}'s IPVS connection table (synced)`, 60_000, async () =>
        (await ipvsConnections(topo(), survivor)).some(mine) ? true : undefined);

      const t = await c().failover(f.load(v4()), 'kill', { node: dead, sampler: smp() });
      printTimeline(`director killed, ${v4()}`, t);
      await assertPromoted(c(), t, survivor);
      assert.ok(t.outage.ms !== undefined && t.outage.ms < RESUME_BOUND_MS, `requests to ${v4()} resume within ${RESUME_BOUND_MS / 1000} s: ${JSON.stringify(t.outage)}`);
      await c().waitPromoted({ id: c().lvsOf(v6()), not: dead });
      const o6 = await until(`requests to ${v6()} to resume`, 180_000, async () => {
        const o = outage(await f.load(v6()).samples(), t.faultAt);
        return o.firstOkAfter !== undefined ? o : undefined;
      });
      console.log(`      FAILOVER OUTAGE (director killed, ${v6()}): ${Math.round(o6.ms!)} ms (${o6.failed} failed requests)`);
      // For the record: what the survivor's pacemaker decided and ran for each VIP, and when.
      const rel = (at: number) => `${((at - t.faultAt) / 1000).toFixed(2).padStart(7)} s`;
      const decisions = (await pacemakerLog(topo(), survivor, t.faultAt)).filter((x) => /lvs2?\b|lvs2?[: ]|Transition \d+|throttl|[Pp]romote/.test(x.text));
      console.log(`      pacemaker on ${survivor} after the kill:\n${decisions.slice(0, 80).map((x) => `        ${rel(x.at)}  ${x.text.slice(0, 220)}`).join('\n')}`);
      assert.ok(o6.ms! < RESUME_BOUND_MS, `requests to ${v6()} resume within ${RESUME_BOUND_MS / 1000} s: ${JSON.stringify(o6)}`);

      assert.deepEqual(await vipOn(topo(), survivor, 'eth0', v4()), [24], `${v4()} on ${survivor}'s eth0`);
      assert.deepEqual((await addr6On(topo(), survivor, 'eth0', v6())).map((a) => a.prefix), [PREFIX6], `${v6()} on ${survivor}'s eth0`);
      assert.deepEqual(await vipOn(topo(), survivor, 'lo', v6()), [], `${v6()} off ${survivor}'s lo`);
      for (const vip of c().vips) {
        await until(`${survivor} to have ${vip}'s services`, 120_000, async () => ((await servicesFor(topo(), survivor, vip)).length === 2 ? true : undefined));
      }
      const neigh = await until(`the client's neighbour entry for ${v6()} to name ${survivor}`, 30_000, async () => {
        const e = await clientArp(topo(), 'client', v6());
        return e?.mac === topo().node(survivor).mac ? e : undefined;
      });
      console.log(`      the IPv6 client's neighbour entry: ${neigh.mac} (${survivor}), ${neigh.state}`);
      const macs = await ndiscAnswers(topo(), 'client', v6());
      assert.deepEqual(macs, [topo().node(survivor).mac], `only ${survivor} answers for ${v6()}`);

      const resumed = await until('IPv6 echoes sent after the failover', 180_000, async () => {
        const lines = await chat.lines();
        const err = lines.find((x) => x.kind === 'error');
        if (err) assert.fail(`the IPv6 connection broke: ${err.detail}`);
        return lines.filter((x) => x.kind === 'echo' && x.at > (o6.firstOkAfter ?? t.faultAt)).length >= 3 ? lines : undefined;
      });
      const echoes = resumed.filter((x) => x.kind === 'echo');
      assert.equal(resumed.filter((x) => x.kind === 'connected').length, 1, 'one IPv6 connection, never reopened');
      assert.ok(echoes.every((x, i) => x.n === i + 1), 'every line echoed, in order');
      console.log(`      IPv6 connection: one echo waited ${Math.max(...echoes.map((x) => Number(x.detail)))} ms across the failover; ${echoes.length} echoes, never reopened`);
      const onReal = await topo().run(real, ['ss', '-Htn6', 'state', 'established', `sport = :${ECHO_PORT}`]);
      assert.match(onReal, new RegExp(`\\[${client6}\\]:${port}\\b`), `${real} still has the same IPv6 connection`);
    } finally {
      await chat.stop();
    }
    await assertSampledInvariants(smp(), topo(), since());
  });
});
