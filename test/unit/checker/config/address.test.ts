// Every way of writing an address, right or wrong, ends as a value or as a problem with file and
// line: nothing an operator types may abort the parse and hide the file's other problems.
import assert from 'node:assert/strict';
import { listenAddress } from '../../../../src/checker/config/address';
import { ConfigError } from '../../../../src/checker/config/errors';
import { serveMetrics } from '../../../../src/checker/metrics';
import { FILE, assertError, errorLines, parse, section } from './helpers';

const R = 'real=198.51.100.11:80 gate';

describe('checker/config/address: IPv6 zones and odd forms', () => {
  const zone = /has a zone index \(%eth0\): IPVS addresses have none/;
  const cases: Array<[string, string, number, string, RegExp]> = [
    ['virtual6 with a zone', 'virtual6=[fe80::1%eth0]:80\n    real6=[2001:db8::11]:80 gate\n', 1, 'virtual6', zone],
    ['virtual with an IPv6 zone', 'virtual=[fe80::1%eth0]:80\n    real=198.51.100.11:80 gate\n', 1, 'virtual', /needs virtual6/],
    ['real6 with a zone', 'virtual6=[2001:db8::1]:80\n    real6=[fe80::11%eth0]:80 gate\n', 2, 'real6', zone],
    ['fallback6 with a zone', 'fallback6=[fe80::250%eth0]:80\n', 1, 'fallback6', zone],
    ['a zone written %25eth0', 'virtual6=[fe80::1%25eth0]:80\n    real6=[2001:db8::11]:80 gate\n', 1, 'virtual6', /zone index \(%25eth0\)/],
    ['a bare IPv6 real with a zone', 'virtual6=[2001:db8::1]:80\n    real6=fe80::11%eth0 gate\n', 2, 'real6', /cannot read 'fe80::11%eth0'/],
  ];
  for (const [what, text, line, directive, pattern] of cases) {
    it(`${what}: a file:line error, not a bare "Invalid URL"`, () => assertError(text, line, directive, pattern));
  }

  it('keeps reporting the rest of the file after a zone', () => {
    const text = 'virtual6=[fe80::1%eth0]:80\n    real6=[2001:db8::11]:80 gate\nchecktimeout=0\nvirtual=198.51.100.100:80\n    scheduler=WLC\n';
    const lines = errorLines(text);
    assert.deepEqual(lines.map((l) => l.split(': ').slice(0, 2).join(': ')), [`${FILE}:1: virtual6`, `${FILE}:3: checktimeout`, `${FILE}:5: scheduler`]);
  });

  it('canonicalises IPv6 spellings, so one address is one virtual', () => {
    const c = parse('virtual6=[2001:DB8:0:0::1]:80\n    real6=[2001:db8::0011]:80 gate\n');
    assert.equal(c.virtuals[0]!.address, '2001:db8::1');
    assert.equal(c.virtuals[0]!.reals[0]!.address, '2001:db8::11');
    assert.throws(() => parse('virtual6=[2001:db8::1]:80\n    real6=[2001:db8::11] gate\nvirtual6=[2001:0db8::1]:80\n    real6=[2001:db8::11] gate\n'), /duplicate virtual service/);
  });
});

