// A partition of three directors on real corosync + pacemaker (lab/directors.ts, the seeds' layout
// with three directors, built by `lvskit bootstrap --apply`): the promoted director's switch ports
// leave their bridges while its NIC keeps carrier (a failed uplink: its VIP watcher sees no link
// loss), so only quorum can tell it to give the VIP up. The client's side is sampled every ~100 ms
// throughout (who answers ARP for the VIP, every director's IPVS table and VIP).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { pacemakerEvents } from '../../lab/failover';
import { isolate, rejoin } from '../../lab/faults';
import { labNow, vipOn, vipOnNic } from '../../lab/observe';
import { assertSampledInvariants, failoverFile, SETTLE_MS, settled, until } from '../support/failover';

describe('a partition of three directors (lab)', function () {
  const f = failoverFile({ layout: 'seeds', directors: 3, reals: 1 });
  const { cluster: s, topo, sampler } = f;

  it('the promoted director cut off from the other two (carrier up) gives its VIP up, another is promoted, and after healing there is one director', async function () {
    this.timeout(900_000);
    const cut = await s().waitPromoted();
    const others = s().directors.filter((d) => d !== cut);
    const before = await labNow(topo().kernel);

    const at = await isolate(topo(), cut);
    const promoted = await s().waitPromoted({ from: others, not: cut, timeoutMs: SETTLE_MS });
    // The cut node has no quorum (one vote of three): with bootstrap's no-quorum-policy=demote, pacemaker there demotes lvs (the VIP leaves the NIC for lo) and stops lvsd.
    await until(`${cut} to give its VIP up without quorum`, SETTLE_MS, async () => ((await vipOn(topo(), cut, 'eth0')).length === 0 ? true : undefined), 200);
    const gaveUpMs = Date.now() - at;
    const t0 = await labNow(topo().kernel);
    await until(`requests answered through ${promoted}`, 120_000, async () => ((await f.load().samples()).some((x) => x.at > t0 && x.ok) ? true : undefined));
    const said = (await pacemakerEvents(topo(), cut, before, { every: true }).catch(() => [])).map((e) => `${e.at === undefined ? "?" : new Date(e.at).toISOString()} ${e.what}`);
    console.log(`      ${cut} cut off: gave its VIP up ${gaveUpMs} ms after the cut; ${promoted} promoted\n${said.map((l) => `        ${l}`).join('\n')}`);
    assert.deepEqual(await vipOnNic(topo(), others), [promoted], `of the connected directors only ${promoted} holds the VIP on its NIC`);
    await assertSampledInvariants(sampler(), topo(), before);

    const healed = await labNow(topo().kernel);
    await rejoin(topo(), cut);
    for (const from of [promoted, cut]) await settled(s(), from, { promoted, unpromoted: [cut, ...others.filter((d) => d !== promoted)] });
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await vipOnNic(topo()), [promoted], `exactly one director (${promoted}) holds the VIP on its NIC after the partition healed`);
      await sleep(2000);
    }
    assert.deepEqual(await vipOn(topo(), cut, 'lo'), [32], `${cut} is a real server again (VIP on lo)`);
    await assertSampledInvariants(sampler(), topo(), healed);
  });
});
