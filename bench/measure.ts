// What every benchmark shares: hyperfine for wall time, GNU time for peak RSS, the machine, tables.
// Commands run through an Exec (e.g. a lab node) under `env -i`, so that only the environment the
// benchmark states reaches them (pacemaker gives agents a clean one; no NODE_EXTRA_CA_CERTS).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { describe, type ExecResult } from '../lab';

export type Exec = (argv: string[], timeoutMs?: number) => Promise<ExecResult>;

export interface Case {
  /** Row name in the table. */
  label: string;
  /** The timed command; hyperfine runs it without a shell (-N), so no argument may contain spaces. */
  argv: string[];
  /** Run before every timed run, untimed (e.g. stop before start). */
  prepare?: string[];
  /** The whole environment of the command. */
  env: Record<string, string>;
  /** Every run must exit with this code, or the numbers measure something else. */
  expect: number;
}

export interface Result {
  label: string;
  meanMs: number;
  stddevMs: number;
  minMs: number;
  maxMs: number;
  runs: number;
  /** Mean over the RSS runs of GNU time's %M (the largest single process of the action). */
  rssMiB: number;
  /** The hyperfine command line of one block, for the report. */
  command: string;
}

export interface Options {
  /** Timed runs per case, split into `blocks` hyperfine calls that the benchmark interleaves. */
  runs: number;
  blocks: number;
  /** Warm-up runs before each block. */
  warmup: number;
  rssRuns: number;
  /** Directory for hyperfine's JSON, writable where exec runs. */
  tmpdir: string;
  /** Variables every case has: the report shows them once, as a bash array of this name. */
  shared?: { name: string; env: Record<string, string> };
}

const HYPERFINE_TIMEOUT_MS = 15 * 60_000;

