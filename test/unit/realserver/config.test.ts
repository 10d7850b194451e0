import assert from 'node:assert/strict';
import { UsageError } from '../../../src/errors';
import { arpStillNeeded, type Observed, parseTarget, problems, withoutVip, withVip } from '../../../src/realserver/config';

const VIP = '198.51.100.100';

/** A real server done right: VIP/32 on lo, ARP hidden through conf/all. */
function good(): Observed {
  return {
    at: [{ ifname: 'lo', address: VIP, prefix: 32 }],
    sysctls: {
      'net/ipv4/conf/all/arp_ignore': '1',
      'net/ipv4/conf/all/arp_announce': '2',
      'net/ipv4/conf/eth0/arp_ignore': '0',
      'net/ipv4/conf/eth0/arp_announce': '0',
      'net/ipv4/conf/eth1/arp_ignore': '0',
      'net/ipv4/conf/eth1/arp_announce': '0',
    },
    interfaces: ['eth0', 'eth1'],
  };
}

describe('realserver/config', () => {
  it('takes bare IPv4 and IPv6 addresses, always as host addresses on lo', () => {
    assert.deepEqual(parseTarget(VIP), { vip: VIP, family: 4, prefix: 32 });
    assert.deepEqual(parseTarget('2001:db8::1', '128'), { vip: '2001:db8::1', family: 6, prefix: 128 });
    assert.deepEqual(parseTarget(VIP, '32'), { vip: VIP, family: 4, prefix: 32 });
  });

  it('refuses anything else with a usage error (exit 2) naming the value', () => {
    for (const vip of ['300.1.1.1', `${VIP}/32`, '-j', 'eth0', '', `${VIP};reboot`, 'fe80::1%eth0']) {
      assert.throws(() => parseTarget(vip), (e: unknown) => e instanceof UsageError && e.exitCode === 2 && e.message.includes(`'${vip}'`), vip);
    }
    // A shorter prefix on lo would make the whole network local to this host.
    assert.throws(() => parseTarget(VIP, '24'), /host address \(\/32\)/);
    for (const p of ['33', '0', '-1', '3x', '']) assert.throws(() => parseTarget(VIP, p), UsageError, p);
  });

  it('refuses loopback, unspecified, multicast and link-local VIPs before anything is read (down would delete 127.0.0.1/8)', () => {
    for (const [vip, why] of [['127.0.0.1', 'loopback'], ['0.0.0.0', 'unspecified'], ['239.1.1.1', 'multicast'], ['169.254.0.10', 'link-local'], ['::1', 'loopback'], ['fe80::10', 'link-local'], ['ff05::2', 'multicast']]) {
      assert.throws(() => parseTarget(vip!), (e: unknown) => e instanceof UsageError && e.message.includes(why!) && e.message.includes('nothing was changed'), vip);
    }
  });

  it('finds nothing wrong with a correct real server', () => {
    assert.deepEqual(problems(parseTarget(VIP), good()), []);
  });

  it('names every problem: VIP missing, wrong prefix, on a NIC, ARP not hidden', () => {
    const t = parseTarget(VIP);
    assert.deepEqual(problems(t, { ...good(), at: [] }), [`${VIP} is not on lo`]);
    assert.deepEqual(problems(t, { ...good(), at: [{ ifname: 'lo', address: VIP, prefix: 24 }] }), [`${VIP} is on lo as /24, not /32`]);
    assert.deepEqual(problems(t, { ...good(), at: [...good().at, { ifname: 'eth0', address: VIP, prefix: 24 }] }), [`${VIP} is on eth0: this host answers ARP for it there`]);
    const six = parseTarget('2001:db8::100');
    const at6 = [{ ifname: 'lo', address: '2001:db8::100', prefix: 128 }, { ifname: 'eth0', address: '2001:db8::100', prefix: 64 }];
    assert.deepEqual(problems(six, { at: at6, sysctls: {}, interfaces: [] }), ['2001:db8::100 is on eth0: this host answers neighbour solicitations for it there']);
    const o = good();
    o.sysctls['net/ipv4/conf/all/arp_ignore'] = '0';
    o.sysctls['net/ipv4/conf/eth1/arp_ignore'] = '1';
    o.sysctls['net/ipv4/conf/all/arp_announce'] = '1';
    assert.deepEqual(problems(t, o), [
      'arp_ignore is 0 on eth0: ARP requests for the VIP are answered there (1, 2 or 8 hide it; the larger of conf/all and conf/<interface> counts)',
      'arp_announce is 1 on eth0, 1 on eth1: ARP requests may carry the VIP as sender (2 is needed; the larger of conf/all and conf/<interface> counts)',
    ]);
  });

  it('knows which arp_ignore values hide the VIP: 1, 2 and 8, not 3 (global addresses answered) nor 4-7 (reserved, like 0)', () => {
    const t = parseTarget(VIP);
    const ignoreOn = (eth0: string) => {
      const o = good();
      o.sysctls['net/ipv4/conf/eth0/arp_ignore'] = eth0;
      return problems(t, o);
    };
    for (const v of ['0', '1', '2', '8']) assert.deepEqual(ignoreOn(v), [], v);
    for (const v of ['3', '4', '7']) assert.match(ignoreOn(v).join(), new RegExp(`^arp_ignore is ${v} on eth0:`), v);
    const o = good();
    o.sysctls['net/ipv4/conf/eth1/arp_announce'] = '3';
    assert.match(problems(t, o).join(), /^arp_announce is 3 on eth1:/);
  });

  it('counts per-interface values: the kernel takes the larger of all and the interface', () => {
    const o = good();
    Object.assign(o.sysctls, {
      'net/ipv4/conf/all/arp_ignore': '0',
      'net/ipv4/conf/all/arp_announce': '0',
      'net/ipv4/conf/eth0/arp_ignore': '1',
      'net/ipv4/conf/eth0/arp_announce': '2',
      'net/ipv4/conf/eth1/arp_ignore': '2',
      'net/ipv4/conf/eth1/arp_announce': '2',
    });
    assert.deepEqual(problems(parseTarget(VIP), o), []);
  });

  it('has no ARP to hide for IPv6', () => {
    const t = parseTarget('2001:db8::1');
    assert.deepEqual(problems(t, { at: [{ ifname: 'lo', address: '2001:db8::1', prefix: 128 }], sysctls: {}, interfaces: ['eth0'] }), []);
  });

  it('keeps ARP hidden while any IPv4 VIP is configured', () => {
    let s = withVip(undefined, VIP);
    s = withVip({ ...s, saved: { k: '0' } }, '198.51.100.101');
    assert.deepEqual(withVip(s, VIP), s, 'the same VIP twice is recorded once');
    assert.ok(arpStillNeeded(withoutVip(s, VIP)));
    const none = withoutVip(withoutVip(s, VIP), '198.51.100.101');
    assert.deepEqual(none, { saved: { k: '0' }, vips: [] });
    assert.ok(!arpStillNeeded(none));
    assert.ok(!arpStillNeeded(withVip(none, '2001:db8::1')));
  });
});
