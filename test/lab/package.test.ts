// The Debian package: built with `npm run package`, inspected with dpkg-deb, then installed with apt,
// used and purged inside a private mount (and network) namespace whose /usr, /etc, /var … are
// overlays on a tmpfs: the host's dpkg database and file systems never see it, which the test checks.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { debianVersion } from '../../src/install/debian';

const root = resolve(__dirname, '..', '..');
const VERSION = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const DEB_VERSION = debianVersion(VERSION);
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', HOME: '/tmp', DEBIAN_FRONTEND: 'noninteractive' };

/** Every file and link the package ships (directories aside), with mode, owner and link target. */
const SHIPPED = [
  '-rw-r--r-- root/root /lib/systemd/system/lvsd.service',
  'lrwxrwxrwx root/root /usr/lib/ocf/resource.d/heartbeat/lvs -> ../../../../sbin/lvskit',
  'lrwxrwxrwx root/root /usr/lib/ocf/resource.d/heartbeat/lvsd -> ../../../../sbin/lvskit',
  '-rwxr-xr-x root/root /usr/sbin/lvskit',
  '-rw-r--r-- root/root /usr/share/doc/lvskit/changelog.gz',
  '-rw-r--r-- root/root /usr/share/doc/lvskit/copyright',
  '-rw-r--r-- root/root /usr/share/man/man7/ocf_heartbeat_lvs.7.gz',
  '-rw-r--r-- root/root /usr/share/man/man7/ocf_heartbeat_lvsd.7.gz',
  '-rw-r--r-- root/root /usr/share/man/man8/lvskit.8.gz',
];
const SHIPPED_PATHS = SHIPPED.map((l) => l.split(' ')[2]!);
/** What a package install could write to, if it is a real directory here (on merged-/usr systems /lib is a link). */
const MASKED = ['/usr', '/etc', '/var', '/opt', '/srv', '/lib', '/lib32', '/lib64', '/libx32', '/bin', '/sbin'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(argv: string[], options: { cwd?: string } = {}): Run {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: ENV, timeout: 240_000, maxBuffer: 64 << 20, ...options });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
}

function show(argv: string[], r: Run): string {
  return `${argv.join(' ')}: exit ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}--- stderr\n${r.stderr.slice(-4000)}`;
}

function ok(argv: string[], options: { cwd?: string } = {}): string {
  const r = run(argv, options);
  assert.equal(r.code, 0, show(argv, r));
  return r.stdout;
}

