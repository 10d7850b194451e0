// The install manifest: what `lvskit install` put in place, so that --uninstall removes exactly that
// and a later install knows which files are its own. Pure: text in, decisions out.
import { basename, dirname, join, posix } from 'node:path';
import { AGENT_NAMES, type Layout, UNIT_NAMES } from './layout';

export type Entry =
  | { kind: 'file'; path: string; sha256: string }
  | { kind: 'symlink'; path: string; target: string }
  /** A directory install created (removed at uninstall when empty). */
  | { kind: 'dir'; path: string }
  /** A foreign file that install --force moved aside; uninstall puts it back. */
  | { kind: 'replaced'; path: string; backup: string };

const HEADER = '# lvskit install manifest: what `lvskit install` put in place; `lvskit install --uninstall` removes it.';

/** One manifest line (without its newline). */
export function formatEntry(e: Entry): string {
  switch (e.kind) {
    case 'file':
      return `file\t${e.path}\tsha256:${e.sha256}`;
    case 'symlink':
      return `symlink\t${e.path}\t${e.target}`;
    case 'dir':
      return `dir\t${e.path}`;
    case 'replaced':
      return `replaced\t${e.path}\t${e.backup}`;
  }
}

export function formatManifest(entries: Entry[], version: string): string {
  return `${[HEADER, `version\t${version}`, ...entries.map(formatEntry)].join('\n')}\n`;
}

export class ManifestError extends Error {}

export function parseManifest(text: string, source: string): Entry[] {
  const entries: Entry[] = [];
  text.split('\n').forEach((line, i) => {
    if (line === '' || line.startsWith('#')) return;
    const bad = (why: string) => new ManifestError(`${source} line ${i + 1}: ${why}: '${line}'`);
    const [kind, path = '', third, ...rest] = line.split('\t');
    if (kind === 'version') return;
    if (!path.startsWith('/')) throw bad('expected an absolute path');
    if (rest.length > 0) throw bad('too many fields');
    switch (kind) {
      case 'file': {
        const m = /^sha256:([0-9a-f]{64})$/.exec(third ?? '');
        if (!m) throw bad('expected sha256:<hex>');
        entries.push({ kind, path, sha256: m[1]! });
        break;
      }
      case 'symlink':
        if (!third) throw bad('expected a link target');
        entries.push({ kind, path, target: third });
        break;
      case 'dir':
        if (third !== undefined) throw bad('too many fields');
        entries.push({ kind, path });
        break;
      case 'replaced':
        if (!third?.startsWith('/')) throw bad('expected the absolute path of the saved file');
        entries.push({ kind, path, backup: third });
        break;
      default:
        throw bad(`unknown kind '${kind}'`);
    }
  });
  return entries;
}

function key(e: Entry): string {
  return `${e.kind}\t${e.path}`;
}

/**
 * The manifest after an install: everything recorded before stays (an install with fewer options
 * does not remove anything), what this install put replaces the older record of the same path.
 */
export function mergeEntries(previous: Entry[], current: Entry[]): Entry[] {
  const byPath = new Map<string, Entry>();
  for (const e of previous) byPath.set(key(e), e);
  for (const e of current) {
    // A path is either a file or a symlink of ours, never both.
    if (e.kind === 'file' || e.kind === 'symlink') {
      byPath.delete(`file\t${e.path}`);
      byPath.delete(`symlink\t${e.path}`);
    }
    byPath.set(key(e), e);
  }
  return [...byPath.values()];
}

/** What is on disk at a path, as far as the decisions below need to know. */
export type Observed =
  | { type: 'absent' }
  | { type: 'file'; sha256: string }
  | { type: 'symlink'; target: string }
  | { type: 'other'; what: string };

/** What an install item should be once in place. */
export type Wanted = { type: 'file'; sha256: string } | { type: 'symlink'; target: string };

export type Decision =
  /** Nothing there: create it. */
  | 'create'
  /** Already exactly what install would put: nothing to do (recorded as ours). */
  | 'unchanged'
  /** Ours, unchanged since we put it, but not what this install puts (an upgrade): replace. */
  | 'update'
  /** Not ours (or changed since we put it): refuse unless --force. */
  | 'conflict'
  /** Not ours, --force given: move it aside, then create. */
  | 'replace';

function shape(x: Wanted | Entry): Wanted | undefined {
  if ('type' in x) return x;
  if (x.kind === 'file') return { type: 'file', sha256: x.sha256 };
  if (x.kind === 'symlink') return { type: 'symlink', target: x.target };
  return undefined;
}

