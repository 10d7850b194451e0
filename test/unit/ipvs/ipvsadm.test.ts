import assert from 'node:assert/strict';
import { serviceAddress } from '../../../src/ipvs/ipvsadm';

describe('ipvs/ipvsadm', () => {
  it('takes the address out of service targets as ipvsadm -S writes them', () => {
    assert.equal(serviceAddress({ protocol: 'tcp', target: '198.51.100.100:80' }), '198.51.100.100');
    assert.equal(serviceAddress({ protocol: 'udp', target: '[2001:db8::1]:53' }), '2001:db8::1');
    assert.equal(serviceAddress({ protocol: 'fwmark', target: '7' }), undefined);
  });
});
