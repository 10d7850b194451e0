// What every director forwards and who answers ARP for the VIPs, sampled every ~100 ms for a whole
// scenario by one process on the lab kernel (guest/sampler.py), outside every node so that killing
// a node does not stop it. The checks of the hot-standby design run on those samples:
//   - no director forwards a VIP it is only a real server for (VIP on lo and a service for it while
//     its eth0 has link: the loop of docs/failover.md),
//   - never two nodes answer ARP for a VIP.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe as describeResult } from './kernel';
import type { Topology } from './topology';

const SAMPLER_PY = join(__dirname, 'guest', 'sampler.py');
export const SAMPLE_INTERVAL_MS = 100;

export interface ServiceSample {
  vip: string;
  protocol: string;
  port: number;
  /** Real servers, and those with weight > 0. */
  reals: number;
  live: number;
}

export interface NodeSample {
  /** The interfaces each VIP is on ('eth0', 'lo'). */
  addr: { vip: string; dev: string }[];
  /** ['eth0'] when eth0 has carrier (link up), else []. */
  carrier: string[];
  /** Its IPVS services for the VIPs. */
  services: ServiceSample[];
}

export interface Tick {
  /** Lab kernel clock, ms. */
  at: number;
  /** Per watched node; a node whose namespace could not be read is missing. */
  nodes: Record<string, NodeSample>;
  /** Per VIP: the MACs that answered an ARP request for it from the client's eth0 in this slot. */
  arp: Record<string, string[]>;
  /** Per VIP: the MACs whose gratuitous ARP for it reached the client's eth0 in this slot. */
  garp: Record<string, string[]>;
}

export interface Sampler {
  ticks(): Promise<Tick[]>;
  stop(): Promise<void>;
}

interface RawTick {
  t: number;
  nodes: Record<string, { addr: [string, string][]; carrier: string[]; svc: [string, string, number, number, number][] }>;
  arp: Record<string, string[]>;
  garp: Record<string, string[]>;
}

/** The sampler's output, one JSON object per line (a half-written last line is left out). */
export function parseTicks(text: string): Tick[] {
  return text.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    let raw: RawTick;
    try {
      raw = JSON.parse(line) as RawTick;
    } catch {
      return [];
    }
    const nodes: Record<string, NodeSample> = {};
    for (const [name, n] of Object.entries(raw.nodes)) {
      nodes[name] = {
        addr: n.addr.map(([vip, dev]) => ({ vip, dev })),
        carrier: n.carrier,
        services: n.svc.map(([vip, protocol, port, reals, live]) => ({ vip, protocol, port, reals, live })),
      };
    }
    return [{ at: raw.t, nodes, arp: raw.arp, garp: raw.garp }];
  });
}

/**
 * Starts sampling the directors (default: every director) and, from the client's eth0, ARP for the
 * VIPs (default: every VIP of the topology); returns once the first sample is written.
 */
export async function startSampler(
  topo: Topology,
  options: { nodes?: string[]; vips?: string[]; client?: string; intervalMs?: number; startTimeoutMs?: number } = {},
): Promise<Sampler> {
  const nodes = options.nodes ?? topo.all('director').map((n) => n.name);
  const client = options.client ?? 'client';
  const config = {
    nodes: Object.fromEntries(nodes.map((n) => [n, topo.node(n).pid])),
    client: topo.node(client).pid,
    vips: options.vips ?? topo.vips,
  };
  const file = join(topo.kernel.workdir, `${topo.prefix}-sampler-${Date.now()}.log`);
  const r = await topo.kernel.exec({
    argv: ['python3', SAMPLER_PY, String(options.intervalMs ?? SAMPLE_INTERVAL_MS), JSON.stringify(config)],
    detach: true,
    log: file,
  });
  if (r.error !== undefined || r.pid === undefined) throw new Error(`cannot start the sampler: ${describeResult(r)}`);
  const pid = r.pid;
  const read = async () => (await topo.kernel.exec({ argv: ['cat', file] })).stdout;
  const until = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (parseTicks(await read()).length === 0) {
    if (Date.now() > until) throw new Error(`the sampler wrote nothing: ${await read()}`);
    await sleep(100);
  }
  return {
    ticks: async () => parseTicks(await read()),
    stop: async () => {
      await topo.kernel.exec({ argv: ['kill', String(pid)] });
    },
  };
}

