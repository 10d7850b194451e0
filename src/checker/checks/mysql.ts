// mysql check, as ldirectord's check_sql with DBD::mysql: log in as login/passwd on database, run
// request, up when at least one row comes back. Speaks the client/server protocol itself
// (handshake v10, protocol 4.1). Like libmysqlclient's default (ssl-mode=PREFERRED) it switches to
// TLS when the server offers it, without verifying the certificate. Authentication:
// mysql_native_password; caching_sha2_password, its fast path anywhere and its full authentication
// (the password itself) only inside TLS; sha256_password inside TLS. It never sends a password in
// clear nor to an unverified RSA key. (mysql2 was measured and left out: docs/checker.md.)
import { createHash } from 'node:crypto';
import { converse, missingSettings, rowsDetail, sqlQuery, type Session, type Step } from './conversation';
import { down, up } from './socket';
import type { Check, CheckResult, CheckTarget } from './types';

export const CLIENT = {
  LONG_PASSWORD: 0x1,
  LONG_FLAG: 0x4,
  CONNECT_WITH_DB: 0x8,
  PROTOCOL_41: 0x200,
  SSL: 0x800,
  TRANSACTIONS: 0x2000,
  SECURE_CONNECTION: 0x8000,
  PLUGIN_AUTH: 0x80000,
} as const;

const COM_QUIT = 0x01;
const COM_QUERY = 0x03;
const MAX_PAYLOAD = 0xffffff;
/** A reply (one row, say) larger than this is not a health check's business; refused before it is held. */
export const MAX_MESSAGE = 1024 * 1024;

const sha1 = (...parts: Buffer[]) => createHash('sha1').update(Buffer.concat(parts)).digest();
const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i % b.length]!;
  return out;
}

/** mysql_native_password: SHA1(pw) XOR SHA1(nonce + SHA1(SHA1(pw))); empty for an empty password. */
export function nativePasswordScramble(password: string, nonce: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0);
  const h1 = sha1(Buffer.from(password, 'utf8'));
  return xor(h1, sha1(nonce, sha1(h1)));
}

/** caching_sha2_password's fast path: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce). */
export function cachingSha2Scramble(password: string, nonce: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0);
  const h1 = sha256(Buffer.from(password, 'utf8'));
  return xor(h1, sha256(sha256(h1), nonce));
}

/** One protocol packet: 3-byte little-endian length, sequence id, payload (< 16 MiB). */
export function packet(seq: number, payload: Buffer): Buffer {
  if (payload.length >= MAX_PAYLOAD) throw new Error('MySQL: packet too large');
  const head = Buffer.alloc(4);
  head.writeUIntLE(payload.length, 0, 3);
  head[3] = seq & 0xff;
  return Buffer.concat([head, payload]);
}

/** Splits a byte stream into packets (a 16 MiB packet, the start of a longer one, is above MAX_MESSAGE). */
export class PacketReader {
  private buf = Buffer.alloc(0);

  /** Bytes held that make no whole packet yet. */
  get pending(): number {
    return this.buf.length;
  }

  push(data: Buffer): Array<{ seq: number; payload: Buffer }> {
    this.buf = Buffer.concat([this.buf, data]);
    const out: Array<{ seq: number; payload: Buffer }> = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUIntLE(0, 3);
      if (len > MAX_MESSAGE) throw new Error(`MySQL: reply larger than ${MAX_MESSAGE} bytes`);
      if (this.buf.length < 4 + len) break;
      out.push({ seq: this.buf[3]!, payload: this.buf.subarray(4, 4 + len) });
      this.buf = this.buf.subarray(4 + len);
    }
    return out;
  }
}

export interface Handshake {
  serverVersion: string;
  capabilities: number;
  /** The 20-byte scramble. */
  nonce: Buffer;
  plugin: string;
}

function cstring(buf: Buffer, offset: number): [string, number] {
  const end = buf.indexOf(0, offset);
  if (end < 0) return [buf.subarray(offset).toString('utf8'), buf.length];
  return [buf.subarray(offset, end).toString('utf8'), end + 1];
}

/** The server's Initial Handshake Packet (protocol 10). */
export function parseHandshake(p: Buffer): Handshake {
  if (p[0] !== 10) throw new Error(`MySQL: unsupported protocol version ${p[0]}`);
  const [serverVersion, afterVersion] = cstring(p, 1);
  let o = afterVersion + 4; // connection id
  const part1 = p.subarray(o, o + 8);
  o += 9; // part 1 and a filler byte
  if (p.length < o + 2) throw new Error('MySQL: handshake too short');
  let capabilities = p.readUInt16LE(o);
  o += 2;
  let nonce = part1;
  let plugin = 'mysql_native_password';
  if (p.length >= o + 16) {
    o += 3; // character set, status flags
    capabilities |= p.readUInt16LE(o) << 16;
    capabilities >>>= 0;
    o += 2;
    const authLength = p[o]!;
    o += 11; // auth data length, reserved
    if (capabilities & CLIENT.SECURE_CONNECTION) {
      const n = Math.max(13, authLength - 8);
      nonce = Buffer.concat([part1, p.subarray(o, o + n)]);
      o += n;
    }
    if (capabilities & CLIENT.PLUGIN_AUTH) plugin = cstring(p, o)[0] || plugin;
  }
  return { serverVersion, capabilities, nonce: Buffer.from(nonce.subarray(0, 20)), plugin };
}

