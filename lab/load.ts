// The client's load: the one load generator of the lab (guest/load.py, run in the client's
// namespace so that host round trips do not blur its times) and the one definition of an outage,
// shared by the failover tests, the demo and the benchmarks.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe as describeResult } from './kernel';
import type { Topology } from './topology';

/** One request every 50 ms on a fixed schedule, each with its own 500 ms limit (below TCP's first SYN retransmission, 1 s). */
export const LOAD_INTERVAL_MS = 50;
export const LOAD_TIMEOUT_MS = 500;
/** A run of failed requests counts for an event when it starts within this long after it. */
export const OUTAGE_WINDOW_MS = 30_000;

const LOAD_PY = join(__dirname, 'guest', 'load.py');

/** One request, lab kernel clock. */
export interface Sample {
  /** When it was sent (ms since the epoch). */
  at: number;
  /** How long it took, to the answer or the failure (ms). */
  ms: number;
  ok: boolean;
  /** 'ok', or why it failed: timeout, Connection_refused, status:…. */
  status: string;
  /** The name of the real server that answered ('-' when none). */
  real: string;
  /** The client's ARP entry for the address when the request ended ('-' when none). */
  mac: string;
}

export interface Load {
  /** What it requests: ADDRESS:PORT. */
  readonly target: string;
  /** Every finished request so far, in the order they were sent. */
  samples(): Promise<Sample[]>;
  /** Stops the generator (its process, by pid). */
  stop(): Promise<void>;
}

/** The generator's log, in send order (it writes each line when the request ends). */
export function parseLoadLog(text: string): Sample[] {
  return text
    .split('\n')
    .flatMap((line) => {
      const [at, outcome, ms, what, mac] = line.split(' ');
      if (mac === undefined || (outcome !== 'ok' && outcome !== 'fail') || !Number.isFinite(Number(at))) return [];
      const ok = outcome === 'ok';
      return [{ at: Number(at), ms: Number(ms), ok, status: ok ? 'ok' : what!, real: ok ? what! : '-', mac }];
    })
    .sort((a, b) => a.at - b.at);
}

/**
 * Starts the client's requests to http://ADDRESS:PORT/ (default: the VIP, port 80) every
 * `intervalMs`, each with `timeoutMs`; returns once the first one has ended.
 */
export async function startLoad(
  topo: Topology,
  options: { address?: string; port?: number; intervalMs?: number; timeoutMs?: number; client?: string; startTimeoutMs?: number } = {},
): Promise<Load> {
  const client = options.client ?? 'client';
  const address = options.address ?? topo.spec.vip;
  const port = options.port ?? 80;
  const file = join(topo.node(client).dir, `load-${address}-${port}-${Date.now()}.log`);
  const argv = ['python3', LOAD_PY, address, String(port), String(options.intervalMs ?? LOAD_INTERVAL_MS), String(options.timeoutMs ?? LOAD_TIMEOUT_MS)];
  const r = await topo.exec(client, argv, { detach: true, log: file });
  if (r.error !== undefined || r.pid === undefined) throw new Error(`cannot start the load generator in ${client}: ${describeResult(r)}`);
  const pid = r.pid;
  const read = async () => (await topo.kernel.exec({ argv: ['cat', file] })).stdout;
  const samples = async () => parseLoadLog(await read());
  // Its first line proves it runs; python starts slowly on a busy machine.
  const until = Date.now() + (options.startTimeoutMs ?? 60_000);
  while ((await samples()).length === 0) {
    if (Date.now() > until) throw new Error(`the load generator in ${client} wrote nothing: ${await read()}`);
    await sleep(100);
  }
  return {
    target: `${address}:${port}`,
    samples,
    stop: async () => {
      await topo.kernel.exec({ argv: ['kill', String(pid)] });
    },
  };
}

export interface Outage {
  /** End of the last answered request sent before the run of failures (ms, lab clock). */
  lastOkBefore: number | undefined;
  /** End of the first answered request sent after it; undefined: not over. */
  firstOkAfter: number | undefined;
  /** firstOkAfter − lastOkBefore: how long the client got no answer; 0 when nothing failed; undefined: not over. */
  ms: number | undefined;
  /** Failed requests in that run. */
  failed: number;
}

/**
 * The client's outage around an event at `atMs` (lab clock): the longest run of consecutive failed
 * requests (in send order) that is still going at the event or starts within `windowMs` after it,
 * measured from the answer before it to the answer after it. A run that has not ended is the
 * outage (ms undefined). When nothing failed: ms 0, and the answers either side of the event.
 * Samples must be in send order (parseLoadLog's).
 */
export function outage(samples: Sample[], atMs: number, windowMs = OUTAGE_WINDOW_MS): Outage {
  const end = (s: Sample | undefined) => (s ? s.at + s.ms : undefined);
  // Nothing failed: the answers either side of the event, and no outage.
  let best: Outage = {
    lastOkBefore: end(samples.filter((s) => s.ok && s.at <= atMs).pop()),
    firstOkAfter: end(samples.find((s) => s.ok && s.at > atMs)),
    ms: 0,
    failed: 0,
  };
  let lastOk: Sample | undefined;
  let i = 0;
  while (i < samples.length) {
    if (samples[i]!.ok) {
      lastOk = samples[i];
      i++;
      continue;
    }
    const first = samples[i]!;
    let j = i;
    while (j < samples.length && !samples[j]!.ok) j++;
    const next = samples[j];
    const failed = j - i;
    i = j;
    if (next !== undefined && next.at <= atMs) continue; // over before the event
    if (first.at > atMs + windowMs) break; // starts too late to belong to it
    const from = lastOk ? lastOk.at + lastOk.ms : first.at;
    const to = next ? next.at + next.ms : undefined;
    const run: Outage = { lastOkBefore: lastOk ? from : undefined, firstOkAfter: to, ms: to === undefined ? undefined : to - from, failed };
    if (best.ms !== undefined && (run.ms === undefined || run.ms > best.ms)) best = run;
  }
  return best;
}
