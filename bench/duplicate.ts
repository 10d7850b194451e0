// Part of `npm run bench -- agent`: what the promoted lvs instance's duplicate VIP probes cost and
// how soon they see a duplicate, on the host kernel (docs/lvs-agent.md, "Duplicate VIP").
//   cost: the CPU time of the VIP watcher and of the probes it runs (its children, reaped), over a
//         window with the probes on (duplicate_check_interval as given) and one with them off (0);
//         the difference per probe is what a probe costs.
//   time to detect: a peer on the same bridge takes the VIP (answers ARP for it) at a random moment;
//         the state file the watcher writes (lvskit status reads it) says so; then the peer lets go
//         and the report clears.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Topology } from '../lab';
import { type Exec, expectCode, fmt, stats, type Stats, table } from './measure';

export interface DuplicateSetup {
  exec: Exec;
  topo: Topology;
  /** The director (runs lvs) and the peer (takes the VIP). */
  node: string;
  peer: string;
  vip: string;
  /** The lvs environment for a duplicate_check_interval (seconds). */
  lvsEnv: (intervalS: number) => Record<string, string>;
  lvs: string;
  /** The state file's path inside the director's mount namespace. */
  statePath: string;
}

export interface DuplicateResult {
  intervalS: number;
  windowS: number;
  /** CPU ms of the watcher and its children over the window: probes on, probes off. */
  cpuOnMs: number;
  cpuOffMs: number;
  probes: number;
  detect: Stats;
  clear: Stats;
}

const CLK_TCK = 100;
export const DUPLICATE_WINDOW_S = 60;
const DETECT_RUNS = 10;
const POLL_MS = 20;
const LIMIT_MS = 15_000;

function step(s: DuplicateSetup, action: string, env: Record<string, string>): Promise<void> {
  return expectCode(s.exec, { label: `duplicate bench: lvs ${action}`, argv: [s.lvs, action], env, expect: 0 });
}

/** The watcher's pid: the one `lvskit vipwatch` for this VIP. */
async function watcherPid(s: DuplicateSetup): Promise<number> {
  const r = await s.exec(['pgrep', '-f', `vipwatch --nic eth0 --vip ${s.vip} `]);
  const pids = r.stdout.trim().split('\n').filter((l) => /^\d+$/.test(l));
  if (pids.length !== 1) throw new Error(`duplicate bench: not one VIP watcher for ${s.vip}: '${r.stdout.trim()}'`);
  return Number(pids[0]);
}

/** utime + stime + cutime + cstime of a process, ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3, so utime (14) … cstime (17) are at 11 … 14.
  return [11, 12, 13, 14].reduce((a, i) => a + Number(f[i]), 0) * (1000 / CLK_TCK);
}

async function cpuOver(s: DuplicateSetup, windowS: number): Promise<number> {
  const pid = await watcherPid(s);
  const before = cpuMs(pid);
  await sleep(windowS * 1000);
  if ((await watcherPid(s)) !== pid) throw new Error('duplicate bench: the VIP watcher restarted during the window');
  return cpuMs(pid) - before;
}

/** The state file's duplicate record, read from the host through the holder's root. */
function duplicateIn(s: DuplicateSetup): string[] | undefined {
  const path = `/proc/${s.topo.node(s.node).pid}/root${s.statePath}`;
  try {
    const state = JSON.parse(readFileSync(path, 'utf8')) as { duplicate?: { macs?: string[] } };
    return state.duplicate?.macs;
  } catch {
    return undefined;
  }
}

async function waitFor(what: string, cond: () => boolean, from: number): Promise<number> {
  for (;;) {
    if (cond()) return Date.now() - from;
    if (Date.now() - from > LIMIT_MS) throw new Error(`duplicate bench: ${what} not seen within ${LIMIT_MS} ms`);
    await sleep(POLL_MS);
  }
}

async function peerVip(s: DuplicateSetup, op: 'add' | 'del'): Promise<void> {
  await s.topo.run(s.peer, ['ip', 'addr', op, `${s.vip}/24`, 'dev', 'eth0']);
}

/** lvs must be promoted (with the default interval) when this starts; it ends promoted with `intervalS`. */
export async function measureDuplicates(s: DuplicateSetup, intervalS: number): Promise<DuplicateResult> {
  process.stderr.write(`bench agent: duplicate probes: CPU over ${DUPLICATE_WINDOW_S} s with probes off, then every ${intervalS} s\n`);
  await step(s, 'demote', s.lvsEnv(0));
  await step(s, 'promote', s.lvsEnv(0));
  const cpuOffMs = await cpuOver(s, DUPLICATE_WINDOW_S);
  await step(s, 'demote', s.lvsEnv(intervalS));
  await step(s, 'promote', s.lvsEnv(intervalS));
  const cpuOnMs = await cpuOver(s, DUPLICATE_WINDOW_S);

  process.stderr.write(`bench agent: duplicate probes: time to detect a peer answering for the VIP, ${DETECT_RUNS} runs\n`);
  const mac = s.topo.node(s.peer).mac;
  const detect: number[] = [];
  const clear: number[] = [];
  for (let i = 0; i < DETECT_RUNS; i++) {
    // A random phase against the probe schedule.
    await sleep(Math.random() * intervalS * 1000);
    let from = Date.now();
    await peerVip(s, 'add');
    detect.push(await waitFor('the duplicate', () => duplicateIn(s)?.includes(mac) ?? false, from));
    from = Date.now();
    await peerVip(s, 'del');
    clear.push(await waitFor('the duplicate cleared', () => duplicateIn(s) === undefined, from));
  }
  return { intervalS, windowS: DUPLICATE_WINDOW_S, cpuOnMs, cpuOffMs, probes: DUPLICATE_WINDOW_S / intervalS, detect: stats(detect)!, clear: stats(clear)! };
}

export function duplicateReport(r: DuplicateResult): string {
  const perProbe = (r.cpuOnMs - r.cpuOffMs) / r.probes;
  const row = (what: string, x: Stats) => [what, `${fmt(x.mean)} ± ${fmt(x.stddev)}`, fmt(x.min), fmt(x.median), fmt(x.max), String(x.n)];
  return [
    table(
      ['duplicate_check_interval', 'CPU, probes off (ms per minute)', `CPU, probes every ${r.intervalS} s (ms per minute)`, 'CPU per probe (ms)'],
      [[`${r.intervalS} s`, fmt((r.cpuOffMs * 60) / r.windowS), fmt((r.cpuOnMs * 60) / r.windowS), fmt(perProbe)]],
    ),
    '',
    table(['a peer takes the VIP (answers ARP)', 'mean ± σ (ms)', 'min (ms)', 'median (ms)', 'max (ms)', 'runs'], [row('until the state file records its MAC', r.detect), row('it lets go: until the record clears', r.clear)]),
  ].join('\n');
}
