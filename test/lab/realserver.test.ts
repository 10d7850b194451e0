// `lvskit realserver up|down|status` on a lab real server: sysctls and addresses read back from the
// node itself, the order that keeps ARP hidden, exact restore, idempotency, bad input, and direct
// routing from a client through a director to the configured real server.
import assert from 'node:assert/strict';
import { defaultSpec, Topology } from '../../lab';
import { BOOT_TIMEOUT_MS, labKernel } from '../support/lab';
import { FOUND, realserverCli } from '../support/realserver';
import { ARP_SYSCTLS, HIDDEN, setSysctls, show, sysctls, VIP, vipOn } from '../support/lvs-agent';

const VIP2 = '198.51.100.101';

describe('lvskit realserver (lab real server r1)', function () {
  // Generous: each lvskit call is a process start in the guest, seconds when the machine is busy.
  this.timeout(180_000);
  let topo: Topology | undefined;
  const t = () => {
    if (!topo) throw new Error('no topology (before() failed)');
    return topo;
  };
  const { rs, expect, stateFile } = realserverCli(t);
  const arpAnswers = async () => (await t().exec('client', ['arping', '-c', '2', '-w', '3', '-I', 'eth0', VIP])).stdout;
  const curl = (vip: string) => t().exec('client', ['curl', '-sS', '--max-time', '3', `http://${vip}/`]);

  /** Everything realserver may touch on r1. */
  const snapshot = async () => ({
    lo: await t().run('r1', ['ip', '-br', '-4', 'addr', 'show', 'dev', 'lo']),
    eth0: await t().run('r1', ['ip', '-br', '-4', 'addr', 'show', 'dev', 'eth0']),
    sysctls: await sysctls(t(), 'r1'),
    run: (await t().exec('r1', ['ls', '-A', '/run'])).stdout,
  });

  before(async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    topo = await Topology.create(await labKernel(), defaultSpec(1, 1));
    // r1's own /run (real servers share the lab's), so that the state file is private and goes with the node.
    await t().run('r1', ['mount', '-t', 'tmpfs', '-o', 'mode=755', 'tmpfs', '/run']);
  });
  after(async function () {
    this.timeout(60_000);
    await topo?.destroy();
  });
  beforeEach(async function () {
    this.timeout(30_000);
    // The lab made r1 a real server by hand: start from a plain host instead.
    for (const vip of [VIP, VIP2]) for (const p of await vipOn(t(), 'r1', 'lo', vip)) await t().run('r1', ['ip', 'addr', 'del', `${vip}/${p}`, 'dev', 'lo']);
    for (const p of await vipOn(t(), 'r1', 'eth0')) await t().run('r1', ['ip', 'addr', 'del', `${VIP}/${p}`, 'dev', 'eth0']);
    await setSysctls(t(), 'r1', { ...FOUND, 'net.ipv4.conf.eth0.arp_ignore': '0', 'net.ipv4.conf.eth0.arp_announce': '0' });
    await t().run('r1', ['rm', '-rf', '/run/lvskit']);
    await t().run('client', ['ip', 'neigh', 'flush', 'dev', 'eth0']);
  });

  it('status says what is missing (3); up hides ARP, puts the VIP/32 on lo, and no one answers ARP for it', async () => {
    const before = await expect(3, 'status', '--vip', VIP);
    assert.match(before.stdout, new RegExp(`- ${VIP} is not on lo`));
    assert.match(before.stdout, /- arp_ignore is 0 on eth0: ARP requests for the VIP are answered there/);

    const r = await expect(0, 'up', '--vip', VIP);
    assert.deepEqual(await sysctls(t(), 'r1'), HIDDEN);
    assert.deepEqual(await vipOn(t(), 'r1', 'lo'), [32]);
    assert.deepEqual(await vipOn(t(), 'r1', 'eth0'), []);
    assert.match(r.stdout, /^saved net\.ipv4\.conf\.all\.arp_ignore=0 net\.ipv4\.conf\.all\.arp_announce=1 net\.ipv4\.conf\.lo\.arp_ignore=3 net\.ipv4\.conf\.lo\.arp_announce=1 /m);
    await expect(0, 'status', '--vip', VIP);
    assert.match(await arpAnswers(), /Received 0 response/);
  });

  it('never puts the VIP on lo when ARP cannot be hidden, and leaves nothing behind', async () => {
    // /proc/sys read-only in r1 only: every sysctl write fails.
    await t().run('r1', ['mount', '--bind', '/proc/sys', '/proc/sys']);
    try {
      await t().run('r1', ['mount', '-o', 'remount,bind,ro', '/proc/sys']);
      const r = await expect(1, 'up', '--vip', VIP);
      assert.match(r.stderr, /cannot hide ARP/);
    } finally {
      await t().run('r1', ['umount', '/proc/sys']);
    }
    assert.deepEqual(await vipOn(t(), 'r1', 'lo'), []);
    assert.deepEqual(await sysctls(t(), 'r1'), FOUND);
    assert.equal(await stateFile(), '', 'no state file');
  });

  it('keeps the VIP off lo when an interface of its own would still answer ARP for it (arp_ignore 3 on eth0)', async () => {
    await setSysctls(t(), 'r1', { 'net.ipv4.conf.eth0.arp_ignore': '3' });
    const r = await expect(1, 'up', '--vip', VIP);
    assert.match(r.stderr, /ARP is not hidden after setting all and lo, so 198\.51\.100\.100 was not put on lo: arp_ignore is 3 on eth0/);
    assert.deepEqual(await vipOn(t(), 'r1', 'lo'), []);
    assert.deepEqual(await sysctls(t(), 'r1'), FOUND);
    assert.equal(await stateFile(), '');
    // Why: with all and lo hidden but 3 on eth0, the kernel does answer for a VIP on lo.
    await setSysctls(t(), 'r1', HIDDEN);
    await t().run('r1', ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'lo']);
    assert.match(await arpAnswers(), new RegExp(`reply from ${VIP.replaceAll('.', '\\.')} \\[${t().node('r1').mac}\\]`, 'i'));
  });

  it('is idempotent: up twice changes nothing the second time', async () => {
    await expect(0, 'up', '--vip', VIP);
    const first = { snap: await snapshot(), state: await stateFile() };
    const r = await expect(0, 'up', '--vip', VIP);
    assert.match(r.stdout, new RegExp(`^${VIP}/32 already on lo$`, 'm'));
    assert.doesNotMatch(r.stdout, /^(saved|set) /m);
    assert.deepEqual({ snap: await snapshot(), state: await stateFile() }, first);
  });

  it('down removes the VIP and restores exactly the values found before up; again, it has nothing to undo', async () => {
    const before = await snapshot();
    await expect(0, 'up', '--vip', VIP);
    const r = await expect(0, 'down', '--vip', VIP);
    // The VIP leaves lo before ARP is visible again.
    assert.match(r.stdout, new RegExp(`removed ${VIP}/32 from lo\\nrestored net\\.ipv4\\.conf\\.all\\.arp_ignore=0 `));
    assert.deepEqual(await snapshot(), before);
    assert.deepEqual(await sysctls(t(), 'r1', ARP_SYSCTLS), FOUND);
    const again = await expect(0, 'down', '--vip', VIP);
    assert.match(again.stdout, /^nothing to undo for 198\.51\.100\.100/);
    assert.deepEqual(await snapshot(), before);
  });

  it('keeps ARP hidden until the last of two VIPs is down', async () => {
    await expect(0, 'up', '--vip', VIP);
    await expect(0, 'up', '--vip', VIP2);
    await expect(0, 'down', '--vip', VIP);
    assert.deepEqual(await vipOn(t(), 'r1', 'lo'), []);
    assert.deepEqual(await vipOn(t(), 'r1', 'lo', VIP2), [32]);
    assert.deepEqual(await sysctls(t(), 'r1'), HIDDEN, `${VIP2} still needs ARP hidden`);
    await expect(0, 'status', '--vip', VIP2);
    await expect(0, 'down', '--vip', VIP2);
    assert.deepEqual(await sysctls(t(), 'r1'), FOUND);
    assert.equal(await stateFile(), '');
  });

  it('refuses bad input with exit 2 and a VIP held on the NIC with exit 1, changing nothing', async () => {
    const before = await snapshot();
    for (const args of [
      ['up', '--vip', '300.1.1.1'],
      ['up', '--vip', `${VIP}/32`],
      ['up', '--vip=-j'],
      ['up', '--vip', `${VIP};reboot`],
      ['up', '--vip', VIP, '--prefix-length', '24'],
      ['up', '--vip', VIP, '--prefix-length', '33'],
      ['bounce', '--vip', VIP],
      ['up'],
      ['down', '--vip', 'eth0'],
      // down would have deleted 127.0.0.1/8 from lo, and the host with it.
      ['down', '--vip', '127.0.0.1'],
      ['up', '--vip', '224.0.0.18'],
      ['up', '--vip', 'fe80::1'],
    ]) {
      const r = await expect(2, ...args);
      assert.match(r.stderr, /\S/, `realserver ${args.join(' ')} must say what is wrong`);
      assert.deepEqual(await snapshot(), before, `realserver ${args.join(' ')} changed the system`);
    }

    await t().run('r1', ['ip', 'addr', 'add', `${VIP}/24`, 'dev', 'eth0']);
    const held = await snapshot();
    const r = await expect(1, 'up', '--vip', VIP);
    assert.match(r.stderr, /is on eth0 \(\/24\): a DR real server must not hold the VIP on a NIC/);
    assert.deepEqual(await snapshot(), held);
    await t().run('r1', ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);

    // A prefix lvskit does not add, on lo: neither up nor down touches it.
    await t().run('r1', ['ip', 'addr', 'add', `${VIP2}/24`, 'dev', 'lo']);
    try {
      const foreign = await snapshot();
      const up = await expect(1, 'up', '--vip', VIP2);
      assert.match(up.stderr, /on lo as \/24, which lvskit did not add/);
      await rs('down', '--vip', VIP2);
      assert.deepEqual(await vipOn(t(), 'r1', 'lo', VIP2), [24], 'down left the /24 it did not add');
      assert.deepEqual(await snapshot(), foreign);
    } finally {
      await t().run('r1', ['ip', 'addr', 'del', `${VIP2}/24`, 'dev', 'lo']);
    }
  });

  it('serves the VIP through a DR director once up, and no longer once down', async function () {
    this.timeout(180_000);
    const d1 = t();
    await d1.run('d1', ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'eth0']);
    try {
      await d1.run('d1', ['ipvsadm', '-A', '-t', `${VIP}:80`, '-s', 'rr']);
      await d1.run('d1', ['ipvsadm', '-a', '-t', `${VIP}:80`, '-r', `${d1.node('r1').ip}:80`, '-g']);
      // Without the VIP on lo, r1 drops what the director forwards.
      assert.notEqual((await curl(VIP)).code, 0, 'precondition: r1 is not a real server yet');
      await expect(0, 'up', '--vip', VIP);
      const served = await curl(VIP);
      assert.equal(served.stdout.trim(), 'r1', show(served));
      assert.match(await d1.run('client', ['ip', 'neigh', 'show', VIP]), new RegExp(`lladdr ${d1.node('d1').mac}`), 'the VIP resolves to the director, not r1');
      await expect(0, 'down', '--vip', VIP);
      assert.notEqual((await curl(VIP)).code, 0, 'after down r1 serves the VIP no more');
    } finally {
      await d1.exec('d1', ['ipvsadm', '-C']);
      await d1.exec('d1', ['ip', 'addr', 'del', `${VIP}/32`, 'dev', 'eth0']);
    }
  });
});
