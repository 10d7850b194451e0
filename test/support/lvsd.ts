// Driving lvsd (the built binary) in a lab director as an administrator would: configuration files,
// the process started and signalled, and the IPVS table read back with ipvsadm, never lvsd's own word.
// Timing-sensitive sequences run as one scenario inside the lab kernel (a Python runner that samples
// the table every ~50 ms while it injects faults), so that the host's round trips do not blur times.
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe as describeResult, type ExecResult, type Topology } from '../../lab';
import { waitFor, writeFile } from './lvs-agent';
import { BUSY_FACTOR, LAB_BUSY } from './lab';

export { LAB_BUSY, waitFor, writeFile };

export const VIP = '198.51.100.100';
/** A second service address, for configurations with two virtuals on port 80. */
export const VIP2 = '198.51.100.101';
export const DIRECTOR = 'd1';
/**
 * Seconds a check result may take to show in the table beyond the spec's bound, on a busy UML lab:
 * what the test sees goes through processes it spawns in the guest (a fault, an ipvsadm listing).
 * Wider with LAB_BUSY (./lab.ts): lvsd's first table came 15 s after its spawn there, 1-2 s alone.
 */
export const LAB_MARGIN_S = LAB_BUSY ? 8 : 2.5;

export const OCF = { SUCCESS: 0, ERR_GENERIC: 1, ERR_CONFIGURED: 6, NOT_RUNNING: 7 } as const;

/** argv that runs a command inside a lab node's namespaces (from the lab kernel's root namespace). */
export function inNode(topo: Topology, node: string, argv: string[]): string[] {
  return ['nsenter', '-t', String(topo.node(node).pid), '-n', '-m', '-u', '--', ...argv];
}

export function show(r: ExecResult): string {
  return describeResult(r);
}

export function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---- files and processes ----------------------------------------------------------------------

/** Writes a configuration file into the director's private directory; returns its path there. */
export async function writeConfig(topo: Topology, name: string, text: string): Promise<string> {
  const path = join(topo.node(DIRECTOR).dir, name);
  await writeFile(topo, path, text);
  return path;
}

/** The binary under test as the lab installed it (a 0755 copy). */
export function lvskit(topo: Topology): string {
  return topo.spec.binary;
}

/** A symlink named ldirectord to the binary under test, made once per lab kernel. */
export async function ldirectordLink(topo: Topology): Promise<string> {
  const dir = join(topo.kernel.workdir, 'lvsd-bin');
  const link = join(dir, 'ldirectord');
  for (const argv of [['mkdir', '-p', dir], ['chmod', '0755', dir], ['ln', '-sfn', lvskit(topo), link]]) {
    const r = await topo.kernel.exec({ argv });
    assert.equal(r.code, 0, show(r));
  }
  return link;
}

export function checkerArgv(topo: Topology, config: string, extra: string[] = []): string[] {
  return [lvskit(topo), 'checker', '-d', '--config', config, ...extra];
}

export function statusPath(config: string): string {
  return `/run/lvskit/checker/${basename(config)}.json`;
}

export interface StatusReal {
  real: string;
  health: string;
  weight: number;
  lastCheck?: { at: string; up: boolean; detail?: string };
}
export interface Status {
  pid: number;
  state: string;
  updatedAt: string;
  virtuals: { virtual: string; reals: StatusReal[] }[];
}

/** ocf:heartbeat:lvsd as pacemaker runs it on the director (a monitor here is a recurring one, not a probe). */
export function ocfLvsd(topo: Topology, action: string, cfg: string, env: Record<string, string> = {}): Promise<ExecResult> {
  return topo.exec(DIRECTOR, ['/usr/lib/ocf/resource.d/heartbeat/lvsd', action], {
    env: {
      OCF_ROOT: '/usr/lib/ocf',
      OCF_RESOURCE_INSTANCE: 'lvsd',
      OCF_RESOURCE_TYPE: 'lvsd',
      OCF_RESOURCE_PROVIDER: 'heartbeat',
      OCF_RA_VERSION_MAJOR: '1',
      OCF_RA_VERSION_MINOR: '1',
      OCF_RESKEY_configfile: cfg,
      OCF_RESKEY_CRM_meta_timeout: '20000',
      OCF_RESKEY_CRM_meta_interval: action === 'monitor' ? '10000' : '0',
      ...env,
    },
    timeoutMs: 60_000,
  });
}

