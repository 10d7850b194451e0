// Runs inside the UML lab guest for `npm run bench -- checker` and `-- follow` (bundled by bench/checker.ts).
//   server                      in the reals namespace: one TCP/HTTP listener on the wildcard for every
//                               real address; on stdin "count" it answers how many connections it took.
//   drive <json DriveSpec>      in the director namespace: starts the server and one checker, times it
//                               against /proc/net/ip_vs and prints a DriveResult as JSON on stdout.
//   floor <json FloorSpec>      in the director namespace: what the lab costs for N reals whatever the
//                               checker (process starts, N connects, ipvsadm -R of N lines).
//   follow <json FollowSpec>    in the director namespace: moves the VIP between the NIC and lo, as
//                               promote and demote do, and times lvsd's services against the address
//                               events; prints a FollowResult as JSON on stdout.
// Timing happens here, next to the tool, because a command from the host takes ~60 ms to arrive.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** What drive and follow share: the checker, the server, and the service they watch. */
export interface ToolSpec {
  /** The checker's command line and its whole environment. */
  argv: string[];
  env: Record<string, string>;
  /** Where its stdout and stderr go. */
  log: string;
  /** How this script runs itself as the server in the reals namespace. */
  serverArgv: string[];
  reals: number;
  /** The virtual service as /proc/net/ip_vs shows it, e.g. "TCP C6120064:0050". */
  service: string;
}

export interface DriveSpec extends ToolSpec {
  tool: string;
  /** The real to black-hole: its address, and its /proc/net/ip_vs name ("C6120105:0050"). */
  victim: { address: string; procName: string };
  /** tc in the reals namespace: `tc -n <realsNs> ... dev <dev>`. */
  realsNs: string;
  dev: string;
  pollMs: number;
  /** Give up waiting for the full table after this long (the reported cap)... */
  fullCapMs: number;
  /** ...but go on waiting this long in all for a settled table, to measure the rest. */
  settleCapMs: number;
  /** Quiet time after the table is full, before the CPU window. */
  steadyMs: number;
  cpuWindowMs: number;
  removeCapMs: number;
  /** Only the first part: empty table to full (the CPU window and the black hole are skipped). */
  fullOnly?: boolean;
}

export interface CpuSample {
  /** Clock ticks (USER_HZ) of the tool itself, and of the children it has waited for. */
  self: number;
  children: number;
}

export interface DriveResult {
  tool: string;
  reals: number;
  clockTicks: number;
  /** From the spawn of the tool: the virtual service in, the first real with a weight, all of them. */
  serviceMs: number | null;
  firstRealMs: number | null;
  fullMs: number | null;
  /** When the server took the first connection, and the N-th (ms from the start; the first round of checks). */
  firstCheckMs: number | null;
  nthCheckMs: number | null;
  /** Reals with weight > 0 when fullCapMs ran out (only when fullMs is null or above the cap). */
  upAtCap: number | null;
  settled: boolean;
  /** [ms since the start, reals with weight > 0] at each change of that count, until full. */
  steps: Array<[number, number]>;
  /** When the table was full, also past fullCapMs (settledMs ≤ settleCapMs). */
  settledMs: number | null;
  /** Processes the whole guest forked from the tool's start until the table was full (or the wait ended). */
  forksToFull: number | null;
  window?: { ms: number; cpu: CpuSample; connections: number; forks: number };
  /** From the black-hole (tc filter in place) to the victim's weight 0 (or gone). */
  removeMs?: number | null;
  forksToRemove?: number | null;
  /** A connect to the victim after the removal: must time out for the drop to be real. */
  probe?: string;
  tcDrops?: number | null;
  stopMs?: number | null;
  logTail: string;
  error?: string;
}

