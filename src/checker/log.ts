// Where lvsd's log lines go: journald (stderr with priority prefixes) under systemd, stderr in
// the foreground, otherwise ldirectord's logfile directive: a file, or a syslog facility.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import type { LogLevel } from './engine';

export type LogTarget = { kind: 'journal' } | { kind: 'stderr' } | { kind: 'stdout' } | { kind: 'file'; path: string } | { kind: 'syslog'; facility: string };

export type Logger = (level: LogLevel, message: string) => void;

// sd-daemon(3) prefixes: journald reads the priority from them.
const PRIORITY: Record<LogLevel, number> = { error: 3, warning: 4, info: 6, debug: 7 };
const SYSLOG_LEVEL: Record<LogLevel, string> = { error: 'err', warning: 'warning', info: 'info', debug: 'debug' };

/**
 * journald under systemd, stderr when asked (-d), stdout in the foreground with supervised=yes (as
 * ldirectord, for daemontools), stderr on a terminal, else the configured logfile.
 */
export function chooseTarget(logfile: string, opts: { debug: boolean; detached: boolean; supervised?: boolean; env?: NodeJS.ProcessEnv }): LogTarget {
  const env = opts.env ?? process.env;
  if (!opts.detached && (env.JOURNAL_STREAM || env.INVOCATION_ID)) return { kind: 'journal' };
  if (opts.debug) return { kind: 'stderr' };
  if (opts.supervised && !opts.detached) return { kind: 'stdout' };
  if (!opts.detached && process.stderr.isTTY) return { kind: 'stderr' };
  return logfile.startsWith('/') ? { kind: 'file', path: logfile } : { kind: 'syslog', facility: logfile };
}

function localTime(d = new Date()): string {
  // ldirectord writes Perl's localtime(): "Sat Nov 21 10:02:03 2026".
  return d.toString().replace(/^(\w+ \w+ \d+) (\d+) ([\d:]+).*$/, '$1 $3 $2');
}

export function createLogger(target: LogTarget, name: string, minLevel: LogLevel = 'info'): Logger {
  const rank = (l: LogLevel) => 3 - ['error', 'warning', 'info', 'debug'].indexOf(l);
  return (level, message) => {
    if (rank(level) < rank(minLevel)) return;
    const line = message.replace(/\n/g, ' ');
    switch (target.kind) {
      case 'journal':
        process.stderr.write(`<${PRIORITY[level]}>${line}\n`);
        return;
      case 'stderr':
        process.stderr.write(`${new Date().toISOString()} ${level}: ${line}\n`);
        return;
      case 'stdout':
        // ldirectord's supervised format.
        process.stdout.write(`[${localTime()}] ${line}\n`);
        return;
      case 'file':
        // Opened and closed per line, as ldirectord does, so logrotate needs no signal.
        try {
          appendFileSync(target.path, `[${localTime()}|${name}|${process.pid}] ${line}\n`);
        } catch {
          process.stderr.write(`${line}\n`);
        }
        return;
      case 'syslog': {
        const child = spawn('logger', ['-t', 'lvsd', '-p', `${target.facility}.${SYSLOG_LEVEL[level]}`, '--', line], { stdio: 'ignore' });
        child.on('error', () => process.stderr.write(`${line}\n`));
        return;
      }
    }
  };
}

export { localTime };
