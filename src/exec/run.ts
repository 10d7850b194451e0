// Runs programs with argument arrays (never a shell) and bounded time, for short-lived actions.
// node:child_process (execa was measured and not adopted: docs/build.md, "Running programs").
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The program could not be started (missing, not executable, timed out). */
  error?: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

type Tracer = (argv: string[], result: RunResult, ms: number) => void;
let tracer: Tracer | undefined;

/** Every command run from now on is reported to `t` (OCF_TRACE_RA). */
export function traceCommands(t: Tracer | undefined): void {
  tracer = t;
}

export function run(file: string, args: string[], options: RunOptions = {}): RunResult {
  const started = Date.now();
  const r = spawnSync(file, args, {
    input: options.input ?? '',
    timeout: options.timeoutMs ?? 10_000,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: options.env ?? process.env,
  });
  const result: RunResult = { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (r.error) result.error = r.error.message;
  tracer?.([file, ...args], result, Date.now() - started);
  return result;
}

/** One line saying how a command ended, for exit reasons and logs. */
export function failure(argv: string[], r: RunResult): string {
  const why = r.error ?? `exit ${r.code}`;
  const detail = (r.stderr || r.stdout).trim().split('\n')[0] ?? '';
  return `${argv.join(' ')}: ${why}${detail ? `: ${detail}` : ''}`;
}

export class CommandError extends Error {}

/** Runs a program that must succeed; returns its stdout, or throws a CommandError saying how it failed. */
export function output(file: string, args: string[], options: RunOptions = {}): string {
  const r = run(file, args, options);
  if (r.code !== 0) throw new CommandError(failure([file, ...args], r));
  return r.stdout;
}

const SYSTEM_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/libexec/heartbeat'];

/** Absolute path of an executable, searched in PATH then the system directories; undefined if absent. */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = name.includes('/') ? [name] : [...(env.PATH ?? '').split(':').filter(Boolean), ...SYSTEM_DIRS].map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** run() without blocking the event loop: for the checker, whose timers must keep running. */
export function runAsync(file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ code: null, stdout: '', stderr: '', error: (err as Error).message });
      return;
    }
    const out: Buffer[] = [];
    const errs: Buffer[] = [];
    let error: string | undefined;
    const timer = setTimeout(() => {
      error = `timed out after ${options.timeoutMs ?? 10_000} ms`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 10_000);
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => errs.push(b));
    child.on('error', (err) => {
      error ??= err.message;
    });
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(options.input ?? '');
    child.on('close', (code) => {
      clearTimeout(timer);
      const result: RunResult = { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errs).toString('utf8') };
      if (error) result.error = error;
      tracer?.([file, ...args], result, Date.now() - started);
      resolve(result);
    });
  });
}
