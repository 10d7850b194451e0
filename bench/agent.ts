// `npm run bench -- agent`: ocf:heartbeat:lvs monitor and promote against IPaddr2's monitor and start,
// in one network namespace on the host kernel, in the same run, with the clean environment pacemaker
// gives; and from promote (start) to the first gratuitous ARP on a peer's wire, which is when the
// clients can move. IPVS is not needed for these actions, so the host kernel serves even without it.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, Topology } from '../lab';
import { SCORE } from '../src/agents/lvs/actions';
import { HostKernel } from '../lab/host';
import { crmFeatureSet, execdEnvironment, startCluster } from './cluster';
import { envArgs, expectCode, fmt, loadAverage, machine, Sampler, sharedLine, shownCommand, stats, table, type Case, type Exec, type Options, type Result, type Stats } from './measure';

const root = resolve(__dirname, '..');
const BINARY = join(root, 'dist', 'lvskit');
const DOC = join(root, 'docs', 'bench-agent.md');
// Inside a lab director this is a private copy of the directory whose lvs points at the lab's copy
// of dist/lvskit: the very path pacemaker would run.
const OCF_DIR = '/usr/lib/ocf/resource.d/heartbeat';
const IPADDR2 = `${OCF_DIR}/IPaddr2`;
const LVS = `${OCF_DIR}/lvs`;
// Benchmarks use 198.18.0.0/15 only, and only inside their namespace. One VIP per agent: both run
// side by side, so that their measurements can alternate.
const IPADDR2_VIP = '198.18.0.100';
const LVS_VIP = '198.18.0.101';
const NODE = 'bench';
const NODE_IP = '198.18.0.11';
// The peer on the same bridge whose eth0 sees the gratuitous ARPs.
const PEER = 'peer';
const PEER_IP = '198.18.0.10';
const FIRST_ARP = join(root, 'bench', 'first-arp.py');
/** Before each timed run, no ARP about the VIP for this long (an earlier sender has finished). */
const ARP_QUIET_MS = 1000;
/** A run whose first ARP has not arrived this long after the start counts as without one. */
const ARP_TIMEOUT_MS = 5000;
const ARP_WARMUP = 2;

// LVSKIT_BENCH_ROUNDS (default 3) blocks of 10 timed runs per row.
const ROUNDS = Number(process.env.LVSKIT_BENCH_ROUNDS ?? 3);
const OPTIONS: Omit<Options, 'tmpdir'> = { runs: 10 * ROUNDS, blocks: ROUNDS, warmup: 5, rssRuns: 5 };
const GOAL = 1.0; // lvs monitor no slower than IPaddr2 monitor
const LIMIT = 1.5; // and never above this

// The table's rows in order, each next to the IPaddr2 action it is compared with.
const LABELS = {
  floor: '`lvskit --version` (Node start, for reference)',
  ipMonitor: 'IPaddr2 monitor (started)',
  lvsMonUnpromoted: 'lvs monitor, unpromoted (rc 0)',
  lvsMonPromoted: 'lvs monitor, promoted (rc 8)',
  ipStart: 'IPaddr2 start (prepare: stop)',
  lvsPromote: 'lvs promote (prepare: demote)',
};
type Key = keyof typeof LABELS;
const REFERENCE: Record<Key, Key> = {
  floor: 'ipMonitor', ipMonitor: 'ipMonitor', lvsMonUnpromoted: 'ipMonitor', lvsMonPromoted: 'ipMonitor',
  ipStart: 'ipStart', lvsPromote: 'ipStart',
};

// From the start of the action to the first gratuitous ARP for its VIP from the director's MAC on
// the peer's wire: when clients can first learn where the VIP went.
const ARP_LABELS = {
  ipStart: 'IPaddr2 start (prepare: stop)',
  lvsPromote: 'lvs promote (prepare: demote)',
};
type ArpKey = keyof typeof ARP_LABELS;

