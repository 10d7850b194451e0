// Black-box tests of the built dist/lvskit, run the way users and pacemaker run it.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const built = resolve(__dirname, '..', '..', 'dist', 'lvskit');
const SCHEMAS = '/usr/share/resource-agents';

describe('dist/lvskit, the single binary', function () {
  this.timeout(30_000);
  let dir: string;
  // An environment with no node anywhere: only the copied binary's directory is on PATH.
  const bare = () => ({ PATH: dir });

  function run(name: string, args: string[], options: SpawnSyncOptions = {}) {
    const r = spawnSync(join(dir, name), args, { env: bare(), encoding: 'utf8', timeout: 20_000, ...options });
    return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvskit-bin-'));
    chmodSync(dir, 0o755); // user nobody must reach the binary
    copyFileSync(built, join(dir, 'lvskit'));
    for (const name of ['lvs', 'lvsd', 'ldirectord']) symlinkSync('lvskit', join(dir, name));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs --version from a copy, with no node on PATH', () => {
    assert.notEqual(spawnSync('sh', ['-c', 'command -v node'], { env: bare() }).status, 0, 'node must not be on PATH');
    const r = run('lvskit', ['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^lvskit \d+\.\d+\.\d+ \(node v24\.\d+\.\d+\)\n$/);
    assert.equal(r.stderr, '', 'no experimental SEA warning');
  });

  it('is the OCF agent when called lvs: no action is 2, an unknown one is 3 with a reason', () => {
    let r = run('lvs', []);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^usage: lvs \{/);
    r = run('lvs', ['bounce']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^ocf-exit-reason:action 'bounce' is not supported by lvs$/m);
    r = run('lvs', ['start'], { env: { ...bare(), OCF_RESOURCE_INSTANCE: 'lvs' } });
    assert.equal(r.code, 6);
    assert.match(r.stderr, /^ocf-exit-reason:required parameter 'vip' is not set$/m);
  });

  for (const agent of ['lvs', 'lvsd']) {
    it(`prints ${agent} meta-data valid against ra-api-1.dtd and metadata.rng, as user nobody`, () => {
      const r = run(agent, ['meta-data'], { uid: 65534, gid: 65534 });
      assert.equal(r.code, 0, r.stderr);
      const dtd = spawnSync('xmllint', ['--noout', '--valid', '--path', SCHEMAS, '-'], { input: r.stdout, encoding: 'utf8' });
      assert.equal(dtd.status, 0, dtd.stderr);
      const rng = spawnSync('xmllint', ['--noout', '--relaxng', join(SCHEMAS, 'metadata.rng'), '-'], { input: r.stdout, encoding: 'utf8' });
      assert.equal(rng.status, 0, rng.stderr);
      assert.equal(run('lvskit', ['agent', agent, 'meta-data']).stdout, r.stdout);
    });
  }

  it('is ldirectord when called so, with its usage errors', () => {
    const r = run('ldirectord', ['bounce']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'bounce'\nusage: ldirectord/);
    assert.equal(run('ldirectord', ['--help']).code, 0);
  });

  it('answers under the names in agents/', () => {
    const r = spawnSync(resolve(__dirname, '..', '..', 'agents', 'lvs'), ['meta-data'], { env: bare(), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /<resource-agent name="lvs"/);
  });

  it('answers lvskit usage errors with 2 and --help with 0', () => {
    assert.equal(run('lvskit', []).code, 2);
    const r = run('lvskit', ['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
    assert.equal(run('lvskit', ['bootstrap', '--apply', '--dry-run']).code, 2);
    const help = run('lvskit', ['--help']);
    assert.equal(help.code, 0);
    for (const sub of ['agent', 'checker', 'bootstrap', 'install', 'realserver', 'status']) assert.match(help.stdout, new RegExp(`^  ${sub}\\b`, 'm'));
  });
});
