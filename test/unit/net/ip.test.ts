import assert from 'node:assert/strict';
import { addressArgs } from '../../../src/net/ip';

describe('net/ip', () => {
  it('adds an IPv6 address without DAD and deprecated (usable at once, never chosen as a source), an IPv4 one with its broadcast', () => {
    assert.deepEqual(addressArgs('add', 'eth0', '2001:db8::100', 128, 6), ['addr', 'add', '2001:db8::100/128', 'dev', 'eth0', 'nodad', 'preferred_lft', '0']);
    assert.deepEqual(addressArgs('add', 'eth0', '198.51.100.100', 24, 4), ['addr', 'add', '198.51.100.100/24', 'brd', '+', 'dev', 'eth0']);
    assert.deepEqual(addressArgs('add', 'lo', '198.51.100.100', 32, 4), ['addr', 'add', '198.51.100.100/32', 'dev', 'lo']);
  });

  it('deletes with the address, prefix and device only', () => {
    assert.deepEqual(addressArgs('del', 'eth0', '2001:db8::100', 64, 6), ['addr', 'del', '2001:db8::100/64', 'dev', 'eth0']);
  });
});
