// The built binary's answers to hostile or careless configuration, with nothing started: the
// checker's --test-config, the OCF agent's validate-all, the ldirectord command line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const built = resolve(__dirname, '..', '..', 'dist', 'lvskit');

describe('dist/lvskit: configuration under hostile input', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvsd-config-'));
    for (const name of ['lvsd', 'ldirectord']) symlinkSync(built, join(dir, name));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  function run(name: string, args: string[], env: Record<string, string> = {}) {
    const r = spawnSync(name === 'lvskit' ? built : join(dir, name), args, {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HA_RSCTMP: dir, OCF_RESOURCE_INSTANCE: 'lvsd-dist', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  }

  const GOOD = 'virtual=198.51.100.100:80\n    real=198.51.100.11:80 gate\n';

  it('--metrics :PORT is refused before anything starts, as the metrics directive refuses it', () => {
    const cfg = file('good.cf', GOOD);
    const r = run('lvskit', ['checker', '--config', cfg, '--metrics', ':19102']);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /^lvsd: --metrics: no address before ':19102': write the address to listen on/m);
    const d = run('lvskit', ['checker', '-t', '--config', file('metrics.cf', `metrics=:19102\n${GOOD}`)]);
    assert.equal(d.code, 1, d.out);
    assert.match(d.out, /metrics\.cf:1: metrics: no address before ':19102'/);
    const a = run('lvsd', ['validate-all'], { OCF_RESKEY_configfile: cfg, OCF_RESKEY_metrics: ':19102' });
    assert.equal(a.code, 6, a.out);
    assert.match(a.out, /^ocf-exit-reason:metrics: no address before ':19102'/m);
  });

  it('never shows a password: not in --test-config, not in the OCF exit reason', () => {
    const cfg = file('secret.cf', 'virtual=198.51.100.100:3306\n    real=198.51.100.11:3306 gate\n    service=mysql\n    login="check"\n    request="SELECT 1"\n    passwd=TopS3cret\n');
    const t = run('lvskit', ['checker', '-t', '--config', cfg]);
    assert.equal(t.code, 1);
    assert.match(t.out, /secret\.cf:6: passwd: the value must be in double quotes \(not shown: the value is a secret\)/);
    const v = run('lvsd', ['validate-all'], { OCF_RESKEY_configfile: cfg });
    assert.equal(v.code, 6);
    assert.doesNotMatch(t.out + v.out, /TopS3cret/);
  });

  it('a configfile missing on this node: lvsd 5 (not 6), ldirectord "Config file … not found" and 1, as ldirectord', () => {
    const missing = join(dir, 'missing.cf');
    const v = run('lvsd', ['validate-all'], { OCF_RESKEY_configfile: missing });
    assert.equal(v.code, 5, v.out);
    assert.match(v.out, /^ocf-exit-reason:.*missing\.cf: cannot read the configuration/m);
    const l = run('ldirectord', [missing, 'status']);
    assert.equal(l.code, 1, l.out);
    assert.equal(l.out, `Config file ${missing} not found\n`);
  });

  it('an IPv6 zone and a million reals from a few ranges: file:line errors, every problem reported, at once', () => {
    const ranges = Array.from({ length: 16 }, (_, i) => `virtual=198.51.100.${100 + i}:80\n    checktype=on\n    real=198.18.0.0->198.18.255.255:80 gate\n`).join('');
    const cfg = file('hostile.cf', `virtual6=[fe80::1%eth0]:80\n    real6=[2001:db8::11]:80 gate\n${ranges}`);
    const started = Date.now();
    const r = run('lvskit', ['checker', '-t', '--config', cfg]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /hostile\.cf:1: virtual6: IPv6 address 'fe80::1%eth0' has a zone index \(%eth0\): IPVS addresses have none/);
    assert.match(r.out, /hostile\.cf:8: real: this line brings the file to 131073 real servers, above lvsd's bound of 100000/);
    assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
  });
});
