import assert from 'node:assert/strict';
import type { RealConfig } from '../../../../src/checker/config/model';
import { FILE, only, section } from './helpers';

/** The reals of one section, without their `where`. */
function reals(...lines: string[]): Array<Omit<RealConfig, 'where'>> {
  return only(section(...lines)).reals.map(({ where: _where, ...r }) => r);
}

describe('checker/config: real = HOST[->HOST][:PORT] METHOD [WEIGHT] ["REQ", "RECV"] [l:N] [u:N]', () => {
  it('reads address, port, forwarding method and weight (default 1, 0 allowed)', () => {
    assert.deepEqual(reals('real=198.51.100.11:8080 masq', 'real=198.51.100.12:80 ipip 5', 'real=198.51.100.13 gate 0'), [
      { family: 4, address: '198.51.100.11', port: 8080, forward: 'masq', weight: 1, checkport: 8080 },
      { family: 4, address: '198.51.100.12', port: 80, forward: 'ipip', weight: 5, checkport: 80 },
      { family: 4, address: '198.51.100.13', port: 0, forward: 'gate', weight: 0, checkport: 80 },
    ]);
  });

  it('expands an IPv4 range into one real per address, all from the same line', () => {
    const small = only(section('real=198.51.100.10->198.51.100.12:80 gate 3')).reals;
    assert.deepEqual(small.map((r) => [r.address, r.weight, r.where.line]), [['198.51.100.10', 3, 2], ['198.51.100.11', 3, 2], ['198.51.100.12', 3, 2]]);
    const across = only(section('real=198.51.100.255->198.51.101.1:80 gate')).reals.map((r) => r.address);
    assert.deepEqual(across, ['198.51.100.255', '198.51.101.0', '198.51.101.1']);
    assert.deepEqual(only(section('real=198.51.100.7->198.51.100.7 gate')).reals.map((r) => r.address), ['198.51.100.7']);
  });

  it('reads bare thresholds in either order (ldirectord\'s code, not the man page\'s quoted form)', () => {
    assert.deepEqual(
      reals('real=198.51.100.11:80 gate 2 l:10 u:100', 'real=198.51.100.12:80 gate u:50 l:5', 'real=198.51.100.13:80 gate u:20').map((r) => [r.weight, r.lthreshold, r.uthreshold]),
      [[2, 10, 100], [1, 5, 50], [1, undefined, 20]],
    );
    assert.deepEqual(reals('real=198.51.100.11:80 gate l:0 u:0').map((r) => [r.lthreshold, r.uthreshold]), [[0, 0]]);
  });

  it('reads a per-real request/receive pair, separated by a comma or a blank, before the thresholds', () => {
    const [a, b, c] = reals(
      'real=198.51.100.11:80 gate 2 "health", "OK" l:1 u:9',
      'real=198.51.100.12:80 gate "/status" "up and running"',
      'real=198.51.100.13:80 gate "/", ""',
    );
    assert.deepEqual([a!.request, a!.receive, a!.weight, a!.lthreshold, a!.uthreshold], ['/health', 'OK', 2, 1, 9]);
    assert.deepEqual([b!.request, b!.receive], ['/status', 'up and running']);
    assert.deepEqual([c!.request, c!.receive], ['/', '']);
    // The per-real pair overrides the virtual's; reals without one take the virtual's.
    const v = only(section('real=198.51.100.11:80 gate "a", "b"', 'real=198.51.100.12:80 gate', 'request="index.html"', 'receive="Welcome"'));
    assert.deepEqual([v.request, v.receive, v.reals[1]!.request, v.reals[1]!.receive], ['/index.html', 'Welcome', undefined, undefined]);
  });

  it('moves the check of a real to the host and port of an http:// or https:// request, keeping the real', () => {
    const [r] = reals('real=198.51.100.11:80 gate "http://198.51.100.50:8080/health?x=1", "OK"');
    assert.deepEqual(r, {
      family: 4, address: '198.51.100.11', port: 80, forward: 'gate', weight: 1,
      checkhost: '198.51.100.50', checkport: 8080, request: '/health?x=1', receive: 'OK',
    });
    const https = only('virtual=198.51.100.100:443\n    real=198.51.100.11:443 gate "https://www.example.net/ping", "pong"\n').reals[0]!;
    assert.deepEqual([https.checkhost, https.checkport, https.request], ['www.example.net', 443, '/ping']);
    const v6 = only('virtual6=[2001:db8::1]:80\n    real6=[2001:db8::11]:80 gate "http://[2001:db8::50]/", "OK"\n').reals[0]!;
    assert.deepEqual([v6.checkhost, v6.checkport, v6.request], ['2001:db8::50', 80, '/']);
    // Only for the service's own scheme; http_proxy requests are URLs fetched through the real.
    const proxy = only('virtual=198.51.100.100:3128\n    real=198.51.100.11:3128 gate "http://www.example.net/", "OK"\n').reals[0]!;
    assert.deepEqual([proxy.checkhost, proxy.checkport, proxy.request], [undefined, 3128, 'http://www.example.net/']);
  });

  it('keeps a per-real request of other services as that check uses it', () => {
    const [r] = only('virtual=198.51.100.100:389\n    real=198.51.100.11 gate "/dc=example,dc=net", "dc=example"\n').reals;
    assert.deepEqual([r!.request, r!.receive, r!.checkport], ['dc=example,dc=net', 'dc=example', 389]);
  });

  it('reads IPv6 reals in brackets, with or without port, in canonical form', () => {
    const v = only('virtual6=[2001:db8::1]:80\n    real6=[2001:DB8:0:0::11]:8080 masq 3\n    real6=[2001:db8::12] gate\n');
    assert.deepEqual(v.reals.map((r) => [r.family, r.address, r.port, r.forward, r.weight, r.where]), [
      [6, '2001:db8::11', 8080, 'masq', 3, { file: FILE, line: 2 }],
      [6, '2001:db8::12', 0, 'gate', 1, { file: FILE, line: 3 }],
    ]);
  });

  it('accepts a section of fwmark reals without ports', () => {
    const v = only('virtual=12\n    real=198.51.100.11 gate\n    real=198.51.100.12 gate 2\n    checktype=ping\n');
    assert.deepEqual(v.reals.map((r) => [r.address, r.port, r.checkport]), [['198.51.100.11', 0, undefined], ['198.51.100.12', 0, undefined]]);
  });
});