const now = () => performance.now();

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${message}\n`);
}

// ---- server ----

const HTTP_OK = 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n';

function server(): void {
  let connections = 0;
  // Wall-clock time of the first connections, to tell when a checker's first round reached the reals.
  const firstAt: number[] = [];
  const srv = net.createServer((socket) => {
    connections++;
    if (firstAt.length < 100_000) firstAt.push(Date.now());
    let head = '';
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('error', () => undefined);
    // A connect check closes at once; an HTTP check gets one answer.
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) socket.end(HTTP_OK);
    });
    socket.on('end', () => socket.end());
  });
  srv.on('error', (err) => {
    process.stderr.write(`bench server: ${err.message}\n`);
    process.exit(1);
  });
  // Each real is a separate machine in life: give the one listener room for all their SYNs.
  srv.listen({ port: 80, host: '0.0.0.0', backlog: 4096 }, () => process.stdout.write('listening\n'));
  let buffer = '';
  process.stdin.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let i: number;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i).trim();
      buffer = buffer.slice(i + 1);
      if (line === 'count') process.stdout.write(`${connections}\n`);
      const at = /^at (\d+)$/.exec(line);
      if (at) process.stdout.write(`${firstAt[Number(at[1]) - 1] ?? -1}\n`);
    }
  });
  process.stdin.on('end', () => process.exit(0));
}

class ServerClient {
  private buffer = '';
  private readonly waiters: Array<(line: string) => void> = [];
  private readonly exited: Promise<void>;

  /** Starts the server (serverArgv); `listening()` waits until it is ready. */
  static start(argv: string[]): ServerClient {
    return new ServerClient(spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] }));
  }

  constructor(readonly child: ChildProcess) {
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdout!.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString();
      let i: number;
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        this.waiters.shift()?.(line);
      }
    });
  }

  async listening(): Promise<void> {
    if ((await this.line()) !== 'listening') throw new Error('the bench server did not start');
  }

  /** End of its stdin stops it; killed if it has not gone within 5 s. */
  async stop(): Promise<void> {
    this.child.stdin!.end();
    await Promise.race([this.exited, sleep(5000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  line(timeoutMs = 30_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the bench server did not answer')), timeoutMs);
      this.waiters.push((l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
  }

  async count(): Promise<number> {
    const answer = this.line();
    this.child.stdin!.write('count\n');
    return Number(await answer);
  }

  /** Wall-clock ms of the k-th connection the server took (1-based), or undefined. */
  async at(k: number): Promise<number | undefined> {
    const answer = this.line();
    this.child.stdin!.write(`at ${k}\n`);
    const t = Number(await answer);
    return t < 0 ? undefined : t;
  }
}

/** The checker under test, its stdout and stderr in its log file. */
class Tool {
  readonly child: ChildProcess;
  /** Resolves when it has exited (or could not be started). */
  readonly gone: Promise<void>;
  exited = false;

  constructor(spec: ToolSpec) {
    const fd = openSync(spec.log, 'w');
    try {
      this.child = spawn(spec.argv[0]!, spec.argv.slice(1), { env: spec.env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    this.gone = new Promise((resolve) => {
      const gone = () => {
        this.exited = true;
        resolve();
      };
      this.child.once('exit', gone).once('error', gone);
    });
  }

  /** SIGTERM, then SIGKILL after 10 s: the ms it took to go on SIGTERM, null when it had to be killed. */
  async stop(): Promise<number | null> {
    if (this.exited) return null;
    const t = now();
    this.child.kill('SIGTERM');
    const stopped = await Promise.race([this.gone.then(() => true), sleep(10_000).then(() => false)]);
    if (stopped) return now() - t;
    this.child.kill('SIGKILL');
    await this.gone;
    return null;
  }
}

// ---- /proc ----

interface IpvsView {
  service: boolean;
  up: number;
  weights: Map<string, number>;
}

function readIpvs(service: string): IpvsView {
  const view: IpvsView = { service: false, up: 0, weights: new Map() };
  let inService = false;
  for (const line of readFileSync('/proc/net/ip_vs', 'utf8').split('\n')) {
    if (line.startsWith('  -> ')) {
      if (!inService) continue;
      const t = line.trim().split(/\s+/);
      const weight = Number(t[3]);
      view.weights.set(t[1]!, weight);
      if (weight > 0) view.up++;
    } else if (/^(TCP|UDP|FWM|SCTP) /.test(line)) {
      const t = line.trim().split(/\s+/);
      inService = `${t[0]} ${t[1]}` === service;
      if (inService) view.service = true;
    }
  }
  return view;
}

function cpuOf(pid: number): CpuSample {
  // Fields after the command name: state is field 3, utime..cstime are 14..17.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { self: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
}

function forks(): number {
  return Number(/^processes (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? NaN);
}

function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(no log)';
  }
}

function run(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}${r.error?.message ?? ''}`);
  return r.stdout;
}