export async function readStatus(topo: Topology, config: string): Promise<Status> {
  const out = await topo.run(DIRECTOR, ['cat', statusPath(config)]);
  return JSON.parse(out) as Status;
}

/**
 * Waits until lvsd's status file shows a check result for every real: a table can look finished
 * before the slowest check (an unreachable real waits out its timeout) has said anything.
 */
export async function everyRealChecked(topo: Topology, config: string, timeoutMs = 60_000): Promise<Status> {
  let last: Status | undefined;
  await waitFor('a check result for every real in the status file', async () => {
    last = await readStatus(topo, config).catch(() => undefined);
    // checktype=on reals are never checked: they are up from the start.
    return !!last && last.virtuals.every((v) => v.reals.every((r) => r.lastCheck !== undefined || r.health === 'up'));
  }, timeoutMs, 300).catch((err: Error) => {
    const unchecked = last?.virtuals.flatMap((v) => v.reals.filter((r) => !r.lastCheck).map((r) => `${v.virtual} ${r.real}`));
    throw new Error(`${err.message}; unchecked: ${unchecked?.join(', ') ?? 'no status file'}`);
  });
  return last!;
}

/** lvsd's log lines with their times (the guest's clock, ms), for what lvsd itself measured. */
export async function logLines(topo: Topology, file: string): Promise<Array<{ at: number; text: string }>> {
  const out = (await topo.exec(DIRECTOR, ['cat', file])).stdout;
  return out.split('\n').flatMap((l) => {
    const m = /^(\S+Z) (.*)$/.exec(l);
    return m ? [{ at: Date.parse(m[1]!), text: m[2]! }] : [];
  });
}

/** Processes a test started in the lab, so that afterEach can end exactly those. */
export class Started {
  private readonly pids = new Set<number>();
  constructor(private readonly topo: () => Topology) {}

  add(pid: number | undefined): number {
    assert.ok(pid !== undefined && pid > 0, 'no pid for a started process');
    this.pids.add(pid);
    return pid;
  }

  async start(node: string, argv: string[], log: string): Promise<number> {
    const r = await this.topo().exec(node, argv, { detach: true, log });
    assert.ok(r.error === undefined && r.pid !== undefined, `cannot start ${argv.join(' ')}: ${show(r)}`);
    return this.add(r.pid);
  }

  /** SIGKILL to every process still alive that this test started. */
  async killAll(): Promise<void> {
    for (const pid of this.pids) await this.topo().kernel.exec({ argv: ['kill', '-KILL', String(pid)] });
    this.pids.clear();
  }
}

export async function alive(topo: Topology, pid: number): Promise<boolean> {
  // A zombie is dead for our purpose; ps shows its state as Z.
  const r = await topo.kernel.exec({ argv: ['ps', '-o', 'stat=', '-p', String(pid)] });
  return r.code === 0 && !r.stdout.trim().startsWith('Z');
}

export async function waitGone(topo: Topology, pid: number, timeoutMs = 15_000): Promise<void> {
  await waitFor(`process ${pid} to exit`, async () => !(await alive(topo, pid)), timeoutMs);
}

// ---- real servers -----------------------------------------------------------------------------

/** The pid of the process listening on a TCP port in a node (undefined when none listens). */
export async function listener(topo: Topology, node: string, port = 80): Promise<number | undefined> {
  const out = await topo.run(node, ['ss', '-Hltnp', `sport = :${port}`]);
  const m = /pid=(\d+)/.exec(out);
  return m ? Number(m[1]) : undefined;
}

/** Stops a real server's HTTP service (the connection is then refused). */
export async function stopHttp(topo: Topology, node: string): Promise<void> {
  const pid = await listener(topo, node);
  if (pid === undefined) return;
  await topo.kernel.exec({ argv: ['kill', String(pid)] });
  await waitFor(`HTTP on ${node} to stop`, async () => (await listener(topo, node)) === undefined);
}

