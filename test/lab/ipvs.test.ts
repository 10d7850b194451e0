// IPVS on the lab's real kernel, driven with ipvsadm inside a director's namespaces.
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { defaultSpec, Topology } from '../../lab';
import { BOOT_TIMEOUT_MS, labKernel } from '../support/lab';

describe('lab: IPVS in a director namespace', function () {
  let topo: Topology;
  const vip = '198.51.100.100';
  before(async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    topo = await Topology.create(await labKernel(), defaultSpec(2, 2));
  });
  after(async function () {
    this.timeout(60_000);
    await topo?.destroy();
  });

  it('creates an lc service with DR reals and reads it back', async () => {
    await topo.run('d1', ['ipvsadm', '-A', '-t', `${vip}:80`, '-s', 'lc']);
    await topo.run('d1', ['ipvsadm', '-a', '-t', `${vip}:80`, '-r', '198.51.100.21:80', '-g', '-w', '1']);
    await topo.run('d1', ['ipvsadm', '-a', '-t', `${vip}:80`, '-r', '198.51.100.22:80', '-g', '-w', '0']);
    const saved = await topo.run('d1', ['ipvsadm', '-S', '-n']);
    assert.deepEqual(saved.trim().split('\n'), [
      `-A -t ${vip}:80 -s lc`,
      `-a -t ${vip}:80 -r 198.51.100.21:80 -g -w 1`,
      `-a -t ${vip}:80 -r 198.51.100.22:80 -g -w 0`,
    ]);
    const listed = await topo.run('d1', ['ipvsadm', '-L', '-n']);
    assert.match(listed, new RegExp(`TCP  ${vip}:80 lc`));
    assert.match(listed, /-> 198\.51\.100\.21:80\s+Route\s+1\s/);
  });

  it('keeps each director’s IPVS table to itself', async () => {
    const other = await topo.run('d2', ['ipvsadm', '-S', '-n']);
    assert.equal(other, '');
  });

  it('runs dist/lvskit inside a director, through its private OCF directory', async () => {
    const agent = '/usr/lib/ocf/resource.d/heartbeat/lvs';
    // The lab points the agent at a 0755 copy of dist/lvskit (user nobody must reach it).
    const link = (await topo.run('d1', ['readlink', agent])).trim();
    const same = await topo.exec('d1', ['cmp', link, resolve(__dirname, '..', '..', 'dist', 'lvskit')]);
    assert.equal(same.code, 0, `${link} is not dist/lvskit: ${same.stdout}`);
    assert.equal((await topo.run('d1', ['stat', '-c', '%a', link])).trim(), '755');
    const meta = await topo.exec('d1', [agent, 'meta-data']);
    assert.equal(meta.code, 0, meta.stderr);
    assert.match(meta.stdout, /<resource-agent name="lvs"/);
    const noAction = await topo.exec('d1', [agent, 'bounce']);
    assert.equal(noAction.code, 3);
    const version = await topo.run('d1', [join(resolve(__dirname, '..', '..'), 'dist', 'lvskit'), '--version']);
    assert.match(version, /^lvskit /);
  });

  it('gives each director its own hostname and cluster directories', async () => {
    assert.equal((await topo.run('d1', ['hostname'])).trim(), 'd1');
    await topo.run('d1', ['sh', '-c', 'echo d1-only > /etc/corosync/lab-marker']);
    const seen = await topo.exec('d2', ['cat', '/etc/corosync/lab-marker']);
    assert.notEqual(seen.code, 0, 'd2 must not see d1’s /etc/corosync');
    const owner = await topo.run('d2', ['stat', '-c', '%U:%G', '/var/lib/pacemaker/cib', '/run/crm']);
    assert.deepEqual(owner.trim().split('\n'), ['hacluster:haclient', 'hacluster:haclient']);
  });
});
