// `npm run bench -- checker`: lvsd against Debian's ldirectord, with 10, 100 and 1000 reals, in the
// same UML lab and the same run, one tool at a time, each from the same configuration file.
// Measured next to the tool by bench/checker-guest.ts: empty table to full, removal of a
// black-holed real, CPU per check round. Misses are reported, not failed on.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { check, describe, openKernel, type Kernel } from '../lab';
import type { DriveResult, DriveSpec, FloorResult, FloorSpec } from './checker-guest';
import { fmt, loadAverage, machine, table } from './measure';

const root = resolve(__dirname, '..');
const BINARY = join(root, 'dist', 'lvskit');
const DOC = join(root, 'docs', 'bench-checker.md');
const TEARDOWN = join(root, 'lab', 'guest', 'teardown.sh');
const LDIRECTORD = '/usr/sbin/ldirectord';

// 198.18.0.0/15 only, and only in the two namespaces made here.
export const VIP = '198.18.0.100';
const DIRECTOR_LINK = '198.19.0.1';
const REALS_LINK = '198.19.0.2';
const CHECKINTERVAL = 5;
const CHECKTIMEOUT = 3;
const SIZES = [10, 100, 1000];
const TOOLS = ['lvsd', 'ldirectord'] as const;
export type Tool = (typeof TOOLS)[number];
// lvsd runs twice, before and after ldirectord, so that a load that comes and goes shows as spread.
const ORDER: Tool[] = ['lvsd', 'ldirectord', 'lvsd'];

const TARGET_FULL_S = 2; // lvsd, 1000 reals
const TARGET_REMOVE_S = CHECKINTERVAL + CHECKTIMEOUT + 1; // lvsd, 1000 reals
export const TIMING = {
  pollMs: 50,
  fullCapMs: 120_000,
  settleCapMs: 300_000,
  steadyMs: CHECKINTERVAL * 1000,
  cpuWindowMs: 4 * CHECKINTERVAL * 1000,
  removeCapMs: 120_000,
};

/** The i-th real (0-based): 198.18.1.1 … 198.18.1.250, 198.18.2.1 … */
export function realAddress(i: number): string {
  return `198.18.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

/** An address and port as /proc/net/ip_vs writes them: C6120064:0050. */
export function procName(address: string, port: number): string {
  const hex = address.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('').toUpperCase();
  return `${hex}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
}

function configFile(reals: number, logfile: string): string {
  const lines = [
    '# Written by bench/checker.ts; the same file for lvsd and ldirectord.',
    `checkinterval=${CHECKINTERVAL}`,
    `checktimeout=${CHECKTIMEOUT}`,
    'failurecount=1',
    'quiescent=yes',
    // Both leave the table as it is at stop; the driver clears it (ldirectord would take minutes).
    'cleanstop=no',
    'autoreload=no',
    // ldirectord stays in the foreground and logs at info level, as lvsd does, to stdout.
    'supervised=yes',
    `logfile="${logfile}"`,
    '',
    `virtual=${VIP}:80`,
  ];
  for (let i = 0; i < reals; i++) lines.push(`\treal=${realAddress(i)}:80 gate`);
  lines.push('\tservice=http', '\tscheduler=lc', '\tprotocol=tcp', '\tchecktype=connect', '');
  return lines.join('\n');
}

export interface Lab {
  kernel: Kernel;
  prefix: string;
  dir: string;
  guestScript: string;
  binary: string;
  dirNs: string;
  realsNs: string;
}