// Small servers and clients the tests run inside nodes (Python, no shell).
//   slowhttp NAME FLAG        HTTP on :80 answering NAME; while FLAG exists, after sleeping 3 s
//   echo NAME PORT            TCP echo, each line answered as "NAME: line"
//   pinger HOST PORT STOP OUT one connection, a line every 100 ms, each echo awaited; JSON summary to OUT
//   hold HOST PORT N STOP     N idle TCP connections, kept until STOP exists
export const TOOLS = String.raw`
import http.server, json, os, socket, sys, threading, time
mode = sys.argv[1]
if mode == "slowhttp":
    name, flag = sys.argv[2], sys.argv[3]
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if os.path.exists(flag):
                time.sleep(3)
            body = (name + "\n").encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *a):
            pass
    http.server.ThreadingHTTPServer(("0.0.0.0", 80), H).serve_forever()
elif mode == "echo":
    name, port = sys.argv[2], int(sys.argv[3])
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    def serve(c):
        f = c.makefile("rb")
        try:
            for line in f:
                c.sendall(name.encode() + b": " + line)
        except OSError:
            pass
        c.close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
elif mode == "pinger":
    host, port, stop, out = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    res = {"server": None, "sent": 0, "received": 0, "maxGapS": 0.0, "error": None}
    try:
        c = socket.create_connection((host, port), timeout=3)
        f = c.makefile("rb")
        last = time.time()
        end = last + 120
        while not os.path.exists(stop) and time.time() < end:
            res["sent"] += 1
            c.sendall(b"%d\n" % res["sent"])
            line = f.readline().decode().strip()
            if not line.endswith(": %d" % res["sent"]):
                raise RuntimeError("unexpected answer %r to %d" % (line, res["sent"]))
            res["server"] = line.split(":")[0]
            res["received"] += 1
            now = time.time()
            res["maxGapS"] = max(res["maxGapS"], now - last)
            last = now
            time.sleep(0.1)
    except Exception as e:
        res["error"] = "%s: %s" % (type(e).__name__, e)
    tmp = out + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(res, fh)
    os.rename(tmp, out)
elif mode == "hold":
    host, port, n, stop = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    conns = [socket.create_connection((host, port), timeout=3) for _ in range(n)]
    end = time.time() + 120
    while not os.path.exists(stop) and time.time() < end:
        time.sleep(0.1)
`;

/** Starts one of TOOLS in a node, detached; returns its pid. */
export async function startTool(started: Started, node: string, args: string[], log: string): Promise<number> {
  return started.start(node, ['python3', '-c', TOOLS, ...args], log);
}

// ---- the IPVS table ---------------------------------------------------------------------------

/** `ipvsadm -S -n` lines, sorted (ipvsadm's own order depends on the kernel's hash table). */
export async function table(topo: Topology, node = DIRECTOR): Promise<string[]> {
  return normalise(await topo.run(node, ['ipvsadm', '-S', '-n']));
}

/** The sorted table once it has stopped changing for quietMs (and is not empty): what a checker settles on. */
export async function settled(topo: Topology, who: string, quietMs: number, timeoutMs: number): Promise<string[]> {
  const end = Date.now() + timeoutMs;
  let last: string[] = [];
  let since = Date.now();
  for (;;) {
    const now = await table(topo);
    if (now.join('\n') !== last.join('\n')) {
      last = now;
      since = Date.now();
    } else if (now.length > 0 && Date.now() - since >= quietMs) {
      return now;
    }
    if (Date.now() > end) throw new Error(`the table under ${who} did not settle within ${timeoutMs / 1000} s; last:\n${now.join('\n')}`);
    await sleep(300);
  }
}

export function normalise(saved: string): string[] {
  return saved.split('\n').map((l) => l.trim()).filter((l) => l !== '').sort();
}

/** Weights of the reals of one service ("-t 198.51.100.100:80", "-f 7") in `ipvsadm -S -n` output. */
export function weights(saved: string, service: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`^-a ${esc(service)} -r (\\S+) -[gmi] -w (\\d+)`, 'gm');
  for (const m of saved.matchAll(re)) out.set(m[1]!, Number(m[2]));
  return out;
}

export function hasService(saved: string, service: string): boolean {
  return new RegExp(`^-A ${esc(service)} `, 'm').test(saved);
}

/** A regex for one real's line in `ipvsadm -S -n`; weight undefined: any. */
export function realRe(service: string, real: string, weight?: number): string {
  return `^-a ${esc(service)} -r ${esc(real)} -[gmi] -w ${weight === undefined ? '\\d+' : String(weight)}$`;
}

/** Real with a weight above zero (in the scheduler's pool). */
export function inPoolRe(service: string, real: string): string {
  return `^-a ${esc(service)} -r ${esc(real)} -[gmi] -w [1-9]\\d*$`;
}

export interface Thresholds {
  u: number;
  l: number;
  active: number;
  inactive: number;
}

