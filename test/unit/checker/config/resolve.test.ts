import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { ahostsAddresses, caching, servicesPort, systemResolver, type Resolver } from '../../../../src/checker/config/resolve';

describe('checker/config: resolver', () => {
  it('reads getent ahosts output: first address first, each once, no IPv4-mapped IPv6', () => {
    const v4 = '198.51.100.80   STREAM www.example.net\n198.51.100.80   DGRAM  \n198.51.100.81   STREAM \n';
    assert.deepEqual(ahostsAddresses(v4, 4), ['198.51.100.80', '198.51.100.81']);
    const v6 = '::ffff:198.51.100.80 STREAM www.example.net\n2001:db8::80    STREAM \n2001:db8::80    DGRAM  \n';
    assert.deepEqual(ahostsAddresses(v6, 6), ['2001:db8::80']);
    assert.deepEqual(ahostsAddresses('', 4), []);
  });

  it('reads getent services output', () => {
    assert.equal(servicesPort('http                  80/tcp www\n'), 80);
    assert.equal(servicesPort('domain                53/udp\n'), 53);
    assert.equal(servicesPort(''), undefined);
  });

  it('asks the underlying resolver once per name and family', () => {
    const calls: string[] = [];
    const base: Resolver = {
      host: (n, f) => (calls.push(`${n}/${f}`), n === 'web1' ? ['198.51.100.11'] : []),
      service: (n, p) => (calls.push(`${n}/${p}`), n === 'http' ? 80 : undefined),
    };
    const r = caching(base);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(r.host('web1', 4), ['198.51.100.11']);
      assert.deepEqual(r.host('nowhere', 4), []);
      assert.equal(r.service('http', 'tcp'), 80);
      assert.equal(r.service('nosuch'), undefined);
    }
    assert.deepEqual(calls, ['web1/4', 'nowhere/4', 'http/tcp', 'nosuch/undefined']);
  });

  it('looks service names up in /etc/services through getent (no network)', function () {
    if (!existsSync('/etc/services')) {
      console.log('      (skipped: no /etc/services on this machine; Debian\'s netbase package provides it)');
      this.skip();
    }
    assert.equal(systemResolver.service('http', 'tcp'), 80);
    assert.equal(systemResolver.service('domain', 'udp'), 53);
    assert.equal(systemResolver.service('no-such-service-lvskit', 'tcp'), undefined);
  });
});
