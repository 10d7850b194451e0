// ocf:heartbeat:lvs with an IPv6 VIP (docs/lvs-agent.md, IPv6), run in lab directors the way
// pacemaker runs it, on a real IPVS kernel. The lab is IPv4: each describe adds 2001:db8::/64
// addresses to its nodes. Every check reads the system or the wire: addresses and their flags,
// /proc/sys, ipvsadm, who answers a neighbour solicitation (ndisc6), the neighbour advertisements
// the client receives and its neighbour cache.
import assert from 'node:assert/strict';
import type { Topology } from '../../lab';
import { useTopology } from '../support/lab';
import { addIpv6, addr6On, captureNa, ip6, ndiscAnswers, neighbour, VIP6, vip6On } from '../support/ipv6';
import {
  refusesEach,
  type BadInput,
  expectRc,
  ipvsSaved,
  lvs,
  OCF,
  reset,
  RSCTMP,
  setLink,
  setSysctls,
  snapshot,
  stateFiles,
  syncDaemons,
  sysctls,
  VIP,
  vipOn,
  waitFor,
  type Call,
} from '../support/lvs-agent';

const FWD6 = 'net.ipv6.conf.all.forwarding';

// ARP sysctls found before the first start; an IPv6 VIP needs none of them, so they must stay.
const FOUND: Record<string, string> = {
  'net.ipv4.conf.all.arp_ignore': '2',
  'net.ipv4.conf.all.arp_announce': '1',
  'net.ipv4.conf.lo.arp_ignore': '3',
  'net.ipv4.conf.lo.arp_announce': '1',
};

/** An agent call for the IPv6 VIP. */
function v6(call: Call = {}): Call {
  return { ...call, params: { vip: VIP6, ...call.params } };
}

/** Back to a plain stopped director, whatever a failed test left: the IPv4 reset and the IPv6 VIP and forwarding. */
async function reset6(t: Topology, node: string): Promise<void> {
  await reset(t, node);
  for (const dev of ['lo', 'eth0']) for (const p of await vip6On(t, node, dev)) await t.run(node, ['ip', '-6', 'addr', 'del', `${VIP6}/${p}`, 'dev', dev]);
  await setSysctls(t, node, { [FWD6]: '0' });
}

/** Everything the agent may touch, IPv6 forwarding included. */
async function snapshot6(t: Topology, node: string): Promise<Record<string, unknown>> {
  return { ...(await snapshot(t, node)), fwd6: await sysctls(t, node, [FWD6]) };
}