/** `ipvsadm -L -n --thresholds` as service ("TCP 198.51.100.101:80") → real → thresholds. */
export function thresholds(listing: string): Map<string, Map<string, Thresholds>> {
  const out = new Map<string, Map<string, Thresholds>>();
  let current: Map<string, Thresholds> | undefined;
  for (const line of listing.split('\n')) {
    const svc = /^(TCP|UDP|FWM)\s+(\S+)/.exec(line);
    if (svc) {
      current = new Map();
      out.set(`${svc[1]} ${svc[2]}`, current);
      continue;
    }
    const dest = /^\s+->\s+(\d\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (dest && current) current.set(dest[1]!, { u: Number(dest[2]), l: Number(dest[3]), active: Number(dest[4]), inactive: Number(dest[5]) });
  }
  return out;
}

// ---- scenarios run inside the lab kernel ------------------------------------------------------

export interface Predicate {
  /** Regexes (multiline) that must all match the watched output. */
  all?: string[];
  /** Regexes none of which may match. */
  none?: string[];
  /** Which watch command the predicate reads (default 0). */
  watch?: number;
}

export type Step = { label?: string; /** Runs even after an earlier step failed. */ always?: boolean } & (
  | { run: string[]; timeout?: number }
  | { spawn: string[]; log: string }
  | { signal: string; sig?: number }
  | { waitExit: string; timeout: number }
  | { alive: string }
  | { sleep: number }
  | { wait: Predicate; timeout: number }
);

export interface StepResult {
  label: string;
  /** Lab-kernel times (s) the step began and ended. */
  t0: number;
  t1: number;
  ok?: boolean;
  skipped?: boolean;
  rc?: number;
  out?: string;
  pid?: number;
  /** For waits: the end time of the first sample, taken after the step began, that satisfied it. */
  t?: number;
}

export interface Sample {
  t0: number;
  t1: number;
  outs: string[];
}

export interface ScenarioPlan {
  /** Commands whose output is sampled (argv arrays, run from the lab kernel's root namespace). */
  watch: string[][];
  /** Seconds between samples (plus the commands' own time). Default 0.05. */
  period?: number;
  steps: Step[];
}

const RUNNER = String.raw`
import json, os, re, subprocess, sys, threading, time
plan = json.load(sys.stdin)
watch, period = plan["watch"], plan.get("period", 0.05)
samples, cond, state = [], threading.Condition(), {"done": False}

def sampler():
    while True:
        t0 = time.time()
        outs = []
        for argv in watch:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            outs.append(r.stdout if r.returncode == 0 else "ERROR rc=%d %s" % (r.returncode, r.stderr.strip()))
        with cond:
            samples.append({"t0": t0, "t1": time.time(), "outs": outs})
            cond.notify_all()
            if state["done"]:
                return
        time.sleep(period)

def ok(s, w):
    out = s["outs"][w.get("watch", 0)]
    return all(re.search(p, out, re.M) for p in w.get("all", [])) and not any(re.search(p, out, re.M) for p in w.get("none", []))

threading.Thread(target=sampler, daemon=True).start()
with cond:
    while not samples:
        cond.wait()
procs, results, failed = {}, [], False
for step in plan["steps"]:
    r = {"label": step.get("label", ""), "t0": time.time()}
    results.append(r)
    if failed and not step.get("always"):
        r["skipped"] = True
        continue
    try:
        if "run" in step:
            p = subprocess.run(step["run"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=step.get("timeout", 60))
            r.update(rc=p.returncode, out=p.stdout + p.stderr, ok=p.returncode == 0)
        elif "spawn" in step:
            log = open(step["log"], "ab")
            p = subprocess.Popen(step["spawn"], stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
            procs[step["label"]] = p
            r.update(pid=p.pid, ok=True)
        elif "signal" in step:
            os.kill(procs[step["signal"]].pid, step.get("sig", 15))
            r["ok"] = True
        elif "waitExit" in step:
            try:
                r.update(rc=procs[step["waitExit"]].wait(step["timeout"]), ok=True)
            except subprocess.TimeoutExpired:
                r["ok"] = False
        elif "alive" in step:
            r["ok"] = procs[step["alive"]].poll() is None
        elif "sleep" in step:
            time.sleep(step["sleep"])
            r["ok"] = True
        elif "wait" in step:
            deadline, i, r["ok"] = r["t0"] + step["timeout"], 0, False
            with cond:
                while True:
                    while i < len(samples):
                        s = samples[i]
                        i += 1
                        if s["t0"] >= r["t0"] and ok(s, step["wait"]):
                            r.update(ok=True, t=s["t1"])
                            break
                    if r["ok"] or time.time() > deadline:
                        break
                    cond.wait(0.05)
    except Exception as e:
        r.update(ok=False, out="%s: %s" % (type(e).__name__, e))
    r["t1"] = time.time()
    if not r.get("ok"):
        failed = True
with cond:
    state["done"] = True
    n = len(samples)
    cond.wait(10)
changes = []
for s in samples:
    if not changes or s["outs"] != changes[-1]["outs"]:
        changes.append(s)
json.dump({"steps": results, "samples": changes, "count": n}, sys.stdout)
`;

export class Scenario {
  constructor(
    readonly steps: StepResult[],
    /** Samples whose output differs from the previous one (the first always), in time order. */
    readonly samples: Sample[],
    readonly count: number,
  ) {}

  step(label: string): StepResult {
    const s = this.steps.find((x) => x.label === label);
    if (!s) throw new Error(`no scenario step '${label}'`);
    return s;
  }

  /** Every distinct state seen from time a to time b (the one in force at a included). */
  between(a: number, b: number, watch = 0): string[] {
    let before: Sample | undefined;
    const out: string[] = [];
    for (const s of this.samples) {
      if (s.t1 <= a) before = s;
      else if (s.t0 <= b) out.push(s.outs[watch]!);
    }
    return before ? [before.outs[watch]!, ...out] : out;
  }

  /** A readable history of the sampled states, for assertion messages. */
  history(watch = 0, t0 = this.samples[0]?.t0 ?? 0): string {
    const marks = this.steps.map((s) => `  ${(s.t0 - t0).toFixed(2)}s step ${s.label}${s.t ? ` (met at ${(s.t - t0).toFixed(2)}s)` : ''}${s.skipped ? ' skipped' : s.ok === false ? ` FAILED ${s.out ?? ''}` : ''}`);
    const states = this.samples.map((s) => `  ${(s.t1 - t0).toFixed(2)}s:\n${s.outs[watch]!.trimEnd().replace(/^/gm, '      ')}`);
    return `steps:\n${marks.join('\n')}\nsampled states (${this.count} samples):\n${states.join('\n')}`;
  }

  /** Asserts every step ran and succeeded. */
  assertOk(watch = 0): void {
    const bad = this.steps.find((s) => s.skipped || s.ok === false);
    assert.ok(!bad, `scenario step '${bad?.label}' ${bad?.skipped ? 'was skipped' : 'failed'}\n${this.history(watch)}`);
  }
}

/** Runs a plan inside the lab kernel and returns what it saw. */
export async function scenario(topo: Topology, plan: ScenarioPlan, timeoutMs = 120_000): Promise<Scenario> {
  // Its waits are no bounds (the tests assert latencies apart): longer when the machine is busy.
  if (LAB_BUSY) {
    plan = { ...plan, steps: plan.steps.map((st) => ('timeout' in st && st.timeout !== undefined ? { ...st, timeout: st.timeout * BUSY_FACTOR } : st)) };
    timeoutMs *= BUSY_FACTOR;
  }
  const r = await topo.kernel.exec({ argv: ['python3', '-c', RUNNER], stdin: JSON.stringify(plan), timeoutMs });
  assert.equal(r.code, 0, `scenario runner: ${show(r)}`);
  const j = JSON.parse(r.stdout) as { steps: StepResult[]; samples: Sample[]; count: number };
  return new Scenario(j.steps, j.samples, j.count);
}

/** Runs commands one after the other inside the lab kernel in one round trip; failures are returned, not thrown. */
export async function runAll(topo: Topology, argvs: string[][]): Promise<StepResult[]> {
  const sc = await scenario(topo, { watch: [['true']], period: 1, steps: argvs.map((run, i) => ({ label: String(i), run, always: true })) });
  return sc.steps;
}

/** The director's `ipvsadm -S -n`, as a watch command. */
export function watchTable(topo: Topology): string[] {
  return inNode(topo, DIRECTOR, ['ipvsadm', '-S', '-n']);
}

export function watchThresholds(topo: Topology): string[] {
  return inNode(topo, DIRECTOR, ['ipvsadm', '-L', '-n', '--thresholds']);
}
