// The lab LAN: a client reaching real servers across the bridge, and direct routing through a VIP.
import assert from 'node:assert/strict';
import { defaultSpec, Topology, type Kernel } from '../../lab';
import { HostKernel } from '../../lab/host';
import { BOOT_TIMEOUT_MS, labKernel } from '../support/lab';

function curl(topo: Topology, url: string) {
  return topo.run('client', ['curl', '-sS', '--max-time', '5', url]).then((s) => s.trim());
}

describe('lab: HTTP across the LAN bridge', function () {
  let topo: Topology;
  before(async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    topo = await Topology.create(await labKernel(), defaultSpec(1, 2));
  });
  after(async function () {
    this.timeout(60_000);
    await topo?.destroy();
  });

  it('client gets an answer from each real server, with its name', async () => {
    assert.equal(await curl(topo, 'http://198.51.100.21/'), 'r1');
    assert.equal(await curl(topo, 'http://198.51.100.22/'), 'r2');
  });

  it('real servers hold the VIP on lo and do not answer ARP for it', async () => {
    const lo = await topo.run('r1', ['ip', '-br', 'addr', 'show', 'dev', 'lo']);
    assert.match(lo, /198\.51\.100\.100\/32/);
    const probe = await topo.exec('client', ['arping', '-c', '2', '-w', '3', '-I', 'eth0', '198.51.100.100']);
    assert.notEqual(probe.code, 0, `nobody may answer ARP for the VIP yet:\n${probe.stdout}`);
  });

  it('direct routing through the VIP reaches every real server from the client', async () => {
    const vip = topo.spec.vip;
    await topo.run('d1', ['ip', 'addr', 'add', `${vip}/24`, 'dev', 'eth0']);
    await topo.run('d1', ['ipvsadm', '-A', '-t', `${vip}:80`, '-s', 'rr']);
    for (const r of topo.all('real')) await topo.run('d1', ['ipvsadm', '-a', '-t', `${vip}:80`, '-r', `${r.ip}:80`, '-g']);
    const answers = new Set<string>();
    for (let i = 0; i < 4; i++) answers.add(await curl(topo, `http://${vip}/`));
    assert.deepEqual([...answers].sort(), ['r1', 'r2']);
    const neigh = await topo.run('client', ['ip', 'neigh', 'show', vip]);
    assert.match(neigh, new RegExp(`lladdr ${topo.node('d1').mac}`), 'the VIP resolves to the director');
  });
});

describe('lab: the host-kernel backend (namespaces without IPVS)', function () {
  let kernel: Kernel;
  let topo: Topology | undefined;
  before(async function () {
    this.timeout(60_000);
    kernel = new HostKernel();
    const spec = defaultSpec(0, 1);
    topo = await Topology.create(kernel, spec);
  });
  after(async function () {
    this.timeout(60_000);
    await topo?.destroy();
    await kernel?.close();
  });

  it('builds the same LAN on the host kernel: client reaches a real server', async () => {
    assert.equal(await curl(topo!, 'http://198.51.100.21/'), 'r1');
  });
});