describe('ocf:heartbeat:lvs with an IPv6 VIP: roles on the system', function () {
  const topo = useTopology(1, 0, addIpv6);
  beforeEach(async function () {
    this.timeout(30_000);
    await reset6(topo(), 'd1');
  });

  async function expectUnpromoted(t: Topology, step: string): Promise<void> {
    assert.deepEqual(await vip6On(t, 'd1', 'lo'), [128], `${step}: the VIP/128 must be on lo`);
    assert.deepEqual(await vip6On(t, 'd1', 'eth0'), [], `${step}: the VIP must not be on eth0`);
    assert.deepEqual(await sysctls(t, 'd1'), FOUND, `${step}: an IPv6 VIP changes no ARP sysctl`);
    await expectRc(t, 'd1', 'monitor', OCF.SUCCESS, v6());
  }

  it('start, promote, demote and stop, each twice: /128 on lo, vip_prefix on eth0 without DAD, then everything as found', async function () {
    this.timeout(180_000);
    const t = topo();
    await setSysctls(t, 'd1', FOUND);
    const before = await snapshot6(t, 'd1');
    const call = v6({ params: { vip_prefix: '64' } });
    for (const n of [1, 2]) {
      await expectRc(t, 'd1', 'start', OCF.SUCCESS, call);
      await expectUnpromoted(t, `start #${n}`);
    }
    for (const n of [1, 2]) {
      await expectRc(t, 'd1', 'promote', OCF.SUCCESS, call);
      // Read at once: the address must be usable now, not after a second of duplicate address detection.
      const onNic = await addr6On(t, 'd1', 'eth0');
      assert.deepEqual(onNic, [{ prefix: 64, tentative: false, nodad: true, dadfailed: false }], `promote #${n}: VIP/64 on eth0, nodad, not tentative`);
      assert.deepEqual(await vip6On(t, 'd1', 'lo'), [], `promote #${n}: the VIP must not be on lo`);
      assert.deepEqual(await sysctls(t, 'd1'), FOUND, `promote #${n}`);
      await expectRc(t, 'd1', 'monitor', OCF.RUNNING_PROMOTED, call);
    }
    for (const n of [1, 2]) {
      await expectRc(t, 'd1', 'demote', OCF.SUCCESS, call);
      await expectUnpromoted(t, `demote #${n}`);
    }
    for (const _again of [1, 2]) {
      await expectRc(t, 'd1', 'stop', OCF.SUCCESS, call);
      await expectRc(t, 'd1', 'monitor', OCF.NOT_RUNNING, call);
    }
    assert.deepEqual(await snapshot6(t, 'd1'), before, 'after stop the node is as it was before the first start');
  });

  it('forwarding=true: promote sets net.ipv6.conf.all.forwarding=1 (not the IPv4 one), demote and stop put back what was found', async function () {
    this.timeout(120_000);
    const t = topo();
    const call = v6({ params: { forwarding: 'true' } });
    const fwd = async () => sysctls(t, 'd1', [FWD6, 'net.ipv4.conf.all.forwarding']);
    await expectRc(t, 'd1', 'start', OCF.SUCCESS, call);
    assert.deepEqual(await fwd(), { [FWD6]: '0', 'net.ipv4.conf.all.forwarding': '0' }, 'after start');
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, call);
    assert.deepEqual(await fwd(), { [FWD6]: '1', 'net.ipv4.conf.all.forwarding': '0' }, 'after promote');
    await expectRc(t, 'd1', 'demote', OCF.SUCCESS, call);
    assert.deepEqual(await fwd(), { [FWD6]: '0', 'net.ipv4.conf.all.forwarding': '0' }, 'after demote');
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, call);
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS, call);
    assert.deepEqual(await fwd(), { [FWD6]: '0', 'net.ipv4.conf.all.forwarding': '0' }, 'after stop');
  });

  it('the VIP on lo is never advertised: unpromoted, no neighbour solicitation for it is answered; promoted, d1 answers with its MAC', async function () {
    this.timeout(120_000);
    const t = topo();
    await expectRc(t, 'd1', 'start', OCF.SUCCESS, v6());
    assert.deepEqual(await ndiscAnswers(t, 'client'), [], 'unpromoted (VIP on lo): nobody answers for the VIP');
    // The kernel answers a solicitation only for an address of the interface it arrived on
    // (ndisc_recv_ns looks the target up strictly on that device); no sysctl is involved.
    assert.deepEqual(await sysctls(t, 'd1', ['net.ipv6.conf.all.proxy_ndp', 'net.ipv6.conf.eth0.proxy_ndp']), { 'net.ipv6.conf.all.proxy_ndp': '0', 'net.ipv6.conf.eth0.proxy_ndp': '0' });
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, v6());
    assert.deepEqual(await ndiscAnswers(t, 'client'), [t.node('d1').mac], 'promoted: d1 answers for the VIP');
    await expectRc(t, 'd1', 'demote', OCF.SUCCESS, v6());
    assert.deepEqual(await ndiscAnswers(t, 'client'), [], 'demoted: nobody answers for the VIP again');
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS, v6());
  });

  it('monitor reads the role from the system: VIP gone, on lo and eth0 at once, a foreign /64 on eth0', async function () {
    this.timeout(120_000);
    const t = topo();
    await expectRc(t, 'd1', 'monitor', OCF.NOT_RUNNING, v6({ interval: 0 }));
    await expectRc(t, 'd1', 'start', OCF.SUCCESS, v6());
    await t.run('d1', ['ip', '-6', 'addr', 'add', `${VIP6}/128`, 'dev', 'eth0', 'nodad']);
    await expectRc(t, 'd1', 'monitor', OCF.ERR_GENERIC, v6());
    await expectRc(t, 'd1', 'start', OCF.SUCCESS, v6());
    assert.deepEqual(await vip6On(t, 'd1', 'eth0'), [], 'start takes the VIP off eth0');
    // The same address in another notation is the same VIP.
    await expectRc(t, 'd1', 'monitor', OCF.SUCCESS, v6({ params: { vip: '2001:0db8:0000::0100' } }));
    await t.run('d1', ['ip', '-6', 'addr', 'add', `${VIP6}/64`, 'dev', 'eth0', 'nodad']);
    const refused = await expectRc(t, 'd1', 'start', OCF.ERR_INSTALLED, v6());
    assert.match(refused.stderr, /ocf-exit-reason:.*eth0 as \/64.*this node's own address/);
    assert.deepEqual(await vip6On(t, 'd1', 'eth0'), [64], 'the foreign address is left alone');
    await t.run('d1', ['ip', '-6', 'addr', 'del', `${VIP6}/64`, 'dev', 'eth0']);
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, v6());
    await t.run('d1', ['ip', '-6', 'addr', 'del', `${VIP6}/128`, 'dev', 'eth0']);
    await expectRc(t, 'd1', 'monitor', OCF.NOT_RUNNING, v6());
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS, v6());
  });

  it('a promoted director whose link is cut drops the IPv6 VIP at once (VIP watcher), monitors 9, and is a candidate after demote', async function () {
    this.timeout(120_000);
    const t = topo();
    await expectRc(t, 'd1', 'start', OCF.SUCCESS, v6());
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, v6());
    await waitFor('the VIP watcher to run', async () => (await stateFiles(t, 'd1')).some((f) => f.endsWith('.vipwatch.pid')));
    await setLink(t, 'd1', 'down');
    try {
      await waitFor('the VIP off eth0 without any monitor', async () => (await vip6On(t, 'd1', 'eth0')).length === 0);
      const r = await expectRc(t, 'd1', 'monitor', OCF.FAILED_PROMOTED, v6());
      assert.match(r.stderr, /ocf-exit-reason:.*VIP watcher took VIP 2001:db8::100 off eth0/);
    } finally {
      await setLink(t, 'd1', 'up');
    }
    await expectRc(t, 'd1', 'monitor', OCF.FAILED_PROMOTED, v6());
    assert.deepEqual(await vip6On(t, 'd1', 'eth0'), [], 'the VIP does not come back with the link');
    await expectRc(t, 'd1', 'demote', OCF.SUCCESS, v6());
    await expectRc(t, 'd1', 'monitor', OCF.SUCCESS, v6());
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, v6());
    await expectRc(t, 'd1', 'monitor', OCF.RUNNING_PROMOTED, v6());
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS, v6());
    assert.deepEqual(await stateFiles(t, 'd1'), [], 'stop ends the watcher and removes the state');
  });
});