/** What the host has of lvskit: compared before and after, it must not change. */
function hostState(): string[] {
  const dpkg = run(['dpkg-query', '-W', '-f', '${Package} ${Status}\n', 'lvskit']);
  return [`dpkg: ${dpkg.code === 0 ? dpkg.stdout.trim() : 'unknown to dpkg'}`, ...SHIPPED_PATHS.map((p) => `${p}: ${existsSync(p) || isLink(p) ? 'present' : 'absent'}`)];
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** A process holding a private mount and network namespace, and commands run inside it. */
class Sandbox {
  private constructor(
    private readonly holder: ChildProcess,
    readonly pid: number,
  ) {}

  static async open(): Promise<Sandbox> {
    const holder = spawn('unshare', ['--mount', '--net', '--propagation', 'private', 'sleep', 'infinity'], { stdio: 'ignore', env: ENV });
    const pid = holder.pid;
    if (pid === undefined) throw new Error('cannot start unshare');
    const sandbox = new Sandbox(holder, pid);
    const own = readlinkSync('/proc/self/ns/mnt');
    for (let i = 0; i < 100; i++) {
      try {
        // unshare has exec'd sleep in the new namespaces once its mount namespace differs from ours.
        if (readlinkSync(`/proc/${pid}/ns/mnt`) !== own && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep') return sandbox;
      } catch {
        /* not there yet */
      }
      await sleep(20);
    }
    sandbox.close();
    throw new Error('unshare did not set up its namespaces');
  }

  run(argv: string[]): Run {
    return run(['nsenter', '-t', String(this.pid), '-m', '-n', '--', ...argv]);
  }

  ok(argv: string[]): string {
    const r = this.run(argv);
    assert.equal(r.code, 0, show(argv, r));
    return r.stdout;
  }

  fstype(path: string): string {
    return this.run(['findmnt', '-n', '-o', 'FSTYPE', '--mountpoint', path]).stdout.trim();
  }

  close(): void {
    this.holder.kill('SIGKILL');
  }
}

describe('the Debian package (npm run package)', function () {
  this.timeout(300_000);
  let dir: string;
  let deb: string;

  before(function () {
    if (process.getuid?.() !== 0) this.skip(); // namespaces and mounts need root
    dir = mkdtempSync(join(tmpdir(), 'lvskit-deb-'));
    chmodSync(dir, 0o755);
    // Uncompressed: the same files in seconds instead of a minute of xz.
    const argv = ['npm', 'run', '--silent', 'package', '--', '--compression', 'none', '--output', join(dir, 'deb')];
    const r = run(argv, { cwd: root });
    assert.equal(r.code, 0, show(argv, r));
    deb = join(dir, 'deb', `lvskit_${DEB_VERSION}_amd64.deb`);
    assert.ok(existsSync(deb), `npm run package made no ${deb}`);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('declares what the binary and the agents need, and no conflict with ldirectord', () => {
    const field = (name: string) => ok(['dpkg-deb', '--field', deb, name]).trim();
    assert.equal(field('Package'), 'lvskit');
    assert.equal(field('Version'), DEB_VERSION);
    assert.equal(field('Architecture'), 'amd64');
    const depends = field('Depends').split(/,\s*/).map((d) => d.split(' ')[0]);
    for (const p of ['iproute2', 'ipvsadm', 'libc6', 'libstdc++6']) assert.ok(depends.includes(p), `Depends lacks ${p}: ${depends.join(', ')}`);
    const recommends = field('Recommends').split(/,\s*/);
    for (const p of ['pacemaker', 'resource-agents']) assert.ok(recommends.includes(p), `Recommends lacks ${p}`);
    // The default ARP sender (and IPv6's send_ua) is resource-agents' send_arp: recommend the package that really ships it.
    const owner = run(['dpkg-query', '-S', '/usr/libexec/heartbeat/send_arp']);
    if (owner.code === 0) assert.ok(recommends.includes(owner.stdout.split(':')[0]!), `send_arp comes from ${owner.stdout.trim()}`);
    const control = ok(['dpkg-deb', '--info', deb]);
    assert.doesNotMatch(control, /^ (Conflicts|Breaks|Replaces|Provides):/m);
    assert.match(control, /^ Installed-Size: \d+$/m);
    for (const script of ['postinst', 'prerm', 'postrm']) {
      const text = extractControl(deb, script);
      assert.match(text, /^#!\/bin\/sh\n/, `${script} is a shell script`);
      assert.equal(run(['sh', '-n', '-c', text]).code, 0, `${script} parses`);
      // systemctl only when systemd runs (debhelper's test).
      for (const line of text.split('\n').filter((l) => /systemctl/.test(l) && !l.trim().startsWith('#'))) assert.match(text, /\[ -d \/run\/systemd\/system \]/, line);
    }
  });

  it('ships exactly the binary, the two agent names, the unit, three manual pages and the docs, owned by root', () => {
    const lines = ok(['dpkg-deb', '--contents', deb]).trim().split('\n');
    const entries = lines.map((l) => {
      const m = /^(\S+) (\S+)\s+\d+ \S+ \S+ \.(\/\S*)(?: -> (.+))?$/.exec(l);
      assert.ok(m, `unexpected --contents line: ${l}`);
      return { mode: m[1]!, owner: m[2]!, path: m[3]!, target: m[4] };
    });
    const files = entries.filter((e) => !e.mode.startsWith('d')).map((e) => `${e.mode} ${e.owner} ${e.path}${e.target ? ` -> ${e.target}` : ''}`);
    assert.deepEqual(files.sort(), [...SHIPPED].sort());
    for (const d of entries.filter((e) => e.mode.startsWith('d'))) assert.equal(`${d.mode} ${d.owner}`, 'drwxr-xr-x root/root', d.path);
    for (const e of entries.filter((x) => x.target)) assert.equal(resolve(dirname(e.path), e.target!), '/usr/sbin/lvskit', e.path);
    assert.ok(!entries.some((e) => e.path.endsWith('/ldirectord')), 'no ldirectord name: Debian’s ldirectord package owns it');
  });

  it('installs with apt, works from its installed paths, and purges without a trace; the host never sees it', async function () {
    const hostBefore = hostState();
    const sandbox = await Sandbox.open();
    try {
      // Writes go to a tmpfs seen only inside the sandbox.
      const scratch = join(dir, 'scratch');
      mkdirSync(scratch);
      sandbox.ok(['mount', '-t', 'tmpfs', '-o', 'mode=700', 'tmpfs', scratch]);
      const masked = MASKED.filter((d) => existsSync(d) && !isLink(d));
      for (const d of masked) {
        const name = d.slice(1);
        sandbox.ok(['mkdir', '-p', join(scratch, 'upper', name), join(scratch, 'work', name)]);
        sandbox.ok(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${d},upperdir=${join(scratch, 'upper', name)},workdir=${join(scratch, 'work', name)}`, d]);
      }
      // No systemd, no D-Bus, no dpkg lock of the host's in /run; the package reachable once /tmp is masked too.
      sandbox.ok(['mount', '-t', 'tmpfs', 'tmpfs', '/run']);
      sandbox.ok(['mkdir', '/run/deb']);
      sandbox.ok(['mount', '--bind', dirname(deb), '/run/deb']);
      sandbox.ok(['mkdir', '/run/scratch']);
      sandbox.ok(['mount', '--bind', scratch, '/run/scratch']);
      sandbox.ok(['mount', '-t', 'tmpfs', 'tmpfs', '/tmp']);
      // Nothing runs against the host's file systems unless every mask is in place.
      for (const d of masked) assert.equal(sandbox.fstype(d), 'overlay', `${d} must be an overlay in the sandbox`);
      for (const d of ['/run', '/tmp']) assert.equal(sandbox.fstype(d), 'tmpfs', `${d} must be a tmpfs in the sandbox`);

      const installed = sandbox.ok(['apt-get', 'install', '-y', '--no-install-recommends', `/run/deb/${basename(deb)}`]);
      assert.match(installed, /Setting up lvskit \(/);
      assert.match(sandbox.ok(['dpkg-query', '-W', '-f', '${Status} ${Version}', 'lvskit']), new RegExp(`^install ok installed ${DEB_VERSION.replace(/[.+~]/g, '\\$&')}$`));
      assert.deepEqual(hostState(), hostBefore, 'the host sees nothing of the install');

      assert.match(sandbox.ok(['/usr/sbin/lvskit', '--version']), new RegExp(`^lvskit ${VERSION.replace(/\./g, '\\.')} \\(node v\\d+`));
      const meta = sandbox.ok(['env', 'OCF_ROOT=/usr/lib/ocf', '/usr/lib/ocf/resource.d/heartbeat/lvs', 'meta-data']);
      assert.match(meta, /<resource-agent name="lvs"/);
      // Pacemaker's own tools find both agents where the package put them.
      assert.match(sandbox.ok(['crm_resource', '--show-metadata', 'ocf:heartbeat:lvsd']), /<resource-agent name="lvsd"/);
      const agents = sandbox.ok(['crm_resource', '--list-agents', 'ocf:heartbeat']).split('\n');
      assert.ok(agents.includes('lvs') && agents.includes('lvsd'), 'crm_resource lists lvs and lvsd');
      assert.equal(sandbox.ok(['man', '-w', 'lvskit']).trim(), '/usr/share/man/man8/lvskit.8.gz');
      const warnings = sandbox.run(['man', '--warnings', '-l', '-Tutf8', '-Z', '/usr/share/man/man8/lvskit.8.gz']);
      assert.equal(warnings.stderr, '', 'lvskit(8) renders without warnings');
      assert.match(sandbox.ok(['cat', '/lib/systemd/system/lvsd.service']), /^ExecStart=\/usr\/sbin\/lvskit checker /m);

      const written = () => sandbox.ok(['find', '/run/scratch/upper', '-name', '*lvskit*']);
      assert.match(written(), /\/usr\/sbin\/lvskit$/m, 'the install went into the sandbox');

      sandbox.ok(['dpkg', '--purge', 'lvskit']);
      assert.notEqual(sandbox.run(['dpkg-query', '-W', 'lvskit']).code, 0, 'dpkg knows lvskit no more');
      const left = sandbox.run(['ls', '-d', ...SHIPPED_PATHS, '/usr/share/doc/lvskit']);
      assert.equal(left.stdout, '', `left after purge:\n${left.stdout}`);
      // Nor anything named after it in what the sandbox wrote (dpkg's info files included).
      assert.equal(written(), '');
    } finally {
      sandbox.close();
    }
    assert.deepEqual(hostState(), hostBefore, 'the host is as before');
    assert.ok(!existsSync('/usr/sbin/lvskit') || hostBefore.includes('/usr/sbin/lvskit: present'));
  });
});

/** One maintainer script, read from the package's control archive. */
function extractControl(deb: string, name: string): string {
  const r = spawnSync('dpkg-deb', ['--info', deb, name], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
}
