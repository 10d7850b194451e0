// `lvskit <subcommand>`: the command-line interface when the binary runs under its own name.
import { Command, CommanderError, Option } from 'commander';
import { LvskitError, NotImplementedError } from '../errors';
import { versionLine } from '../version';

interface Outcome {
  code: number;
}

function buildProgram(outcome: Outcome): Command {
  const program = new Command('lvskit')
    .description('Highly available LVS (IPVS) directors under pacemaker')
    .version(versionLine(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('agent')
    .description('run an OCF agent action, as pacemaker does through ocf:heartbeat:<agent>')
    .argument('<agent>', 'lvs or lvsd')
    .argument('[action]', 'OCF action (start, stop, monitor, promote, demote, meta-data, validate-all, ...)')
    .allowExcessArguments()
    .action(async (agent: string, _action: string | undefined, _opts: unknown, cmd: Command) => {
      const { runAgentByName } = await import('../agents/registry');
      outcome.code = await runAgentByName(agent, cmd.args.slice(1));
    });

  program
    .command('checker')
    .description('run lvsd, the ldirectord-compatible health checker, in the foreground')
    .option('-c, --config <file>', 'ldirectord configuration file', '/etc/ha.d/ldirectord.cf')
    .option('-t, --test-config', 'check the configuration file and exit')
    .action(() => {
      throw new NotImplementedError('lvskit checker');
    });

  program
    .command('bootstrap')
    .description('print or run the pcs commands that build the director cluster')
    .addOption(new Option('--dry-run', 'print the commands (default)').conflicts('apply'))
    .option('--apply', 'run the commands')
    .action(() => {
      throw new NotImplementedError('lvskit bootstrap');
    });

  program
    .command('install')
    .description('install the binary, the OCF agent names and the systemd units')
    .option('--prefix <dir>', 'installation prefix', '/usr')
    .option('--uninstall', 'remove what install put in place')
    .action(() => {
      throw new NotImplementedError('lvskit install');
    });

  program
    .command('realserver')
    .description('configure this host as a DR real server for a VIP')
    .argument('<state>', 'up or down')
    .requiredOption('--vip <addr>', 'virtual IP address')
    .action(() => {
      throw new NotImplementedError('lvskit realserver');
    });

  program
    .command('status')
    .description("show this node's role, the VIP, the real servers' health and the cluster's view")
    .option('--json', 'machine-readable output')
    .action(() => {
      throw new NotImplementedError('lvskit status');
    });

  return program;
}

export async function runLvskit(args: string[]): Promise<number> {
  const outcome: Outcome = { code: 0 };
  const program = buildProgram(outcome);
  if (args.length === 0) {
    program.outputHelp({ error: true });
    return 2;
  }
  try {
    await program.parseAsync(args, { from: 'user' });
    return outcome.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; every usage error is 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof LvskitError) {
      process.stderr.write(`lvskit: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
