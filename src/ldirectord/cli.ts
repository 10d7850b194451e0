// The ldirectord command line, for existing units and resource-agents' ocf:heartbeat:ldirectord:
//   ldirectord [-d] [-h] [configfile] {start|stop|restart|try-restart|reload|force-reload|status}
import { NotImplementedError, UsageError } from '../errors';
import { versionLine } from '../version';

export const LDIRECTORD_COMMANDS = ['start', 'stop', 'restart', 'try-restart', 'reload', 'force-reload', 'status'] as const;
export type LdirectordCommand = (typeof LDIRECTORD_COMMANDS)[number];

export interface LdirectordArgs {
  debug: boolean;
  configfile: string;
  command: LdirectordCommand;
}

const USAGE = `usage: ldirectord [-d] [-h|--help] [-v|--version] [configfile] {${LDIRECTORD_COMMANDS.join('|')}}\n`;

export function parseLdirectordArgs(args: string[]): LdirectordArgs | 'help' | 'version' {
  let debug = false;
  const positional: string[] = [];
  for (const arg of args) {
    if (arg === '-d' || arg === '--debug') debug = true;
    else if (arg === '-h' || arg === '--help') return 'help';
    else if (arg === '-v' || arg === '--version') return 'version';
    else if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
    else positional.push(arg);
  }
  if (positional.length === 0 || positional.length > 2) throw new UsageError('expected [configfile] and a command');
  const command = positional[positional.length - 1] as LdirectordCommand;
  if (!LDIRECTORD_COMMANDS.includes(command)) throw new UsageError(`unknown command '${command}'`);
  // ldirectord resolves a bare name against /etc/ha.d, as the original does.
  const given = positional.length === 2 ? positional[0]! : 'ldirectord.cf';
  const configfile = given.includes('/') ? given : `/etc/ha.d/${given}`;
  return { debug, configfile, command };
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
    throw new NotImplementedError(`ldirectord ${parsed.command}`);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`ldirectord: ${err.message}\n${USAGE}`);
      return err.exitCode;
    }
    if (err instanceof NotImplementedError) {
      process.stderr.write(`ldirectord: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
