// `lvskit install` run from the built binary into a temporary prefix on the host: the tree it leaves,
// the agents working through their installed names, idempotency, foreign files, --uninstall.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');
const built = join(root, 'dist', 'lvskit');
const HEARTBEAT = 'lib/ocf/resource.d/heartbeat';
const SHELL_AGENT = '#!/bin/sh\n# the shell agent lvskit replaces\nexit 0\n';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(file, args, { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function show(r: Run): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every entry under dir: "d 755 sbin", "f 755 sbin/lvskit", "l lib/…/lvs -> target". */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.push(`l ${rel} -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.push(`d ${mode} ${rel}`);
        walk(p);
      } else out.push(`f ${mode} ${rel}`);
    }
  };
  walk(dir);
  return out;
}

describe('lvskit install (built binary, temporary prefix)', function () {
  this.timeout(60_000);
  let dir: string;
  let prefix: string;
  const lvskit = (args: string[], env: Record<string, string> = {}) => run(built, args, env);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvskit-install-'));
    prefix = join(dir, 'pfx');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const installedTree = (p: string) => [
    `d 755 lib`,
    `d 755 lib/ocf`,
    `d 755 lib/ocf/resource.d`,
    `d 755 ${HEARTBEAT}`,
    `l ${HEARTBEAT}/lvs -> ${p}/sbin/lvskit`,
    `l ${HEARTBEAT}/lvsd -> ${p}/sbin/lvskit`,
    'd 755 lib/systemd',
    'd 755 lib/systemd/system',
    'f 644 lib/systemd/system/lvsd.service',
    'd 755 sbin',
    'f 755 sbin/lvskit',
    'd 755 share',
    'd 755 share/lvskit',
    'f 644 share/lvskit/installed.txt',
  ];

  it('puts the binary, the agent names and the unit under the prefix, and the agents answer there', () => {
    const r = lvskit(['install', '--prefix', prefix]);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(tree(prefix), installedTree(prefix));
    assert.equal(sha256(join(prefix, 'sbin', 'lvskit')), sha256(built), 'the installed binary is the one that ran');
    assert.match(r.stdout, new RegExp(`^installed ${prefix}/sbin/lvskit$`, 'm'));
    assert.match(r.stdout, new RegExp(`^installed ${prefix}/${HEARTBEAT}/lvs -> ${prefix}/sbin/lvskit$`, 'm'));
    assert.doesNotMatch(r.stdout, /daemon-reload/, 'systemd is only told about units under the default prefix');

    for (const agent of ['lvs', 'lvsd']) {
      const m = run(join(prefix, HEARTBEAT, agent), ['meta-data']);
      assert.equal(m.code, 0, show(m));
      assert.match(m.stdout, new RegExp(`<resource-agent name="${agent}"`));
    }
    const v = run(join(prefix, 'sbin', 'lvskit'), ['--version']);
    assert.equal(v.stdout, run(built, ['--version']).stdout);

    const unit = readFileSync(join(prefix, 'lib/systemd/system/lvsd.service'), 'utf8');
    assert.match(unit, new RegExp(`^ExecStart=${prefix}/sbin/lvskit checker `, 'm'));
    assert.doesNotMatch(unit, /\/usr\/sbin\/lvskit/);
  });

  it('is idempotent: a second install rewrites nothing and says so', () => {
    assert.equal(lvskit(['install', '--prefix', prefix]).code, 0);
    const inode = lstatSync(join(prefix, 'sbin', 'lvskit')).ino;
    const manifest = readFileSync(join(prefix, 'share/lvskit/installed.txt'), 'utf8');
    const r = lvskit(['install', '--prefix', prefix]);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(tree(prefix), installedTree(prefix));
    assert.equal(lstatSync(join(prefix, 'sbin', 'lvskit')).ino, inode, 'the binary was not copied again');
    assert.equal(readFileSync(join(prefix, 'share/lvskit/installed.txt'), 'utf8'), manifest);
    for (const line of r.stdout.split('\n').filter((l) => /^(installed|updated|unchanged) /.test(l))) assert.match(line, /^unchanged /);
  });

  it('refuses to overwrite a foreign agent, naming it, and changes nothing at all', () => {
    const foreign = join(prefix, HEARTBEAT, 'lvs');
    mkdirSync(join(prefix, HEARTBEAT), { recursive: true });
    writeFileSync(foreign, SHELL_AGENT);
    chmodSync(foreign, 0o755);
    const before = tree(prefix);
    const r = lvskit(['install', '--prefix', prefix]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, new RegExp(`${foreign}: a file, not installed by lvskit`));
    assert.match(r.stderr, /--force/);
    assert.deepEqual(tree(prefix), before);
    assert.equal(readFileSync(foreign, 'utf8'), SHELL_AGENT);
  });

  it('--force moves the foreign agent aside, --uninstall puts it back and removes everything else', () => {
    const foreign = join(prefix, HEARTBEAT, 'lvs');
    mkdirSync(join(prefix, HEARTBEAT), { recursive: true });
    writeFileSync(foreign, SHELL_AGENT);
    chmodSync(foreign, 0o755);
    const before = tree(prefix);

    let r = lvskit(['install', '--prefix', prefix, '--force']);
    assert.equal(r.code, 0, show(r));
    assert.equal(readlinkSync(foreign), join(prefix, 'sbin', 'lvskit'));
    assert.match(r.stdout, new RegExp(`^moved aside ${foreign} \\(a file\\) to ${prefix}/share/lvskit/replaced/1-lvs$`, 'm'));
    assert.equal(readFileSync(join(prefix, 'share/lvskit/replaced/1-lvs'), 'utf8'), SHELL_AGENT);

    r = lvskit(['install', '--prefix', prefix, '--uninstall']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`^restored ${foreign} `, 'm'));
    assert.deepEqual(tree(prefix), before, 'exactly the tree from before the install');
    assert.equal(readFileSync(foreign, 'utf8'), SHELL_AGENT);
    assert.equal(lstatSync(foreign).mode & 0o777, 0o755);
  });

  it('--uninstall removes exactly what install put: an edited unit and files of others stay', () => {
    assert.equal(lvskit(['install', '--prefix', prefix]).code, 0);
    const other = join(prefix, HEARTBEAT, 'IPaddr2');
    writeFileSync(other, SHELL_AGENT);
    const unit = join(prefix, 'lib/systemd/system/lvsd.service');
    writeFileSync(unit, `${readFileSync(unit, 'utf8')}# edited by the admin\n`);

    let r = lvskit(['install', '--prefix', prefix, '--uninstall']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`^kept ${unit}: a file, changed since lvskit installed it$`, 'm'));
    assert.deepEqual(tree(prefix), [
      'd 755 lib',
      'd 755 lib/ocf',
      'd 755 lib/ocf/resource.d',
      `d 755 ${HEARTBEAT}`,
      `f 644 ${HEARTBEAT}/IPaddr2`,
      'd 755 lib/systemd',
      'd 755 lib/systemd/system',
      'f 644 lib/systemd/system/lvsd.service',
    ]);

    r = lvskit(['install', '--prefix', prefix, '--uninstall']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^nothing to uninstall: no manifest /);
  });

  it('--uninstall refuses a forged manifest: nothing outside what install puts is touched, nothing at all is changed', () => {
    assert.equal(lvskit(['install', '--prefix', prefix]).code, 0);
    const manifestPath = join(prefix, 'share/lvskit/installed.txt');
    const genuine = readFileSync(manifestPath, 'utf8');
    // Files of someone else, outside the prefix and inside it, recorded with their true hashes.
    const victim = join(dir, 'victim.conf');
    writeFileSync(victim, 'precious\n');
    const inside = join(prefix, 'sbin', 'other-tool');
    writeFileSync(inside, 'not lvskit\n');
    const sneaky = `${prefix}/sbin/../../victim.conf`;
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    const saved = join(dir, 'saved');
    writeFileSync(saved, 'planted\n');
    const before = [...tree(dir), readFileSync(victim, 'utf8')];
    for (const forged of [
      `file\t${victim}\tsha256:${sha256(victim)}`,
      `file\t${inside}\tsha256:${sha256(inside)}`,
      `file\t${sneaky}\tsha256:${sha256(victim)}`,
      // A link named like an agent, but not pointing at the installed binary.
      `symlink\t${join(prefix, HEARTBEAT, 'lvs')}\t/etc/passwd`,
      // "Put back" a planted file over the installed binary.
      `replaced\t${join(prefix, 'sbin', 'lvskit')}\t${saved}`,
      `dir\t${elsewhere}`,
    ]) {
      writeFileSync(manifestPath, `${genuine}${forged}\n`);
      const r = lvskit(['install', '--prefix', prefix, '--uninstall']);
      assert.equal(r.code, 1, `${forged}\n${show(r)}`);
      assert.match(r.stderr, /lists what lvskit install does not put there \(nothing was changed\)/, forged);
      assert.ok(r.stderr.includes(forged.split('\t')[1]!), `the entry is named: ${forged}\n${show(r)}`);
      assert.deepEqual([...tree(dir), readFileSync(victim, 'utf8')], before, forged);
      // Install trusts the manifest too (what it lists counts as lvskit's): same refusal.
      const i = lvskit(['install', '--prefix', prefix]);
      assert.equal(i.code, 1, show(i));
      assert.deepEqual([...tree(dir), readFileSync(victim, 'utf8')], before, forged);
    }
    // The genuine manifest still uninstalls, and what was never lvskit's stays.
    writeFileSync(manifestPath, genuine);
    const r = lvskit(['install', '--prefix', prefix, '--uninstall']);
    assert.equal(r.code, 0, show(r));
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    assert.equal(readFileSync(inside, 'utf8'), 'not lvskit\n');
    assert.deepEqual(tree(prefix), ['d 755 sbin', 'f 644 sbin/other-tool']);
  });

  it('--uninstall removes only what is still as install made it: a link it made that now points elsewhere, or a directory in place of a file, stays', () => {
    assert.equal(lvskit(['install', '--prefix', prefix]).code, 0);
    const agent = join(prefix, HEARTBEAT, 'lvsd');
    rmSync(agent);
    symlinkSync('/usr/lib/ocf/resource.d/heartbeat/IPaddr2', agent);
    const unit = join(prefix, 'lib/systemd/system/lvsd.service');
    rmSync(unit);
    mkdirSync(unit);
    writeFileSync(join(unit, 'override.conf'), '[Service]\n');
    const r = lvskit(['install', '--prefix', prefix, '--uninstall']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`^kept ${agent}: a symlink to /usr/lib/ocf/resource.d/heartbeat/IPaddr2, changed since lvskit installed it$`, 'm'));
    assert.match(r.stdout, new RegExp(`^kept ${unit}: a directory, changed since lvskit installed it$`, 'm'));
    assert.equal(readlinkSync(agent), '/usr/lib/ocf/resource.d/heartbeat/IPaddr2');
    assert.equal(readFileSync(join(unit, 'override.conf'), 'utf8'), '[Service]\n');
  });

  it('puts the agents under OCF_ROOT when set, and the ldirectord name only when asked', () => {
    const ocfRoot = join(dir, 'ocf');
    let r = lvskit(['install', '--prefix', prefix], { OCF_ROOT: ocfRoot });
    assert.equal(r.code, 0, show(r));
    assert.equal(readlinkSync(join(ocfRoot, 'resource.d/heartbeat/lvs')), join(prefix, 'sbin', 'lvskit'));
    assert.ok(!tree(prefix).some((l) => l.includes('ocf')), 'no OCF directory under the prefix');
    assert.ok(!tree(prefix).some((l) => l.includes('ldirectord')));

    r = lvskit(['install', '--prefix', prefix, '--ldirectord-name'], { OCF_ROOT: ocfRoot });
    assert.equal(r.code, 0, show(r));
    assert.equal(readlinkSync(join(prefix, 'sbin', 'ldirectord')), join(prefix, 'sbin', 'lvskit'));
    const usage = run(join(prefix, 'sbin', 'ldirectord'), ['--help']);
    assert.match(usage.stdout + usage.stderr, /^usage: ldirectord /m);

    // The manifest has the exact paths: uninstall needs no OCF_ROOT.
    r = lvskit(['install', '--prefix', prefix, '--uninstall']);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(readdirSync(dir), [], 'prefix and OCF_ROOT were created by install, and removed by uninstall');
  });

  it('refuses to run from the sources (there is no binary to copy)', () => {
    const r = run(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'src', 'cli.ts'), 'install', '--prefix', prefix], { HOME: dir });
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /run the built binary/);
    assert.deepEqual(readdirSync(dir), []);
  });
});
