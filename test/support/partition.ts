// Shared by the partition lab tests (test/lab/partition*.test.ts): quorum as corosync sees it on a
// node, and "one director for the VIP" as a client and the nodes see it.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Directors } from '../../lab/directors';
import { labNow, nodeByMac, vipOnNic } from '../../lab/observe';
import { allOnline, crmMon, summary, type ClusterView } from '../../lab/pacemaker';
import type { Sampler } from '../../lab/sampler';
import { explain, SETTLE_MS, until } from './failover';

/** `corosync-quorumtool -s` on a node: whether it is quorate, and the whole output. */
export async function quorum(cluster: Directors, node: string): Promise<{ quorate: boolean; text: string }> {
  const r = await cluster.topo.exec(node, ['corosync-quorumtool', '-s']);
  const m = /^Quorate:\s+(Yes|No)$/m.exec(r.stdout);
  if (!m) throw new Error(`corosync-quorumtool -s on ${node} has no Quorate line: ${r.stdout}${r.stderr}`);
  return { quorate: m[1] === 'Yes', text: r.stdout };
}

/** Who answered ARP for the VIP from the client in the samples since `sinceMs` (lab clock; answering samples only). */
export async function arpAnswers(cluster: Directors, sampler: Sampler, sinceMs: number, vip = cluster.vip): Promise<{ at: number; nodes: string[] }[]> {
  return (await sampler.ticks())
    .filter((t) => t.at >= sinceMs && (t.arp[vip] ?? []).length > 0)
    .map((t) => ({ at: t.at, nodes: t.arp[vip]!.map((m) => nodeByMac(cluster.topo, m) ?? m).sort() }));
}

/** For `forMs`: only `node` holds the VIP on its NIC (checked every second), and from the client only it answers ARP for it. */
export async function oneDirectorFor(cluster: Directors, sampler: Sampler, node: string, forMs: number): Promise<void> {
  const from = await labNow(cluster.topo.kernel);
  while ((await labNow(cluster.topo.kernel)) - from < forMs) {
    const holders = await vipOnNic(cluster.topo);
    if (holders.join() !== node) assert.fail(`only ${node} may hold the VIP on its NIC; ${JSON.stringify(holders)} do\n${await explain(cluster, from)}`);
    await sleep(1000);
  }
  const answers = await arpAnswers(cluster, sampler, from);
  assert.ok(answers.length >= 3, `the client's ARP requests were answered in ${answers.length} samples over ${forMs / 1000} s`);
  const other = answers.filter((a) => a.nodes.join() !== node);
  assert.deepEqual(other.slice(0, 5), [], `from the client only ${node} answers ARP for the VIP (${other.length} samples otherwise)`);
}

/**
 * When, after `sinceMs` (lab clock), the sampler first saw `loser` without the VIP on eth0 and
 * `winner` with it; `overlapMs` > 0 when both held it on their NIC for a while.
 */
export async function handover(sampler: Sampler, vip: string, loser: string, winner: string, sinceMs: number): Promise<{ droppedAt?: number; takenAt?: number; overlapMs?: number }> {
  const ticks = (await sampler.ticks()).filter((t) => t.at >= sinceMs);
  const holds = (t: (typeof ticks)[number], n: string) => t.nodes[n]?.addr.some((a) => a.vip === vip && a.dev === 'eth0') ?? false;
  const droppedAt = ticks.find((t) => t.nodes[loser] !== undefined && !holds(t, loser))?.at;
  const takenAt = ticks.find((t) => holds(t, winner))?.at;
  const both = ticks.filter((t) => holds(t, loser) && holds(t, winner));
  const overlapMs = both.length ? Math.round(both[both.length - 1]!.at - both[0]!.at + 100) : 0;
  return { ...(droppedAt === undefined ? {} : { droppedAt }), ...(takenAt === undefined ? {} : { takenAt }), overlapMs };
}

/** Waits until crm_mon on `from` shows every director online in one cluster (after a partition heals). */
export async function wholeAgain(cluster: Directors, from: string): Promise<void> {
  let last: ClusterView | undefined;
  await until('every director online in one cluster', SETTLE_MS, async () => {
    last = await crmMon(cluster.topo, from);
    return last && allOnline(last, cluster.directors) ? true : undefined;
  }).catch((err: Error) => assert.fail(`${err.message}; ${summary(last)}`));
}