interface ArpCase {
  label: string;
  vip: string;
  prepare: string[];
  action: string[];
  env: Record<string, string>;
}

/** One timed run of bench/first-arp.py: ms from the start of the action; null: no ARP in time. */
interface ArpRun {
  arp_ms: number | null;
  exit_ms: number;
  code: number;
}

interface ArpResult {
  label: string;
  arp: Stats | undefined;
  /** Runs without an ARP within ARP_TIMEOUT_MS. */
  missing: number;
  exit: Stats;
  command: string;
}

/** First-ARP runs block by block, as Sampler does, so that the agents alternate. */
class ArpTimer {
  private readonly data = new Map<string, { c: ArpCase; runs: ArpRun[]; command: string }>();

  constructor(
    private readonly exec: Exec,
    private readonly o: Options,
    private readonly peer: { pid: number; name: string },
    private readonly mac: string,
  ) {}

  private argv(c: ArpCase): string[] {
    const config = {
      peer_pid: this.peer.pid, vip: c.vip, mac: this.mac, runs: Math.ceil(this.o.runs / this.o.blocks), warmup: ARP_WARMUP,
      prepare: c.prepare, action: c.action, quiet_ms: ARP_QUIET_MS, arp_timeout_ms: ARP_TIMEOUT_MS,
    };
    return ['python3', FIRST_ARP, JSON.stringify(config)];
  }

  async block(c: ArpCase): Promise<void> {
    const argv = this.argv(c);
    const r = await this.exec([...envArgs(c.env), ...argv], 10 * 60_000);
    if (r.code !== 0) throw new Error(`${c.label}, first ARP: ${describe(r)}`);
    const runs = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ArpRun);
    const wrong = runs.filter((x) => x.code !== 0);
    if (wrong.length > 0) throw new Error(`${c.label}: ${wrong.length}/${runs.length} runs did not exit 0 (got ${[...new Set(wrong.map((x) => x.code))].join(', ')})`);
    const d = this.data.get(c.label) ?? { c, runs: [], command: shownCommand(c.env, argv, this.o) };
    d.runs.push(...runs);
    this.data.set(c.label, d);
  }

  result(label: string): ArpResult | undefined {
    const d = this.data.get(label);
    if (!d || d.runs.length === 0) return undefined;
    const arp = d.runs.flatMap((x) => (x.arp_ms === null ? [] : [x.arp_ms]));
    return { label, arp: stats(arp), missing: d.runs.length - arp.length, exit: stats(d.runs.map((x) => x.exit_ms))!, command: d.command };
  }
}

interface Pacemaker {
  /** pacemaker-execd's own environment. */
  env: Record<string, string>;
  featureSet: string;
}

/** What pacemaker-execd runs an agent's action with: its own environment plus the OCF variables. */
function ocfEnv(pcmk: Pacemaker, type: string, params: Record<string, string>, intervalMs = 0): Record<string, string> {
  const env: Record<string, string> = {
    ...pcmk.env,
    OCF_ROOT: '/usr/lib/ocf',
    OCF_RA_VERSION_MAJOR: '1',
    OCF_RA_VERSION_MINOR: '1',
    OCF_RESOURCE_PROVIDER: 'heartbeat',
    OCF_RESOURCE_TYPE: type,
    OCF_RESOURCE_INSTANCE: `bench-${type}`,
    OCF_RESKEY_CRM_meta_timeout: '20000',
    OCF_RESKEY_CRM_meta_interval: String(intervalMs),
    OCF_RESKEY_CRM_meta_on_node: NODE,
    // Agents take it as the sign that pacemaker runs them (lvs sets promotion scores only then).
    OCF_RESKEY_crm_feature_set: pcmk.featureSet,
  };
  for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
  return env;
}

