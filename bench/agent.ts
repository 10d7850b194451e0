// `npm run bench -- agent`: ocf:heartbeat:lvs monitor and promote against IPaddr2's monitor and start,
// in one network namespace on the host kernel, in the same run, with the clean environment pacemaker
// gives. IPVS is not needed for these actions, so the host kernel serves even without it.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, Topology } from '../lab';
import { HostKernel } from '../lab/host';
import { crmFeatureSet, execdEnvironment, startCluster } from './cluster';
import { envArgs, expectCode, fmt, loadAverage, machine, Sampler, sharedLine, table, type Case, type Exec, type Options, type Result } from './measure';

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

const OPTIONS: Omit<Options, 'tmpdir'> = { runs: 30, blocks: 3, warmup: 5, rssRuns: 5 };
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
  return { all, ipaddr2, lvs };
}

/** An untimed action that must succeed (the state the next measurement needs). */
function step(exec: Exec, argv: string[], env: Record<string, string>, expect = 0): Promise<void> {
  return expectCode(exec, { label: `setup: ${argv.join(' ')}`, argv, env, expect });
}

async function measureAll(exec: Exec, s: Sampler, pcmk: Pacemaker, binary: string): Promise<void> {
  const { all, ipaddr2, lvs } = cases(pcmk, binary);
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
      // The score reached the CIB, as under pacemaker (a promote pays for crm_attribute).
      const score = await exec([...envArgs(lvs()), 'crm_attribute', '--promotion', '-G', '-q']);
      if (score.stdout.trim() !== '10') throw new Error(`promotion score after promote is not 10: ${describe(score)}`);
    }
    await block('lvsMonPromoted');
    await block('ipStart'); // ends started
    await block('lvsPromote'); // ends promoted
  }
  await step(exec, [LVS, 'stop'], lvs());
  await step(exec, [LVS, 'monitor'], lvs(10_000), 7);
  await step(exec, [IPADDR2, 'stop'], ipaddr2());
  await step(exec, [IPADDR2, 'monitor'], ipaddr2(10_000), 7);
}

function report(s: Sampler): { rows: string; targets: string; missed: string[]; commands: string[] } {
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
  return {
    rows: table(['command', 'mean ± σ (ms)', 'min (ms)', 'max (ms)', 'peak RSS (MiB)', 'ratio'], rows),
    targets: table(['action', 'target', 'measured', 'result'], targets),
    missed,
    commands: [...results.values()].map((r) => r.command),
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
page cache too (two copies of one binary differed by 18 MiB when this harness was written): compare
rows of one run.

## Targets

lvs monitor no slower than IPaddr2's monitor; never above ${LIMIT} times (the issue). Promote has no
target; its ratio to IPaddr2's start is for information. A missed target is reported here, it does not
fail the build.

${r.targets}

## How

- The host kernel; one lab director (lab/topology.ts) made for this run and removed after it: its own
  network, mount and UTS namespaces, \`eth0\` (veth on a bridge) with ${NODE_IP}/24, a private
  \`${OCF_DIR}\` whose \`lvs\` is the lab's 0755 copy of \`dist/lvskit\`, tmpfs on \`/run\`.
- A one-node corosync + pacemaker cluster runs in those namespaces, so that \`crm_attribute\` (the
  promotion score) reaches a CIB as under pacemaker; the agents themselves are run by the benchmark.
- Both agents run side by side: IPaddr2 with ${IPADDR2_VIP}, lvs with ${LVS_VIP}. Each round: lvs
  unpromoted (start, later demote), the monitors of IPaddr2 and of unpromoted lvs; lvs promoted (the
  score 10 checked in the CIB once), its promoted monitor; IPaddr2's start (stop before each run), lvs's
  promote (demote before each run). At the end both are stopped and their monitors must say 7.
- The environment (\`env -i\`) is what the node's pacemaker-execd gives an agent: its own environment,
  read from \`/proc\` (\`execd_env\` below; the lab started pacemakerd with PATH, LC_ALL and HOME where
  systemd would give its unit's), plus the OCF variables it adds, among them
  \`OCF_RESKEY_crm_feature_set\` (${pcmk.featureSet}), by which lvs knows that pacemaker runs it and sets
  promotion scores. So no \`NODE_EXTRA_CA_CERTS\` (this machine exports it; it costs every Node start
  about 38 ms), and the agents log as under pacemaker (lvs to \`PCMK_logfile\`; IPaddr2 through
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
  let pcmk: Pacemaker;
  try {
    topo = await Topology.create(kernel, {
      vip: LVS_VIP, prefixLength: 24, binary: BINARY, nodes: [{ name: NODE, role: 'director', ip: NODE_IP }],
    });
    process.stderr.write('bench agent: starting a one-node pacemaker cluster in the namespace (about 25 s)\n');
    await startCluster(topo, NODE);
    pcmk = { env: await execdEnvironment(topo, NODE), featureSet: await crmFeatureSet(topo, NODE) };
    sampler = new Sampler(exec, { ...OPTIONS, tmpdir: kernel.workdir, shared: { name: 'execd_env', env: pcmk.env } });
    await measureAll(exec, sampler, pcmk, topo.spec.binary);
  } catch (err) {
    // Show what was measured before the failure, but write no report from an incomplete run.
    if (sampler) console.log(`${report(sampler).rows}\n`);
    throw err;
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }

  info['load average at end'] = loadAverage();
  const r = report(sampler);
  writeFileSync(DOC, doc(info, pcmk, sampler, r));
  console.log(`${Object.entries(info).map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${r.rows}\n\n${r.targets}\n`);
  console.log(r.missed.length === 0 ? 'agent: every target met' : `agent: TARGET MISSED (not a failure of the build):\n  ${r.missed.join('\n  ')}`);
  console.log(`agent: written to ${DOC}`);
}
