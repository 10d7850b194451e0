// Starting, finding and stopping a detached lvsd: shared by the ldirectord command line and
// ocf:heartbeat:lvsd. The daemon is this same binary running `lvskit checker`.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_CONFIG, findConfig } from '../ldirectord/cli';
import { readStatus, statusPath } from './status';

function isSea(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('node:sea') as { isSea(): boolean }).isSea();
  } catch {
    return false;
  }
}

/** argv to run this program again with `args` (the binary, or node + script in development). */
export function selfCommand(args: string[]): { file: string; args: string[] } {
  if (isSea()) return { file: process.execPath, args };
  return { file: process.execPath, args: [...process.execArgv, process.argv[1]!, ...args] };
}

function cmdline(pid: number): string[] | undefined {
  try {
    // A zombie (exited, not yet reaped) has an empty command line: it is not running.
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return text ? text.split('\0') : undefined;
  } catch {
    return undefined;
  }
}

export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The pid in the file belongs to a running lvsd for this configuration: `lvskit checker --config
 * FILE …`, or `ldirectord [-d] [FILE] start|restart|try-restart` that stayed in the foreground
 * (-d, supervised=yes) and so is lvsd itself.
 */
export function isCheckerRunning(pid: number, configFile: string): boolean {
  const argv = cmdline(pid);
  if (!argv) return false;
  if (argv.includes('checker') && argv.includes(configFile)) return true;
  if (basename(argv[0] ?? '') !== 'ldirectord') return false;
  const positional = argv.slice(1).filter((a) => a !== '' && !a.startsWith('-'));
  if (!['start', 'restart', 'try-restart'].includes(positional[positional.length - 1] ?? '')) return false;
  return (positional.length === 2 ? findConfig(positional[0]!) : DEFAULT_CONFIG) === configFile;
}

export type Running = { state: 'running'; pid: number } | { state: 'stale'; pid: number } | { state: 'stopped' };

export function checkerState(pidFile: string, configFile: string): Running {
  const pid = readPid(pidFile);
  if (pid === undefined) return { state: 'stopped' };
  return isCheckerRunning(pid, configFile) ? { state: 'running', pid } : { state: 'stale', pid };
}

export interface StartResult {
  ok: boolean;
  pid?: number;
  reason?: string;
}

/**
 * Starts lvsd detached and waits until it runs: its status file says "running" (the services are
 * in the table and every real's first check is under way), or it exits, or time runs out.
 */
export async function startDetached(configFile: string, pidFile: string, timeoutMs: number, extra: string[] = []): Promise<StartResult> {
  const status = statusPath(configFile);
  rmSync(status, { force: true });
  const { file, args } = selfCommand(['checker', '--config', configFile, '--pid-file', pidFile, '--detached', ...extra]);
  const child = spawn(file, args, { detached: true, stdio: 'ignore', argv0: 'lvskit', cwd: '/' });
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  child.on('error', () => (exited = -1));
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) return { ok: false, reason: `lvsd exited with status ${exited} while starting (see its log)` };
    const s = readStatus(status);
    if (s && s.pid === child.pid && s.state === 'running') return { ok: true, pid: child.pid };
    await sleep(50);
  }
  return { ok: false, pid: child.pid, reason: `lvsd did not report running within ${timeoutMs / 1000} s` };
}

/** TERM, then wait for the process to finish its cleanstop; KILL when time runs out. */
export async function stopChecker(pid: number, timeoutMs: number): Promise<'stopped' | 'killed'> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'stopped';
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!cmdline(pid)) return 'stopped';
    await sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone meanwhile */
  }
  return 'killed';
}
