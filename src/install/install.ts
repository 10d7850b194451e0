// `lvskit install [--prefix DIR] [--uninstall]`: puts the running binary, its OCF agent names and the
// systemd units in place, keeps a manifest, and removes exactly that on --uninstall.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  rmdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LvskitError } from '../errors';
import { run, which } from '../exec/run';
import { type Item, type Layout, layout, plan } from './layout';
import { type Decision, decide, decideRemoval, type Entry, foreignEntries, formatManifest, ManifestError, mergeEntries, type Observed, parseManifest } from './manifest';

export interface InstallOptions {
  prefix: string;
  uninstall: boolean;
  force: boolean;
  ldirectord: boolean;
}

export interface InstallContext {
  /** The running binary; undefined when not running as the built single executable. */
  self: string | undefined;
  env: NodeJS.ProcessEnv;
  version: string;
  units: Record<string, string>;
  out: (line: string) => void;
}

const SYSTEMD_RUNNING = '/run/systemd/system';
const STANDARD_OCF_ROOT = '/usr/lib/ocf';

function sha256Text(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function sha256File(path: string): string {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, 'r');
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

function observe(path: string): Observed {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { type: 'absent' };
    throw err;
  }
  if (st.isSymbolicLink()) return { type: 'symlink', target: readlinkSync(path) };
  if (st.isFile()) return { type: 'file', sha256: sha256File(path) };
  return { type: 'other', what: st.isDirectory() ? 'a directory' : 'not a regular file' };
}

function describeObserved(o: Observed): string {
  switch (o.type) {
    case 'absent':
      return 'nothing';
    case 'file':
      return 'a file';
    case 'symlink':
      return `a symlink to ${o.target}`;
    case 'other':
      return o.what;
  }
}

/** The Debian package a path belongs to, if dpkg knows it. */
function dpkgOwner(path: string): string | undefined {
  if (!which('dpkg-query')) return undefined;
  const r = run('dpkg-query', ['-S', path]);
  if (r.code !== 0) return undefined;
  // "package: /path", "pkg1, pkg2: /path"; diversions are listed too but own nothing.
  for (const line of r.stdout.split('\n')) {
    if (line.endsWith(`: ${path}`) && !line.startsWith('diversion ')) return line.slice(0, -(path.length + 2));
  }
  return undefined;
}

/** File-system steps fail with the path and a hint instead of a stack trace. */
function step<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof LvskitError) throw err;
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'EACCES' || e.code === 'EPERM' ? ' (run as root?)' : '';
    throw new LvskitError(`${what}: ${e.message}${hint}`);
  }
}

interface Planned {
  item: Item;
  wanted: { type: 'file'; sha256: string } | { type: 'symlink'; target: string };
  observed: Observed;
  decision: Decision;
  owner: string | undefined;
}

