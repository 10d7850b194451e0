// The subset of BER (X.690) that LDAP (RFC 4511 §5.1) needs: single-byte tags, definite lengths,
// INTEGER/ENUMERATED, BOOLEAN, OCTET STRING and constructed types.

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  octetString: 0x04,
  enumerated: 0x0a,
  sequence: 0x30,
} as const;

export function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** Two's complement, minimal number of octets. */
export function integer(n: number, tag: number = TAG.integer): Buffer {
  if (!Number.isSafeInteger(n)) throw new RangeError(`BER integer out of range: ${n}`);
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(((v % 256) + 256) % 256);
    v = Math.floor(v / 256);
  } while (v !== 0 && v !== -1);
  // One more octet when the sign bit would say otherwise.
  if (n >= 0 && (bytes[0]! & 0x80) !== 0) bytes.unshift(0);
  if (n < 0 && (bytes[0]! & 0x80) === 0) bytes.unshift(0xff);
  return tlv(tag, Buffer.from(bytes));
}

export function enumerated(n: number): Buffer {
  return integer(n, TAG.enumerated);
}

export function boolean(b: boolean): Buffer {
  return tlv(TAG.boolean, Buffer.from([b ? 0xff : 0x00]));
}

export function octetString(s: string | Buffer, tag: number = TAG.octetString): Buffer {
  return tlv(tag, typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
}

export function sequence(items: Buffer[], tag: number = TAG.sequence): Buffer {
  return tlv(tag, Buffer.concat(items));
}

export interface Tlv {
  tag: number;
  /** The content octets. */
  value: Buffer;
  /** Bytes the whole element takes: tag, length and content. */
  size: number;
}

/**
 * Reads one element at `offset`. Returns undefined when `buf` does not hold all of it yet; throws
 * when it is malformed or announces more than `maxSize` bytes of content.
 */
export function readTlv(buf: Buffer, offset = 0, maxSize = 16 * 1024 * 1024): Tlv | undefined {
  if (buf.length < offset + 2) return undefined;
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Error(`BER: multi-byte tag 0x${tag.toString(16)} not supported`);
  const first = buf[offset + 1]!;
  let length: number;
  let header = 2;
  if (first < 0x80) {
    length = first;
  } else {
    const n = first & 0x7f;
    if (n === 0) throw new Error('BER: indefinite length not allowed');
    if (n > 4) throw new Error(`BER: length of ${n} octets`);
    if (buf.length < offset + 2 + n) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[offset + 2 + i]!;
    header += n;
  }
  if (length > maxSize) throw new Error(`BER: element of ${length} bytes is larger than ${maxSize}`);
  if (buf.length < offset + header + length) return undefined;
  return { tag, value: buf.subarray(offset + header, offset + header + length), size: header + length };
}

/** The elements inside a constructed value; throws when the last one is cut short. */
export function children(value: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let offset = 0; offset < value.length; ) {
    const t = readTlv(value, offset, value.length);
    if (!t) throw new Error('BER: truncated element');
    out.push(t);
    offset += t.size;
  }
  return out;
}

export function readInteger(value: Buffer): number {
  if (value.length === 0 || value.length > 6) throw new Error(`BER: integer of ${value.length} octets`);
  let n = value[0]! & 0x80 ? -1 : 0;
  for (const b of value) n = n * 256 + b;
  return n;
}