/** A TCP connect that must neither succeed nor be refused within ms: what a black hole does. */
function probe(address: string, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port: 80 });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(`no answer in ${ms} ms (black-holed)`);
    }, ms);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve('CONNECTED: the black hole does not hold');
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      resolve(`ERROR ${e.message}: the black hole does not hold`);
    });
  });
}

// ---- floors: what the lab itself costs for N reals, whatever the checker ----

export interface FloorSpec {
  binary: string;
  env: Record<string, string>;
  serverArgv: string[];
  addresses: string[];
  /** "198.18.0.100:80" */
  virtual: string;
}

export interface FloorResult {
  reals: number;
  /** `lvskit --version`, spawned and waited for (Node start of the binary), best of 3. */
  binaryStartMs: number;
  /** `node -e 0`, best of 3: the plain Node start here. */
  nodeStartMs: number;
  /** One Node process opens a TCP connection to every real at once, until all are connected and closed; best of 2. */
  connectAllMs: number;
  /** `ipvsadm -R` adding every real to an existing service, one process. */
  restoreMs: number;
  /** `ipvsadm -S -n` of that table. */
  saveMs: number;
  /** One read of /proc/net/ip_vs with every real in it (what each poll of this driver costs). */
  procReadMs: number;
  /** CPU charged to an otherwise idle Node process per timer wakeup (a 10-ms interval for 5 s). */
  wakeupMs: number;
}

