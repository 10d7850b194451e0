// BER as X.690 defines it, on the values LDAP uses.
import assert from 'node:assert/strict';
import { boolean, children, encodeLength, integer, octetString, readInteger, readTlv, sequence } from '../../../../src/checker/checks/ber';

const hex = (b: Buffer) => b.toString('hex');

describe('checks: BER', () => {
  it('encodes lengths short (< 128) and long (0x81 nn, 0x82 nn nn)', () => {
    assert.equal(hex(encodeLength(0)), '00');
    assert.equal(hex(encodeLength(127)), '7f');
    assert.equal(hex(encodeLength(128)), '8180');
    assert.equal(hex(encodeLength(200)), '81c8');
    assert.equal(hex(encodeLength(0x1234)), '821234');
  });

  it('encodes integers in the fewest two\'s complement octets (X.690 8.3)', () => {
    assert.equal(hex(integer(0)), '020100');
    assert.equal(hex(integer(127)), '02017f');
    assert.equal(hex(integer(128)), '02020080');
    assert.equal(hex(integer(256)), '02020100');
    assert.equal(hex(integer(-1)), '0201ff');
    assert.equal(hex(integer(-128)), '020180');
    assert.equal(hex(integer(-129)), '0202ff7f');
  });

  it('decodes integers back, negative ones included', () => {
    for (const n of [0, 1, 127, 128, 255, 256, 65535, 2147483647, -1, -128, -129, -65536]) {
      const t = readTlv(integer(n));
      assert.ok(t);
      assert.equal(readInteger(t.value), n);
    }
  });

  it('encodes BOOLEAN, OCTET STRING (UTF-8) and SEQUENCE', () => {
    assert.equal(hex(boolean(false)), '010100');
    assert.equal(hex(boolean(true)), '0101ff');
    assert.equal(hex(octetString('')), '0400');
    assert.equal(hex(octetString('é')), '0402c3a9');
    assert.equal(hex(sequence([integer(1), octetString('a')])), '3006020101040161');
  });

  it('reads a long-form element only once all of it has arrived', () => {
    const whole = octetString('x'.repeat(300));
    assert.equal(hex(whole.subarray(0, 4)), '0482012c');
    assert.equal(readTlv(whole.subarray(0, 1)), undefined);
    assert.equal(readTlv(whole.subarray(0, 3)), undefined);
    assert.equal(readTlv(whole.subarray(0, 303)), undefined);
    const t = readTlv(whole);
    assert.equal(t?.size, 304);
    assert.equal(t?.value.length, 300);
  });

  it('splits a constructed value into its elements', () => {
    const kids = children(sequence([integer(5), octetString('ab'), boolean(true)]).subarray(2));
    assert.deepEqual(kids.map((k) => k.tag), [0x02, 0x04, 0x01]);
    assert.equal(kids[1]!.value.toString(), 'ab');
  });

  it('refuses what LDAP forbids or a check cannot afford: indefinite length, huge elements, truncation', () => {
    assert.throws(() => readTlv(Buffer.from('3080', 'hex')), /indefinite/);
    assert.throws(() => readTlv(Buffer.from('0484ffffffff', 'hex')), /larger than/);
    assert.throws(() => readTlv(Buffer.from('1f0100', 'hex')), /multi-byte tag/);
    assert.throws(() => children(Buffer.from('020101040561', 'hex')), /truncated/);
  });
});