/** A small deterministic generator (mulberry32): the same seed gives the same cases. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('checker/config/address: fuzzed address values', () => {
  const HOSTS = ['198.51.100.11', '203.0.113.5', '2001:db8::1', 'fe80::1', '::', '::ffff:198.51.100.1', 'web1', 'v6only', 'www.example.net', '198.51.100.300', '2001:db8::g'];
  const ZONES = ['%eth0', '%25eth0', '%', '%1', '%lo%'];
  const PORTS = ['80', '0', '65535', '65536', 'http', 'nosuch', '', '99999999999999999999'];
  const NOISE = ['[', ']', ':', '::', '.', '%', '->', '-', ' ', '\t', '"', '#', '/', '@', '\\', '$(id)', '*', '0x10', '\u00e9', '\u0000'];
  const FORMS: Array<(v: string) => string> = [
    (v) => `virtual=${v}\n    ${R}\n`,
    (v) => `virtual6=${v}\n    real6=[2001:db8::11]:80 gate\n`,
    (v) => section(`real=${v} gate`),
    (v) => section(`real=${v}`),
    (v) => `virtual6=[2001:db8::1]:80\n    real6=${v} gate\n`,
    (v) => `fallback=${v}\n${section(R)}`,
    (v) => `fallback6=${v} masq\n`,
    (v) => `metrics=${v}\n`,
    (v) => section(R, `fallback=${v}`),
  ];

  it('parses or refuses 5000 generated address values, each refusal with file, line and directive', () => {
    const seed = 20_261_202;
    const next = random(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
    const host = () => {
      const h = pick(HOSTS) + (next() < 0.3 ? pick(ZONES) : '');
      return next() < 0.5 ? `[${h}]` : h;
    };
    for (let i = 0; i < 5000; i++) {
      // An address as an operator would write it (host, a range, a zone, a port), then a few slips.
      let value = host() + (next() < 0.15 ? `->${host()}` : '') + (next() < 0.7 ? `:${pick(PORTS)}` : '');
      for (let slips = Math.floor(next() * 3); slips > 0; slips--) {
        const at = Math.floor(next() * (value.length + 1));
        value = next() < 0.5 ? value.slice(0, at) + pick(NOISE) + value.slice(at) : value.slice(0, at) + value.slice(at + 1);
      }
      const text = pick(FORMS)(value);
      const label = `case ${i} (seed ${seed}): ${JSON.stringify(text)}`;
      try {
        parse(text);
      } catch (err) {
        assert.ok(err instanceof ConfigError, `${label}: threw ${(err as Error).stack}`);
        for (const p of err.problems) {
          assert.ok(p.line > 0, `${label}: no line in ${JSON.stringify(p)}`);
          assert.doesNotMatch(p.message, /^cannot read this value \(/, `${label}: an unexpected error, not a checked one: ${p.message}`);
        }
      }
    }
  });
});

describe('checker/config/address: listen addresses (metrics directive, --metrics, the OCF parameter)', () => {
  it('takes an explicit IPv4, [IPv6] or name, and the wildcards only when written out', () => {
    assert.deepEqual(listenAddress('198.51.100.10:9101'), { host: '198.51.100.10', port: 9101 });
    assert.deepEqual(listenAddress('[2001:db8::10]:9101'), { host: '2001:db8::10', port: 9101 });
    assert.deepEqual(listenAddress('director1:9101'), { host: 'director1', port: 9101 });
    assert.deepEqual(listenAddress('0.0.0.0:9101'), { host: '0.0.0.0', port: 9101 });
    assert.deepEqual(listenAddress('[::]:9101'), { host: '::', port: 9101 });
  });

  const refused: Array<[string, RegExp]> = [
    [':19102', /^no address before ':19102': write the address to listen on, such as 127\.0\.0\.1:19102, or 0\.0\.0\.0:19102 \/ \[::\]:19102 for every interface$/],
    ['[]:9101', /invalid IPv6 address ''/],
    ['9101', /expected HOST:PORT/],
    ['198.51.100.10', /expected HOST:PORT/],
    ['198.51.100.10:0', /port 0 is out of range/],
    ['198.51.100.10:65536', /port 65536 is out of range/],
    ['[fe80::1%eth0]:9101', /invalid IPv6 address 'fe80::1%eth0'/],
    ['2001:db8::10:9101', /expected HOST:PORT/],
    ['198.51.100.300:9101', /invalid IPv4 address/],
    ['-l:9101', /invalid host name '-l'/],
    ['a b:9101', /invalid host name 'a b'/],
  ];
  for (const [text, message] of refused) {
    it(`refuses ${JSON.stringify(text)}, in the file as on the command line`, async () => {
      assert.throws(() => listenAddress(text), (e: Error) => message.test(e.message));
      assertError(`metrics=${text}\n`, 1, 'metrics', message);
      await assert.rejects(serveMetrics(text, () => ''), (e: Error) => e.message.startsWith('metrics: ') && message.test(e.message.slice('metrics: '.length)));
    });
  }
});