function sameAs(o: Observed, w: Wanted | Entry): boolean {
  const s = shape(w);
  if (o.type === 'file' && s?.type === 'file') return o.sha256 === s.sha256;
  if (o.type === 'symlink' && s?.type === 'symlink') return o.target === s.target;
  return false;
}

/**
 * Install's decision for one path. `recorded` is the manifest's entry for it, if any; `foreignOwner`
 * names the Debian package the path belongs to (then an identical copy is still not ours to adopt).
 */
export function decide(observed: Observed, wanted: Wanted, recorded: Entry | undefined, force: boolean, foreignOwner?: string): Decision {
  if (observed.type === 'absent') return 'create';
  const ours = recorded !== undefined && sameAs(observed, recorded);
  if (sameAs(observed, wanted) && (ours || foreignOwner === undefined)) return 'unchanged';
  if (ours) return 'update';
  return force ? 'replace' : 'conflict';
}

export type Removal = 'remove' | 'gone' | 'changed';

/** Uninstall's decision for one recorded file or symlink: only what is still as install left it goes. */
export function decideRemoval(observed: Observed, recorded: Entry): Removal {
  if (observed.type === 'absent') return 'gone';
  return sameAs(observed, recorded) ? 'remove' : 'changed';
}

// ---- what a manifest may list -----------------------------------------------------------------
// The manifest is a file on disk: whoever can write it could make --uninstall delete, or "put back",
// anything. So every entry must be something install itself puts under this layout.

const AGENT_DIR_TAIL = '/resource.d/heartbeat';

/** A place install puts a link to its binary: PREFIX/sbin/ldirectord, or an agent name under an OCF root (OCF_ROOT may differ between install and uninstall). */
function linkPlace(path: string, l: Layout): boolean {
  if (path === join(dirname(l.binary), 'ldirectord')) return true;
  return (AGENT_NAMES as readonly string[]).includes(basename(path)) && dirname(path).endsWith(AGENT_DIR_TAIL) && dirname(path) !== AGENT_DIR_TAIL;
}

function filePlace(path: string, l: Layout): boolean {
  return path === l.binary || (dirname(path) === l.unitDir && UNIT_NAMES.includes(basename(path)));
}

/** Every directory above `path`, deepest first, '/' excluded. */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let d = dirname(path); d !== '/'; d = dirname(d)) out.push(d);
  return out;
}

/** Why an entry is not something `lvskit install` puts under this layout; undefined when it is. */
function whyForeign(e: Entry, l: Layout, dirsAllowed: Set<string>): string | undefined {
  if (posix.normalize(e.path) !== e.path || e.path.endsWith('/')) return 'not a plain absolute path';
  switch (e.kind) {
    case 'file':
      return filePlace(e.path, l) ? undefined : `install puts no file there (only ${l.binary} and its units in ${l.unitDir})`;
    case 'symlink':
      if (!linkPlace(e.path, l)) return 'install puts no link there';
      return e.target === l.binary ? undefined : `the links install makes point at ${l.binary}`;
    case 'replaced': {
      if (!filePlace(e.path, l) && !linkPlace(e.path, l)) return 'install replaces nothing there';
      const saved = /^\d+-(.+)$/.exec(basename(e.backup));
      const ok = dirname(e.backup) === l.replacedDir && saved?.[1] === basename(e.path);
      return ok ? undefined : `install keeps what it replaced as ${l.replacedDir}/N-${basename(e.path)}`;
    }
    case 'dir':
      return dirsAllowed.has(e.path) ? undefined : 'install creates no directory there';
  }
}

/**
 * The manifest's entries that `lvskit install` could not have written under this layout, each with
 * its line and the reason. Directories may be any above a place install puts something (it creates
 * missing parents), never '/'.
 */
export function foreignEntries(entries: Entry[], l: Layout): Array<{ line: string; why: string }> {
  const places = [l.binary, join(l.unitDir, 'x'), join(l.agentDir, 'x'), join(l.replacedDir, 'x')];
  for (const e of entries) if ((e.kind === 'symlink' || e.kind === 'replaced') && linkPlace(e.path, l)) places.push(e.path);
  const dirsAllowed = new Set(places.flatMap(ancestors));
  const out: Array<{ line: string; why: string }> = [];
  for (const e of entries) {
    const why = whyForeign(e, l, dirsAllowed);
    if (why !== undefined) out.push({ line: formatEntry(e), why });
  }
  return out;
}
