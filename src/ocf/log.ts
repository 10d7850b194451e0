// Logging as resource agents do it: HA_LOGFILE / HA_DEBUGLOG, else syslog when a facility is set,
// else stderr; every line tagged <agent>(<instance>). OCF_TRACE_RA adds a trace of every command.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { traceCommands } from '../exec/run';

export type Level = 'debug' | 'info' | 'warning' | 'err';

export interface AgentLog {
  /** Where lines go: a file, syslog, or stderr when nothing is configured. */
  readonly sink: 'file' | 'syslog' | 'stderr';
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())}_${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function isTrue(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v);
}

export function createLog(agent: string, instance: string, env: NodeJS.ProcessEnv): AgentLog {
  const tag = `${agent}(${instance})`;
  const logfile = env.HA_LOGFILE || env.PCMK_logfile;
  const debuglog = env.HA_DEBUGLOG || env.PCMK_debugfile;
  const facility = env.HA_LOGFACILITY || env.PCMK_logfacility;
  const debugOn = isTrue(env.HA_debug) || Boolean(debuglog);

  const write = (level: Level, msg: string) => {
    if (level === 'debug' && !debugOn) return;
    const line = `${tag}[${process.pid}]:\t${stamp()} ${level.toUpperCase()}: ${msg}\n`;
    try {
      if (level === 'debug' && debuglog) return appendFileSync(debuglog, line);
      if (logfile) return appendFileSync(logfile, line);
      if (facility && facility !== 'none') {
        const r = spawnSync('logger', ['-t', tag, '-p', `${facility}.${level}`, '--', msg], { stdio: 'ignore', timeout: 5000 });
        if (r.status === 0) return;
      }
    } catch {
      /* fall through to stderr */
    }
    process.stderr.write(`${level.toUpperCase()}: ${msg}\n`);
  };
  return {
    sink: logfile ? 'file' : facility && facility !== 'none' ? 'syslog' : 'stderr',
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warning', m),
    error: (m) => write('err', m),
  };
}

/** Starts the OCF_TRACE_RA trace of this action, when asked for; returns its file. */
export function startTrace(agent: string, instance: string, action: string, env: NodeJS.ProcessEnv): string | undefined {
  if (!isTrue(env.OCF_TRACE_RA) && !isTrue(env.OCF_RESKEY_trace_ra)) return undefined;
  const when = new Date().toISOString().replace(/\.\d+Z$/, '').replace('T', '.');
  const file =
    env.OCF_TRACE_FILE ||
    join(env.OCF_RESKEY_trace_dir || join(env.HA_VARLIB || '/var/lib/heartbeat', 'trace_ra', agent), `${instance}.${action}.${when}`);
  try {
    if (!file.startsWith('/dev/')) mkdirSync(dirname(file), { recursive: true });
    const out = (line: string) => appendFileSync(file, `${line}\n`);
    out(`+ ${agent} ${action} (instance ${instance}, pid ${process.pid})`);
    traceCommands((argv, r, ms) => {
      out(`+ ${argv.join(' ')}  # ${r.error ?? `exit ${r.code}`}, ${ms} ms`);
      for (const l of `${r.stdout}${r.stderr}`.split('\n').filter(Boolean).slice(0, 20)) out(`  ${l}`);
    });
    return file;
  } catch {
    return undefined;
  }
}