async function guestBundle(): Promise<string> {
  const out = await build({
    entryPoints: [join(__dirname, 'checker-guest.ts')],
    bundle: true, platform: 'node', format: 'cjs', target: 'node18', write: false, logLevel: 'warning',
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error('esbuild wrote no bundle of bench/checker-guest.ts');
  return file.text;
}

/** Writes a file on the lab kernel from the host. */
async function put(kernel: Kernel, path: string, text: string, mode = '0644'): Promise<void> {
  await check(kernel, { argv: ['dd', `of=${path}`, 'status=none'], stdin: text });
  await check(kernel, { argv: ['chmod', mode, path] });
}

export async function setUp(kernel: Kernel): Promise<Lab> {
  const prefix = `lvkb${process.pid.toString(16)}`;
  const dir = join(kernel.workdir, 'bench-checker');
  const lab: Lab = {
    kernel, prefix, dir, guestScript: join(dir, 'checker-guest.cjs'), binary: join(dir, 'lvskit'),
    dirNs: `${prefix}-director`, realsNs: `${prefix}-reals`,
  };
  await check(kernel, { argv: ['mkdir', '-p', dir] });
  await check(kernel, { argv: ['chmod', '0755', kernel.workdir, dir] });
  // A private copy: others may rebuild dist/lvskit during the run.
  await check(kernel, { argv: ['install', '-m', '0755', BINARY, lab.binary] });
  await put(kernel, lab.guestScript, await guestBundle());
  // tc's ingress qdisc, u32 classifier and drop action, for the black hole.
  for (const m of ['sch_ingress', 'cls_u32', 'act_gact']) await check(kernel, { argv: ['/run/lab/modprobe', m] });

  await check(kernel, { argv: ['ip', '-batch', '-'], stdin: `netns add ${lab.dirNs}\nnetns add ${lab.realsNs}\n` });
  await check(kernel, { argv: ['ip', '-n', lab.dirNs, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'r0', 'netns', lab.realsNs] });
  await check(kernel, {
    argv: ['ip', '-n', lab.dirNs, '-batch', '-'],
    stdin: [
      'link set lo up', 'link set d0 up', `addr add ${DIRECTOR_LINK}/30 dev d0`,
      'link add vip0 type dummy', 'link set vip0 up', `addr add ${VIP}/32 dev vip0`,
      `route add 198.18.0.0/16 via ${REALS_LINK} dev d0`,
    ].map((l) => `${l}\n`).join(''),
  });
  await check(kernel, {
    argv: ['ip', '-n', lab.realsNs, '-batch', '-'],
    stdin: ['link set lo up', 'link set r0 up', `addr add ${REALS_LINK}/30 dev r0`, 'link add reals0 type dummy', 'link set reals0 up']
      .map((l) => `${l}\n`).join(''),
  });
  await check(kernel, {
    argv: ['ip', 'netns', 'exec', lab.realsNs, 'sysctl', '-q', '-w', 'net.core.somaxconn=4096', '-w', 'net.ipv4.tcp_max_syn_backlog=4096'],
  });
  return lab;
}

export async function tearDown(lab: Lab): Promise<void> {
  await lab.kernel.exec({ argv: ['bash', TEARDOWN, lab.prefix] });
  await lab.kernel.exec({ argv: ['rm', '-rf', lab.dir] });
}

/** The reals namespace holds exactly these N addresses, and the configuration names them. */
export async function prepareSize(lab: Lab, reals: number): Promise<string> {
  await check(lab.kernel, { argv: ['ip', '-n', lab.realsNs, 'addr', 'flush', 'dev', 'reals0'] });
  const adds = Array.from({ length: reals }, (_, i) => `addr add ${realAddress(i)}/32 dev reals0\n`).join('');
  await check(lab.kernel, { argv: ['ip', '-n', lab.realsNs, '-batch', '-'], stdin: adds });
  const cfg = join(lab.dir, `bench-${reals}.cf`);
  await put(lab.kernel, cfg, configFile(reals, join(lab.dir, 'lvsd.log')));
  const t = await lab.kernel.exec({ argv: [lab.binary, 'checker', '--test-config', '--config', cfg] });
  if (t.code !== 0) throw new Error(`lvsd does not accept the benchmark configuration: ${describe(t)}`);
  return cfg;
}

export const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', HOME: '/root' };

export type Run = DriveResult & { /** The host's 1-minute load average before and after. */ load: [number, number] };

export async function driver<T>(lab: Lab, mode: 'drive' | 'floor' | 'follow', spec: object, timeoutMs: number): Promise<T> {
  const r = await lab.kernel.exec({
    argv: ['ip', 'netns', 'exec', lab.dirNs, 'node', lab.guestScript, mode, JSON.stringify(spec)],
    timeoutMs,
  });
  process.stderr.write(r.stderr);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let out: T | { error: string };
  try {
    out = JSON.parse(line) as T | { error: string };
  } catch {
    throw new Error(`the bench driver printed no result: ${describe(r)}`);
  }
  if (typeof out === 'object' && out !== null && 'error' in out && typeof out.error === 'string' && !('tool' in out)) throw new Error(out.error);
  return out as T;
}

/** One run of one tool; `overrides` change the driver's spec (timings, environment) for experiments. */
export async function measure(lab: Lab, tool: Tool, reals: number, cfg: string, overrides: Partial<DriveSpec> = {}): Promise<Run> {
  const victim = realAddress(Math.floor(reals / 2));
  const spec: DriveSpec = {
    tool,
    argv: tool === 'lvsd' ? [lab.binary, 'checker', '--config', cfg] : [LDIRECTORD, cfg, 'start'],
    env: ENV,
    log: join(lab.dir, `${tool}-${reals}.out`),
    serverArgv: ['ip', 'netns', 'exec', lab.realsNs, 'node', lab.guestScript, 'server'],
    reals,
    service: `TCP ${procName(VIP, 80)}`,
    victim: { address: victim, procName: procName(victim, 80) },
    realsNs: lab.realsNs,
    dev: 'r0',
    ...TIMING,
    ...overrides,
  };
  await lab.kernel.exec({ argv: ['rm', '-f', join(lab.dir, 'lvsd.log')] });
  const before = os.loadavg()[0]!;
  const budget = spec.settleCapMs + spec.steadyMs + spec.cpuWindowMs + spec.removeCapMs + 60_000;
  const out = await driver<DriveResult>(lab, 'drive', spec, budget);
  if (tool === 'lvsd') {
    const lvsdLog = await lab.kernel.exec({ argv: ['tail', '-n', '5', join(lab.dir, 'lvsd.log')] });
    out.logTail = `${out.logTail}\n--- lvsd logfile (tail)\n${lvsdLog.stdout}`;
  }
  return { ...out, load: [before, os.loadavg()[0]!] };
}

/** What N reals cost in this lab whatever the checker: process starts, N connects, ipvsadm -R. */
export function floor(lab: Lab, reals: number): Promise<FloorResult> {
  const spec: FloorSpec = {
    binary: lab.binary,
    env: ENV,
    serverArgv: ['ip', 'netns', 'exec', lab.realsNs, 'node', lab.guestScript, 'server'],
    addresses: Array.from({ length: reals }, (_, i) => realAddress(i)),
    virtual: `${VIP}:80`,
  };
  return driver<FloorResult>(lab, 'floor', spec, 180_000);
}

// ---- the report ----

const secs = (ms: number | null | undefined) => (ms === null || ms === undefined ? '–' : fmt(ms / 1000, 2));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function fullCell(r: Run): string {
  if (r.fullMs !== null) return secs(r.fullMs);
  const settled = r.settledMs !== null ? `; full at ${secs(r.settledMs)}` : '; not full';
  return `> ${TIMING.fullCapMs / 1000} (${r.upAtCap ?? 0}/${r.reals} up at the cap${settled})`;
}

function removeCell(r: Run): string {
  if (!r.settled) return 'not measured (never full)';
  if (r.removeMs === null || r.removeMs === undefined) return `> ${TIMING.removeCapMs / 1000}`;
  return secs(r.removeMs);
}

interface Cpu {
  rounds: number;
  perRoundMs: number;
  selfPerRoundMs: number;
  percent: number;
  forksPerRound: number;
}

function cpu(r: Run): Cpu | undefined {
  const w = r.window;
  if (!w || w.connections === 0) return undefined;
  const tick = 1000 / r.clockTicks;
  const rounds = w.connections / r.reals;
  const total = (w.cpu.self + w.cpu.children) * tick;
  return { rounds, perRoundMs: total / rounds, selfPerRoundMs: (w.cpu.self * tick) / rounds, percent: (100 * total) / w.ms, forksPerRound: w.forks / rounds };
}

function cpuCell(r: Run): string {
  const c = cpu(r);
  if (!c) return r.settled ? 'no check in the window' : 'not measured';
  return `${fmt(c.perRoundMs, 0)} (${fmt(c.selfPerRoundMs, 0)} own)`;
}

interface Report {
  tables: string;
  missed: string[];
  raw: string;
}

function report(results: Run[], floors: FloorResult[]): Report {
  const at = (tool: Tool, n: number) => results.filter((r) => r.tool === tool && r.reals === n);
  const cells = (tool: Tool, n: number, f: (r: Run) => string) => at(tool, n).map(f).join('; ') || '–';
  const sizes = SIZES.filter((n) => results.some((r) => r.reals === n));
  const missed: string[] = [];
  const verdict = (pass: boolean, what: string) => {
    if (!pass) missed.push(what);
    return pass ? 'met' : '**missed**';
  };

  const lvsd1000 = at('lvsd', 1000);
  const fullTarget = lvsd1000.length === 0 ? 'not run' : verdict(
    lvsd1000.every((r) => r.fullMs !== null && r.fullMs < TARGET_FULL_S * 1000),
    `lvsd, 1000 reals, empty to full: ${lvsd1000.map(fullCell).join('; ')} s, target under ${TARGET_FULL_S} s`,
  );
  const removeTarget = lvsd1000.length === 0 ? 'not run' : verdict(
    lvsd1000.every((r) => typeof r.removeMs === 'number' && r.removeMs <= TARGET_REMOVE_S * 1000),
    `lvsd, 1000 reals, black-holed real out: ${lvsd1000.map(removeCell).join('; ')} s, target within ${TARGET_REMOVE_S} s`,
  );

  const byTool = (f: (r: Run) => string) => sizes.map((n) => [String(n), cells('lvsd', n, f), cells('ldirectord', n, f)]);
  const full = table(['reals', 'lvsd (s)', 'ldirectord (s)'], byTool(fullCell));
  const remove = table(['reals', 'lvsd (s)', 'ldirectord (s)'], byTool(removeCell));
  const pct = (r: Run) => (cpu(r) ? fmt(cpu(r)!.percent) : '–');
  const rounds = (r: Run) => (cpu(r) ? fmt(cpu(r)!.rounds, 1) : '–');
  const cpuTable = table(
    ['reals', 'lvsd (ms per round)', 'ldirectord (ms per round)', 'lvsd (% of the CPU)', 'ldirectord (% of the CPU)', 'rounds in the window (lvsd / ldirectord)'],
    sizes.map((n) => [String(n), cells('lvsd', n, cpuCell), cells('ldirectord', n, cpuCell), cells('lvsd', n, pct), cells('ldirectord', n, pct), `${cells('lvsd', n, rounds)} / ${cells('ldirectord', n, rounds)}`]),
  );
  const forkCell = (r: Run) => {
    const c = cpu(r);
    return `${r.settled ? '' : '> '}${r.forksToFull ?? '–'} / ${c ? fmt(c.forksPerRound, 1) : '–'} / ${r.forksToRemove ?? '–'}`;
  };
  const forks = table(['reals', 'lvsd', 'ldirectord'], byTool(forkCell));
  const unsettled = results.filter((r) => !r.settled).map((r) =>
    `${r.tool} with ${r.reals} reals had forked ${r.forksToFull ?? '?'} processes when the wait ended at ${TIMING.settleCapMs / 1000} s` +
    (r.tool === 'ldirectord' ? ` (its start from an empty table needs about 9 per real, ${9 * r.reals})` : ''));
  const breakdown = table(
    ['tool', 'reals', 'virtual service in', 'first round of checks at the reals (1st – Nth connection)', 'first real in', 'all in', 'host load (1 min) before → after'],
    results.map((r) => [r.tool, String(r.reals), secs(r.serviceMs), `${secs(r.firstCheckMs)} – ${secs(r.nthCheckMs)}`, secs(r.firstRealMs), r.fullMs !== null ? secs(r.fullMs) : secs(r.settledMs),
      `${fmt(r.load[0], 2)} → ${fmt(r.load[1], 2)}`]),
  );
  const floorTable = table(
    ['reals', '`lvskit --version` (s)', '`node -e 0` (s)', 'N connects at once from one Node process (s)', '`ipvsadm -R`, N adds (s)', '`ipvsadm -S -n` (s)', 'one read of /proc/net/ip_vs (ms)', 'CPU per Node timer wakeup (ms)'],
    floors.map((f) => [String(f.reals), secs(f.binaryStartMs), secs(f.nodeStartMs), secs(f.connectAllMs), secs(f.restoreMs), secs(f.saveMs), fmt(f.procReadMs, 1), fmt(f.wakeupMs, 2)]),
  );
  const targets = table(['target (issue 4)', 'result'], [
    [`lvsd, 1000 reals: empty table to full in under ${TARGET_FULL_S} s`, fullTarget],
    [`lvsd, 1000 reals: black-holed real at weight 0 within checkinterval + checktimeout + 1 s = ${TARGET_REMOVE_S} s`, removeTarget],
  ]);
  const tables = `### 1. Empty table to full (all N reals with weight > 0), from the tool's start

${full}

### 2. A black-holed real taken out (weight 0), from the drop in place

${remove}

### 3. CPU per check round (user + system of the tool and of the children it reaped; "own" = the tool alone)

${cpuTable}

### Processes forked in the guest: until full / per steady round / from the drop to weight 0

${forks}
${unsettled.length > 0 ? `\n${unsettled.map((u) => `- ${u}.`).join('\n')}\n` : ''}
### Where the time to a full table goes (s from the tool's start)

${breakdown}

### What the lab itself costs (same run, no checker running)

${floorTable}

### Targets

${targets}`;
  // ldirectord's start flickers every real up and down: keep the ends of long step lists.
  const steps = (x: Run['steps']) => (x.length <= 40 ? x : [...x.slice(0, 20), `… ${x.length - 40} more …`, ...x.slice(-20)]);
  const raw = [...floors.map((f) => JSON.stringify({ floor: f })), ...results.map((r) => JSON.stringify({ ...r, steps: steps(r.steps), logTail: undefined }))].join('\n');
  return { tables, missed, raw };
}

/** The miss at 1000 reals, in this run's numbers, next to what the lab alone costs. */
function breakdownText(results: Run[], floors: FloorResult[]): string {
  const runs = results.filter((r) => r.tool === 'lvsd' && r.reals === 1000 && r.fullMs !== null);
  const f = floors.find((x) => x.reals === 1000);
  if (runs.length === 0 || !f) return 'No lvsd run with 1000 reals reached a full table in this run.';
  const avg = (g: (r: Run) => number | null) => mean(runs.map((r) => g(r) ?? NaN));
  const m = (k: 'serviceMs' | 'firstCheckMs' | 'nthCheckMs' | 'firstRealMs' | 'fullMs') => secs(avg((r) => r[k]));
  const checking = avg((r) => (r.nthCheckMs ?? NaN) - (r.firstCheckMs ?? NaN));
  const after = avg((r) => r.fullMs! - (r.nthCheckMs ?? NaN));
  const floorSum = f.binaryStartMs + f.connectAllMs + f.restoreMs;
  return `In this run (mean of ${runs.length} lvsd run(s) with 1000 reals, s from the spawn): the first check reached
the reals at ${m('firstCheckMs')} (the binary alone starts in ${secs(f.binaryStartMs)} here) and the 1000th at ${m('nthCheckMs')}, so the
first round took ${secs(checking)} s where one bare Node process connecting to all 1000 at once needs
${secs(f.connectAllMs)} here. The virtual service was in at ${m('serviceMs')}, the first real at ${m('firstRealMs')} and the last at
${m('fullMs')}, ${secs(after)} s after the last check reached its real (one \`ipvsadm -R\` of 1000 adds takes ${secs(f.restoreMs)} here on
an idle table, \`ipvsadm -S -n\` ${secs(f.saveMs)}).

Starting the binary, connecting to 1000 reals from one process and one \`ipvsadm -R\` of 1000 lines add up
to **${secs(floorSum)} s in this lab at this run's load, with no checker logic at all** (they share the one
virtual CPU, so running them side by side gains little): ${floorSum >= TARGET_FULL_S * 1000
    ? `a checker built that way cannot meet the ${TARGET_FULL_S}-s target here`
    : `that leaves ${secs(TARGET_FULL_S * 1000 - floorSum)} s of the ${TARGET_FULL_S}-s target for the checker's own work`}, and every step is
stretched by the host's load. lvsd's own share is the rest, mostly its first round taking longer
than bare connects: per check it keeps three timers and an AbortController, reads the clock ~7
times and writes a log line (see below).`;
}

// Found by hand (CPU profiles with NODE_OPTIONS=--cpu-prof, strace -c, lvsd -d timelines), not re-run here.
const INVESTIGATION = `Findings from profiling lvsd in this lab by hand on 2026-11-21. They explain the numbers above;
the benchmark does not re-run them. CPU profiles (\`NODE_OPTIONS=--cpu-prof\` on the binary) and
\`lvskit checker -d\` timelines were taken on sources 17375de–066f4a6; the strace counts again on the
binary of this run (196415c with the working tree of that hour).

- **The lab is slow at what a checker does most.** UML runs every guest system call through the host
  (ptrace) and has no vDSO, so reading the clock is a system call too: a Node start costs 0.35–0.9 s,
  a fork+exec from a Node process 70 ms (145 ms with 100 MB of heap), one \`ipvsadm\` 0.05–0.25 s, and
  every event-loop wakeup of a Node process 0.4–1.8 ms of CPU depending on the host's load (last
  column of the floors; \`perl -e 'sleep 5 while 1'\` is charged nothing). On the host kernel
  \`lvskit --version\` takes 24 ms (docs/bench-agent.md), 15–40 times less. Host load (other
  engineers' tests on the same 2 CPUs) stretches all of it, and UML charges the ticks it was
  descheduled to whatever guest process was running, so a busier process is charged more under
  load: the breakdown table shows the load per run.
- **ipvsadm -R is slow per line.** \`strace -c ipvsadm -R\` with 1000 \`-a\` lines: ~17 system calls per
  line (a new netlink socket, bind, getsockname, setsockopt ×2, sendmsg ×2, recvmsg ×6, close, time,
  getpid): libipvs opens a netlink socket per command. 1000 lines take 0.4–1 s here, and the reals
  appear one by one over that time.
- **The start was serial and the first round one synchronous burst** (up to 066f4a6): two table reads
  and the service write (four ipvsadm runs) before the first check, then 1000 sockets created in one
  event-loop turn (1–4 s here) before the first answer was handled, then 1000 results handled before
  the first write, so one \`ipvsadm -R\` carried all 1000 reals (\`-d\` timelines: 1000 "Real server up"
  lines over 1.5 s, then 1000 "Added real server" lines at once). Full tables took 4.3–20 s at 1000
  reals depending on the host's load. 93ffe26 starts the checks alongside the first reconcile, in
  slices of 100 per event-loop turn, which the breakdown above shows: the first reals now land while
  later checks are still connecting.
- **The status file was rewritten about once a second** (up to 066f4a6): \`statusSoon()\` ran after
  every check result, and serialising all 1000 reals into /run/lvskit/checker/NAME.json was ~15 % of
  lvsd's busy time at 1000 reals in a 60-s profile (connect and close system calls ~33 %, timer
  bookkeeping, i.e. reading the clock, ~8 %). 93ffe26 writes it on transitions, table changes and
  the heartbeat only.
- **CPU per round at 10 and 100 reals is mostly wakeups.** ldirectord (fork=no) wakes once per round
  and makes blocking connects; lvsd wakes for each check's timer and its connect's completion, and
  once a second for the config watcher. \`strace -c -f -p\` on lvsd for 20 s in steady state: 10
  reals, 173 \`epoll_pwait\` (~43 wakeups per round of 10 checks); 100 reals, 449 for 387 checks; 1000
  reals, only 31 for 3549 checks (many checks fall due together) but ~7 clock reads per check
  (14013 \`gettimeofday\` + 11417 \`clock_gettime\`), each a system call here.

What should change in lvsd (not changed here; the benchmark only measures):
1. Coalesce wakeups: run the checks that fall due within the same short slot (e.g. 50–100 ms) from one
   timer, give each check one timer instead of three (the deadline and its backstop can share one),
   and read the clock once per check. That is where lvsd's CPU per round at 10 and 100 reals goes.
2. Write IPVS through generic netlink (one socket, many messages; checker.md §5.4), or split a large
   \`ipvsadm -R\` batch, and read through /proc/net/ip_vs or netlink rather than forking \`ipvsadm\`
   from a ~100 MB process: the start still reads the table (\`-S -n\` and \`-L -n --thresholds\`)
   before its first check.
3. Keep the 2-s target for a real director, or restate it for this lab as "the floors plus X": here
   the floors alone exceed it at 1000 reals.`;

function doc(info: Record<string, string>, r: Report, results: Run[], floors: FloorResult[]): string {
  const tails = results.map((x) => `#### ${x.tool}, ${x.reals} reals\n\n\`\`\`\n${x.logTail.trim()}\n\`\`\``).join('\n\n');
  return `# Benchmark: lvsd against ldirectord

Written by \`npm run bench -- checker\` (bench/checker.ts, bench/checker-guest.ts); do not edit by
hand, run it again (about 20 minutes).

${Object.entries(info).map(([k, v]) => `- ${k}: ${v}`).join('\n')}

## Results

Each cell is one run; for each N the order was lvsd, ldirectord, lvsd, so lvsd cells hold two runs
(\`a; b\`). A missed target is reported here, it does not fail the build. "> cap" means the tool had not
got there when the benchmark stopped waiting.

${r.tables}

## ${r.missed.some((x) => x.includes('empty to full')) ? 'Why lvsd misses the 2-s target' : "Where lvsd's time goes"} at 1000 reals

${breakdownText(results, floors)}

${INVESTIGATION}

## Method

- **Lab.** The host kernel has no IPVS, so everything runs in the User-Mode Linux lab (lab/uml.ts),
  which has **one virtual CPU** on this 2-CPU machine: the checker, the poller, the server and the
  kernel's network stack share it, as they would share a small director. Two network namespaces made
  for this run: a director (a dummy with the VIP ${VIP}, veth ${DIRECTOR_LINK}/30, a route to
  198.18.0.0/16 via the veth) and "reals" (veth ${REALS_LINK}/30, a dummy holding the N real addresses
  198.18.1.1, 198.18.1.2, …, 250 per /24). One process answers for every real: a Node TCP/HTTP
  listener on 0.0.0.0:80 in the reals namespace with a backlog of 4096 (\`net.core.somaxconn\` and
  \`tcp_max_syn_backlog\` 4096 there: in life each real has its own queue).
- **Configuration.** One file per N, the same for both tools: \`checkinterval=${CHECKINTERVAL}\`,
  \`checktimeout=${CHECKTIMEOUT}\`, \`failurecount=1\`, \`quiescent=yes\`, \`cleanstop=no\`, \`autoreload=no\`,
  \`supervised=yes\`, one \`virtual=${VIP}:80\` with \`scheduler=lc\`, \`checktype=connect\`,
  \`service=http\`, \`protocol=tcp\` and N \`real=… gate\`. \`supervised=yes\` keeps ldirectord (fork=no,
  its default: the serial loop of checker.md §1.7) in the foreground, logging at info level to
  stdout; \`-d\` would add several debug lines per check to its CPU. lvsd (\`lvskit checker --config
  FILE\`, a private 0755 copy of dist/lvskit) logs at info level to the logfile. Both are stopped with
  SIGTERM; \`cleanstop=no\` so that ldirectord's stop does not run ipvsadm per real; the driver clears
  the table (\`ipvsadm -C\`) after each run.
- **One tool at a time**, each from an empty IPVS table. A driver (bench/checker-guest.ts, Node, in
  the director namespace) starts the tool and measures:
  1. *Empty to full*: from the spawn of the tool (its start-up included), /proc/net/ip_vs read every
     ${TIMING.pollMs} ms until all N reals have a weight > 0. Cap ${TIMING.fullCapMs / 1000} s ("> cap", with how many
     were up then). Past the cap the driver waits on, up to ${TIMING.settleCapMs / 1000} s in all, for a full table to
     measure the rest from. From an empty table ldirectord first adds and quiesces every real (with
     \`readdquiescent=no\`: forced up, then down), then checks them one by one and restores each: 9
     ipvsadm runs per real, 6 of them full listings of the growing table (checker.md §1.9).
  2. *CPU per round*: ${TIMING.steadyMs / 1000} s after the table is full, a window of ${TIMING.cpuWindowMs / 1000} s with nothing polled:
     utime + stime of the tool plus cutime + cstime (the ipvsadm runs it waited for), from
     /proc/PID/stat. Rounds = connections the server took in the window / N (one per connect check),
     so a round is "every real checked once", whatever the tool's schedule. UML charges guest CPU by
     the tick, and host load inflates it too: compare runs made close together.
  3. *Black hole*: an ingress qdisc on the reals' veth with a u32 filter on the destination of the
     real in the middle of the list (index N/2) and \`action drop\`: its SYNs vanish, no RST, no ICMP.
     Timed from the filter in place to its weight 0 in /proc/net/ip_vs (polled every ${TIMING.pollMs} ms), cap
     ${TIMING.removeCapMs / 1000} s. Afterwards a connect to that real must time out (\`probe\` in the raw data), and the
     filter's drop counter is read (\`tcDrops\`). ldirectord's serial loop pays one checktimeout for
     the dead real per round and ~1 ms for each live one here, so its removal time grows little with
     N in this test; it grows with the number of reals that time out (checker.md §1.11).
  Forks are the guest's \`processes\` counter in /proc/stat (nothing else forks there meanwhile): from
  the tool's start until full, per round in the CPU window, and from the drop until weight 0 (less
  the tc that set the filter). The breakdown's connection times come from the server (wall clock of
  its 1st and N-th accepted connection). The floors are measured by the same driver with no checker
  running.

## Raw numbers

One JSON object per run (times in ms from the tool's spawn; cpu in clock ticks of 1/clockTicks s;
steps = [ms, reals with weight > 0] at each change until full; load = the host's 1-minute load
average before and after).

\`\`\`
${r.raw}
\`\`\`

## Log tails

${tails}
`;
}

function sizesFromEnv(): number[] {
  const s = process.env.LVSKIT_BENCH_CHECKER_SIZES;
  if (!s) return SIZES;
  const sizes = s.split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) throw new Error(`LVSKIT_BENCH_CHECKER_SIZES must list integers from 1 to 1000, not '${s}'`);
  return sizes;
}

/**
 * Boots the UML lab, adds its versions to `info`, builds the two namespaces, runs `body` and tears all
 * down, also on SIGINT and SIGTERM. `name` prefixes the progress lines.
 */
export async function inLab(name: string, info: Record<string, string>, body: (lab: Lab) => Promise<void>): Promise<void> {
  process.stderr.write(`bench ${name}: booting the UML lab\n`);
  const kernel = await openKernel('uml');
  let lab: Lab | undefined;
  const cleanup = async () => {
    if (lab) await tearDown(lab).catch((err: unknown) => process.stderr.write(`bench ${name}: cleanup: ${String(err)}\n`));
    await kernel.close();
  };
  const onSignal = (sig: NodeJS.Signals) => void cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    info['lab kernel'] = `User-Mode Linux ${(await check(kernel, { argv: ['uname', '-r'] })).trim()}, one virtual CPU, 2 GiB`;
    info.ldirectord = (await check(kernel, { argv: ['dpkg-query', '-W', '-f', '${Version}', 'ldirectord'] })).trim();
    info.ipvsadm = (await check(kernel, { argv: ['dpkg-query', '-W', '-f', '${Version}', 'ipvsadm'] })).trim();
    lab = await setUp(kernel);
    await body(lab);
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

export async function benchChecker(): Promise<void> {
  const sizes = sizesFromEnv();
  const info = machine(BINARY, root);
  delete info.hyperfine;
  const started = Date.now();
  const results: Run[] = [];
  const floors: FloorResult[] = [];
  try {
    await inLab('checker', info, async (lab) => {
      for (const n of sizes) {
        const cfg = await prepareSize(lab, n);
        process.stderr.write(`bench checker: floors, ${n} reals\n`);
        floors.push(await floor(lab, n));
        for (const tool of ORDER) {
          process.stderr.write(`bench checker: ${tool}, ${n} reals\n`);
          results.push(await measure(lab, tool, n, cfg));
        }
      }
    });
  } catch (err) {
    if (results.length > 0) console.log(report(results, floors).tables);
    throw err;
  }
  info['load average at end'] = loadAverage();
  info.duration = `${fmt((Date.now() - started) / 60_000)} min`;
  const r = report(results, floors);
  writeFileSync(DOC, doc(info, r, results, floors));
  console.log(`${Object.entries(info).map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${r.tables}\n`);
  for (const x of results) if (x.error) console.log(`checker: ${x.tool} with ${x.reals} reals: ${x.error}`);
  console.log(r.missed.length === 0 ? 'checker: every target met' : `checker: TARGET MISSED (not a failure of the build):\n  ${r.missed.join('\n  ')}`);
  console.log(`checker: written to ${DOC}`);
}
