// The whole dry-run output of each pcs dialect, compared byte for byte with test/unit/pcs/golden/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN_OPTIONS, GOLDEN_VERSIONS, GOLDEN_VIPS_OPTIONS } from './golden-options';
import { bootstrapIn, GOLDEN, NO_SYSTEM } from './helpers';

describe('pcs/bootstrap: dry-run output per dialect (golden files)', () => {
  for (const [dialect, version] of Object.entries(GOLDEN_VERSIONS)) {
    it(`prints exactly golden/${dialect}.txt for pcs ${version}`, async () => {
      const r = await bootstrapIn({ ...GOLDEN_OPTIONS, pcsVersion: version }, NO_SYSTEM);
      assert.equal(r.error, undefined);
      assert.equal(r.code, 0);
      assert.equal(r.out, readFileSync(join(GOLDEN, `${dialect}.txt`), 'utf8'));
    });
  }

  for (const [dialect, version] of Object.entries(GOLDEN_VERSIONS)) {
    it(`prints exactly golden/vips-${dialect}.txt for several VIPs, --placement spread, on pcs ${version}`, async () => {
      const r = await bootstrapIn({ ...GOLDEN_VIPS_OPTIONS, pcsVersion: version }, NO_SYSTEM);
      assert.equal(r.error, undefined);
      assert.equal(r.out, readFileSync(join(GOLDEN, `vips-${dialect}.txt`), 'utf8'));
    });
  }

  it('warns loudly on stderr with --no-stonith, and not without it', async () => {
    const off = await bootstrapIn({ ...GOLDEN_OPTIONS, pcsVersion: '0.11.5' }, NO_SYSTEM);
    assert.match(off.err, /^lvskit: WARNING: --no-stonith turns fencing off \(stonith-enabled=false\)\.$/m);
    assert.match(off.err, /both directors can end up promoted/);
    assert.doesNotMatch(off.out, /WARNING/, 'the warning is not mixed into the commands');
    const on = await bootstrapIn({ ...GOLDEN_OPTIONS, stonith: true, pcsVersion: '0.11.5' }, NO_SYSTEM);
    assert.equal(on.err, '');
    assert.doesNotMatch(on.out, /stonith-enabled/, 'fencing is left as pacemaker has it');
    assert.match(on.out, /^# Fencing is left on .*\n# \(pcs stonith create \.\.\.\)\.$/m);
  });

  it('uses systemd:lvsd with --checker systemd, and the defaults when options are left out', async () => {
    const r = await bootstrapIn({ nodes: 'a,b,c', vip: '2001:db8::10', checker: 'systemd', pcsVersion: '0.10.8' }, NO_SYSTEM);
    assert.equal(r.error, undefined);
    assert.match(r.out, /^pcs resource create lvsd systemd:lvsd \\\n {4}op start interval=0s timeout=60s \\\n(.*\n){2} {4}clone interleave=true$/m);
    assert.match(r.out, /^pcs cluster setup lvs a b c totem token=1000$/m);
    assert.match(r.out, /^pcs cluster config update totem token=1000$/m);
    assert.match(r.out, /^pcs resource defaults resource-stickiness=100$/m);
    assert.match(r.out, /^pcs resource create lvs ocf:heartbeat:lvs nic=eth0 vip=2001:db8::10 \\$/m);
  });

  it('prints the token change of a running cluster as the job of the operator where pcs cannot do it (before 0.10.8)', async () => {
    const r = await bootstrapIn({ ...GOLDEN_OPTIONS, pcsVersion: '0.10.1' }, NO_SYSTEM);
    assert.doesNotMatch(r.out, /^pcs cluster config update/m);
    assert.match(r.out, /^# pcs 0\.10\.1 cannot change it on a running cluster \(pcs cluster config update: 0\.10\.8\+\);\n# --apply prints this and goes on:\n#   On one node, set "token: 1500"/m);
  });

  it('shows the auth command without any password and says where the password comes from', async () => {
    const r = await bootstrapIn({ ...GOLDEN_OPTIONS, pcsVersion: '0.9.169' }, NO_SYSTEM);
    assert.match(r.out, /^pcs cluster auth d1 d2 -u hacluster$/m);
    assert.doesNotMatch(r.out, /(^|\s)-p(\s|$)|--password/m);
    assert.match(r.out, /LVSKIT_HACLUSTER_PASSWORD, or is asked on the terminal \(no echo\)/);
  });
});
