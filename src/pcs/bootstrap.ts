// `lvskit bootstrap`: prints the plan (dry run, the default) or applies it, skipping every step the
// cluster already shows done, so that a second run changes nothing.
import { setTimeout as sleep } from 'node:timers/promises';
import { run, type RunResult, which } from '../exec/run';
import { LvskitError, UsageError } from '../errors';
import { type Cib, cibAnswers, readCib } from './cib';
import { type ClusterFacts, judgeCluster, readClusterFacts } from './cluster';
import { type DetectedPcs, type Dialect, detectPcs, dialectOf } from './dialect';
import { type BootstrapOptions, parseOptions, type RawOptions } from './options';
import { PASSWORD_ENV, checkPassword, promptHidden, takePasswordFromEnv } from './password';
import { buildPlan, HACLUSTER, type Step } from './plan';

export interface PcsInfo {
  version: string;
  dialect: Dialect;
  /** Detected from `pcs --version`, or given with --pcs-version. */
  source: 'detected' | 'given';
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** What apply needs of the machine; the live one runs the real programs. */
export interface System {
  detectPcs(): DetectedPcs;
  clusterFacts(): ClusterFacts;
  readCib(): Cib;
  cibAnswers(): boolean;
  /** Runs pcs with these arguments; `input` is its standard input. */
  runPcs(args: string[], input: string | undefined, timeoutMs: number): RunResult;
  password(): Promise<string>;
  sleep(ms: number): Promise<void>;
}

const CLUSTER_STEP_TIMEOUT_MS = 300_000;
const RESOURCE_STEP_TIMEOUT_MS = 120_000;
/** After `pcs cluster start`: how long the CIB may take to answer. */
const CIB_WAIT_MS = 180_000;

// ---- printing ---------------------------------------------------------------------------------

/** An argument as a POSIX shell would need it, for display only (nothing here runs a shell). */
export function shellWord(arg: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(argv: string[]): string {
  return argv.map(shellWord).join(' ');
}

const BREAK_BEFORE = new Set(['op', 'promotable', '--master']);

/** A long command as continued shell lines, broken before its op and promotable parts. */
export function displayCommand(argv: string[], width = 100): string {
  const one = commandLine(argv);
  if (one.length <= width) return one;
  const lines: string[][] = [[]];
  for (const a of argv) {
    if (BREAK_BEFORE.has(a) && lines[lines.length - 1]!.length > 0) lines.push([]);
    lines[lines.length - 1]!.push(shellWord(a));
  }
  return lines.map((l, i) => `${i ? '    ' : ''}${l.join(' ')}`).join(' \\\n');
}

function pcsLabel(pcs: PcsInfo): string {
  return `pcs ${pcs.version} (dialect ${pcs.dialect}${pcs.source === 'given' ? ', from --pcs-version' : ''})`;
}

export function stonithWarning(): string {
  return [
    'WARNING: --no-stonith turns fencing off (stonith-enabled=false).',
    'WARNING: Without fencing a director that stops answering the others is never shut out: in a',
    'WARNING: two-node cluster both directors can end up promoted, both holding the VIP and answering',
    'WARNING: ARP for it, and clients are split between them. Use it in a lab only, or configure a',
    'WARNING: fence device (pcs stonith create ...) and set stonith-enabled=true as soon as you can.',
  ]
    .map((l) => `lvskit: ${l}\n`)
    .join('');
}

export function renderDryRun(o: BootstrapOptions, pcs: PcsInfo, steps: Step[]): string {
  const nodes = o.nodes.join(', ');
  const lines = [
    `# lvskit bootstrap: ${pcsLabel(pcs)}, cluster ${o.name} on nodes ${nodes}`,
    '# Dry run: nothing was run. With --apply the steps run in this order, each skipped when it is',
    `# already done: the cluster steps when this node already runs cluster ${o.name} with nodes ${nodes}`,
    '# (corosync.conf, crm_node -l), the others when the CIB shows them (cibadmin --query).',
    `# The ${HACLUSTER} password comes from ${PASSWORD_ENV}, or is asked on the terminal (no echo)`,
    '# when that is unset; pcs reads it on its standard input, never from its command line.',
  ];
  if (o.stonith) {
    lines.push('# Fencing is left on (pacemaker\'s default): resources start only once a fence device exists', '# (pcs stonith create ...).');
  }
  let phase: string | undefined;
  steps.forEach((s, i) => {
    if (s.phase !== phase) {
      phase = s.phase;
      lines.push('', s.phase === 'cluster' ? '## the cluster' : '## the resources');
    }
    lines.push('', `# ${i + 1}. ${s.description}`, displayCommand(s.argv));
  });
  return `${lines.join('\n')}\n`;
}

// ---- applying ---------------------------------------------------------------------------------

/** Replaces every occurrence of the secret, in case a program echoes it. */
export function scrub(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('********') : text;
}

function indent(text: string): string {
  return text
    .replace(/\s+$/, '')
    .split('\n')
    .map((l) => `  ${l}\n`)
    .join('');
}

async function apply(o: BootstrapOptions, pcs: PcsInfo, steps: Step[], io: Io, sys: System): Promise<void> {
  let password: string | undefined;
  let ran = 0;
  let skipped = 0;
  const already = (what: string) => {
    skipped++;
    io.out(`already done: ${what}\n`);
  };
  const runStep = (s: Step, timeoutMs: number) => {
    io.out(`running: ${commandLine(s.argv)}\n`);
    const input = s.passwordOnStdin ? `${password ?? ''}\n` : undefined;
    const r = sys.runPcs(s.argv.slice(1), input, timeoutMs);
    // pcs writes its "Password: " prompt to stdout; it never echoes what it reads, but scrub anyway.
    const out = scrub(r.stdout, password).replace(/^(Username|Password): ?/gm, '');
    if (out.trim()) io.out(indent(out));
    if (r.stderr.trim()) io.err(indent(scrub(r.stderr, password)));
    if (r.code !== 0) {
      const why = r.error ? scrub(r.error, password) : `exit ${r.code}`;
      throw new LvskitError(`step '${s.id}' (${s.description}) failed: ${commandLine(s.argv)}: ${why}`);
    }
    ran++;
  };

  io.out(`lvskit bootstrap: ${pcsLabel(pcs)}, cluster ${o.name} on nodes ${o.nodes.join(', ')}\n`);

  // The cluster: all of it or the part that is missing.
  const verdict = judgeCluster(sys.clusterFacts(), o.name, o.nodes);
  if (verdict.kind === 'conflict') throw new LvskitError(verdict.why);
  const clusterSteps = steps.filter((s) => s.phase === 'cluster');
  const resourceSteps = steps.filter((s) => s.phase === 'resources');
  if (verdict.kind === 'running') {
    skipped += clusterSteps.length - 1;
    already(`cluster ${o.name} runs on ${o.nodes.join(', ')} (${clusterSteps.map((s) => s.id).join(', ')} skipped)`);
  } else {
    password = await sys.password();
    for (const s of clusterSteps) {
      if (s.doneWhenConfigured && verdict.kind === 'configured') already(`cluster ${o.name} is configured on this node (/etc/corosync/corosync.conf): ${s.id} skipped`);
      else runStep(s, CLUSTER_STEP_TIMEOUT_MS);
    }
    io.out('waiting for the cluster to answer (cibadmin --query) ...\n');
    const until = Date.now() + CIB_WAIT_MS;
    while (!sys.cibAnswers()) {
      if (Date.now() > until) throw new LvskitError(`the cluster did not answer within ${CIB_WAIT_MS / 1000} s after pcs cluster start (cibadmin --query)`);
      await sys.sleep(2_000);
    }
  }

  // Conflicts first: nothing in the resource phase runs when one step cannot be done.
  let cib: Cib | undefined = sys.readCib();
  for (const s of resourceSteps) {
    const v = s.check?.(cib);
    if (v?.kind === 'conflict') throw new LvskitError(`cannot ${s.description}: ${v.why}`);
  }
  for (const s of resourceSteps) {
    // The CIB is read again after every step that changed it (a read costs a second in the lab).
    cib ??= sys.readCib();
    const v = s.check?.(cib) ?? { kind: 'todo' };
    if (v.kind === 'done') already(v.what);
    else if (v.kind === 'conflict') throw new LvskitError(`cannot ${s.description}: ${v.why}`);
    else {
      runStep(s, RESOURCE_STEP_TIMEOUT_MS);
      cib = undefined;
    }
  }
  io.out(`bootstrap complete: ${ran} step${ran === 1 ? '' : 's'} run, ${skipped} already done\n`);
  if (o.stonith) io.out('note: fencing is on; resources start only once a fence device exists (pcs stonith create ...)\n');
}

function resolvePcs(o: BootstrapOptions, sys: System): PcsInfo {
  if (!o.apply && o.pcsVersion !== undefined) return { version: o.pcsVersion, dialect: dialectOf(o.pcsVersion), source: 'given' };
  const found = sys.detectPcs();
  if (o.pcsVersion !== undefined) {
    const given = dialectOf(o.pcsVersion);
    if (given !== found.dialect) {
      throw new UsageError(`--pcs-version ${o.pcsVersion} (dialect ${given}) does not match the installed pcs ${found.version} (dialect ${found.dialect}); --apply runs the installed pcs`);
    }
  }
  return { ...found, source: 'detected' };
}

export function liveSystem(env: NodeJS.ProcessEnv = process.env): System {
  // Taken out of the environment at once: pcs, cibadmin and crm_node never inherit it.
  const fromEnv = takePasswordFromEnv(env);
  return {
    detectPcs,
    clusterFacts: readClusterFacts,
    readCib,
    cibAnswers,
    runPcs(args, input, timeoutMs) {
      const pcs = which('pcs');
      if (!pcs) throw new LvskitError('pcs is not installed (or not on PATH)');
      return run(pcs, args, { timeoutMs, ...(input === undefined ? {} : { input }) });
    },
    async password() {
      if (fromEnv !== undefined) return checkPassword(fromEnv, PASSWORD_ENV);
      const typed = await promptHidden(`Password for ${HACLUSTER} on the cluster nodes: `, process.stdin, process.stderr);
      return checkPassword(typed, 'the terminal');
    },
    sleep: (ms) => sleep(ms),
  };
}

const stdio: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** The whole subcommand: options checked first, then the dry run or the apply. */
export async function runBootstrap(raw: RawOptions, io: Io = stdio, sys: System = liveSystem()): Promise<number> {
  const o = parseOptions(raw);
  const pcs = resolvePcs(o, sys);
  const steps = buildPlan(o, pcs.dialect);
  if (!o.stonith) io.err(stonithWarning());
  if (!o.apply) {
    io.out(renderDryRun(o, pcs, steps));
    return 0;
  }
  await apply(o, pcs, steps, io, sys);
  return 0;
}