/** An ERR packet: "message (code)". */
export function parseError(p: Buffer): string {
  const code = p.length >= 3 ? p.readUInt16LE(1) : 0;
  const text = p.length > 3 && p[3] === 0x23 ? p.subarray(9) : p.subarray(3); // '#' + SQLSTATE
  return `${text.toString('utf8')} (${code})`;
}

/** The auth response for `plugin`, or why lvsd does not answer it. */
export function authResponse(plugin: string, password: string, nonce: Buffer, secure = false): Buffer | string {
  switch (plugin) {
    case 'mysql_native_password':
      return nativePasswordScramble(password, nonce);
    case 'caching_sha2_password':
      return cachingSha2Scramble(password, nonce);
    case 'mysql_clear_password':
      return 'the server asks for the password in clear (mysql_clear_password), which lvsd does not send';
    case 'sha256_password':
      return secure
        ? Buffer.concat([Buffer.from(password, 'utf8'), Buffer.from([0])])
        : 'sha256_password needs TLS (the server offers none) or the server\'s RSA key, which lvsd does not trust unverified';
    default:
      return `authentication plugin ${plugin} is not supported (lvsd speaks mysql_native_password and caching_sha2_password)`;
  }
}

export interface LoginOptions {
  user: string;
  authResponse: Buffer;
  database: string;
  plugin: string;
  serverCapabilities: number;
  /** Inside TLS (after an SSLRequest). */
  tls?: boolean;
}

function capabilities(o: Pick<LoginOptions, 'database' | 'serverCapabilities' | 'tls'>): number {
  let caps =
    CLIENT.LONG_PASSWORD | CLIENT.LONG_FLAG | CLIENT.PROTOCOL_41 | CLIENT.TRANSACTIONS | CLIENT.SECURE_CONNECTION | CLIENT.PLUGIN_AUTH;
  if (o.database !== '') caps |= CLIENT.CONNECT_WITH_DB;
  if (o.tls) caps |= CLIENT.SSL;
  return (caps & (o.serverCapabilities | CLIENT.PROTOCOL_41 | CLIENT.SECURE_CONNECTION)) >>> 0;
}

/** The fixed head of HandshakeResponse41, which is also the whole SSLRequest. */
function responseHead(caps: number): Buffer {
  const head = Buffer.alloc(32);
  head.writeUInt32LE(caps, 0);
  head.writeUInt32LE(MAX_PAYLOAD, 4); // max packet size
  head[8] = 45; // utf8mb4_general_ci
  return head;
}

/** SSLRequest: the client asks for TLS before it says anything else. */
export function sslRequest(o: Pick<LoginOptions, 'database' | 'serverCapabilities'>): Buffer {
  return responseHead(capabilities({ ...o, tls: true }));
}

/** HandshakeResponse41. */
export function handshakeResponse(o: LoginOptions): Buffer {
  const caps = capabilities(o);
  const parts = [responseHead(caps), Buffer.from(o.user, 'utf8'), Buffer.from([0, o.authResponse.length]), o.authResponse];
  if (caps & CLIENT.CONNECT_WITH_DB) parts.push(Buffer.from(o.database, 'utf8'), Buffer.from([0]));
  if (caps & CLIENT.PLUGIN_AUTH) parts.push(Buffer.from(o.plugin, 'utf8'), Buffer.from([0]));
  return Buffer.concat(parts);
}

export function queryPacket(sql: string): Buffer {
  return packet(0, Buffer.concat([Buffer.from([COM_QUERY]), Buffer.from(sql, 'utf8')]));
}

const QUIT = packet(0, Buffer.from([COM_QUIT]));

const isEof = (p: Buffer) => p[0] === 0xfe && p.length < 9;

type State = 'greeting' | 'auth' | 'columns' | 'rows';

export class MysqlSession implements Session {
  phase = 'waiting for the greeting';
  private state: State = 'greeting';
  private readonly reader = new PacketReader();
  private nonce: Buffer = Buffer.alloc(0);
  private plugin = '';
  /** After the switch to TLS. */
  private secure = false;
  /** Columns of the result set; 0 until its first packet. */
  private columns = 0;
  private rows = 0;

  constructor(
    private readonly target: Pick<CheckTarget, 'login' | 'passwd' | 'database' | 'request'>,
    /** TLS when the server offers it (libmysqlclient's ssl-mode=PREFERRED). */
    private readonly preferTls = true,
  ) {}

  open(): Step {
    return {};
  }

  receive(data: Buffer): Step {
    const send: Buffer[] = [];
    const packets = this.reader.push(data);
    for (const [i, { seq, payload }] of packets.entries()) {
      const step = this.handle(seq, payload);
      if (step.done) return step;
      if (step.startTls) {
        // Anything after the greeting and before TLS would pass as if it came through TLS.
        if (i < packets.length - 1 || this.reader.pending > 0) throw new Error('MySQL: unexpected data before the TLS handshake');
        return step;
      }
      if (step.send) send.push(...step.send);
    }
    return { send };
  }