function timed(argv: string[], input?: string, env?: Record<string, string>): number {
  const t = now();
  const r = spawnSync(argv[0]!, argv.slice(1), { input: input ?? '', env: env ?? process.env, stdio: ['pipe', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr?.toString() ?? ''}${r.error?.message ?? ''}`);
  return now() - t;
}

/** CPU per event-loop wakeup: a Node process whose only work is a 10-ms interval timer. */
async function wakeupCost(env: Record<string, string>): Promise<number> {
  const child = spawn('node', ['-e', 'setInterval(() => {}, 10)'], { env, stdio: 'ignore' });
  try {
    await sleep(1500); // past its start-up
    const before = cpuOf(child.pid!).self;
    const t = now();
    await sleep(5000);
    const ticks = cpuOf(child.pid!).self - before;
    const tick = 1000 / Number(run(['getconf', 'CLK_TCK']).trim());
    return (ticks * tick) / ((now() - t) / 10);
  } finally {
    child.kill('SIGKILL');
  }
}

function connectAll(addresses: string[]): Promise<number> {
  const t = now();
  return new Promise((resolve, reject) => {
    let left = addresses.length;
    for (const host of addresses) {
      const s = net.connect({ host, port: 80 });
      s.setTimeout(10_000, () => reject(new Error(`connect to ${host} timed out`)));
      s.once('connect', () => {
        s.destroy();
        if (--left === 0) resolve(now() - t);
      });
      s.once('error', reject);
    }
  });
}

async function floor(spec: FloorSpec): Promise<FloorResult> {
  const best = (xs: number[]) => Math.min(...xs);
  const binaryStartMs = best([0, 1, 2].map(() => timed([spec.binary, '--version'], undefined, spec.env)));
  const nodeStartMs = best([0, 1, 2].map(() => timed(['node', '-e', '0'], undefined, spec.env)));
  const wakeupMs = await wakeupCost(spec.env);
  const server = ServerClient.start(spec.serverArgv);
  try {
    await server.listening();
    const connects: number[] = [];
    for (let i = 0; i < 2; i++) {
      connects.push(await connectAll(spec.addresses));
      await sleep(1000);
    }
    run(['ipvsadm', '-A', '-t', spec.virtual, '-s', 'lc']);
    const lines = spec.addresses.map((a) => `-a -t ${spec.virtual} -r ${a}:80 -g -w 1 -x 0 -y 0\n`).join('');
    const restoreMs = timed(['ipvsadm', '-R'], lines);
    const saveMs = timed(['ipvsadm', '-S', '-n']);
    const t = now();
    for (let i = 0; i < 20; i++) readFileSync('/proc/net/ip_vs', 'utf8');
    const procReadMs = (now() - t) / 20;
    return { reals: spec.addresses.length, binaryStartMs, nodeStartMs, connectAllMs: best(connects), restoreMs, saveMs, procReadMs, wakeupMs };
  } finally {
    spawnSync('ipvsadm', ['-C'], { stdio: 'ignore' });
    await server.stop();
  }
}

// ---- follow: the services appear and go with the VIP (followvip) ----

export interface FollowSpec extends ToolSpec {
  vip: string;
  /** The director's NIC (the VIP there: held, the services in) and its prefix there. */
  nic: string;
  prefix: number;
  cycles: number;
  pollMs: number;
  /** Give up one wait after this long. */
  capMs: number;
  /** Between one move and the next, once the table has followed. */
  pauseMs: number;
  /** Until lvsd's first full table, from its start. */
  startCapMs: number;
  /** ipvsadm -R input that adds the service and its N reals: the write lvsd makes when the VIP lands. */
  restoreInput: string;
}

export interface FollowCycle {
  /** ms from the VIP's address event on the NIC to its service in /proc/net/ip_vs with every real at weight > 0. */
  landMs: number | null;
  /** ms from the VIP's removal event on the NIC to its service gone. */
  leaveMs: number | null;
  /** The `ip` process that moved the VIP, spawn to exit (ms): what the event time is taken inside of. */
  landMoveMs: number;
  leaveMoveMs: number;
}

export interface FollowResult {
  reals: number;
  /** From lvsd's spawn to its first full table (the VIP held from the start). */
  startMs: number | null;
  cycles: FollowCycle[];
  /** The same run, lvsd stopped: one `ipvsadm -R` writing the service and its N reals (best of 3). */
  restoreMs: number | null;
  pollMs: number;
  logTail: string;
  error?: string;
}

/** Epoch ms (fractional) now, on the clock `ip -ts` stamps its lines with. */
const wallNow = () => performance.timeOrigin + performance.now();

/** Address events on the director, stamped by `ip -ts` (UTC) when it read them. */
class AddressEvents {
  private buffer = '';
  readonly events: Array<{ at: number; deleted: boolean; dev: string; address: string }> = [];
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString();
      let i: number;
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?\]\s+(Deleted\s+)?\d+:\s+(\S+)\s+inet6?\s+([^/\s]+)/.exec(line);
        if (!m) continue;
        const at = Date.parse(`${m[1]}Z`) + Number(m[2] ?? 0) * 1000;
        this.events.push({ at, deleted: m[3] !== undefined, dev: m[4]!, address: m[5]! });
      }
    });
  }

  /** The first event after `since` for this address on dev, waited for up to ms. */
  async wait(since: number, dev: string, address: string, deleted: boolean, ms: number): Promise<number | null> {
    const until = now() + ms;
    for (;;) {
      const e = this.events.find((x) => x.at >= since && x.dev === dev && x.address === address && x.deleted === deleted);
      if (e) return e.at;
      if (now() > until) return null;
      await sleep(20);
    }
  }
}

/** Runs `ip -batch -` with these lines; resolves with its spawn-to-exit time. */
function ipBatch(lines: string[]): Promise<number> {
  const t = now();
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(now() - t) : reject(new Error(`ip -batch: exit ${code}: ${err.trim()}`))));
    child.stdin!.end(lines.map((l) => `${l}\n`).join(''));
  });
}

/** Polls /proc/net/ip_vs until `done` holds; the wall time it first held, or null after capMs. */
async function pollUntil(spec: FollowSpec, done: (v: IpvsView) => boolean): Promise<number | null> {
  const until = now() + spec.capMs;
  for (;;) {
    if (done(readIpvs(spec.service))) return wallNow();
    if (now() > until) return null;
    await sleep(spec.pollMs);
  }
}

async function follow(spec: FollowSpec): Promise<FollowResult> {
  const result: FollowResult = { reals: spec.reals, startMs: null, cycles: [], restoreMs: null, pollMs: spec.pollMs, logTail: '' };
  const vip = `${spec.vip}/${spec.prefix}`;
  const full = (v: IpvsView) => v.service && v.up >= spec.reals;
  const server = ServerClient.start(spec.serverArgv);
  const monitor = spawn('ip', ['-ts', '-o', 'monitor', 'address'], { env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const events = new AddressEvents(monitor);
  let tool: Tool | undefined;
  try {
    await server.listening();
    if (readIpvs(spec.service).service) throw new Error(`${spec.service} is in the IPVS table before the start`);
    // Promoted to begin with: lvsd starts with the VIP held and fills its table.
    await ipBatch([`addr add ${vip} dev ${spec.nic}`]);
    const t0 = now();
    tool = new Tool(spec);
    const startCap = { ...spec, capMs: spec.startCapMs };
    if ((await pollUntil(startCap, full)) === null) throw new Error(`lvsd had no full table ${spec.startCapMs / 1000} s after its start`);
    result.startMs = now() - t0;
    log(`follow: lvsd full with ${spec.reals} reals after ${Math.round(result.startMs)} ms`);
    await sleep(spec.pauseMs);

    for (let i = 0; i < spec.cycles; i++) {
      // Demote's order: off the NIC, the services go, then onto lo.
      const leaveFrom = wallNow();
      const leaveMoveMs = await ipBatch([`addr del ${vip} dev ${spec.nic}`]);
      const gone = await pollUntil(spec, (v) => !v.service);
      const leftAt = await events.wait(leaveFrom - 1, spec.nic, spec.vip, true, 2000);
      await ipBatch([`addr add ${spec.vip}/32 dev lo`]);
      await sleep(spec.pauseMs);
      // Promote's move: onto the NIC and off lo in one ip process.
      const landFrom = wallNow();
      const landMoveMs = await ipBatch([`addr add ${vip} dev ${spec.nic}`, `addr del ${spec.vip}/32 dev lo`]);
      const landed = await pollUntil(spec, full);
      const landAt = await events.wait(landFrom - 1, spec.nic, spec.vip, false, 2000);
      const cycle: FollowCycle = {
        landMs: landed !== null && landAt !== null ? landed - landAt : null,
        leaveMs: gone !== null && leftAt !== null ? gone - leftAt : null,
        landMoveMs,
        leaveMoveMs,
      };
      result.cycles.push(cycle);
      log(`follow: cycle ${i + 1}/${spec.cycles}: ${JSON.stringify(cycle)}`);
      if (landed === null || gone === null) throw new Error(`lvsd's table did not follow the VIP within ${spec.capMs} ms (cycle ${i + 1})`);
      await sleep(spec.pauseMs);
    }
    return result;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    return result;
  } finally {
    await tool?.stop();
    monitor.kill('SIGTERM');
    spawnSync('ip', ['addr', 'del', vip, 'dev', spec.nic], { stdio: 'ignore' });
    spawnSync('ip', ['addr', 'del', `${spec.vip}/32`, 'dev', 'lo'], { stdio: 'ignore' });
    spawnSync('ipvsadm', ['-C'], { stdio: 'ignore' });
    await server.stop();
    // What lvsd's write costs here without lvsd: the same service and reals, one ipvsadm -R, best of 3.
    if (!result.error) {
      try {
        const times: number[] = [];
        for (let i = 0; i < 3; i++) {
          times.push(timed(['ipvsadm', '-R'], spec.restoreInput));
          spawnSync('ipvsadm', ['-C'], { stdio: 'ignore' });
        }
        result.restoreMs = Math.min(...times);
      } catch (err) {
        result.error = `ipvsadm -R without lvsd: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    result.logTail = tail(spec.log);
  }
}

// ---- driver ----

async function drive(spec: DriveSpec): Promise<DriveResult> {
  const result: DriveResult = {
    tool: spec.tool, reals: spec.reals, clockTicks: Number(run(['getconf', 'CLK_TCK']).trim()),
    serviceMs: null, firstRealMs: null, fullMs: null, firstCheckMs: null, nthCheckMs: null, upAtCap: null, settled: false, settledMs: null, steps: [], forksToFull: null, logTail: '',
  };
  if (readIpvs(spec.service).service) throw new Error(`${spec.service} is in the IPVS table before the start`);

  const server = ServerClient.start(spec.serverArgv);
  let tool: Tool | undefined;
  try {
    await server.listening();

    const forks0 = forks();
    const wall0 = Date.now();
    const t0 = now();
    tool = new Tool(spec);
    const pid = tool.child.pid;
    if (pid === undefined) throw new Error(`cannot start ${spec.argv.join(' ')}`);
    log(`${spec.tool} started (pid ${pid}) with ${spec.reals} reals`);

    // 1. Empty table to full.
    for (;;) {
      const v = readIpvs(spec.service);
      const t = now() - t0;
      if (v.service && result.serviceMs === null) result.serviceMs = t;
      if (v.up > 0 && result.firstRealMs === null) result.firstRealMs = t;
      if (v.up !== (result.steps.at(-1)?.[1] ?? 0)) result.steps.push([Math.round(t), v.up]);
      if (v.up >= spec.reals) {
        result.fullMs = t;
        result.settledMs = t;
        result.forksToFull = forks() - forks0;
        result.settled = true;
        if (t > spec.fullCapMs) result.upAtCap ??= v.up;
        break;
      }
      if (t > spec.fullCapMs && result.upAtCap === null) {
        result.upAtCap = v.up;
        log(`${spec.tool}: ${v.up}/${spec.reals} up at the cap of ${spec.fullCapMs / 1000} s; waiting on for a settled table`);
      }
      if (t > spec.settleCapMs) break;
      if (tool.exited) throw new Error(`${spec.tool} exited before the table was full`);
      await sleep(spec.pollMs);
    }
    if (result.fullMs !== null && result.fullMs > spec.fullCapMs) result.fullMs = null;
    const since = (at: number | undefined) => (at === undefined ? null : at - wall0);
    result.firstCheckMs = since(await server.at(1));
    result.nthCheckMs = since(await server.at(spec.reals));
    if (!result.settled) result.forksToFull = forks() - forks0;
    log(`${spec.tool}: ${result.settled ? 'table full' : 'not full'}: ${JSON.stringify({ fullMs: result.fullMs, upAtCap: result.upAtCap, steps: result.steps.length })}`);
    if (!result.settled || spec.fullOnly) return result;

    // 2. CPU per check round, nothing polled meanwhile.
    await sleep(spec.steadyMs);
    const c0 = cpuOf(pid);
    const n0 = await server.count();
    const f0 = forks();
    const w0 = now();
    await sleep(spec.cpuWindowMs);
    const c1 = cpuOf(pid);
    const n1 = await server.count();
    const f1 = forks();
    result.window = {
      ms: now() - w0,
      cpu: { self: c1.self - c0.self, children: c1.children - c0.children },
      connections: n1 - n0,
      forks: f1 - f0,
    };
    if (tool.exited) throw new Error(`${spec.tool} exited during the CPU window`);

    // 3. Black-hole one real: its packets are dropped on the reals' side, silently.
    run(['tc', '-n', spec.realsNs, 'qdisc', 'add', 'dev', spec.dev, 'ingress']);
    const fb = forks();
    run(['tc', '-n', spec.realsNs, 'filter', 'add', 'dev', spec.dev, 'parent', 'ffff:', 'protocol', 'ip', 'prio', '1',
      'u32', 'match', 'ip', 'dst', `${spec.victim.address}/32`, 'action', 'drop']);
    const tb = now();
    result.removeMs = null;
    for (;;) {
      const w = readIpvs(spec.service).weights.get(spec.victim.procName);
      const t = now() - tb;
      if (w === undefined || w === 0) {
        result.removeMs = t;
        result.forksToRemove = forks() - fb - 1; // less the tc that set the filter
        break;
      }
      if (t > spec.removeCapMs || tool.exited) break;
      await sleep(spec.pollMs);
    }
    result.probe = await probe(spec.victim.address, 1500);
    const stats = run(['tc', '-s', '-n', spec.realsNs, 'filter', 'show', 'dev', spec.dev, 'parent', 'ffff:']);
    const drops = /dropped (\d+)/.exec(stats)?.[1] ?? /Sent \d+ bytes (\d+) pkt/.exec(stats)?.[1];
    result.tcDrops = drops === undefined ? null : Number(drops);
    log(`${spec.tool}: removal ${JSON.stringify({ ms: result.removeMs, probe: result.probe })}`);
    return result;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    return result;
  } finally {
    if (tool && !tool.exited) result.stopMs = await tool.stop();
    spawnSync('tc', ['-n', spec.realsNs, 'qdisc', 'del', 'dev', spec.dev, 'ingress'], { stdio: 'ignore' });
    spawnSync('ipvsadm', ['-C'], { stdio: 'ignore' });
    await server.stop();
    result.logTail = tail(spec.log);
  }
}

async function main(): Promise<void> {
  const [mode, arg] = process.argv.slice(2);
  if (mode === 'server') return server();
  const modes: Record<string, (spec: never) => Promise<object>> = { drive, floor, follow };
  const act = mode === undefined ? undefined : modes[mode];
  if (!act || !arg) {
    process.stderr.write('usage: checker-guest.cjs server | drive <json> | floor <json> | follow <json>\n');
    process.exit(2);
  }
  let out: object;
  try {
    out = await act(JSON.parse(arg) as never);
  } catch (err) {
    out = { error: err instanceof Error ? err.message : String(err) };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

void main();
