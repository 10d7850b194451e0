// Programs a long-running process starts beside its work (lvsd's fallbackcommand, callback and
// sendmail; external checks can use it too): an argument array, no shell, its own process group so
// that stopping it ends whatever it started, a time limit, stdin from a string, and a bounded
// piece of stderr for the log. Never blocks the event loop.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ChildOptions {
  /** Written to stdin, which is then closed; stdin is /dev/null without it. */
  input?: string;
  /** Stop the program after this long; none when unset. */
  timeoutMs?: number;
  /** Characters of stderr kept (default 512). */
  stderrLimit?: number;
  /** Between SIGTERM and SIGKILL to the group (default 500 ms): what ignores TERM must not stay. */
  graceMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface ChildEnd {
  /** Exit status; null when killed by a signal or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  timedOut: boolean;
  /** It could not be started: "not found", "permission denied", or the system's message. */
  error?: string;
}

export interface Child {
  /** Resolves when the program exits (not when its output closes: a grandchild may hold it). */
  done: Promise<ChildEnd>;
  /** SIGTERM to its process group, SIGKILL after the grace time. */
  stop(): void;
}

export function startChild(file: string, args: string[], options: ChildOptions = {}): Child {
  const limit = options.stderrLimit ?? 512;
  const grace = options.graceMs ?? 500;
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      detached: true,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'],
      env: options.env ?? process.env,
    });
  } catch (err) {
    return { done: Promise.resolve({ code: null, signal: null, stderr: '', timedOut: false, error: (err as Error).message }), stop: () => undefined };
  }
  let stderr = '';
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const pid = child.pid;
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pid, sig);
      } catch {
        /* the group is gone */
      }
    };
    kill('SIGTERM');
    setTimeout(() => kill('SIGKILL'), grace).unref();
  };
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < limit) stderr = (stderr + chunk.toString('utf8')).slice(0, limit);
  });
  child.stderr?.on('error', () => undefined);
  if (child.stdin) {
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  }
  const done = new Promise<ChildEnd>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const error = err.code === 'ENOENT' ? 'not found' : err.code === 'EACCES' ? 'permission denied' : err.message;
      resolve({ code: null, signal: null, stderr, timedOut, error });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      child.stderr?.destroy();
      resolve({ code, signal, stderr, timedOut });
    });
  });
  if (options.timeoutMs !== undefined) {
    timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.timeoutMs);
  }
  return { done, stop };
}

/** How a program ended, in one line for a log; undefined when it exited 0. */
export function childFailure(end: ChildEnd, timeoutMs?: number): string | undefined {
  const said = end.stderr.trim() ? `: ${end.stderr.trim().split('\n')[0]}` : '';
  if (end.error !== undefined) return `cannot run it: ${end.error}`;
  if (end.timedOut) return `stopped after ${(timeoutMs ?? 0) / 1000} s${said}`;
  if (end.signal) return `killed by ${end.signal}${said}`;
  if (end.code !== 0) return `exit ${end.code}${said}`;
  return undefined;
}
