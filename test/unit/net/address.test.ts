import assert from 'node:assert/strict';
import { ipFamily, isInterfaceName, sameAddress } from '../../../src/net/address';

describe('net/address', () => {
  it('knows the family of bare addresses only', () => {
    assert.equal(ipFamily('198.51.100.1'), 4);
    assert.equal(ipFamily('2001:db8::1'), 6);
    assert.equal(ipFamily('::ffff:198.51.100.1'), 6);
    for (const v of ['198.51.100.1/32', 'fe80::1%lo', 'eth0', '']) assert.equal(ipFamily(v), undefined, v);
  });

  it('compares IPv6 addresses written differently', () => {
    assert.ok(sameAddress('2001:db8::1', '2001:0DB8:0:0:0:0:0:1'));
    assert.ok(sameAddress('::ffff:198.51.100.1', '::ffff:c633:6401'));
    assert.ok(!sameAddress('2001:db8::1', '2001:db8::2'));
    assert.ok(sameAddress('198.51.100.1', '198.51.100.1'));
    assert.ok(!sameAddress('198.51.100.1', '198.51.100.10'));
  });

  it('accepts real interface names and refuses option-like ones', () => {
    for (const n of ['eth0', 'bond0.10', 'veth@if3', 'br_lan']) assert.ok(isInterfaceName(n), n);
    for (const n of ['-j', '.', '..', 'a b', 'a/b', 'a;b', 'sixteen-chars-xx']) assert.ok(!isInterfaceName(n), n);
  });
});