function cases(pcmk: Pacemaker, binary: string) {
  const ipaddr2 = (intervalMs?: number) => ocfEnv(pcmk, 'IPaddr2', { ip: IPADDR2_VIP, nic: 'eth0', cidr_netmask: '32' }, intervalMs);
  // ipvs_cleanup acts only at start and demote (untimed here) and needs IPVS, which the host may lack.
  const lvs = (intervalMs?: number) => ocfEnv(pcmk, 'lvs', { vip: LVS_VIP, nic: 'eth0', ipvs_cleanup: 'none' }, intervalMs);
  const all: Record<Key, Case> = {
    floor: { label: LABELS.floor, argv: [binary, '--version'], env: pcmk.env, expect: 0 },
    ipMonitor: { label: LABELS.ipMonitor, argv: [IPADDR2, 'monitor'], env: ipaddr2(10_000), expect: 0 },
    ipStart: { label: LABELS.ipStart, argv: [IPADDR2, 'start'], prepare: [IPADDR2, 'stop'], env: ipaddr2(), expect: 0 },
    lvsMonUnpromoted: { label: LABELS.lvsMonUnpromoted, argv: [LVS, 'monitor'], env: lvs(10_000), expect: 0 },
    lvsMonPromoted: { label: LABELS.lvsMonPromoted, argv: [LVS, 'monitor'], env: lvs(9_000), expect: 8 },
    lvsPromote: { label: LABELS.lvsPromote, argv: [LVS, 'promote'], prepare: [LVS, 'demote'], env: lvs(), expect: 0 },
  };
  const arp: Record<ArpKey, ArpCase> = {
    ipStart: { label: ARP_LABELS.ipStart, vip: IPADDR2_VIP, prepare: [IPADDR2, 'stop'], action: [IPADDR2, 'start'], env: ipaddr2() },
    lvsPromote: { label: ARP_LABELS.lvsPromote, vip: LVS_VIP, prepare: [LVS, 'demote'], action: [LVS, 'promote'], env: lvs() },
  };
  return { all, arp, ipaddr2, lvs };
}

/** An untimed action that must succeed (the state the next measurement needs). */
function step(exec: Exec, argv: string[], env: Record<string, string>, expect = 0): Promise<void> {
  return expectCode(exec, { label: `setup: ${argv.join(' ')}`, argv, env, expect });
}

async function measureAll(exec: Exec, s: Sampler, a: ArpTimer, pcmk: Pacemaker, binary: string): Promise<void> {
  const { all, arp, ipaddr2, lvs } = cases(pcmk, binary);
  await step(exec, [IPADDR2, 'start'], ipaddr2());
  await step(exec, [LVS, 'start'], lvs());
  for (let round = 1; round <= s.o.blocks; round++) {
    const block = (key: Key) => {
      process.stderr.write(`bench agent: round ${round}/${s.o.blocks}: ${all[key].label}\n`);
      return s.block(all[key]);
    };
    if (round > 1) await step(exec, [LVS, 'demote'], lvs()); // the last round ended promoted
    await block('floor');
    await block('ipMonitor');
    await block('lvsMonUnpromoted');
    await step(exec, [LVS, 'promote'], lvs());
    if (round === 1) {
      // The score start set reached the CIB, as under pacemaker (promote leaves it alone).
      const score = await exec([...envArgs(lvs()), 'crm_attribute', '--promotion', '-G', '-q']);
      if (score.stdout.trim() !== String(SCORE)) throw new Error(`promotion score after promote is not ${SCORE}: ${describe(score)}`);
    }
    await block('lvsMonPromoted');
    await block('ipStart'); // ends started
    await block('lvsPromote'); // ends promoted
    for (const key of ['ipStart', 'lvsPromote'] as const) {
      process.stderr.write(`bench agent: round ${round}/${s.o.blocks}: ${arp[key].label}, first gratuitous ARP\n`);
      await a.block(arp[key]); // ends started, promoted
    }
  }
  await step(exec, [LVS, 'stop'], lvs());
  await step(exec, [LVS, 'monitor'], lvs(10_000), 7);
  await step(exec, [IPADDR2, 'stop'], ipaddr2());
  await step(exec, [IPADDR2, 'monitor'], ipaddr2(10_000), 7);
}

