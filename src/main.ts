// Multi-call dispatch: the name the binary runs under chooses the role.
// Roles are loaded lazily so that an OCF action never initialises commander or the checker.
import { versionLine } from './version';

export type Role = 'lvs' | 'lvsd' | 'ldirectord' | 'lvskit';

export function roleOf(invokedAs: string): Role {
  switch (invokedAs) {
    case 'lvs':
    case 'lvsd':
    case 'ldirectord':
      return invokedAs;
    default:
      return 'lvskit';
  }
}

export async function run(invokedAs: string, args: string[]): Promise<number> {
  const role = roleOf(invokedAs);
  switch (role) {
    case 'lvs':
    case 'lvsd': {
      const { runAgentByName } = await import('./agents/registry');
      return runAgentByName(role, args);
    }
    case 'ldirectord': {
      const { runLdirectord } = await import('./ldirectord/cli');
      return runLdirectord(args);
    }
    case 'lvskit': {
      // --version is answered before anything else is loaded: it is the smoke test of the binary.
      if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
        process.stdout.write(`${versionLine()}\n`);
        return 0;
      }
      // The lvs agent's link watcher: a long-lived child of promote, kept free of commander.
      if (args[0] === 'vipwatch') {
        const { runVipWatch } = await import('./agents/lvs/vipwatch');
        return runVipWatch(args.slice(1));
      }
      const { runLvskit } = await import('./commands/program');
      return runLvskit(args);
    }
  }
}
