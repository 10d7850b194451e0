import assert from 'node:assert/strict';
import { serviceArgs } from '../../../src/ipvs/ipvsadm';
import { addressService, canonicalAddress, describeService, fwmarkService, serviceAddress, serviceKey } from '../../../src/ipvs/service';

describe('ipvs/service and ipvsadm: one typed identity of a virtual service', () => {
  it('writes each service as ipvsadm names it', () => {
    assert.deepEqual(serviceArgs(addressService('tcp', '198.51.100.100', 80)), ['-t', '198.51.100.100:80']);
    assert.deepEqual(serviceArgs(addressService('udp', '2001:DB8:0::1', 53)), ['-u', '[2001:db8::1]:53']);
    assert.deepEqual(serviceArgs(addressService('sctp', '198.51.100.100', 9)), ['--sctp-service', '198.51.100.100:9']);
    assert.deepEqual(serviceArgs(fwmarkService(7)), ['-f', '7']);
    assert.deepEqual(serviceArgs(fwmarkService(8, 6)), ['-f', '8', '-6']);
  });

  it('keys and describes services the same way whatever the spelling of an IPv6 address', () => {
    assert.equal(canonicalAddress('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
    assert.equal(serviceKey(addressService('tcp', '2001:db8:0:0::1', 80)), serviceKey(addressService('tcp', '2001:db8::1', 80)));
    assert.equal(describeService(addressService('tcp', '198.51.100.100', 80)), '198.51.100.100:80 tcp');
    assert.equal(describeService(fwmarkService(8, 6)), 'fwmark 8 IPv6');
  });

  it('gives the address of address services only', () => {
    assert.equal(serviceAddress(addressService('tcp', '198.51.100.100', 80)), '198.51.100.100');
    assert.equal(serviceAddress(addressService('udp', '2001:db8::1', 53)), '2001:db8::1');
    assert.equal(serviceAddress(fwmarkService(7)), undefined);
  });
});