function report(s: Sampler, a: ArpTimer): { rows: string; arp: string; targets: string; missed: string[]; problems: string[]; commands: string[] } {
  const results = new Map<Key, Result>();
  for (const key of Object.keys(LABELS) as Key[]) {
    const r = s.result(LABELS[key]);
    if (r) results.set(key, r);
  }
  const ratio = (key: Key) => {
    const r = results.get(key);
    const base = results.get(REFERENCE[key]);
    return r && base ? r.meanMs / base.meanMs : NaN;
  };
  const rows = [...results.entries()].map(([key, r]) => [
    r.label, `${fmt(r.meanMs)} ± ${fmt(r.stddevMs)}`, fmt(r.minMs), fmt(r.maxMs), fmt(r.rssMiB),
    key === REFERENCE[key] ? '1.00 (reference)' : `${fmt(ratio(key), 2)}× ${LABELS[REFERENCE[key]].replace(/ \(.*/, '')}`,
  ]);
  const missed: string[] = [];
  const targets: string[][] = [];
  for (const key of ['lvsMonUnpromoted', 'lvsMonPromoted'] as const) {
    const r = results.get(key);
    const base = results.get('ipMonitor');
    if (!r || !base) continue;
    const x = ratio(key);
    for (const [what, bound] of [['no slower than IPaddr2 monitor', GOAL], [`never above ${LIMIT}× IPaddr2 monitor`, LIMIT]] as const) {
      const pass = x <= bound;
      if (!pass) missed.push(`${r.label}: ${fmt(x, 2)}× IPaddr2 monitor, target ${what}`);
      targets.push([r.label, what, `${fmt(x, 2)}× (${fmt(r.meanMs)} vs ${fmt(base.meanMs)} ms)`, pass ? 'pass' : '**FAIL**']);
    }
  }
  // The first gratuitous ARP: lvs promote against IPaddr2 start.
  const arps = (Object.keys(ARP_LABELS) as ArpKey[]).flatMap((k) => {
    const r = a.result(ARP_LABELS[k]);
    return r ? [[k, r] as const] : [];
  });
  const ipArp = arps.find(([k]) => k === 'ipStart')?.[1].arp;
  const problems = arps.filter(([, r]) => r.missing > 0).map(([, r]) => `${r.label}: ${r.missing} of ${r.missing + (r.arp?.n ?? 0)} runs put no gratuitous ARP on the wire within ${ARP_TIMEOUT_MS} ms`);
  const arpRows = arps.map(([k, r]) => [
    r.label, r.arp ? `${fmt(r.arp.mean)} ± ${fmt(r.arp.stddev)}` : 'none', r.arp ? fmt(r.arp.min) : '', r.arp ? fmt(r.arp.median) : '', r.arp ? fmt(r.arp.max) : '',
    `${fmt(r.exit.mean)} ± ${fmt(r.exit.stddev)}`, `${r.arp?.n ?? 0} of ${r.exit.n}`,
    k === 'ipStart' ? '1.00 (reference)' : r.arp && ipArp ? `${fmt(r.arp.mean / ipArp.mean, 2)}× IPaddr2 start` : '',
  ]);
  return {
    rows: table(['command', 'mean ± σ (ms)', 'min (ms)', 'max (ms)', 'peak RSS (MiB)', 'ratio'], rows),
    arp: table(['action', 'first gratuitous ARP on the wire: mean ± σ (ms)', 'min (ms)', 'median (ms)', 'max (ms)', 'action exits: mean ± σ (ms)', 'runs with an ARP', 'ratio (first ARP)'], arpRows),
    targets: table(['action', 'target', 'measured', 'result'], targets),
    missed,
    problems,
    commands: [...[...results.values()].map((r) => r.command), ...arps.map(([, r]) => r.command)],
  };
}

