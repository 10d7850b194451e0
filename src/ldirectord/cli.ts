// The ldirectord command line, for existing units and resource-agents' ocf:heartbeat:ldirectord:
//   ldirectord [-d] [-h] [configfile] {start|stop|restart|try-restart|reload|force-reload|status}
// Same pid file, messages and exit codes as ldirectord; the daemon behind it is lvsd.
import { existsSync } from 'node:fs';
import { LvskitError, UsageError } from '../errors';
import { versionLine } from '../version';

export const LDIRECTORD_COMMANDS = ['start', 'stop', 'restart', 'try-restart', 'reload', 'force-reload', 'status'] as const;
export type LdirectordCommand = (typeof LDIRECTORD_COMMANDS)[number];

export interface LdirectordArgs {
  debug: boolean;
  configfile: string;
  command: LdirectordCommand;
}

/** ldirectord's configuration when none is named. */
export const DEFAULT_CONFIG = '/etc/ha.d/ldirectord.cf';

const USAGE = `usage: ldirectord [-d] [-h|--help] [-v|--version] [configfile] {${LDIRECTORD_COMMANDS.join('|')}}\n`;

/** ldirectord's search: /etc/ha.d/NAME, /etc/ha.d/conf/NAME, then NAME as given. */
export function findConfig(given: string, exists: (p: string) => boolean = existsSync): string {
  if (given.startsWith('/')) return given;
  for (const candidate of [`/etc/ha.d/${given}`, `/etc/ha.d/conf/${given}`]) if (exists(candidate)) return candidate;
  return given.includes('/') || exists(given) ? given : `/etc/ha.d/${given}`;
}

export function parseLdirectordArgs(args: string[], exists?: (p: string) => boolean): LdirectordArgs | 'help' | 'version' {
  let debug = false;
  const positional: string[] = [];
  for (const arg of args) {
    if (arg === '-d' || arg === '--debug') debug = true;
    else if (arg === '-h' || arg === '-?' || arg === '--help') return 'help';
    else if (arg === '-v' || arg === '--version') return 'version';
    else if (arg === '--') continue;
    else if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
    else positional.push(arg);
  }
  if (positional.length === 0 || positional.length > 2) throw new UsageError('expected [configfile] and a command');
  const command = positional[positional.length - 1] as LdirectordCommand;
  if (!LDIRECTORD_COMMANDS.includes(command)) throw new UsageError(`unknown command '${command}'`);
  const configfile = positional.length === 2 ? findConfig(positional[0]!, exists) : DEFAULT_CONFIG;
  return { debug, configfile, command };
}

/** ldirectord's pid file: /var/run/ldirectord.<name>.pid, name = the config's file name, or "ldirectord". */
export function pidFileFor(args: string[], configfile: string): string {
  const given = args.filter((a) => !a.startsWith('-')).length === 2;
  const name = given ? configfile.slice(configfile.lastIndexOf('/') + 1) : 'ldirectord';
  return `/var/run/ldirectord.${name}.pid`;
}

function say(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function dispatch(parsed: LdirectordArgs, pidFile: string): Promise<number> {
  const { checkerState, startDetached, stopChecker } = await import('../checker/process');
  const { readConfiguration } = await import('../checker/daemon');
  const cfg = parsed.configfile;
  // ldirectord's own words and status for a file that is not there.
  if (!existsSync(cfg)) {
    say(`Config file ${cfg} not found`);
    return 1;
  }
  // Like ldirectord, every command reads the configuration first: a broken file is exit 2.
  let config: Awaited<ReturnType<typeof readConfiguration>>;
  try {
    config = readConfiguration(cfg);
  } catch (err) {
    say(`ldirectord: ${(err as Error).message}`);
    return 2;
  }
  const running = checkerState(pidFile, cfg);
  switch (parsed.command) {
    case 'status':
      if (running.state === 'running') {
        say(`ldirectord for ${cfg} is running with pid: ${running.pid}`);
        await statusOfInstances(cfg, config.globals.execute);
        return 0;
      }
      if (running.state === 'stale') say(`ldirectord stale pid file ${pidFile} for ${cfg}`);
      process.stdout.write(`ldirectord is stopped for ${cfg}\n`);
      return running.state === 'stale' ? 1 : 3;
    case 'reload':
    case 'force-reload':
      if (running.state !== 'running') {
        say(`ldirectord is stopped for ${cfg}`);
        return 1;
      }
      process.kill(running.pid, 'SIGHUP');
      return 0;
    case 'stop':
      // Unlike ldirectord, wait for the cleanstop to finish: callers then see a clean table.
      if (running.state === 'running') await stopChecker(running.pid, 30_000);
      return 0;
    case 'try-restart':
    case 'restart':
      if (running.state === 'running') await stopChecker(running.pid, 30_000);
      else if (parsed.command === 'try-restart') return 0;
      break;
    case 'start':
      if (running.state === 'running') return 0;
      break;
  }
  if (parsed.debug || config.globals.supervised) {
    // -d: in the foreground, logging to stderr; supervised=yes: in the foreground, logging to
    // stdout (for daemontools and the like), as ldirectord does.
    const { runChecker } = await import('../checker/cli');
    return runChecker({ config: cfg, debug: parsed.debug, pidFile });
  }
  const started = await startDetached(cfg, pidFile, 60_000);
  if (!started.ok) {
    say(`ldirectord: ${started.reason}`);
    return 1;
  }
  return 0;
}

/** ldirectord's status also asks every execute instance for its own. */
async function statusOfInstances(self: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const { commandInstance, namesItself } = await import('../checker/instances');
  for (const name of names) {
    if (namesItself(name, self)) continue;
    const r = await commandInstance(name, 'status', 10_000);
    if (r.output) say(r.output);
  }
}

export async function runLdirectord(args: string[]): Promise<number> {
  try {
    const parsed = parseLdirectordArgs(args);
    if (parsed === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (parsed === 'version') {
      process.stdout.write(`ldirectord (${versionLine()})\n`);
      return 0;
    }
    return await dispatch(parsed, pidFileFor(args, parsed.configfile));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`ldirectord: ${err.message}\n${USAGE}`);
      return err.exitCode;
    }
    if (err instanceof LvskitError) {
      process.stderr.write(`ldirectord: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
