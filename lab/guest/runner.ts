// Runs one ExecSpec with node's child_process; shared by the host backend and the UML guest agent.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { BASE_ENV, DEFAULT_TIMEOUT_MS, type ExecResult, type ExecSpec } from '../kernel';

const MAX_OUTPUT = 16 * 1024 * 1024;

export function runSpec(spec: ExecSpec): Promise<ExecResult> {
  const env = { ...BASE_ENV, ...spec.env };
  const base: ExecResult = { argv: spec.argv, code: null, signal: null, stdout: '', stderr: '', timedOut: false };
  const [file, ...args] = spec.argv;
  if (file === undefined) return Promise.resolve({ ...base, error: 'empty argv' });

  if (spec.detach) {
    const fd = openSync(spec.log ?? '/dev/null', 'a');
    try {
      const child = spawn(file, args, { env, detached: true, stdio: ['ignore', fd, fd] });
      return new Promise((resolve) => {
        child.once('error', (err) => resolve({ ...base, error: err.message }));
        child.once('spawn', () => {
          child.unref();
          resolve({ ...base, code: 0, pid: child.pid });
        });
      });
    } finally {
      closeSync(fd);
    }
  }

  return new Promise((resolve) => {
    // Own process group, so that a timeout kills everything the command started.
    const child = spawn(file, args, { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_OUTPUT) into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, spec.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ ...base, error: e.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        ...base,
        code,
        signal,
        timedOut,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(spec.stdin ?? '');
  });
}