describe('ocf:heartbeat:lvs with an IPv6 VIP: unsolicited neighbour advertisements at promote', function () {
  const topo = useTopology(2, 0, addIpv6);
  beforeEach(async function () {
    this.timeout(30_000);
    for (const d of ['d1', 'd2']) await reset6(topo(), d);
    await topo().run('client', ['ip', '-6', 'neigh', 'flush', 'to', VIP6]);
  });
  afterEach(async function () {
    this.timeout(30_000);
    await reset6(topo(), 'd1');
    await reset6(topo(), 'd2');
  });

  it('moves the VIP to the new director in the client’s neighbour cache with arp_count advertisements (override, target the VIP)', async function () {
    this.timeout(120_000);
    const t = topo();
    const d1 = t.node('d1').mac;
    const d2 = t.node('d2').mac;
    await expectRc(t, 'd1', 'start', OCF.SUCCESS, v6());
    // The client learns the VIP at d2 (the old director), then d2 lets it go.
    await t.run('d2', ['ip', '-6', 'addr', 'add', `${VIP6}/128`, 'dev', 'eth0', 'nodad']);
    await t.run('client', ['ping', '-6', '-n', '-c', '1', '-W', '3', VIP6]);
    assert.equal((await neighbour(t, 'client'))?.mac, d2, 'precondition: the client resolves the VIP to d2');
    await t.run('d2', ['ip', '-6', 'addr', 'del', `${VIP6}/128`, 'dev', 'eth0']);

    const frames = await captureNa(t, 'client', 15);
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, v6());
    // The client sends nothing to the VIP: only d1's advertisements can change its entry.
    let entry = await neighbour(t, 'client');
    const moved = await waitFor(`the client's entry for the VIP to name d1 (${d1})`, async () => (entry = await neighbour(t, 'client'))?.mac === d1, 5000, 200).then(
      () => '',
      (err: Error) => `${err.message}; it shows ${JSON.stringify(entry)}`,
    );
    const nas = (await frames()).filter((f) => f.src === d1 && f.target === VIP6 && !f.solicited);
    assert.ok(moved === '', `${moved}\nadvertisements from d1 seen by the client: ${JSON.stringify(nas)}`);
    assert.equal(nas.length, 5, `arp_count=5 unsolicited advertisements expected, seen:\n${JSON.stringify(nas, null, 1)}`);
    for (const f of nas) {
      assert.deepEqual(
        { daddr: f.daddr, saddr: f.saddr, hop: f.hop, solicited: f.solicited, override: f.override, tlla: f.tlla },
        { daddr: 'ff02::1', saddr: VIP6, hop: 255, solicited: false, override: true, tlla: d1 },
        'an unsolicited advertisement to all nodes, from the VIP, overriding, naming d1',
      );
    }
    const span = nas.at(-1)!.t - nas[0]!.t;
    assert.ok(span > 0.4 && span < 2.0, `5 advertisements at arp_interval=200 ms should span about 0.8 s, spanned ${span.toFixed(2)} s`);
    assert.notEqual(d1, d2);
  });
});