function doc(info: Record<string, string>, pcmk: Pacemaker, sampler: Sampler, r: ReturnType<typeof report>): string {
  const o = sampler.o;
  return `# Benchmark: the lvs agent against IPaddr2

Written by \`npm run bench -- agent\` (bench/agent.ts); do not edit by hand, run it again.

${Object.entries(info).map(([k, v]) => `- ${k}: ${v}`).join('\n')}

## Results

${r.rows}

Wall time: hyperfine \`-N\` (no shell), ${o.runs} timed runs per row in ${o.blocks} blocks of ${o.runs / o.blocks}, each block after
${o.warmup} warm-up runs. The blocks alternate (every row once, then every row again, …), so that a load that
comes and goes on the machine hits both agents alike; the load averages above show how busy it was.
Every run must exit with the code in the row (checked). Peak RSS: GNU time's \`%M\`, mean of ${o.rssRuns} runs;
it is the largest single process of the action (getrusage semantics), not the sum of the processes it
forks. For lvs it counts the pages of the 127 MB binary that the process touched, so it depends on the
page cache too: compare rows of one run.

## From promote to the first gratuitous ARP on the wire

What a client waits for after a failover: the first gratuitous ARP for the VIP, which moves its ARP
entry to the new director. Measured from the start of the action to the first gratuitous ARP for the
agent's VIP from the director's MAC that reaches a peer's \`eth0\` on the same bridge; the action's
own exit is in its column (both agents send their ARPs in the background, so the two differ).

${r.arp}
${r.problems.length > 0 ? `\n${r.problems.map((p) => `- **${p}**`).join('\n')}\n` : ''}
${o.runs} timed runs per row in ${o.blocks} blocks of ${o.runs / o.blocks} (each block after ${ARP_WARMUP} untimed runs), alternating
with the blocks above. Before each run, untimed: IPaddr2 stop (lvs demote), then a wire quiet for
${ARP_QUIET_MS} ms (no ARP about the VIP: no sender of an earlier run still going). bench/first-arp.py,
run in the director's namespaces with the action's environment, opens a packet socket (ARP, with the
kernel's receive time stamps, \`SO_TIMESTAMPNS\`) on the peer's \`eth0\` in the peer's network
namespace, takes the time, starts the action and waits for the first frame that is an ARP request or
reply from the director's MAC with the VIP as sender and target address, and for the action's exit
(a pidfd). Every namespace shares the host kernel's clock, so the two times compare. A run without
such an ARP within ${ARP_TIMEOUT_MS} ms counts in "runs with an ARP" and nowhere else. Both agents use their
default sender (resource-agents' \`send_arp\`) with their default count and interval.

## Targets

lvs monitor no slower than IPaddr2's monitor; never above ${LIMIT} times (the issue). Promote has no
target; its ratios to IPaddr2's start are for information. A missed target is reported here, it does not
fail the build.

${r.targets}

## How

- The host kernel; one lab director and one peer (lab/topology.ts) made for this run and removed after
  it: each in its own network, mount and UTS namespaces with \`eth0\` (veth on one bridge), the director
  ${NODE_IP}/24, the peer ${PEER_IP}/24; the director has a private \`${OCF_DIR}\` whose \`lvs\` is the
  lab's 0755 copy of \`dist/lvskit\`, and tmpfs on \`/run\`.
- A one-node corosync + pacemaker cluster runs in the director's namespaces, so that \`crm_attribute\` (the
  promotion score) reaches a CIB as under pacemaker; the agents themselves are run by the benchmark.
- Both agents run side by side: IPaddr2 with ${IPADDR2_VIP}, lvs with ${LVS_VIP}. Each round: lvs
  unpromoted (start, later demote), the monitors of IPaddr2 and of unpromoted lvs; lvs promoted (the
  score ${SCORE} checked in the CIB once), its promoted monitor; IPaddr2's start (stop before each run), lvs's
  promote (demote before each run); then the same two, timed to the first ARP. At the end both are
  stopped and their monitors must say 7.
- The environment (\`env -i\`) is what the node's pacemaker-execd gives an agent: its own environment,
  read from \`/proc\` (\`execd_env\` below; the lab started pacemakerd with PATH, LC_ALL and HOME where
  systemd would give its unit's), plus the OCF variables it adds, among them
  \`OCF_RESKEY_crm_feature_set\` (${pcmk.featureSet}), by which lvs knows that pacemaker runs it and sets
  promotion scores. So no \`NODE_EXTRA_CA_CERTS\` (this machine exports it, and it makes every Node
  start load a CA bundle), and the agents log as under pacemaker (lvs to \`PCMK_logfile\`; IPaddr2 through
  \`logger\`, to \`/dev/log\` if there is one). Monitors get the \`OCF_RESKEY_CRM_meta_interval\` of a
  recurring operation, so they are not probes.
- \`ipvs_cleanup=none\` for lvs: that parameter acts only at start and demote, which are not timed, and
  it needs IPVS, which this host kernel may not have.

The exact commands (one block each), run in bash inside the director's namespaces
(\`nsenter -t <holder> -n -m -u --\`):

\`\`\`sh
${sharedLine(sampler.o)}
${r.commands.join('\n')}
\`\`\`
`;
}