// ---- the checks -----------------------------------------------------------------------------------

export interface Violation {
  at: number;
  what: string;
}

/**
 * Samples where a node forwards a VIP while it is a real server for it: a service for the VIP while
 * the VIP is on its lo and its eth0 has link (IPVS would balance again what the director sends it:
 * a loop). Without link nothing reaches it, so a node cut off is not counted.
 */
export function forwardingWhileRealServer(ticks: Tick[], vip: string): Violation[] {
  return ticks.flatMap((t) =>
    Object.entries(t.nodes).flatMap(([name, n]) => {
      const svc = n.services.filter((s) => s.vip === vip);
      if (svc.length === 0 || !n.carrier.includes('eth0') || !n.addr.some((a) => a.vip === vip && a.dev === 'lo')) return [];
      return [{ at: t.at, what: `${name} has ${svc.map((s) => `${s.protocol} ${vip}:${s.port} (${s.live}/${s.reals} reals live)`).join(', ')} with ${vip} on lo` }];
    }),
  );
}

/** Samples where more than one MAC answered ARP for the VIP. */
export function twoArpAnswers(ticks: Tick[], vip: string, nameOf: (mac: string) => string = (m) => m): Violation[] {
  return ticks.flatMap((t) => {
    const macs = t.arp[vip] ?? [];
    return macs.length > 1 ? [{ at: t.at, what: `${macs.map(nameOf).join(' and ')} answered ARP for ${vip}` }] : [];
  });
}

export interface Change {
  at: number;
  node: string;
  what: string;
}

/**
 * What changed from one sample to the next, per node and VIP: where the VIP sits, whether it has
 * services for it, its eth0's link, and who answers ARP for it (samples without an answer left
 * out). For timelines.
 */
export function changes(ticks: Tick[], vip: string, nameOf: (mac: string) => string = (m) => m): Change[] {
  const out: Change[] = [];
  const last = new Map<string, string>();
  const note = (at: number, node: string, key: string, value: string, what: string) => {
    const k = `${node} ${key}`;
    if (last.get(k) === value) return;
    if (last.has(k) || value !== '') out.push({ at, node, what });
    last.set(k, value);
  };
  for (const t of ticks) {
    for (const [name, n] of Object.entries(t.nodes)) {
      const devs = n.addr.filter((a) => a.vip === vip).map((a) => a.dev).sort().join('+');
      note(t.at, name, 'addr', devs, devs === '' ? `${vip} on no interface` : `${vip} on ${devs}`);
      const svc = n.services.filter((s) => s.vip === vip);
      const live = svc.reduce((a, s) => a + s.live, 0);
      const desc = svc.length === 0 ? '' : `${svc.length} service(s), ${live} live real(s)`;
      note(t.at, name, 'svc', desc, desc === '' ? `no service for ${vip}` : `IPVS: ${desc} for ${vip}`);
      const down = n.carrier.includes('eth0') ? '' : 'down';
      note(t.at, name, 'link', down, down ? 'eth0 link down' : 'eth0 link up');
    }
    // A sample without an answer is usually a late one (a busy machine): only who answers is news.
    const arp = (t.arp[vip] ?? []).map(nameOf).sort().join(' and ');
    if (arp !== '') note(t.at, 'client', 'arp', arp, `${arp} answer(s) ARP for ${vip}`);
  }
  return out;
}

/** The first sample at or after `sinceMs` in which `node` does not hold `vip` on `dev`. */
export function firstWithout(ticks: Tick[], node: string, vip: string, dev: string, sinceMs: number): Tick | undefined {
  return ticks.find((t) => t.at >= sinceMs && t.nodes[node] !== undefined && !t.nodes[node]!.addr.some((a) => a.vip === vip && a.dev === dev));
}
