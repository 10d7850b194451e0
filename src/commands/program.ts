// `lvskit <subcommand>`: the command-line interface when the binary runs under its own name.
import { Command, CommanderError, Option } from 'commander';
import { LvskitError } from '../errors';
import type { RawOptions } from '../pcs/options';
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
    .option('-t, --test-config', 'check the configuration file and exit (0 valid, 1 not)')
    .option('-d, --debug', 'log to stderr, debug messages included')
    .option('--metrics <host:port>', 'serve Prometheus metrics here (overrides the metrics directive)')
    .addOption(new Option('--pid-file <file>', 'write the pid here and remove it at exit').hideHelp())
    .addOption(new Option('--detached', 'started by ldirectord or the OCF agent: log to the logfile').hideHelp())
    .addOption(new Option('--emit-config', "parse the file for a running lvsd's reload and write the result to stdout").hideHelp())
    .action(async (opts: { config: string; testConfig?: boolean; debug?: boolean; metrics?: string; pidFile?: string; detached?: boolean; emitConfig?: boolean }) => {
      const { runChecker } = await import('../checker/cli');
      outcome.code = await runChecker(opts);
    });

  program
    .command('bootstrap')
    .description('print or run the pcs commands that build the director cluster')
    .option('--nodes <names>', 'the cluster nodes, comma-separated (required)')
    .option('--name <name>', 'cluster name (default: lvs)')
    .option('--vip <addr[/prefix][@nic]>', 'virtual IP address (required); repeat it for several VIPs, each its own lvs clone', (v: string, prev: string[] = []) => [...prev, v])
    .option('--nic <ifname>', 'interface of the VIPs without @nic on the promoted director (default: eth0)')
    .option('--vip-prefix <n>', 'prefix length of the VIPs without /prefix on the NIC (default: 32, IPv6 128)')
    .addOption(new Option('--placement <how>', 'several VIPs: all on one director, or spread over the directors (default: together)').choices(['together', 'spread']))
    .option('--sync-interface <ifname>', 'interface for IPVS connection sync (default: none)')
    .option('--config <file>', 'checker configuration file, --checker ocf (default: /etc/ha.d/ldirectord.cf)')
    .option('--stickiness <score>', 'resource-stickiness default (default: 100)')
    .option('--no-stonith', 'turn fencing off (warns: two directors can end up promoted)')
    .option('--fence <agent>', 'create the fence device lvs-fence with this fence agent (e.g. fence_ipmilan)')
    .option('--fence-option <name=value>', 'an option of the fence device, repeatable (no passwords: NAME_script=FILE)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--qdevice <host>', 'add a quorum device: corosync-qnetd on this third host (algorithm ffsplit)')
    .option('--token <ms>', "corosync's token: a dead node is noticed after token + 1.2 x token (default: 1000)")
    .addOption(new Option('--checker <kind>', 'how pacemaker runs the checker (default: ocf)').choices(['ocf', 'systemd']))
    .option('--pcs-version <X.Y>', 'pcs version to write commands for, instead of asking pcs --version')
    .addOption(new Option('--dry-run', 'print the commands (default)').conflicts('apply'))
    .option('--apply', 'run the commands, skipping what is already done')
    .action(async (opts: RawOptions) => {
      const { runBootstrap } = await import('../pcs/bootstrap');
      outcome.code = await runBootstrap(opts);
    });

  program
    .command('install')
    .description('install the binary, the OCF agent names (ocf:heartbeat:lvs, lvsd) and the systemd units')
    .option('--prefix <dir>', 'installation prefix: PREFIX/sbin/lvskit, PREFIX/lib/ocf (unless OCF_ROOT is set), PREFIX/lib/systemd/system (/lib/systemd/system for /usr)', '/usr')
    .addOption(new Option('--uninstall', 'remove what install put in place (listed in PREFIX/share/lvskit/installed.txt)').conflicts(['force', 'ldirectordName']))
    .option('--force', "replace files that are not lvskit's (moved to PREFIX/share/lvskit/replaced, put back by --uninstall)")
    .option('--ldirectord-name', 'also install the name PREFIX/sbin/ldirectord (the ldirectord command line)')
    .addHelpText('after', '\nEnvironment:\n  OCF_ROOT  root of the OCF agents (default /usr/lib/ocf, with --prefix: PREFIX/lib/ocf)')
    .action(async (opts: { prefix: string; uninstall?: boolean; force?: boolean; ldirectordName?: boolean }) => {
      const { installCommand } = await import('../install/index');
      outcome.code = await installCommand({ prefix: opts.prefix, uninstall: opts.uninstall === true, force: opts.force === true, ldirectord: opts.ldirectordName === true });
    });

  program
    .command('realserver')
    .description('configure this host as a DR real server for a VIP')
    .argument('<action>', 'up (hide ARP, then the VIP on lo), down (undo it, restoring the sysctls) or status (exit 0 when configured, 3 when not)')
    .requiredOption('--vip <addr>', 'virtual IP address (IPv4 or IPv6)')
    .option('--prefix-length <n>', 'prefix length of the VIP on lo; only the host prefix (32, IPv6 128) is accepted')
    .action(async (action: string, opts: { vip: string; prefixLength?: string }) => {
      const { realServerCommand } = await import('../realserver/realserver');
      outcome.code = realServerCommand(action, opts);
    });

  program
    .command('status')
    .description("show this node's role, the VIP, the real servers' health and the cluster's view")
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const { collectStatus } = await import('../status/collect');
      const { renderJson, renderStatus } = await import('../status/render');
      const view = collectStatus();
      process.stdout.write(opts.json ? renderJson(view) : renderStatus(view));
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