describe('ocf:heartbeat:lvs with an IPv6 VIP: duplicate VIP detection (ndisc6)', function () {
  const topo = useTopology(2, 0, addIpv6);

  it('reports another host answering neighbour solicitations for its VIP, in its state and lvskit status, and says when it is gone', async function () {
    this.timeout(180_000);
    const t = topo();
    const call = v6({ params: { duplicate_check_interval: '1' } });
    const rogueMac = t.node('d2').mac.toLowerCase();
    await expectRc(t, 'd1', 'start', OCF.SUCCESS, call);
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, call);
    const status = async () => (await t.exec('d1', [t.spec.binary, 'status'], { env: { HA_RSCTMP: RSCTMP } })).stdout;
    try {
      assert.doesNotMatch(await status(), /DUPLICATE/);
      // A rogue: d2 (no lvs on it) puts the VIP on its NIC, skipping DAD (with DAD, d1's answer would
      // make its address fail: IPv6 keeps a second host from taking the VIP while the director holds it).
      await t.run('d2', ['ip', '-6', 'addr', 'add', `${VIP6}/64`, 'dev', 'eth0', 'nodad']);
      await waitFor('the promoted director to record the duplicate', async () => {
        const st = JSON.parse((await t.exec('d1', ['cat', `${RSCTMP}/lvs-lvs.json`])).stdout || '{}') as { duplicate?: { macs: string[] } };
        return st.duplicate?.macs.includes(rogueMac) === true;
      }, 15_000, 200);
      assert.match(await status(), new RegExp(`DUPLICATE VIP: also answered by ${rogueMac} \\(a host that is not a cluster director\\)`));
      assert.deepEqual(await vip6On(t, 'd1', 'eth0'), [128], 'a rogue host is reported, the VIP kept');
      await t.run('d2', ['ip', '-6', 'addr', 'del', `${VIP6}/64`, 'dev', 'eth0']);
      await waitFor('the duplicate report to clear', async () => !(await status()).includes('DUPLICATE'), 15_000, 200);
    } finally {
      await t.exec('d2', ['ip', '-6', 'addr', 'del', `${VIP6}/64`, 'dev', 'eth0']);
      await lvs(t, 'd1', 'stop', call);
    }
  });

  it('a host that configures the VIP with DAD while the director holds it gets no address (dadfailed)', async function () {
    this.timeout(120_000);
    const t = topo();
    await expectRc(t, 'd1', 'start', OCF.SUCCESS, v6());
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, v6());
    try {
      await t.run('d2', ['ip', '-6', 'addr', 'add', `${VIP6}/64`, 'dev', 'eth0']);
      await waitFor('d2 to finish DAD for the VIP', async () => {
        const [x] = await addr6On(t, 'd2', 'eth0');
        return x !== undefined && (x.dadfailed || !x.tentative);
      }, 10_000, 200);
      assert.deepEqual(await addr6On(t, 'd2', 'eth0'), [{ prefix: 64, tentative: true, nodad: false, dadfailed: true }], "d1's answer failed d2's DAD");
      assert.deepEqual(await ndiscAnswers(t, 'client'), [t.node('d1').mac], 'only d1 answers for the VIP');
    } finally {
      await t.exec('d2', ['ip', '-6', 'addr', 'del', `${VIP6}/64`, 'dev', 'eth0']);
      await lvs(t, 'd1', 'stop', v6());
    }
  });
});