/** The manifest's entries, each one something install puts under this layout, or an error naming those that are not. */
function readManifest(l: Layout): Entry[] | undefined {
  let text: string;
  try {
    text = readFileSync(l.manifest, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LvskitError(`cannot read the install manifest ${l.manifest}: ${(err as Error).message}`);
  }
  let entries: Entry[];
  try {
    entries = parseManifest(text, l.manifest);
  } catch (err) {
    if (err instanceof ManifestError) throw new LvskitError(`the install manifest is damaged: ${err.message}`);
    throw err;
  }
  const foreign = foreignEntries(entries, l);
  if (foreign.length > 0) {
    throw new LvskitError(
      `the install manifest ${l.manifest} lists what lvskit install does not put there (nothing was changed):\n` +
        `${foreign.map((f) => `  ${f.line.replace(/\t/g, ' ')}: ${f.why}`).join('\n')}\n` +
        'remove those lines if the rest is lvskit\'s',
    );
  }
  return entries;
}

class Installer {
  /** What this run created or replaced, recorded even when a later step fails. */
  readonly done: Entry[] = [];

  constructor(
    private readonly l: Layout,
    private readonly ctx: InstallContext,
  ) {}

  /** mkdir -p, recording every directory it creates. */
  ensureDir(dir: string): void {
    const missing: string[] = [];
    for (let d = dir; !existsSync(d); d = dirname(d)) missing.unshift(d);
    for (const d of missing) {
      step(`cannot create ${d}`, () => mkdirSync(d, { mode: 0o755 }));
      this.done.push({ kind: 'dir', path: d });
    }
  }

  /** Moves a foreign file out of the way, into the data directory, for --uninstall to put back. */
  moveAside(path: string): string {
    this.ensureDir(this.l.replacedDir);
    let n = 1;
    while (existsSync(join(this.l.replacedDir, `${n}-${basename(path)}`))) n++;
    const backup = join(this.l.replacedDir, `${n}-${basename(path)}`);
    step(`cannot move ${path} aside to ${backup}`, () => moveFile(path, backup));
    this.done.push({ kind: 'replaced', path, backup });
    return backup;
  }

  put(p: Planned): void {
    const { item } = p;
    this.ensureDir(dirname(item.path));
    const tmp = join(dirname(item.path), `.${basename(item.path)}.lvskit-${process.pid}`);
    step(`cannot install ${item.path}`, () => {
      rmSync(tmp, { force: true });
      try {
        this.write(item, tmp);
        renameSync(tmp, item.path);
      } catch (err) {
        rmSync(tmp, { force: true });
        throw err;
      }
    });
  }

  private write(item: Item, tmp: string): void {
    switch (item.kind) {
      case 'binary':
        copyFileSync(this.ctx.self!, tmp);
        chmodSync(tmp, 0o755);
        break;
      case 'text':
        writeFileSync(tmp, item.text);
        chmodSync(tmp, item.mode);
        break;
      case 'symlink':
        symlinkSync(item.target, tmp);
        break;
    }
  }
}

/** rename(2), or copy and remove across file systems. */
function moveFile(from: string, to: string): void {
  try {
    renameSync(from, to);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
  }
  const st = lstatSync(from);
  if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
  else if (st.isFile()) {
    copyFileSync(from, to);
    chmodSync(to, st.mode & 0o7777);
  } else throw new Error(`${from} is neither a file nor a symlink`);
  rmSync(from);
}

function writeManifest(path: string, entries: Entry[], version: string): void {
  const tmp = `${path}.tmp`;
  step(`cannot write the install manifest ${path}`, () => {
    writeFileSync(tmp, formatManifest(entries, version), { mode: 0o644 });
    renameSync(tmp, path);
  });
}

function daemonReload(ctx: InstallContext): void {
  const r = run('systemctl', ['daemon-reload'], { timeoutMs: 60_000 });
  if (r.code === 0) ctx.out('ran systemctl daemon-reload');
  else ctx.out(`warning: systemctl daemon-reload failed: ${(r.error ?? r.stderr.trim()) || `exit ${r.code}`}`);
}

function install(l: Layout, options: InstallOptions, ctx: InstallContext): number {
  if (ctx.self === undefined) {
    throw new LvskitError(
      `install copies the running binary: run the built binary (npm run build, then dist/lvskit install), not the sources under ${basename(process.execPath)}`,
    );
  }
  const selfHash = sha256File(ctx.self);
  const previous = readManifest(l) ?? [];
  const recorded = (path: string) => previous.find((e) => (e.kind === 'file' || e.kind === 'symlink') && e.path === path);

  const planned: Planned[] = plan(l, ctx.units, { ldirectord: options.ldirectord }).map((item) => {
    const wanted =
      item.kind === 'symlink'
        ? ({ type: 'symlink', target: item.target } as const)
        : ({ type: 'file', sha256: item.kind === 'binary' ? selfHash : sha256Text(item.text) } as const);
    const observed = observe(item.path);
    const rec = recorded(item.path);
    // Only a path that is there and not recorded as ours can belong to someone else.
    const owner = observed.type !== 'absent' && rec === undefined ? dpkgOwner(item.path) : undefined;
    return { item, wanted, observed, owner, decision: decide(observed, wanted, rec, options.force, owner) };
  });

  const conflicts = planned.filter((p) => p.decision === 'conflict');
  if (conflicts.length > 0) {
    const lines = conflicts.map((p) => {
      const whose = p.owner ? `belongs to the Debian package ${p.owner}` : recorded(p.item.path) ? 'changed since lvskit installed it' : 'not installed by lvskit';
      return `  ${p.item.path}: ${describeObserved(p.observed)}, ${whose}`;
    });
    throw new LvskitError(
      `install: refusing to overwrite what is not lvskit's (nothing was changed):\n${lines.join('\n')}\n` +
        `run again with --force to replace it: the old one is kept in ${l.replacedDir} and put back by --uninstall`,
    );
  }

  const installer = new Installer(l, ctx);
  const current: Entry[] = [];
  let unitsChanged = false;
  try {
    for (const p of planned) {
      const { item } = p;
      if (p.decision === 'replace') {
        const backup = installer.moveAside(item.path);
        ctx.out(`moved aside ${item.path} (${describeObserved(p.observed)}${p.owner ? ` of the Debian package ${p.owner}` : ''}) to ${backup}`);
      }
      if (p.decision !== 'unchanged') installer.put(p);
      if (item.kind === 'text' && p.decision !== 'unchanged') unitsChanged = true;
      const verb = { create: 'installed', replace: 'installed', update: 'updated', unchanged: 'unchanged', conflict: '' }[p.decision];
      ctx.out(item.kind === 'symlink' ? `${verb} ${item.path} -> ${item.target}` : `${verb} ${item.path}`);
      current.push(p.wanted.type === 'symlink' ? { kind: 'symlink', path: item.path, target: p.wanted.target } : { kind: 'file', path: item.path, sha256: p.wanted.sha256 });
    }
  } finally {
    // Even after a failed step: what is in place must stay known to --uninstall.
    if (installer.done.length > 0 || current.length > 0) {
      installer.ensureDir(l.dataDir);
      writeManifest(l.manifest, mergeEntries(previous, [...installer.done, ...current]), ctx.version);
    }
  }
  ctx.out(`recorded in ${l.manifest}`);

  if (l.defaultPrefix && unitsChanged && existsSync(SYSTEMD_RUNNING)) daemonReload(ctx);
  if (!l.defaultPrefix) ctx.out(`note: systemd reads units from /lib/systemd/system and /etc/systemd/system, not ${l.unitDir}`);
  if (l.ocfRoot !== STANDARD_OCF_ROOT) ctx.out(`note: pacemaker looks for OCF agents under ${STANDARD_OCF_ROOT}/resource.d, not ${l.ocfRoot}/resource.d`);
  return 0;
}

function uninstall(l: Layout, ctx: InstallContext): number {
  const entries = readManifest(l);
  if (entries === undefined) {
    ctx.out(`nothing to uninstall: no manifest ${l.manifest} (nothing was installed with --prefix ${l.prefix})`);
    return 0;
  }
  let unitsRemoved = false;
  const kept = new Set<string>();
  for (const e of [...entries].reverse()) {
    if (e.kind !== 'file' && e.kind !== 'symlink') continue;
    const observed = observe(e.path);
    switch (decideRemoval(observed, e)) {
      case 'remove':
        step(`cannot remove ${e.path}`, () => rmSync(e.path));
        ctx.out(`removed ${e.path}`);
        if (dirname(e.path) === l.unitDir) unitsRemoved = true;
        break;
      case 'gone':
        ctx.out(`already gone ${e.path}`);
        break;
      case 'changed':
        kept.add(e.path);
        ctx.out(`kept ${e.path}: ${describeObserved(observed)}, changed since lvskit installed it`);
        break;
    }
  }
  for (const e of entries) {
    if (e.kind !== 'replaced') continue;
    const saved = observe(e.backup);
    if (saved.type === 'absent') {
      ctx.out(`warning: cannot put back ${e.path}: its saved copy ${e.backup} is gone`);
    } else if (saved.type === 'other') {
      // Install only ever moves files and links aside.
      ctx.out(`kept ${e.backup}: ${saved.what}, not what install saved`);
      kept.add(e.backup);
    } else if (kept.has(e.path) || observe(e.path).type !== 'absent') {
      ctx.out(`kept ${e.backup}: ${e.path} is occupied, put it back by hand`);
      kept.add(e.backup);
    } else {
      step(`cannot put back ${e.path}`, () => moveFile(e.backup, e.path));
      ctx.out(`restored ${e.path} (moved aside by install --force)`);
    }
  }
  step(`cannot remove ${l.manifest}`, () => rmSync(l.manifest, { force: true }));
  ctx.out(`removed ${l.manifest}`);
  // Directories install created, deepest first, only when empty.
  const dirs = entries.filter((e) => e.kind === 'dir').map((e) => e.path);
  for (const dir of dirs.sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a))) {
    const found = observe(dir);
    if (found.type === 'absent') continue;
    if (found.type !== 'other' || found.what !== 'a directory') {
      ctx.out(`kept ${dir}: ${describeObserved(found)}, not the directory install created`);
      continue;
    }
    if (readdirSync(dir).length > 0) {
      ctx.out(`kept ${dir}: not empty`);
      continue;
    }
    step(`cannot remove ${dir}`, () => rmdirSync(dir));
    ctx.out(`removed ${dir}`);
  }
  if (l.defaultPrefix && unitsRemoved && existsSync(SYSTEMD_RUNNING)) daemonReload(ctx);
  return 0;
}

export function runInstall(options: InstallOptions, ctx: InstallContext): number {
  const l = layout(options.prefix, ctx.env);
  return options.uninstall ? uninstall(l, ctx) : install(l, options, ctx);
}
