// service=dns (ldirectord check_dns, Net::DNS): ask the real for `request` over UDP (TCP when the
// virtual is tcp, or when the UDP answer is truncated); up when an A address or a PTR name in the
// answer is receive. ldirectord compares with `eq`, not a pattern: receive is the exact address or
// name. As Net::DNS does, an address as request becomes a PTR query.
import { randomInt } from 'node:crypto';
import net from 'node:net';
import { brief, connect, endpointOf, fail, guarded, LineReader, readLengthPrefixed, send, udpExchange, up } from './socket';
import type { Check } from './types';

export const TYPE = { A: 1, NS: 2, CNAME: 5, PTR: 12, AAAA: 28 } as const;
const CLASS_IN = 1;
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export interface Question {
  name: string;
  type: number;
}

export interface ResourceRecord {
  name: string;
  type: number;
  ttl: number;
  /** A and AAAA: the address; PTR, CNAME, NS: the name; other types: undefined. */
  data: string | undefined;
}

export interface Message {
  id: number;
  response: boolean;
  truncated: boolean;
  rcode: number;
  questions: Question[];
  answers: ResourceRecord[];
}

/** The question a request asks: a PTR of an IPv4/IPv6 address, else the A record of the name. */
export function questionFor(request: string): Question {
  const name = request.replace(/\.$/, '');
  if (net.isIPv4(name)) return { name: `${name.split('.').reverse().join('.')}.in-addr.arpa`, type: TYPE.PTR };
  if (net.isIPv6(name)) return { name: `${[...expandIPv6(name)].reverse().join('.')}.ip6.arpa`, type: TYPE.PTR };
  return { name, type: TYPE.A };
}

/** The 32 hex digits of an IPv6 address. */
function expandIPv6(address: string): string {
  let text = address.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => g.padStart(4, '0')).join('');
}

/** A standard query with recursion desired. */
export function encodeQuery(id: number, question: Question): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id & 0xffff, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4); // one question
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(question.type, 0);
  tail.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([header, encodeName(question.name), tail]);
}

export function encodeName(name: string): Buffer {
  const trimmed = name.replace(/\.$/, '');
  const parts: Buffer[] = [];
  if (trimmed !== '') {
    for (const label of trimmed.split('.')) {
      const bytes = Buffer.from(label, 'utf8');
      if (bytes.length === 0) throw new Error(`empty label in DNS name "${name}"`);
      if (bytes.length > 63) throw new Error(`DNS label longer than 63 bytes in "${name}"`);
      parts.push(Buffer.from([bytes.length]), bytes);
    }
  }
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  if (out.length > 255) throw new Error(`DNS name longer than 255 bytes: "${name}"`);
  return out;
}

export function decodeMessage(buf: Buffer): Message {
  if (buf.length < 12) throw new Error(`DNS message of ${buf.length} bytes`);
  const flags = buf.readUInt16BE(2);
  const counts = [4, 6, 8, 10].map((o) => buf.readUInt16BE(o)) as [number, number, number, number];
  let offset = 12;
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const { name, next } = readName(buf, offset);
    need(buf, next, 4);
    questions.push({ name, type: buf.readUInt16BE(next) });
    offset = next + 4;
  }
  const answers: ResourceRecord[] = [];
  for (let i = 0; i < counts[1]; i++) {
    const { name, next } = readName(buf, offset);
    need(buf, next, 10);
    const type = buf.readUInt16BE(next);
    const ttl = buf.readUInt32BE(next + 4);
    const length = buf.readUInt16BE(next + 8);
    const start = next + 10;
    need(buf, start, length);
    answers.push({ name, type, ttl, data: rdata(buf, type, start, length) });
    offset = start + length;
  }
  return { id: buf.readUInt16BE(0), response: (flags & 0x8000) !== 0, truncated: (flags & 0x0200) !== 0, rcode: flags & 0x000f, questions, answers };
}

function rdata(buf: Buffer, type: number, start: number, length: number): string | undefined {
  if (type === TYPE.A && length === 4) return [...buf.subarray(start, start + 4)].join('.');
  if (type === TYPE.AAAA && length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(start + i).toString(16));
    return groups.join(':');
  }
  if (type === TYPE.PTR || type === TYPE.CNAME || type === TYPE.NS) return readName(buf, start).name;
  return undefined;
}

function need(buf: Buffer, offset: number, length: number): void {
  if (offset + length > buf.length) throw new Error('DNS message cut short');
}

/** A (possibly compressed) name, without the trailing dot, and the offset after it. */
export function readName(buf: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let next = -1;
  let size = 0;
  for (let jumps = 0; ; ) {
    need(buf, offset, 1);
    const len = buf[offset]!;
    if (len === 0) {
      if (next < 0) next = offset + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      need(buf, offset, 2);
      if (next < 0) next = offset + 2;
      if (++jumps > 64) throw new Error('DNS name compression loop');
      offset = buf.readUInt16BE(offset) & 0x3fff;
      continue;
    }
    if (len & 0xc0) throw new Error('unknown DNS label type');
    need(buf, offset + 1, len);
    size += len + 1;
    if (size > 255) throw new Error('DNS name longer than 255 bytes');
    labels.push(buf.subarray(offset + 1, offset + 1 + len).toString('utf8'));
    offset += len + 1;
  }
  return { name: labels.join('.'), next };
}

export const dnsCheck: Check = (target, signal) =>
  guarded(signal, async (scope) => {
    if (target.receive === '') fail('receive is empty: a DNS check needs the address or name to expect');
    const question = questionFor(target.request);
    const id = randomInt(0x10000);
    const query = encodeQuery(id, question);
    const isAnswer = (m: Message) => m.response && m.id === id;

    let answer: Message | undefined;
    if (target.protocol === 'udp') {
      const raw = await udpExchange(scope, endpointOf(target), () => query, (msg) => {
        try {
          return isAnswer(decodeMessage(msg));
        } catch {
          return false;
        }
      });
      answer = decodeMessage(raw);
    }
    if (!answer || answer.truncated) {
      const socket = await connect(scope, endpointOf(target));
      const reader = new LineReader(socket, scope.signal);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(query.length);
      scope.step('waiting for the answer over TCP');
      await send(socket, Buffer.concat([length, query]));
      answer = decodeMessage(await readLengthPrefixed(reader));
      if (!isAnswer(answer)) fail('answer to another query');
      socket.destroy();
    }

    if (answer.rcode !== 0) fail(`DNS ${RCODES[answer.rcode] ?? `rcode ${answer.rcode}`} for ${brief(question.name, 60)}`);
    const found: string[] = [];
    for (const rr of answer.answers) {
      if ((rr.type === TYPE.A || rr.type === TYPE.PTR) && rr.data !== undefined) {
        if (rr.data === target.receive) return up(`answer ${brief(rr.data, 60)}`);
        found.push(rr.data);
      }
    }
    fail(found.length ? `"${brief(target.receive, 40)}" not among ${brief(found.join(' '), 60)}` : `no A or PTR record for ${brief(question.name, 60)}`);
  });
