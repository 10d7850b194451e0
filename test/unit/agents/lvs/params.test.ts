import assert from 'node:assert/strict';
import { parseConfig } from '../../../../src/agents/lvs/params';
import { OCF, OcfError } from '../../../../src/ocf/codes';

const base = { vip: '198.51.100.100', nic: 'eth0', arp_sender: 'auto', arp_count: '5', arp_interval: '200', arp_mode: 'request', ipvs_cleanup: 'vip', sync_interface: '', sync_id: '0', forwarding: 'false', duplicate_check_interval: '2', link_holddown: '15' };

function rejects(params: Record<string, string>, message: RegExp): void {
  assert.throws(
    () => parseConfig({ ...base, ...params }),
    (e) => e instanceof OcfError && e.code === OCF.ERR_CONFIGURED && message.test(e.reason),
    JSON.stringify(params),
  );
}

describe('agents/lvs/params: parameter syntax', () => {
  it('takes the defaults: host prefix on the NIC, no sync daemons', () => {
    const c = parseConfig(base);
    assert.equal(c.family, 4);
    assert.equal(c.prefix, 32);
    assert.equal(c.hostPrefix, 32);
    assert.equal(c.syncInterface, undefined);
    assert.equal(parseConfig({ ...base, vip: '2001:db8::10' }).prefix, 128);
    assert.equal(parseConfig({ ...base, vip_prefix: '24' }).prefix, 24);
  });

  it('refuses addresses that cannot be a VIP, naming why (stop would delete 127.0.0.1/8 from lo)', () => {
    const cases: Array<[string, RegExp]> = [
      ['127.0.0.1', /loopback/], ['0.0.0.0', /unspecified/], ['224.0.0.18', /multicast/], ['169.254.1.1', /link-local/],
      ['255.255.255.255', /broadcast/], ['::1', /loopback/], ['::', /unspecified/], ['ff02::1', /multicast/], ['fe80::1', /link-local/],
    ];
    for (const [vip, why] of cases) rejects({ vip }, new RegExp(`parameter 'vip': .*${why.source}`));
  });

  it('rejects addresses that are not a bare IP', () => {
    for (const vip of ['', '300.1.1.1', '198.51.100.100/24', '198.51.100', 'fe80::1%eth0', '$(id)', '-j', '198.51.100.100;reboot']) {
      rejects({ vip }, /parameter 'vip' is not an IPv4 or IPv6 address/);
    }
  });

  it('rejects interface names crafted as shell or option injection', () => {
    for (const nic of ['eth0;reboot', '$(id)', '-j', 'eth0 up', 'a/b', '', 'x'.repeat(16), '`id`', '..']) {
      rejects({ nic }, /parameter 'nic' is not a valid interface name/);
    }
    rejects({ nic: 'lo' }, /cannot be lo/);
    rejects({ sync_interface: '--syncid' }, /parameter 'sync_interface'/);
    for (const nic of ['eth0', 'ens3', 'bond0.100', 'br-lan', 'enp0s31f6']) assert.equal(parseConfig({ ...base, nic }).nic, nic);
  });

  it('checks ranges of prefix, sync id and ARP settings', () => {
    rejects({ vip_prefix: '33' }, /'vip_prefix' must be an integer from 1 to 32, got '33'/);
    rejects({ vip: '2001:db8::1', vip_prefix: '129' }, /from 1 to 128/);
    rejects({ vip_prefix: '0' }, /vip_prefix/);
    rejects({ sync_id: '256' }, /'sync_id' must be an integer from 0 to 255, got '256'/);
    rejects({ sync_id: '-1' }, /sync_id/);
    rejects({ sync_id: '1e2' }, /sync_id/);
    rejects({ arp_count: '0' }, /arp_count/);
    rejects({ arp_interval: '5' }, /arp_interval/);
    rejects({ arp_mode: 'gratuitous' }, /'arp_mode' must be one of request, reply/);
    rejects({ arp_sender: 'bash' }, /arp_sender/);
    rejects({ ipvs_cleanup: 'some' }, /ipvs_cleanup/);
    assert.equal(parseConfig({ ...base, sync_id: '255', sync_interface: 'eth1' }).syncId, 255);
  });
});
