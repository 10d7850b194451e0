// A failover, timed: inject a fault under the client's load, wait for another director to take over
// and for the client to be answered again, and put together a timeline from what the lab saw
// (the load generator, the sampler) and what pacemaker logged. Times are the lab kernel's clock.
import { setTimeout as sleep } from 'node:timers/promises';
import { outage, type Load, type Outage, type Sample } from './load';
import { clockOffset, nodeByMac } from './observe';
import { CRM_MON_POLL_MS, pacemakerLog } from './pacemaker';
import { changes, type Sampler } from './sampler';
import type { Topology } from './topology';

export interface TimelineEvent {
  /** Lab-clock ms; undefined: did not happen (in time). */
  at: number | undefined;
  what: string;
}

export interface Timeline {
  /** The node that failed and how. */
  node: string;
  fault: string;
  /** Lab-clock ms of the fault (the link was down by then). */
  faultAt: number;
  /** The node seen taking over, and when it was first seen so (polling: an upper bound). */
  promoted: string | undefined;
  promotedAt: number | undefined;
  /** Start of the first request after which the client's ARP entry for the VIP named another MAC. */
  arpMovedAt: number | undefined;
  outage: Outage;
  /** Every event, in time order (the above, what the sampler saw, and what `details` found). */
  events: TimelineEvent[];
}

export interface FailoverSpec {
  node: string;
  fault: string;
  /** Injects the fault; returns when it was done (this process's clock). */
  inject: () => Promise<number>;
  /** The node now acting as director, or undefined. */
  promoted: () => Promise<string | undefined>;
  /** After the client's first answer: wait for the new director to settle (e.g. its checker). */
  settle?: (promoted: string) => Promise<void>;
  details?: (promoted: string, since: number) => Promise<TimelineEvent[]>;
  /** Its changes for the VIP go into the timeline. */
  sampler?: Sampler;
  vip?: string;
  /** Give up waiting for a takeover and for the client's answer after this long. Default 180 s. */
  timeoutMs?: number;
}

/**
 * Injects a fault, then polls `promoted()` until another node takes over, then waits for the
 * client's first successful request, then for `settle(promoted)`; `details(promoted, faultAt)` may
 * add events (e.g. pacemakerEvents). Returns the timeline, its outage from the samples at the end.
 */
export async function recordFailover(topo: Topology, load: Load, spec: FailoverSpec): Promise<Timeline> {
  const offset = await clockOffset(topo.kernel);
  const deadline = Date.now() + (spec.timeoutMs ?? 180_000);
  const faultAt = (await spec.inject()) + offset;
  let promoted: string | undefined;
  let promotedAt: number | undefined;
  while (Date.now() < deadline) {
    const p = await spec.promoted().catch(() => undefined);
    if (p !== undefined && p !== spec.node) {
      promoted = p;
      promotedAt = Date.now() + offset;
      break;
    }
    await sleep(CRM_MON_POLL_MS);
  }
  while (Date.now() < deadline) {
    if (outage(await load.samples(), faultAt).firstOkAfter !== undefined) break;
    await sleep(1000);
  }
  if (promoted && spec.settle) await spec.settle(promoted).catch(() => undefined);
  const samples: Sample[] = await load.samples();
  const o = outage(samples, faultAt);
  const failedMac = topo.node(spec.node).mac;
  const moved = samples.find((s) => s.at > faultAt && s.mac !== '-' && s.mac !== failedMac);
  const extra = promoted && spec.details ? await spec.details(promoted, faultAt).catch(() => []) : [];
  const nameOf = (mac: string) => nodeByMac(topo, mac) ?? mac;
  const sampled = spec.sampler
    ? changes((await spec.sampler.ticks()).filter((t) => t.at >= faultAt - 1000), spec.vip ?? topo.spec.vip, nameOf)
        .filter((c) => c.at >= faultAt)
        .map((c) => ({ at: c.at, what: `sampled: ${c.node === 'client' ? '' : `${c.node}: `}${c.what}` }))
    : [];
  const events: TimelineEvent[] = [
    { at: o.lastOkBefore, what: 'last answer before the outage' },
    { at: faultAt, what: `${spec.node} ${spec.fault}` },
    ...extra,
    ...sampled,
    { at: promotedAt, what: `${promoted ?? 'no node'} seen acting as director (polling)` },
    { at: moved?.at, what: `the client's ARP entry for the VIP names ${nodeByMac(topo, moved?.mac) ?? 'another node'}` },
    { at: o.firstOkAfter, what: 'first answer after the outage' },
  ];
  events.sort((a, b) => (a.at ?? Infinity) - (b.at ?? Infinity));
  return { node: spec.node, fault: spec.fault, faultAt, promotedAt, promoted, arpMovedAt: moved?.at, outage: o, events };
}