describe('ocf:heartbeat:lvs with an IPv6 VIP: IPVS table and sync daemons', function () {
  const topo = useTopology(1, 1, addIpv6);
  const V6_SERVICES = () => [`-A -t [${VIP6}]:80 -s rr`, `-a -t [${VIP6}]:80 -r [${ip6(topo(), 'r1')}]:80 -g -w 1`, `-A -u [${VIP6}]:53 -s rr`];
  const OTHERS = [`-A -t ${VIP}:80 -s rr`, '-A -t [2001:db8::200]:80 -s rr'];

  beforeEach(async function () {
    this.timeout(30_000);
    await reset6(topo(), 'd1');
  });

  async function fillTable(t: Topology): Promise<void> {
    await t.run('d1', ['ipvsadm', '-C']);
    await t.run('d1', ['ipvsadm', '-R'], { stdin: [...V6_SERVICES(), ...OTHERS].map((l) => `${l}\n`).join('') });
    assert.deepEqual([...(await ipvsSaved(t, 'd1'))].sort(), [...V6_SERVICES(), ...OTHERS].sort(), 'precondition: the table as filled');
  }

  it('ipvs_cleanup=vip: start and demote remove the IPv6 VIP’s services only (not the IPv4 VIP’s, nor another IPv6 address’s)', async function () {
    this.timeout(120_000);
    const t = topo();
    await fillTable(t);
    await expectRc(t, 'd1', 'start', OCF.SUCCESS, v6());
    assert.deepEqual([...(await ipvsSaved(t, 'd1'))].sort(), [...OTHERS].sort(), 'after start');
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, v6());
    await fillTable(t);
    await expectRc(t, 'd1', 'demote', OCF.SUCCESS, v6());
    assert.deepEqual([...(await ipvsSaved(t, 'd1'))].sort(), [...OTHERS].sort(), 'after demote');
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS, v6());
  });

  it('sync daemons follow the role, and the placeholders while promoted are [::]:1 and 0.0.0.0:1 (the daemon carries both families)', async function () {
    this.timeout(120_000);
    const t = topo();
    const call = v6({ params: { sync_interface: 'eth0', sync_id: '9' } });
    const roles = async () => (await syncDaemons(t, 'd1')).map((l) => l.split(' ')[0]).sort();
    await expectRc(t, 'd1', 'start', OCF.SUCCESS, call);
    assert.deepEqual(await roles(), ['backup'], 'after start');
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, call);
    assert.deepEqual(await roles(), ['master'], 'after promote');
    assert.deepEqual((await ipvsSaved(t, 'd1')).sort(), ['-A -t 0.0.0.0:1 -s rr', '-A -t [::]:1 -s rr'], 'both placeholder services while promoted');
    await expectRc(t, 'd1', 'demote', OCF.SUCCESS, call);
    assert.deepEqual(await ipvsSaved(t, 'd1'), [], 'no placeholder when unpromoted');
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS, call);
    assert.deepEqual(await roles(), [], 'after stop');
  });
});

describe('lvskit status with two lvs instances on one director, IPv4 and IPv6', function () {
  const topo = useTopology(1, 0, addIpv6);
  const as = (instance: string, call: Call = {}): Call => ({ ...call, env: { OCF_RESOURCE_INSTANCE: instance } });

  it('shows every VIP with its own role; each instance changes only its own', async function () {
    this.timeout(180_000);
    const t = topo();
    await reset6(t, 'd1');
    const four = as('web4');
    const six = as('web6', v6());
    const status = async () => (await t.run('d1', [t.spec.binary, 'status'])).split('\n').filter((l) => /^ {2}web[46]:/.test(l));
    try {
      await expectRc(t, 'd1', 'start', OCF.SUCCESS, four);
      await expectRc(t, 'd1', 'start', OCF.SUCCESS, six);
      await expectRc(t, 'd1', 'promote', OCF.SUCCESS, four);
      assert.deepEqual(await status(), [
        `  web4: PROMOTED  VIP ${VIP} on eth0, answering ARP`,
        `  web6: UNPROMOTED  VIP ${VIP6} on lo, not advertised (serving as a real server)`,
      ]);
      await expectRc(t, 'd1', 'demote', OCF.SUCCESS, four);
      await expectRc(t, 'd1', 'promote', OCF.SUCCESS, six);
      assert.deepEqual(await status(), [
        `  web4: UNPROMOTED  VIP ${VIP} on lo, ARP hidden (serving as a real server)`,
        `  web6: PROMOTED  VIP ${VIP6} on eth0, answering neighbour solicitations`,
      ]);
      assert.deepEqual(await vipOn(t, 'd1', 'lo'), [32]);
      assert.deepEqual(await vip6On(t, 'd1', 'eth0'), [128]);
      await expectRc(t, 'd1', 'stop', OCF.SUCCESS, six);
      assert.deepEqual(await status(), [`  web4: UNPROMOTED  VIP ${VIP} on lo, ARP hidden (serving as a real server)`], 'a stopped instance has no state left');
      await expectRc(t, 'd1', 'monitor', OCF.SUCCESS, four);
    } finally {
      await lvs(t, 'd1', 'stop', six);
      await lvs(t, 'd1', 'stop', four);
    }
  });
});

