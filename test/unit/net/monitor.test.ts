import assert from 'node:assert/strict';
import { parseAddressEvent } from '../../../src/net/monitor';

// Captured from `ip -o monitor address link` (iproute2 6.1) in a namespace on Linux 6.1.
const LINES = {
  add4: '3: d0    inet 198.51.100.100/24 scope global d0\\       valid_lft forever preferred_lft forever',
  add6: '3: d0    inet6 2001:db8::100/128 scope global nodad \\       valid_lft forever preferred_lft forever',
  del4: 'Deleted 3: d0    inet 198.51.100.100/24 scope global d0\\       valid_lft forever preferred_lft forever',
  lo: '1: lo    inet 198.51.100.100/32 scope global lo\\       valid_lft forever preferred_lft forever',
  link: '3: d0@d1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default \\    link/ether 7e:44:09:92:fc:5b brd ff:ff:ff:ff:ff:ff',
};

describe('net/monitor: address events from ip -o monitor', () => {
  it('reads additions and deletions of both families, with the interface', () => {
    assert.deepEqual(parseAddressEvent(LINES.add4), { deleted: false, ifname: 'd0', address: '198.51.100.100', family: 4 });
    assert.deepEqual(parseAddressEvent(LINES.add6), { deleted: false, ifname: 'd0', address: '2001:db8::100', family: 6 });
    assert.deepEqual(parseAddressEvent(LINES.del4), { deleted: true, ifname: 'd0', address: '198.51.100.100', family: 4 });
    assert.deepEqual(parseAddressEvent(LINES.lo), { deleted: false, ifname: 'lo', address: '198.51.100.100', family: 4 });
  });

  it('ignores lines that are not address events', () => {
    assert.equal(parseAddressEvent(LINES.link), undefined);
    assert.equal(parseAddressEvent(''), undefined);
  });
});
