// `lvskit bootstrap`: prints the plan (dry run, the default) or applies it, skipping every step the
// cluster already shows done, so that a second run changes nothing. A CIB with the previous layout
// is converted in one CIB transaction (migrate.ts).
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, type RunResult, which } from '../exec/run';
import { LvskitError, UsageError } from '../errors';
import { Cib, cibAnswers, readCib } from './cib';
import { type ClusterFacts, judgeCluster, readClusterFacts } from './cluster';
import { type DetectedPcs, type Dialect, detectPcs, dialectOf } from './dialect';
import { conversionSteps, GUIDE, type Layout, layoutOf, onFile, typicalPreviousLayout } from './migrate';
import { type BootstrapOptions, parseOptions, type RawOptions } from './options';
import { PASSWORD_ENV, checkPassword, promptHidden, takePasswordFromEnv } from './password';
import { buildPlan, CHECKER_CLONE_ID, CHECKER_ID, groupEnd, HACLUSTER, isCreateVip, LVS_ID, type Step, timeoutsOf } from './plan';
import { checkSafety, FENCE_ID, liveSafetyProbes, safeClusterHint, safetyChecksNote, type SafetyProbes } from './safety';
import { describeVip } from './vips';

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
  /** A CIB saved to a file (`pcs cluster cib FILE`). */
  readCibFile(path: string): Cib;
  /** A new directory only root can read, for the copies of the CIB a migration works on. */
  tempDir(): string;
  copyFile(from: string, to: string): void;
  /** Removes a directory tempDir made, with what is in it. */
  removeDir(path: string): void;
  /** Runs pcs with these arguments; `input` is its standard input. */
  runPcs(args: string[], input: string | undefined, timeoutMs: number): RunResult;
  password(): Promise<string>;
  sleep(ms: number): Promise<void>;
  /** The checks of --fence and --qdevice before anything changes. */
  safety: SafetyProbes;
}

const CLUSTER_STEP_TIMEOUT_MS = 300_000;
// A safety net against a hung pcs, not a performance bound: inside a loaded lab one command took minutes.
const RESOURCE_STEP_TIMEOUT_MS = 300_000;
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

const BREAK_BEFORE = new Set(['op', 'promotable', '--master', 'clone']);

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
    'WARNING: ARP for it, and clients are split between them. Use it in a lab only.',
    ...safeClusterHint().map((l) => `WARNING: ${l}`),
  ]
    .map((l) => `lvskit: ${l}\n`)
    .join('');
}

/** Where the dry run says a migration keeps its copies of the CIB. */
const DRY_DIR = '/tmp/lvskit-bootstrap-XXXXXX';

function manualLines(s: Step, pcs: PcsInfo): string[] {
  return [`# pcs ${pcs.version} cannot change it on a running cluster (pcs cluster config update: 0.10.8+);`, '# --apply prints this and goes on:', ...(s.manual ?? []).map((l) => `#   ${l}`)];
}

/** The migration as --apply runs it on a CIB with the previous layout as pcs named it. */
function migrationLines(dialect: Dialect, steps: Step[]): string[] {
  const before = `${DRY_DIR}/cib-before.xml`;
  const after = `${DRY_DIR}/cib-after.xml`;
  const typical = typicalPreviousLayout(dialect);
  const conversion = conversionSteps(typical, dialect);
  // The previous layout had one VIP: the others are created in the transaction, with their timeouts.
  const added = steps.filter((s) => isCreateVip(s) && s.resource !== LVS_ID).map(timeoutsOf);
  const rest = steps.filter((s) => typical.todo.includes(s.id) || (s.resource !== undefined && s.resource !== LVS_ID && !added.includes(s.id)));
  const lines = [
    '',
    '## migration from the previous layout (--apply, when the CIB has it: instead of the resource steps)',
    '',
    `# ${CHECKER_ID} as one primitive beside the promoted instance (colocation, order after promote) becomes the`,
    `# clone ${CHECKER_CLONE_ID} in one CIB transaction: the commands change a copy of the CIB, pacemaker sees one`,
    `# change. The running ${CHECKER_ID} keeps running (its history id stays ${CHECKER_ID}) and the other directors`,
    '# start theirs; lvs keeps its role. The constraint ids are read from the CIB (these are pcs\'s own);',
    `# a disabled ${CHECKER_ID} is also enabled (pcs resource enable ${CHECKER_ID}, before the clone).`,
    `# A CIB with ldirectord or another resource holding the VIP stops --apply before any change (${GUIDE}).`,
    '',
    `# M1. save the CIB (${DRY_DIR}: a new directory only root can read), and a copy to change`,
    displayCommand(['pcs', 'cluster', 'cib', before]),
    displayCommand(['cp', before, after]),
  ];
  let n = 1;
  for (const s of [...conversion, ...rest]) {
    lines.push('', `# M${++n}. ${s.description}`, displayCommand(onFile(s.argv, after)));
  }
  lines.push(
    '',
    `# M${++n}. check the copy (every resource step done, nothing of the previous layout left), then push`,
    '# the difference in one transaction',
    displayCommand(['pcs', 'cluster', 'cib-push', after, `diff-against=${before}`]),
  );
  return lines;
}

