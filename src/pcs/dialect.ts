// Which pcs we talk to: `pcs --version` mapped to one of the four command-line dialects
// (reference: ocf.md §4). Only the vocabulary that differs between dialects lives here.
import { run, which } from '../exec/run';
import { LvskitError, UsageError } from '../errors';

export type Dialect = '0.9' | '0.10' | '0.11' | '0.12';

export const DIALECTS: readonly Dialect[] = ['0.9', '0.10', '0.11', '0.12'];

export interface Vocabulary {
  /** Id pcs gives the promotable wrapper of resource `lvs`. */
  cloneId: string;
  /** Role names as this pcs accepts them in op and constraint definitions. */
  promoted: string;
  unpromoted: string;
  /** Words that make `pcs resource create` build the promotable wrapper. */
  promotableArgs: string[];
  /** `pcs resource defaults` sub-command words before the name=value. */
  defaultsArgs: string[];
  /** Score argument of `pcs constraint colocation add`. */
  colocationScore: string;
  /** Flags of `pcs resource create` before the resource id. */
  createFlags: string[];
  /** Words between `clone` and its meta attributes, in `resource create … clone` and `resource clone ID`. */
  cloneMetaKeyword: string[];
  /** Words between `resource clone ID` and its meta attributes (this command took `meta` earlier than create). */
  cloneCommandMetaKeyword: string[];
  /** The command that copies corosync.conf to every node. */
  syncCorosync: string[];
}

// Clone meta attributes (pcs usage.py and cli/resource/parse_args.py at each tag): `resource clone ID
// meta k=v` since 0.10.7; in `resource create … clone`, `meta` after `clone` means the clone's meta only
// with --future (0.11.6+; without it the bare form warns from 0.11.6 on). 0.12 gets the future form.
const VOCABULARY: Record<Dialect, Vocabulary> = {
  // 0.9: master/slave resources; `--master` is accepted by every 0.9 release.
  '0.9': {
    cloneId: 'lvs-master', promoted: 'Master', unpromoted: 'Slave', promotableArgs: ['--master'], defaultsArgs: [], colocationScore: 'INFINITY',
    createFlags: [], cloneMetaKeyword: [], cloneCommandMetaKeyword: [], syncCorosync: ['pcs', 'cluster', 'sync'],
  },
  // 0.10: promotable clones, still the legacy role names (Promoted arrived only in 0.10.10).
  '0.10': {
    cloneId: 'lvs-clone', promoted: 'Master', unpromoted: 'Slave', promotableArgs: ['promotable'], defaultsArgs: [], colocationScore: 'INFINITY',
    createFlags: [], cloneMetaKeyword: [], cloneCommandMetaKeyword: [], syncCorosync: ['pcs', 'cluster', 'sync', 'corosync'],
  },
  '0.11': {
    cloneId: 'lvs-clone', promoted: 'Promoted', unpromoted: 'Unpromoted', promotableArgs: ['promotable'], defaultsArgs: ['update'], colocationScore: 'INFINITY',
    createFlags: [], cloneMetaKeyword: [], cloneCommandMetaKeyword: ['meta'], syncCorosync: ['pcs', 'cluster', 'sync', 'corosync'],
  },
  // 0.12: a bare score in `colocation add` is deprecated.
  '0.12': {
    cloneId: 'lvs-clone', promoted: 'Promoted', unpromoted: 'Unpromoted', promotableArgs: ['promotable'], defaultsArgs: ['update'], colocationScore: 'score=INFINITY',
    createFlags: ['--future'], cloneMetaKeyword: ['meta'], cloneCommandMetaKeyword: ['meta'], syncCorosync: ['pcs', 'cluster', 'sync', 'corosync'],
  },
};

export function vocabulary(d: Dialect): Vocabulary {
  return VOCABULARY[d];
}

/** The dialect of a pcs version string such as `0.10.8`, `0.11.5`, `0.12.0a1`; throws when unsupported. */
export function dialectOf(version: string): Dialect {
  const m = /^\s*(\d+)\.(\d+)(?:[.\w+~-]*)\s*$/.exec(version);
  if (!m) throw new UsageError(`not a pcs version: '${version.trim()}' (expected something like 0.11.5)`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major === 0 && minor >= 9 && minor <= 12) return `0.${minor}` as Dialect;
  // A later 0.x keeps 0.12's syntax until we learn otherwise; older ones predate corosync 2.
  if (major === 0 && minor > 12) return '0.12';
  throw new UsageError(`pcs ${version.trim()} is not supported (supported: ${DIALECTS.join(', ')})`);
}

/** Major, minor, patch of a pcs version; a missing patch counts as 0 (the dialect's first release). */
function versionParts(version: string): [number, number, number] {
  const m = /^\s*(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : [0, 0, 0];
}

/** Whether a version string (`0.9.169`, `2.0.5-ba59be7122`) is at least `want`. */
export function atLeast(version: string, want: [number, number, number]): boolean {
  const have = versionParts(version);
  for (let i = 0; i < 3; i++) if (have[i] !== want[i]) return have[i]! > want[i]!;
  return true;
}

/**
 * `pcs cluster config update totem …` (0.10.8+): writes corosync.conf on every node through pcsd and
 * reloads corosync there (corosync-cfgtool -R); totem options need no stopped cluster
 * (pcs lib/corosync/config_facade.py set_totem_options, lib/env.py push_corosync_conf).
 */
export function canUpdateCorosyncOnline(version: string): boolean {
  return atLeast(version, [0, 10, 8]);
}

export interface DetectedPcs {
  version: string;
  dialect: Dialect;
}

/** Runs `pcs --version` and maps it to a dialect. */
export function detectPcs(): DetectedPcs {
  const pcs = which('pcs');
  if (!pcs) throw new LvskitError('pcs is not installed (or not on PATH); give --pcs-version X.Y to print the commands for a dry run');
  const r = run(pcs, ['--version'], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new LvskitError(`pcs --version failed: ${r.error ?? `exit ${r.code}`}: ${(r.stderr || r.stdout).trim()}`);
  const version = r.stdout.trim().split('\n')[0]?.trim() ?? '';
  try {
    return { version, dialect: dialectOf(version) };
  } catch (err) {
    // Not the user's typing: the installed pcs is the problem.
    throw new LvskitError(`pcs --version: ${(err as Error).message}`);
  }
}
