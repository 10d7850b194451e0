// Where `lvskit install` puts things, and what it puts there. Pure: nothing here touches the system.
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../errors';

export const DEFAULT_PREFIX = '/usr';
/** The OCF agent names pacemaker runs as ocf:heartbeat:<name>. */
export const AGENT_NAMES = ['lvs', 'lvsd'] as const;
/** The systemd units of systemd/ that install puts in the unit directory (units.ts embeds them). */
export const UNIT_NAMES: readonly string[] = ['lvsd.service'];
/** Path of the binary that the units in systemd/ name; replaced by the installed path. */
export const UNIT_BINARY = '/usr/sbin/lvskit';

export interface Layout {
  prefix: string;
  defaultPrefix: boolean;
  binary: string;
  /** $OCF_ROOT/resource.d/heartbeat */
  agentDir: string;
  ocfRoot: string;
  unitDir: string;
  /** Where the manifest (and files replaced with --force) are kept. */
  dataDir: string;
  manifest: string;
  replacedDir: string;
}

// The prefix ends up in the units' ExecStart: whitespace, quotes, backslashes, % (specifiers) and
// $ (variables) would change its meaning there; tabs and newlines would break the manifest.
const UNSAFE_PATH = /[\s"'\\%$]/;

export function layout(prefixOption: string, env: NodeJS.ProcessEnv, cwd = process.cwd()): Layout {
  if (prefixOption === '') throw new UsageError('--prefix must not be empty');
  const prefix = resolve(cwd, prefixOption);
  if (UNSAFE_PATH.test(prefix)) {
    throw new UsageError(`--prefix '${prefixOption}': the path must not contain whitespace, quotes, backslashes, % or $ (it goes into the systemd unit's ExecStart)`);
  }
  const defaultPrefix = prefix === DEFAULT_PREFIX;
  let ocfRoot: string;
  if (env.OCF_ROOT) {
    if (!isAbsolute(env.OCF_ROOT) || UNSAFE_PATH.test(env.OCF_ROOT)) {
      throw new UsageError(`OCF_ROOT '${env.OCF_ROOT}' must be an absolute path without whitespace, quotes, backslashes, % or $`);
    }
    ocfRoot = resolve(env.OCF_ROOT);
  } else {
    ocfRoot = join(prefix, 'lib', 'ocf');
  }
  // Debian 12 packages put units in /lib/systemd/system (the /usr/lib move came with Debian 13).
  const unitDir = defaultPrefix ? '/lib/systemd/system' : join(prefix, 'lib', 'systemd', 'system');
  const dataDir = join(prefix, 'share', 'lvskit');
  return {
    prefix,
    defaultPrefix,
    binary: join(prefix, 'sbin', 'lvskit'),
    agentDir: join(ocfRoot, 'resource.d', 'heartbeat'),
    ocfRoot,
    unitDir,
    dataDir,
    manifest: join(dataDir, 'installed.txt'),
    replacedDir: join(dataDir, 'replaced'),
  };
}

export type Item =
  | { kind: 'binary'; path: string }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'text'; path: string; text: string; mode: number };

/** Everything one install puts in place, in the order it is done: the binary before its names. */
export function plan(l: Layout, units: Record<string, string>, options: { ldirectord: boolean }): Item[] {
  const items: Item[] = [{ kind: 'binary', path: l.binary }];
  for (const name of AGENT_NAMES) items.push({ kind: 'symlink', path: join(l.agentDir, name), target: l.binary });
  if (options.ldirectord) items.push({ kind: 'symlink', path: join(dirname(l.binary), 'ldirectord'), target: l.binary });
  for (const [name, text] of Object.entries(units).sort(([a], [b]) => a.localeCompare(b))) {
    items.push({ kind: 'text', path: join(l.unitDir, name), text: renderUnit(text, l.binary), mode: 0o644 });
  }
  return items;
}

/** The unit with every Exec*= that runs /usr/sbin/lvskit pointing at `binary` instead. */
export function renderUnit(text: string, binary: string): string {
  return text.replace(/^(Exec[A-Za-z]*=[-@:+!]*)\/usr\/sbin\/lvskit(?=\s|$)/gm, (_m, head: string) => `${head}${binary}`);
}