const BAD_INPUT: BadInput[] = [
  { what: 'vip_prefix 129 with an IPv6 VIP', call: v6({ params: { vip_prefix: '129' } }), rc: OCF.ERR_CONFIGURED, reason: ['vip_prefix', '129', '128'] },
  { what: 'vip_prefix 0 with an IPv6 VIP', call: v6({ params: { vip_prefix: '0' } }), rc: OCF.ERR_CONFIGURED, reason: ['vip_prefix', '0'] },
  { what: 'an IPv6 VIP with a prefix', call: { params: { vip: `${VIP6}/129` } }, rc: OCF.ERR_CONFIGURED, reason: ['vip', `${VIP6}/129`] },
  { what: 'a link-local VIP fe80::100', call: { params: { vip: 'fe80::100' } }, rc: OCF.ERR_CONFIGURED, reason: ['vip', 'fe80::100', 'link-local'] },
  { what: 'a link-local VIP with a zone', call: { params: { vip: 'fe80::100%eth0' } }, rc: OCF.ERR_CONFIGURED, reason: ['vip', 'fe80::100%eth0'] },
  { what: 'a multicast VIP ff02::1', call: { params: { vip: 'ff02::1' } }, rc: OCF.ERR_CONFIGURED, reason: ['vip', 'ff02::1', 'multicast'] },
  { what: 'a multicast VIP ff05::100', call: { params: { vip: 'ff05::100' } }, rc: OCF.ERR_CONFIGURED, reason: ['vip', 'ff05::100', 'multicast'] },
  { what: 'the loopback VIP ::1', call: { params: { vip: '::1' } }, rc: OCF.ERR_CONFIGURED, reason: ['vip', '::1', 'loopback'] },
  { what: 'the unspecified VIP ::', call: { params: { vip: '::' } }, rc: OCF.ERR_CONFIGURED, reason: ['vip', 'unspecified'] },
  { what: 'an IPv4-mapped VIP', call: { params: { vip: '::ffff:198.51.100.100' } }, rc: OCF.ERR_CONFIGURED, reason: ['vip', 'IPv4-mapped'] },
  { what: 'a link-local VIP, to validate-all', action: 'validate-all', call: { params: { vip: 'fe80::100' } }, rc: OCF.ERR_CONFIGURED, reason: ['vip', 'link-local'] },
  { what: 'a multicast VIP, to promote', action: 'promote', call: { params: { vip: 'ff02::1' } }, rc: OCF.ERR_CONFIGURED, reason: ['vip', 'multicast'] },
  { what: 'a link-local VIP (nothing of it to stop)', action: 'stop', call: { params: { vip: 'fe80::100' } }, rc: OCF.SUCCESS },
];

describe('ocf:heartbeat:lvs with an IPv6 VIP: bad input changes nothing', function () {
  const topo = useTopology(1, 0, addIpv6);
  before(async function () {
    this.timeout(30_000);
    const t = topo();
    await reset6(t, 'd1');
    await setSysctls(t, 'd1', FOUND);
    // Something for a wrongly run cleanup to remove.
    await t.run('d1', ['ipvsadm', '-A', '-t', `[${VIP6}]:80`, '-s', 'rr']);
  });

  // snapshot6 holds the ARP sysctls too: they stay as found.
  refusesEach(BAD_INPUT, topo, snapshot6);
});