export async function benchAgent(): Promise<void> {
  if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`LVSKIT_BENCH_ROUNDS must be a positive integer, not '${process.env.LVSKIT_BENCH_ROUNDS}'`);
  const kernel = new HostKernel();
  let topo: Topology | undefined;
  const cleanup = async () => {
    await topo?.destroy().catch((err: unknown) => process.stderr.write(`bench agent: cleanup: ${String(err)}\n`));
    await kernel.close();
  };
  const onSignal = (sig: NodeJS.Signals) => void cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);

  const info = machine(BINARY, root);
  const exec: Exec = (argv, timeoutMs) => {
    if (!topo) throw new Error('no lab topology');
    return topo.exec(NODE, argv, timeoutMs ? { timeoutMs } : {});
  };
  let sampler: Sampler | undefined;
  let arp: ArpTimer | undefined;
  let pcmk: Pacemaker;
  try {
    topo = await Topology.create(kernel, {
      vip: LVS_VIP, prefixLength: 24, binary: BINARY,
      nodes: [{ name: NODE, role: 'director', ip: NODE_IP }, { name: PEER, role: 'client', ip: PEER_IP }],
    });
    process.stderr.write('bench agent: starting a one-node pacemaker cluster in the namespace (about 25 s)\n');
    await startCluster(topo, NODE);
    pcmk = { env: await execdEnvironment(topo, NODE), featureSet: await crmFeatureSet(topo, NODE) };
    const options = { ...OPTIONS, tmpdir: kernel.workdir, shared: { name: 'execd_env', env: pcmk.env } };
    sampler = new Sampler(exec, options);
    arp = new ArpTimer(exec, options, topo.node(PEER), topo.node(NODE).mac);
    await measureAll(exec, sampler, arp, pcmk, topo.spec.binary);
  } catch (err) {
    // Show what was measured before the failure, but write no report from an incomplete run.
    if (sampler && arp) {
      const r = report(sampler, arp);
      console.log(`${r.rows}\n\n${r.arp}\n`);
    }
    throw err;
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }

  info['load average at end'] = loadAverage();
  const r = report(sampler, arp);
  writeFileSync(DOC, doc(info, pcmk, sampler, r));
  console.log(`${Object.entries(info).map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${r.rows}\n\n${r.arp}\n\n${r.targets}\n`);
  for (const p of r.problems) console.log(`agent: PROBLEM: ${p}`);
  console.log(r.missed.length === 0 ? 'agent: every target met' : `agent: TARGET MISSED (not a failure of the build):\n  ${r.missed.join('\n  ')}`);
  console.log(`agent: written to ${DOC}`);
}