/**
 * Pacemaker's own times on `node` since `sinceMs` (lab clock), from its detail log: the node seen
 * lost, promotions of lvs instances, lvsd's start, any action that did not end ok, and how long the
 * agents' actions ran (pacemaker-execd; monitors only when slower than 5 s).
 */
export async function pacemakerEvents(topo: Topology, node: string, sinceMs: number, options: { every?: boolean } = {}): Promise<TimelineEvent[]> {
  const wanted: [RegExp, (m: RegExpExecArray) => string][] = [
    [/Node (\S+) state is now lost/, (m) => `pacemaker on ${node}: ${m[1]} lost (corosync)`],
    [/Requesting local execution of promote operation for (lvs\w*) on (\S+)/, (m) => `pacemaker: promote of ${m[1]} begins on ${m[2]}`],
    [/Result of promote operation for (lvs\w*) on (\S+): ok/, (m) => `pacemaker: ${m[1]} promoted on ${m[2]}`],
    [/Result of start operation for lvsd on (\S+): ok/, (m) => `pacemaker: lvsd started on ${m[1]}`],
    [/Result of (\S+) operation for (\S+) on (\S+): ((?:Timed Out|error|invalid parameter|unimplemented feature|insufficient privileges|not installed|not configured|promoted \(failed\))[^|]*)/i,
      (m) => `pacemaker: ${m[1]} of ${m[2]} on ${m[3]}: ${m[4]!.trim()} (FAILED)`],
    // pacemaker-execd's own record of how long an agent ran: every action but quick monitors.
    [/ (lvs\w*) (start|stop|promote|demote|monitor) \(call \d+, PID \d+\) exited with status (\d+) \(execution time ([\d.]+)(ms|s)\b/,
      (m) => `pacemaker-execd on ${node}: ${m[1]} ${m[2]} exited ${m[3]} after ${m[5] === 's' ? m[4] : (Number(m[4]) / 1000).toFixed(3)} s`],
  ];
  // The last occurrence of each kind (`every`: all of them, in order).
  const out = new Map<string, TimelineEvent>();
  const all: TimelineEvent[] = [];
  for (const line of await pacemakerLog(topo, node, sinceMs)) {
    for (const [re, what] of wanted) {
      const m = re.exec(line.text);
      if (!m) continue;
      // A monitor is news only when it was slow.
      if (m[2] === 'monitor' && /execd/.test(what(m)) && Number(m[4]) * (m[5] === 's' ? 1000 : 1) < 5000) break;
      const w = what(m);
      out.set(w, { at: line.at, what: w });
      all.push({ at: line.at, what: w });
      break;
    }
  }
  return options.every ? all : [...out.values()];
}

/** The timeline for a terminal: one line per event, seconds relative to the fault, then the outage. */
export function formatTimeline(t: Timeline): string {
  const rel = (ms: number | undefined) => (ms === undefined ? '     never' : `${((ms - t.faultAt) / 1000).toFixed(2).padStart(8)} s`);
  const lines = t.events.map((e) => `${rel(e.at)}  ${e.what}`);
  lines.push(`outage seen by the client: ${t.outage.ms === undefined ? 'not over' : `${Math.round(t.outage.ms)} ms`} (${t.outage.failed} failed requests)`);
  return lines.join('\n');
}