  private fail(result: CheckResult): Step {
    return { done: result, goodbye: QUIT };
  }

  private handle(seq: number, p: Buffer): Step {
    switch (this.state) {
      case 'greeting': {
        if (p[0] === 0xff) return { done: down(`server refused the connection: ${parseError(p)}`) };
        const hs = parseHandshake(p);
        if (!(hs.capabilities & CLIENT.PROTOCOL_41)) return { done: down(`server ${hs.serverVersion} is too old (no protocol 4.1)`) };
        this.nonce = hs.nonce;
        this.secure = this.preferTls && (hs.capabilities & CLIENT.SSL) !== 0;
        // An unknown default plugin: offer mysql_native_password; the server switches if the account needs another.
        const known = typeof authResponse(hs.plugin, '', hs.nonce, this.secure) !== 'string';
        this.plugin = known ? hs.plugin : 'mysql_native_password';
        const response = authResponse(this.plugin, this.target.passwd, this.nonce, this.secure) as Buffer;
        this.state = 'auth';
        this.phase = 'during authentication';
        const login = handshakeResponse({
          user: this.target.login,
          authResponse: response,
          database: this.target.database,
          plugin: this.plugin,
          serverCapabilities: hs.capabilities,
          tls: this.secure,
        });
        if (!this.secure) return { send: [packet(seq + 1, login)] };
        const ask = sslRequest({ database: this.target.database, serverCapabilities: hs.capabilities });
        return { beforeTls: [packet(seq + 1, ask)], startTls: true, send: [packet(seq + 2, login)] };
      }
      case 'auth':
        return this.auth(seq, p);
      case 'columns':
        if (this.columns === 0) {
          if (p[0] === 0x00) return this.fail(down('0 rows (the request returned no result set)'));
          if (p[0] === 0xff) return this.fail(down(`query failed: ${parseError(p)}`));
          if (p[0] === 0xfb) return this.fail(down('server asked for a local file (LOAD DATA LOCAL), which lvsd does not send'));
          this.columns = lengthEncoded(p);
          return {};
        }
        if (p[0] === 0xff) return this.fail(down(`query failed: ${parseError(p)}`));
        if (isEof(p)) this.state = 'rows';
        return {};
      case 'rows':
        if (p[0] === 0xff) return this.fail(down(`query failed: ${parseError(p)}`));
        if (isEof(p)) return this.fail(this.rows > 0 ? up(rowsDetail(this.rows)) : down('0 rows'));
        this.rows++;
        return {};
    }
  }

  private auth(seq: number, p: Buffer): Step {
    const kind = p[0];
    if (kind === 0x00) {
      this.state = 'columns';
      this.phase = 'waiting for the query result';
      return { send: [queryPacket(sqlQuery(this.target.request))] };
    }
    if (kind === 0xff) return { done: down(`auth failed: ${parseError(p)}`) };
    if (kind === 0xfe) {
      // AuthSwitchRequest: another plugin, with a fresh scramble.
      const [plugin, o] = cstring(p, 1);
      const data = p.subarray(o);
      this.plugin = plugin;
      this.nonce = Buffer.from((data[data.length - 1] === 0 ? data.subarray(0, -1) : data).subarray(0, 20));
      const response = authResponse(plugin, this.target.passwd, this.nonce, this.secure);
      if (typeof response === 'string') return this.fail(down(`auth failed: ${response}`));
      return { send: [packet(seq + 1, response)] };
    }
    if (kind === 0x01 && this.plugin === 'caching_sha2_password') {
      if (p[1] === 0x03) return {}; // fast authentication succeeded; OK follows
      if (p[1] === 0x04) {
        // Full authentication: the password itself, which goes only inside TLS; the alternative, an
        // RSA key sent by the server and verified by nobody, libmysqlclient refuses by default too.
        if (this.secure) return { send: [packet(seq + 1, Buffer.concat([Buffer.from(this.target.passwd, 'utf8'), Buffer.from([0])]))] };
        return this.fail(
          down(
            'auth failed: caching_sha2_password needs full authentication, and the server offers no TLS to send the password in; ' +
              'enable TLS on the server, use mysql_native_password, or log in once with the mysql client (it fills the server\'s cache)',
          ),
        );
      }
    }
    throw new Error(`MySQL: unexpected packet 0x${(kind ?? 0).toString(16)}`);
  }
}

function lengthEncoded(p: Buffer): number {
  const b = p[0]!;
  if (b < 0xfb) return b;
  if (b === 0xfc) return p.readUInt16LE(1);
  if (b === 0xfd) return p.readUIntLE(1, 3);
  if (b === 0xfe) return Number(p.readBigUInt64LE(1));
  throw new Error('MySQL: bad length-encoded integer');
}

export const mysqlCheck: Check = async (target, signal) =>
  missingSettings(target) ?? converse(target, signal, new MysqlSession(target));