export function renderDryRun(o: BootstrapOptions, pcs: PcsInfo, steps: Step[]): string {
  const nodes = o.nodes.join(', ');
  const lines = [
    `# lvskit bootstrap: ${pcsLabel(pcs)}, cluster ${o.name} on nodes ${nodes}`,
    '# Dry run: nothing was run. With --apply the steps run in this order, each skipped when it is',
    `# already done: the cluster steps when this node already runs cluster ${o.name} with nodes ${nodes}`,
    '# (corosync.conf, crm_node -l), the token when corosync.conf has it, the others when the CIB',
    '# shows them (cibadmin --query).',
    `# The ${HACLUSTER} password comes from ${PASSWORD_ENV}, or is asked on the terminal (no echo)`,
    '# when that is unset; pcs reads it on its standard input, never from its command line.',
  ];
  if (o.vips.length > 1) {
    lines.push(`# VIPs: ${o.vips.map(describeVip).join(', ')}; --placement ${o.placement}.`);
  }
  if (o.fence) {
    lines.push(`# Fencing is on: the resources start once the fence device ${FENCE_ID} (${o.fence.agent}) exists.`);
  } else if (o.stonith) {
    lines.push('# Fencing is left on (pacemaker\'s default): resources start only once a fence device exists', '# (pcs stonith create ...).');
  }
  lines.push(...safetyChecksNote(o));
  let phase: string | undefined;
  steps.forEach((s, i) => {
    if (s.phase !== phase) {
      phase = s.phase;
      lines.push('', s.phase === 'cluster' ? '## the cluster' : '## the resources');
    }
    lines.push('', `# ${i + 1}. ${s.description}`);
    if (isCreateVip(s)) {
      lines.push(
        `# --apply runs steps ${i + 1}-${groupEnd(steps, i)} as one CIB transaction when ${s.resource} does not exist yet (pcs -f on a`,
        '# saved copy, then pcs cluster cib-push diff-against): pacemaker never sees it without its constraints.',
      );
    }
    if (s.manual) lines.push(...manualLines(s, pcs));
    else lines.push(displayCommand(s.argv));
  });
  lines.push(...migrationLines(pcs.dialect, steps));
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

/** Runs steps and says what it did; counts what ran, what was already done, what is left to the operator. */
class Applier {
  password: string | undefined;
  ran = 0;
  skipped = 0;
  left = 0;

  constructor(
    private readonly io: Io,
    private readonly sys: System,
  ) {}

  already(what: string): void {
    this.skipped++;
    this.io.out(`already done: ${what}\n`);
  }

  run(s: Step, timeoutMs: number, argv = s.argv): void {
    const { io, password } = this;
    io.out(`running: ${commandLine(argv)}\n`);
    const input = s.passwordOnStdin ? `${password ?? ''}\n` : undefined;
    const r = this.sys.runPcs(argv.slice(1), input, timeoutMs);
    // pcs writes its "Password: " prompt to stdout; it never echoes what it reads, but scrub anyway.
    const out = scrub(r.stdout, password).replace(/^(Username|Password): ?/gm, '');
    if (out.trim()) io.out(indent(out));
    if (r.stderr.trim()) io.err(indent(scrub(r.stderr, password)));
    if (r.code !== 0) {
      const why = r.error ? scrub(r.error, password) : `exit ${r.code}`;
      throw new LvskitError(`step '${s.id}' (${s.description}) failed: ${commandLine(argv)}: ${why}`);
    }
    this.ran++;
  }

  leftToOperator(s: Step): void {
    this.left++;
    this.io.out(`not done: ${s.description}: this pcs cannot do it; run:\n${(s.manual ?? []).map((l) => `  ${l}\n`).join('')}`);
  }
}

async function applyCluster(o: BootstrapOptions, steps: Step[], a: Applier, sys: System, io: Io, facts: ClusterFacts): Promise<void> {
  const verdict = judgeCluster(facts, o.name, o.nodes);
  if (verdict.kind === 'conflict') throw new LvskitError(verdict.why);
  const clusterSteps = steps.filter((s) => s.phase === 'cluster' && !s.checkConf);
  let setupRan = false;
  if (verdict.kind === 'running') {
    a.skipped += clusterSteps.length - 1;
    a.already(`cluster ${o.name} runs on ${o.nodes.join(', ')} (${clusterSteps.map((s) => s.id).join(', ')} skipped)`);
  } else {
    a.password = await sys.password();
    for (const s of clusterSteps) {
      if (s.doneWhenConfigured && verdict.kind === 'configured') a.already(`cluster ${o.name} is configured on this node (/etc/corosync/corosync.conf): ${s.id} skipped`);
      else {
        a.run(s, CLUSTER_STEP_TIMEOUT_MS);
        setupRan ||= s.id === 'setup';
      }
    }
    io.out('waiting for the cluster to answer (cibadmin --query) ...\n');
    const until = Date.now() + CIB_WAIT_MS;
    while (!sys.cibAnswers()) {
      if (Date.now() > until) throw new LvskitError(`the cluster did not answer within ${CIB_WAIT_MS / 1000} s after pcs cluster start (cibadmin --query)`);
      await sys.sleep(2_000);
    }
  }
  for (const s of steps.filter((x) => x.checkConf)) {
    if (setupRan && s.doneBySetup) {
      a.already(s.doneBySetup);
      continue;
    }
    const v = s.checkConf!(facts.corosync);
    if (v.kind === 'done') a.already(v.what);
    else if (v.kind === 'conflict') throw new LvskitError(`cannot ${s.description}: ${v.why}`);
    else if (s.manual) a.leftToOperator(s);
    else {
      if (s.passwordOnStdin) a.password ??= await sys.password();
      a.run(s, CLUSTER_STEP_TIMEOUT_MS);
    }
  }
}

/** A CIB as steps see it: the live one, or a copy that `pcs -f` changes. */
interface CibTarget {
  read(): Cib;
  argv(argv: string[]): string[];
}

/** Stops before anything runs when one of the steps cannot be done on this CIB. */
function refuseConflicts(steps: Step[], cib: Cib): void {
  for (const s of steps) {
    const v = s.check?.(cib);
    if (v?.kind === 'conflict') throw new LvskitError(`cannot ${s.description}: ${v.why}`);
  }
}

/** Steps one by one, each judged on the CIB the step before it left; returns that CIB when no step changed it. */
function applySteps(steps: Step[], a: Applier, first: Cib, target: CibTarget): Cib | undefined {
  let cib: Cib | undefined = first;
  for (const s of steps) {
    // Read again only after a change (a live read costs a second in the lab).
    cib ??= target.read();
    const v = s.check?.(cib) ?? { kind: 'todo' };
    if (v.kind === 'done') a.already(v.what);
    else if (v.kind === 'conflict') throw new LvskitError(`cannot ${s.description}: ${v.why}`);
    else {
      a.run(s, RESOURCE_STEP_TIMEOUT_MS, target.argv(v.argv ?? s.argv));
      cib = undefined;
    }
  }
  return cib;
}

/** Changes a copy of the CIB with `pcs -f`, checks it, and pushes it as one diff: pacemaker sees one change. */
class CibTransaction {
  readonly dir: string;
  readonly before: string;
  readonly after: string;

  constructor(
    private readonly a: Applier,
    private readonly sys: System,
  ) {
    this.dir = sys.tempDir();
    this.before = join(this.dir, 'cib-before.xml');
    this.after = join(this.dir, 'cib-after.xml');
  }

  /** Saves the CIB and returns it as saved: what the transaction changes. */
  save(): Cib {
    this.a.run({ phase: 'resources', id: 'save-cib', description: 'save the CIB', argv: [] }, RESOURCE_STEP_TIMEOUT_MS, ['pcs', 'cluster', 'cib', this.before]);
    return this.sys.readCibFile(this.before);
  }

  /** The copy the steps change, as a target for applySteps. */
  copy(): CibTarget {
    this.sys.copyFile(this.before, this.after);
    return { read: () => this.sys.readCibFile(this.after), argv: (argv) => onFile(argv, this.after) };
  }

  run(s: Step, argv = s.argv): void {
    this.a.run(s, RESOURCE_STEP_TIMEOUT_MS, onFile(argv, this.after));
  }

  result(): Cib {
    return this.sys.readCibFile(this.after);
  }

  /** Pushes the copy, or nothing when it has problems. */
  push(what: string, problems: string[]): void {
    if (problems.length) {
      throw new LvskitError(`${what} is not the layout wanted (${problems.join('; ')}); nothing was pushed, the cluster is unchanged (the copies are in ${this.dir})`);
    }
    this.a.run({ phase: 'resources', id: 'push-cib', description: 'push the changed copy of the CIB as one diff', argv: [] }, RESOURCE_STEP_TIMEOUT_MS, ['pcs', 'cluster', 'cib-push', this.after, `diff-against=${this.before}`]);
  }
}

/** What of these steps a CIB does not show done. */
function notDone(steps: Step[], cib: Cib): string[] {
  return steps.flatMap((s) => {
    const v = s.check?.(cib);
    return v && v.kind !== 'done' ? [`${s.id}: ${v.kind === 'conflict' ? v.why : 'not done'}`] : [];
  });
}

/**
 * A VIP's clone that does not exist yet, created with its timeouts and constraints in one CIB
 * transaction: created alone, pacemaker would place and promote it before its placement exists
 * (beside the other VIP under --placement spread, then move it).
 */
function createVip(group: Step[], a: Applier, sys: System, io: Io): void {
  const create = group[0]!;
  const tx = new CibTransaction(a, sys);
  io.out(`${create.resource} does not exist: creating it with its constraints in one CIB transaction, on a copy in ${tx.dir}\n`);
  // Judged again on the saved copy: that is what the transaction changes.
  const orig = tx.save();
  refuseConflicts(group, orig);
  if (create.check?.(orig).kind === 'done') throw new LvskitError(`the CIB changed while bootstrap read it (${create.resource} appeared); run bootstrap again`);
  applySteps(group, a, orig, tx.copy());
  tx.push(`the copy of the CIB with ${create.resource}`, notDone(group, tx.result()));
  // Kept when anything failed (the error names them); nothing to roll back to after a creation.
  sys.removeDir(tx.dir);
}

/** The resource steps on the live CIB (a new cluster, or the current layout in part); a new VIP in one transaction. */
function applyResources(steps: Step[], a: Applier, sys: System, io: Io, first: Cib): void {
  // Conflicts first: nothing in the resource phase runs when one step cannot be done.
  refuseConflicts(steps, first);
  const live: CibTarget = { read: () => sys.readCib(), argv: (argv) => argv };
  let cib: Cib | undefined = first;
  for (let i = 0; i < steps.length; ) {
    const s = steps[i]!;
    const end = isCreateVip(s) ? groupEnd(steps, i) : i + 1;
    cib ??= sys.readCib();
    if (isCreateVip(s) && s.check?.(cib).kind === 'todo') {
      createVip(steps.slice(i, end), a, sys, io);
      cib = undefined;
    } else {
      cib = applySteps(steps.slice(i, end), a, cib, live);
    }
    i = end;
  }
}

/**
 * The previous layout to the current one in one CIB transaction: every command runs with `pcs -f`
 * on a copy of the CIB, the copy is checked, and only then pushed as one diff against the original.
 */
function migrate(o: BootstrapOptions, dialect: Dialect, steps: Step[], a: Applier, sys: System, io: Io): void {
  const tx = new CibTransaction(a, sys);
  io.out(`the CIB has the previous layout (${CHECKER_ID} beside the promoted lvs only): converting it in one CIB transaction, on a copy in ${tx.dir}\n`);
  // Judged again on the saved copy: that is what the transaction changes.
  const orig = tx.save();
  const layout: Layout = layoutOf(orig, o, dialect);
  if (layout.kind !== 'previous') throw new LvskitError(`the CIB changed while bootstrap read it (${layout.kind === 'foreign' ? layout.why : 'no longer the previous layout'}); run bootstrap again`);
  const conversion = conversionSteps(layout, dialect);
  // The conversion makes the clone (interleave included); every other step is judged on the original.
  const skip = new Set(['checker', ...(layout.checkerPrimitive ? ['checker-interleave'] : [])]);
  // A VIP's clone created in this transaction gets its timeouts with it.
  for (const s of steps) if (isCreateVip(s) && s.check?.(orig).kind === 'todo') skip.add(timeoutsOf(s));
  const rest = steps.filter((s) => !skip.has(s.id));
  refuseConflicts(rest, orig);
  tx.copy();
  for (const s of conversion) tx.run(s);
  for (const s of rest) {
    const v = s.check?.(orig) ?? { kind: 'todo' };
    if (v.kind === 'done') a.already(v.what);
    else tx.run(s, v.kind === 'todo' && v.argv ? v.argv : s.argv);
  }
  const result = tx.result();
  const resultLayout = layoutOf(result, o, dialect);
  const problems = resultLayout.kind === 'current' ? [] : [resultLayout.kind === 'foreign' ? resultLayout.why : 'the previous layout is still there'];
  tx.push('the converted copy of the CIB', [...problems, ...notDone(steps, result)]);
  io.out(`the CIB as it was before: ${tx.before}\n`);
  io.out(
    `note: ${CHECKER_ID} on the promoted director is still the process the previous layout started; if an earlier lvskit\n` +
      'note: started it, it does not follow the VIP: replace it by a failover in a quiet hour (pcs node standby NODE,\n' +
      'note: then pcs node unstandby NODE) before relying on one (docs/operator-guide.md §3.4)\n',
  );
}

async function apply(o: BootstrapOptions, pcs: PcsInfo, steps: Step[], io: Io, sys: System): Promise<void> {
  const a = new Applier(io, sys);
  io.out(`lvskit bootstrap: ${pcsLabel(pcs)}, cluster ${o.name} on nodes ${o.nodes.join(', ')}\n`);
  const facts = sys.clusterFacts();
  await checkSafety(o, facts.corosync, sys.safety);
  await applyCluster(o, steps, a, sys, io, facts);

  const resources = steps.filter((s) => s.phase === 'resources');
  const cib = sys.readCib();
  const layout = layoutOf(cib, o, pcs.dialect);
  if (layout.kind === 'foreign') throw new LvskitError(layout.why);
  if (layout.kind === 'previous') migrate(o, pcs.dialect, resources, a, sys, io);
  else applyResources(resources, a, sys, io, cib);

  const left = a.left ? `, ${a.left} left to you (not done: above)` : '';
  io.out(`bootstrap complete: ${a.ran} step${a.ran === 1 ? '' : 's'} run, ${a.skipped} already done${left}\n`);
  if (o.stonith && !o.fence) io.out('note: fencing is on; resources start only once a fence device exists (pcs stonith create ...)\n');
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
    readCibFile: (path) => Cib.parse(readFileSync(path, 'utf8')),
    tempDir: () => mkdtempSync(join(tmpdir(), 'lvskit-bootstrap-')),
    copyFile: (from, to) => copyFileSync(from, to),
    removeDir: (path) => rmSync(path, { recursive: true, force: true }),
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
    safety: liveSafetyProbes,
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
  const steps = buildPlan(o, pcs.dialect, pcs.version);
  if (!o.stonith) io.err(stonithWarning());
  if (!o.apply) {
    io.out(renderDryRun(o, pcs, steps));
    return 0;
  }
  await apply(o, pcs, steps, io, sys);
  return 0;
}
