// `lvskit realserver up|down|status --vip` with an IPv6 VIP on a lab real server: the VIP/128 on
// lo, no sysctl touched (IPv6 needs none: the kernel answers a neighbour solicitation only for an
// address of the interface it arrived on), nobody answering for the VIP on the wire, DR traffic
// served, exact restore, IPv4 and IPv6 VIPs side by side, and bad input refused with nothing changed.
import assert from 'node:assert/strict';
import { defaultSpec, Topology } from '../../lab';
import { addIpv6, addr6On, curl6, ip6, ndiscAnswers, startServer6, VIP6, vip6On } from '../support/ipv6';
import { BOOT_TIMEOUT_MS, labKernel } from '../support/lab';
import { FOUND, realserverCli } from '../support/realserver';
import { ARP_SYSCTLS, HIDDEN, setSysctls, show, sysctls, VIP, vipOn } from '../support/lvs-agent';

describe('lvskit realserver with an IPv6 VIP (lab real server r1)', function () {
  // A realserver call takes seconds in a busy UML lab; some tests make a dozen.
  this.timeout(240_000);
  let topo: Topology | undefined;
  const t = () => {
    if (!topo) throw new Error('no topology (before() failed)');
    return topo;
  };
  const { expect, stateFile } = realserverCli(t);

  /** Everything realserver may touch on r1: addresses of both families, the IPv4 ARP and every IPv6 sysctl, /run. */
  const snapshot = async () => ({
    addrs: await t().run('r1', ['ip', '-br', 'addr', 'show']),
    arp: await sysctls(t(), 'r1'),
    ipv6: await t().run('r1', ['sysctl', '-a', '-r', '^net\\.ipv6\\.conf\\.']),
    run: (await t().exec('r1', ['ls', '-AR', '/run'])).stdout,
  });

  before(async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    topo = await Topology.create(await labKernel(), defaultSpec(1, 1));
    await addIpv6(topo);
    // r1's own /run (real servers share the lab's), so that the state file is private and goes with the node.
    await t().run('r1', ['mount', '-t', 'tmpfs', '-o', 'mode=755', 'tmpfs', '/run']);
    await startServer6(t(), 'r1', 'http', 80);
  });
  after(async function () {
    this.timeout(60_000);
    await topo?.destroy();
  });
  beforeEach(async function () {
    this.timeout(30_000);
    // The lab made r1 an IPv4 real server by hand: start from a plain host instead.
    // exec, not run: a call of a test that timed out may still be removing them.
    for (const p of await vipOn(t(), 'r1', 'lo')) await t().exec('r1', ['ip', 'addr', 'del', `${VIP}/${p}`, 'dev', 'lo']);
    for (const dev of ['lo', 'eth0']) for (const p of await vip6On(t(), 'r1', dev)) await t().exec('r1', ['ip', '-6', 'addr', 'del', `${VIP6}/${p}`, 'dev', dev]);
    await setSysctls(t(), 'r1', FOUND);
    await t().run('r1', ['rm', '-rf', '/run/lvskit']);
  });

  it('status says what is missing (3); up puts the VIP/128 on lo and changes no sysctl; status 0; nobody answers for the VIP', async () => {
    const before = await snapshot();
    const missing = await expect(3, 'status', '--vip', VIP6);
    assert.match(missing.stdout, new RegExp(`- ${VIP6} is not on lo`));
    assert.doesNotMatch(missing.stdout, /arp_/, 'an IPv6 VIP has no ARP to hide');
    const up = await expect(0, 'up', '--vip', VIP6);
    assert.match(up.stdout, new RegExp(`^added ${VIP6}/128 to lo$`, 'm'));
    assert.doesNotMatch(up.stdout, /^(saved|set) /m, 'no sysctl saved or set');
    assert.deepEqual(await addr6On(t(), 'r1', 'lo'), [{ prefix: 128, tentative: false, nodad: true, dadfailed: false }]);
    assert.deepEqual(await vip6On(t(), 'r1', 'eth0'), []);
    const after = await snapshot();
    assert.deepEqual({ ...after, addrs: '', run: '' }, { ...before, addrs: '', run: '' }, 'no sysctl changed');
    assert.deepEqual(await sysctls(t(), 'r1', ARP_SYSCTLS), FOUND);
    const st = await expect(0, 'status', '--vip', VIP6);
    assert.match(st.stdout, new RegExp(`^${VIP6}: DR real server: ${VIP6}/128 on lo$`, 'm'));
    // The VIP on lo is not on the wire: r1 answers no solicitation for it (no director holds it now).
    assert.deepEqual(await ndiscAnswers(t(), 'client'), [], 'nobody answers for the VIP');
    // Positive control: the same address on r1's NIC is answered at once, with r1's MAC.
    await t().run('r1', ['ip', '-6', 'addr', 'add', `${VIP6}/128`, 'dev', 'eth0', 'nodad']);
    try {
      assert.deepEqual(await ndiscAnswers(t(), 'client'), [t().node('r1').mac]);
      const bad = await expect(3, 'status', '--vip', VIP6);
      assert.match(bad.stdout, new RegExp(`- ${VIP6} is on eth0: this host answers`));
    } finally {
      await t().run('r1', ['ip', '-6', 'addr', 'del', `${VIP6}/128`, 'dev', 'eth0']);
    }
  });

  it('serves the IPv6 VIP through a DR director once up, and no longer once down; down leaves r1 as it was', async function () {
    const before = await snapshot();
    for (const n of ['client', 'r1']) await t().run(n, ['ip', '-6', 'neigh', 'flush', 'dev', 'eth0']);
    await t().run('d1', ['ip', '-6', 'addr', 'add', `${VIP6}/128`, 'dev', 'eth0', 'nodad']);
    try {
      await t().run('d1', ['ipvsadm', '-A', '-t', `[${VIP6}]:80`, '-s', 'rr']);
      await t().run('d1', ['ipvsadm', '-a', '-t', `[${VIP6}]:80`, '-r', `[${ip6(t(), 'r1')}]:80`, '-g']);
      // Without the VIP on lo, r1 drops what the director forwards.
      assert.notEqual((await curl6(t(), 'client', VIP6)).code, 0, 'precondition: r1 is not a real server yet');
      await expect(0, 'up', '--vip', VIP6);
      const served = await curl6(t(), 'client', VIP6);
      assert.equal(served.stdout.trim(), 'r1', show(served));
      // r1 had to resolve the client before answering from the VIP: its solicitation came from its
      // link-local address (the kernel takes a packet's source only if it is on the outgoing interface),
      // so the client never learnt the VIP at r1's MAC (what arp_announce=2 prevents for IPv4).
      const neigh = await t().run('client', ['ip', '-6', 'neigh', 'show', VIP6]);
      assert.match(neigh, new RegExp(`lladdr ${t().node('d1').mac}`), 'the VIP resolves to the director, not r1');
      const down = await expect(0, 'down', '--vip', VIP6);
      assert.match(down.stdout, new RegExp(`^removed ${VIP6}/128 from lo$`, 'm'));
      assert.notEqual((await curl6(t(), 'client', VIP6)).code, 0, 'after down r1 serves the VIP no more');
      assert.equal(await stateFile(), '', 'no state left');
      assert.deepEqual(await snapshot(), before, 'r1 as before up');
      const again = await expect(0, 'down', '--vip', VIP6);
      assert.match(again.stdout, /^nothing to undo for 2001:db8::100/);
    } finally {
      await t().exec('d1', ['ipvsadm', '-C']);
      await t().exec('d1', ['ip', '-6', 'addr', 'del', `${VIP6}/128`, 'dev', 'eth0']);
    }
  });

  it('IPv4 and IPv6 VIPs side by side: ARP stays hidden while the IPv4 VIP is up, whatever the order', async () => {
    await expect(0, 'up', '--vip', VIP6);
    await expect(0, 'up', '--vip', VIP);
    assert.deepEqual(await sysctls(t(), 'r1'), HIDDEN);
    const r = await expect(0, 'down', '--vip', VIP6);
    assert.match(r.stdout, new RegExp(`ARP stays hidden for ${VIP.replaceAll('.', '\\.')}`));
    assert.deepEqual(await sysctls(t(), 'r1'), HIDDEN, 'the IPv4 VIP still needs ARP hidden');
    await expect(0, 'status', '--vip', VIP);
    await expect(0, 'down', '--vip', VIP);
    assert.deepEqual(await sysctls(t(), 'r1'), FOUND, 'restored as found before the first up');
    // And the other way round: the IPv4 VIP first down, the IPv6 one keeps nothing hidden.
    await expect(0, 'up', '--vip', VIP);
    await expect(0, 'up', '--vip', VIP6);
    await expect(0, 'down', '--vip', VIP);
    assert.deepEqual(await sysctls(t(), 'r1'), FOUND, 'no IPv4 VIP left: ARP as found');
    await expect(0, 'status', '--vip', VIP6);
    await expect(0, 'down', '--vip', VIP6);
    assert.equal(await stateFile(), '');
  });

  it('refuses bad IPv6 input with exit 2 naming the value, and a VIP held on the NIC with exit 1, changing nothing', async () => {
    const before = await snapshot();
    for (const [args, says] of [
      [['up', '--vip', 'fe80::100'], /--vip fe80::100 is a link-local address/],
      [['up', '--vip', 'fe80::100%eth0'], /--vip 'fe80::100%eth0' is not an IPv4 or IPv6 address/],
      [['up', '--vip', 'ff02::1'], /--vip ff02::1 is a multicast address/],
      [['up', '--vip', 'ff0e::100'], /--vip ff0e::100 is a multicast address/],
      [['up', '--vip', '::1'], /--vip ::1 is the loopback address/],
      [['down', '--vip', '::1'], /--vip ::1 is the loopback address/],
      [['up', '--vip', '::'], /--vip :: is the unspecified address/],
      [['up', '--vip', `${VIP6}/64`], /--vip '2001:db8::100\/64' is not an IPv4 or IPv6 address/],
      [['up', '--vip', VIP6, '--prefix-length', '129'], /--prefix-length '129' is not a prefix length from 1 to 128/],
      [['up', '--vip', VIP6, '--prefix-length', '64'], /--prefix-length 64: on lo the VIP must be a host address \(\/128\)/],
      [['up', '--vip', '2001:db8::g'], /--vip '2001:db8::g' is not an IPv4 or IPv6 address/],
    ] as Array<[string[], RegExp]>) {
      const r = await expect(2, ...args);
      assert.match(r.stderr, says, `realserver ${args.join(' ')} must say what is wrong`);
      assert.deepEqual(await snapshot(), before, `realserver ${args.join(' ')} changed the system`);
    }
    await t().run('r1', ['ip', '-6', 'addr', 'add', `${VIP6}/64`, 'dev', 'eth0', 'nodad']);
    try {
      const held = await snapshot();
      const r = await expect(1, 'up', '--vip', VIP6);
      assert.match(r.stderr, /2001:db8::100 is on eth0 \(\/64\): a DR real server must not hold the VIP on a NIC/);
      assert.deepEqual(await snapshot(), held);
    } finally {
      await t().run('r1', ['ip', '-6', 'addr', 'del', `${VIP6}/64`, 'dev', 'eth0']);
    }
  });
});
