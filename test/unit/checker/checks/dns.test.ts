// The DNS encoder and decoder of the dns check, on messages built by hand from RFC 1035 §4.
import assert from 'node:assert/strict';
import { decodeMessage, encodeName, encodeQuery, questionFor, readName, TYPE } from '../../../../src/checker/checks/dns';

/** A name as RFC 1035 lays it out: length-prefixed labels, then 0. */
const wire = (name: string) => Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);

describe('checks: DNS messages', () => {
  it('encodes a query: id, RD, one question, the name as labels, type and class IN', () => {
    const q = encodeQuery(0x1234, { name: 'www.example.test', type: TYPE.A });
    assert.equal(q.toString('hex'), `123401000001000000000000${wire('www.example.test').toString('hex')}00010001`);
  });

  it('encodes a trailing dot and the root the same as RFC 1035 does', () => {
    assert.deepEqual(encodeName('example.test.'), wire('example.test'));
    assert.deepEqual(encodeName(''), Buffer.from([0]));
  });

  it('refuses empty labels, labels over 63 bytes and names over 255', () => {
    assert.throws(() => encodeName('a..b'), /empty label/);
    assert.throws(() => encodeName(`${'a'.repeat(64)}.test`), /longer than 63/);
    assert.throws(() => encodeName(Array(64).fill('abc').join('.')), /longer than 255/);
  });

  it('asks PTR for an address (in-addr.arpa, ip6.arpa nibbles) and A for a name', () => {
    assert.deepEqual(questionFor('203.0.113.5'), { name: '5.113.0.203.in-addr.arpa', type: TYPE.PTR });
    assert.deepEqual(questionFor('2001:db8::1'), { name: `1.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.ip6.arpa`, type: TYPE.PTR });
    assert.deepEqual(questionFor('::ffff:203.0.113.5'), { name: `5.0.1.7.0.0.b.c.f.f.f.f.${'0.'.repeat(20)}ip6.arpa`, type: TYPE.PTR });
    assert.deepEqual(questionFor('www.example.test.'), { name: 'www.example.test', type: TYPE.A });
  });

  it('decodes an answer with compressed names: A, PTR and CNAME records, flags and rcode', () => {
    const header = Buffer.from('abcd81800001000300000000', 'hex');
    const question = Buffer.concat([wire('www.example.test'), Buffer.from('00010001', 'hex')]);
    const cname = Buffer.concat([Buffer.from('c00c000500010000003c', 'hex'), Buffer.from([0, 6]), Buffer.from([3]), Buffer.from('web'), Buffer.from('c010', 'hex')]);
    const a = Buffer.from('c00c00010001000000780004cb007105', 'hex');
    const ptr = Buffer.concat([Buffer.from('c00c000c00010000003c', 'hex'), Buffer.from([0, 2]), Buffer.from('c00c', 'hex')]);
    const m = decodeMessage(Buffer.concat([header, question, cname, a, ptr]));
    assert.equal(m.id, 0xabcd);
    assert.equal(m.response, true);
    assert.equal(m.truncated, false);
    assert.equal(m.rcode, 0);
    assert.deepEqual(m.questions, [{ name: 'www.example.test', type: TYPE.A }]);
    assert.deepEqual(m.answers, [
      { name: 'www.example.test', type: TYPE.CNAME, ttl: 60, data: 'web.example.test' },
      { name: 'www.example.test', type: TYPE.A, ttl: 120, data: '203.0.113.5' },
      { name: 'www.example.test', type: TYPE.PTR, ttl: 60, data: 'www.example.test' },
    ]);
  });

  it('reads the TC flag and the rcode (NXDOMAIN = 3)', () => {
    const m = decodeMessage(Buffer.from('00018383000000000000000000', 'hex').subarray(0, 12));
    assert.equal(m.truncated, true);
    assert.equal(m.rcode, 3);
  });

  it('rejects a message cut short, and a compression loop, without hanging', () => {
    assert.throws(() => decodeMessage(Buffer.alloc(5)), /5 bytes/);
    const cut = Buffer.concat([Buffer.from('000181800001000100000000', 'hex'), wire('a.test'), Buffer.from('00010001c00c0001', 'hex')]);
    assert.throws(() => decodeMessage(cut), /cut short/);
    const loop = Buffer.concat([Buffer.alloc(12), Buffer.from('c00c', 'hex')]);
    assert.throws(() => readName(loop, 12), /loop/);
  });
});