/** argv prefix that runs a command with exactly this environment. */
export function envArgs(env: Record<string, string>): string[] {
  return ['env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)];
}

function commandLine(argv: string[]): string {
  for (const a of argv) if (/[\s'"\\]/.test(a) || a === '') throw new Error(`bench: argument '${a}' would need quoting`);
  return argv.join(' ');
}

function hyperfineArgv(c: Case, o: Options, json: string): string[] {
  return [
    'hyperfine', '-N', '-i', '--style', 'none', '--warmup', String(o.warmup), '--runs', String(Math.ceil(o.runs / o.blocks)),
    '--export-json', json,
    ...(c.prepare ? ['--prepare', commandLine(c.prepare)] : []),
    commandLine(c.argv),
  ];
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The shared variables as a bash array assignment, for the report. */
export function sharedLine(o: Options): string {
  return o.shared ? `${o.shared.name}=(${envArgs(o.shared.env).slice(2).map(quote).join(' ')})` : '';
}

/** A command run with exactly `env`, as the report shows it (shell-quoted where needed; the shared variables as their array). */
export function shownCommand(env: Record<string, string>, argv: string[], o: Pick<Options, 'shared'>): string {
  const line = (e: Record<string, string>) => [...envArgs(e), ...argv].map(quote);
  const shared = o.shared;
  if (!shared || !Object.entries(shared.env).every(([k, v]) => env[k] === v)) return line(env).join(' ');
  const [envWord, dashI, ...rest] = line(Object.fromEntries(Object.entries(env).filter(([k]) => !(k in shared.env))));
  return [envWord, dashI, `"\${${shared.name}[@]}"`, ...rest].join(' ');
}

/** The full command line of a case as the report shows it. */
function shown(c: Case, o: Options): string {
  return shownCommand(c.env, hyperfineArgv(c, o, 'block.json'), o);
}

async function ok(exec: Exec, argv: string[], timeoutMs?: number): Promise<ExecResult> {
  const r = await exec(argv, timeoutMs);
  if (r.code !== 0) throw new Error(describe(r));
  return r;
}

/** Runs a command once with exactly this environment; throws, with its output, unless it exits `expect`. */
export async function expectCode(exec: Exec, c: Pick<Case, 'label' | 'argv' | 'env' | 'expect'>): Promise<void> {
  const r = await exec([...envArgs(c.env), ...c.argv]);
  if (r.code !== c.expect) throw new Error(`${c.label}: expected exit ${c.expect}\n${describe(r)}`);
}

/**
 * Times cases block by block. A benchmark calls block() for each of its cases in turn, `blocks`
 * times over, so that a load that comes and goes on the machine hits every case alike.
 */
export class Sampler {
  private readonly data = new Map<string, { c: Case; times: number[]; rss: number[] }>();

  constructor(
    private readonly exec: Exec,
    readonly o: Options,
  ) {}

  async block(c: Case): Promise<void> {
    let d = this.data.get(c.label);
    if (!d) {
      // A run that does not exit as expected would time the wrong thing: check once first.
      if (c.prepare) await this.exec([...envArgs(c.env), ...c.prepare]);
      await expectCode(this.exec, c);
      d = { c, times: [], rss: await this.rss(c) };
      this.data.set(c.label, d);
    }
    const json = `${this.o.tmpdir}/hyperfine-${Date.now()}.json`;
    await ok(this.exec, [...envArgs(c.env), ...hyperfineArgv(c, this.o, json)], HYPERFINE_TIMEOUT_MS);
    const out = JSON.parse((await ok(this.exec, ['cat', json])).stdout) as { results: { times: number[]; exit_codes: number[] }[] };
    await this.exec(['rm', '-f', json]);
    const h = out.results[0];
    if (!h) throw new Error(`${c.label}: hyperfine wrote no result`);
    const wrong = h.exit_codes.filter((code) => code !== c.expect);
    if (wrong.length > 0) throw new Error(`${c.label}: ${wrong.length}/${h.exit_codes.length} timed runs did not exit ${c.expect} (got ${[...new Set(wrong)].join(', ')})`);
    d.times.push(...h.times);
  }

  private async rss(c: Case): Promise<number[]> {
    const mib: number[] = [];
    for (let i = 0; i < this.o.rssRuns; i++) {
      if (c.prepare) await this.exec([...envArgs(c.env), ...c.prepare]);
      const r = await this.exec([...envArgs(c.env), '/usr/bin/time', '-f', 'bench-maxrss-kib=%M', ...c.argv]);
      const kib = /bench-maxrss-kib=(\d+)/.exec(r.stderr)?.[1];
      if (r.code !== c.expect || kib === undefined) throw new Error(`${c.label} under GNU time:\n${describe(r)}`);
      mib.push(Number(kib) / 1024);
    }
    return mib;
  }

  result(label: string): Result | undefined {
    const d = this.data.get(label);
    if (!d || d.times.length === 0) return undefined;
    const st = stats(d.times.map((s) => s * 1000))!;
    return {
      label,
      meanMs: st.mean,
      stddevMs: st.stddev,
      minMs: st.min,
      maxMs: st.max,
      runs: st.n,
      rssMiB: d.rss.reduce((a, b) => a + b, 0) / Math.max(d.rss.length, 1),
      command: shown(d.c, this.o),
    };
  }
}

export interface Stats {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1). */
  stddev: number;
  min: number;
  median: number;
  max: number;
}

/** Mean, σ, min, median and max of some measurements; undefined when there are none. */
export function stats(values: number[]): Stats | undefined {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const mid = Math.floor(v.length / 2);
  return {
    n: v.length,
    mean,
    stddev: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(v.length - 1, 1)),
    min: v[0]!,
    median: v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2,
    max: v[v.length - 1]!,
  };
}

/** Date, machine, source and tool versions: the lines a benchmark report starts with. */
export function machine(binary: string, repo: string): Record<string, string> {
  const out = (argv: string[]) => {
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    return r.status === 0 ? r.stdout.trim() : undefined;
  };
  const or = (v: string | undefined) => v ?? 'unknown';
  // The binary is built from the working tree, which may differ from the commit.
  const changed = out(['git', '-C', repo, 'status', '--porcelain', '--', 'src']);
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpus: `${os.availableParallelism()} (${os.cpus()[0]?.model.trim() ?? 'unknown model'})`,
    kernel: os.release(),
    binary: or(out([binary, '--version'])),
    source: `${or(out(['git', '-C', repo, 'rev-parse', '--short', 'HEAD']))}${changed ? ' with uncommitted changes in src/' : ''}`,
    hyperfine: or(out(['hyperfine', '--version'])),
    'resource-agents': or(out(['dpkg-query', '-W', '-f', '${Version}', 'resource-agents'])),
    'load average at start (1, 5, 15 min)': loadAverage(),
  };
}

export function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(', ');
}

export function table(header: string[], rows: string[][]): string {
  const line = (cols: string[]) => `| ${cols.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export const fmt = (n: number, digits = 1) => n.toFixed(digits);
