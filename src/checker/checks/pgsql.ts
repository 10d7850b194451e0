// pgsql check, as ldirectord's check_sql with DBD::Pg: log in as login on database, run request,
// up when at least one row comes back. Speaks the frontend/backend protocol 3.0 itself. Like
// libpq's default (sslmode=prefer) it asks for TLS first and goes on in clear when the server says
// no; the certificate is not verified (neither does prefer). Authentication: cleartext, md5,
// SCRAM-SHA-256 (the server's signature is checked).
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { converse, missingSettings, rowsDetail, sqlQuery, type Session, type Step } from './conversation';
import { down, up } from './socket';
import type { Check, CheckResult, CheckTarget } from './types';

const pbkdf2Async = promisify(pbkdf2);
/** A message (one row, say) larger than this is not a health check's business; refused before it is held. */
export const MAX_MESSAGE = 1024 * 1024;
/** PBKDF2 rounds a server may ask for (PostgreSQL's default is 4096): bounds the CPU one check costs. */
export const MAX_SCRAM_ITERATIONS = 1_000_000;

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

const cstr = (s: string) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);

/** A frontend message: type byte, length (itself included), body. */
export function message(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(type, 'ascii'), int32(body.length + 4), body]);
}

export const SSL_REQUEST = Buffer.concat([int32(8), int32(80877103)]);
export const TERMINATE = message('X', Buffer.alloc(0));

export function startupMessage(params: Record<string, string>): Buffer {
  const body = [int32(196608)]; // protocol 3.0
  for (const [k, v] of Object.entries(params)) if (v !== '') body.push(cstr(k), cstr(v));
  body.push(Buffer.from([0]));
  const b = Buffer.concat(body);
  return Buffer.concat([int32(b.length + 4), b]);
}

export const passwordMessage = (password: string) => message('p', cstr(password));
export const queryMessage = (sql: string) => message('Q', cstr(sql));

/** md5 authentication: "md5" + md5hex(md5hex(password + user) + salt). */
export function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = createHash('md5').update(password + user, 'utf8').digest('hex');
  return `md5${createHash('md5').update(Buffer.concat([Buffer.from(inner, 'ascii'), salt])).digest('hex')}`;
}

/** Splits the backend stream into messages. */
export class MessageReader {
  private buf = Buffer.alloc(0);

  push(data: Buffer): Array<{ type: string; body: Buffer }> {
    this.buf = Buffer.concat([this.buf, data]);
    const out: Array<{ type: string; body: Buffer }> = [];
    while (this.buf.length >= 5) {
      const len = this.buf.readInt32BE(1);
      if (len < 4 || len > MAX_MESSAGE) throw new Error(`PostgreSQL: message length ${len}`);
      if (this.buf.length < 1 + len) break;
      out.push({ type: String.fromCharCode(this.buf[0]!), body: this.buf.subarray(5, 1 + len) });
      this.buf = this.buf.subarray(1 + len);
    }
    return out;
  }
}

/** ErrorResponse/NoticeResponse fields: "message (SQLSTATE)". */
export function parseError(body: Buffer): string {
  const fields: Record<string, string> = {};
  for (let o = 0; o < body.length && body[o] !== 0; ) {
    const end = body.indexOf(0, o + 1);
    if (end < 0) break;
    fields[String.fromCharCode(body[o]!)] = body.subarray(o + 1, end).toString('utf8');
    o = end + 1;
  }
  return `${fields.M ?? 'error'}${fields.C ? ` (${fields.C})` : ''}`;
}

// ---- SCRAM-SHA-256 (RFC 5802, RFC 7677) ----

const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();

/**
 * SASLprep (RFC 4013), as far as it changes a password: non-ASCII spaces become spaces, "mapped to
 * nothing" characters go, NFKC. ASCII passwords are unchanged, as PostgreSQL does.
 */
export function saslPrep(password: string): string {
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  return password
    .replace(/[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]/g, ' ')
    .replace(/[\u00ad\u034f\u1806\u180b-\u180d\u200c\u200d\u2060\ufe00-\ufe0f\ufeff]/g, '')
    .normalize('NFKC');
}

export interface ScramClient {
  /** client-first-message, gs2 header included. */
  first: string;
  /** The answer to server-first-message: client-final-message, and the server signature to expect. */
  final(serverFirst: string, password: string): Promise<{ message: string; serverSignature: string }>;
}

const escapeName = (s: string) => s.replace(/=/g, '=3D').replace(/,/g, '=2C');

export function scramClient(user: string, clientNonce = randomBytes(18).toString('base64')): ScramClient {
  const gs2 = 'n,,'; // no channel binding
  const firstBare = `n=${escapeName(user)},r=${clientNonce}`;
  return {
    first: gs2 + firstBare,
    async final(serverFirst, password) {
      const attrs = new Map(serverFirst.split(',').map((kv) => [kv.slice(0, 1), kv.slice(2)] as const));
      const nonce = attrs.get('r') ?? '';
      const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
      const iterations = Number(attrs.get('i'));
      if (!nonce.startsWith(clientNonce) || nonce.length <= clientNonce.length) throw new Error('SCRAM: server nonce does not extend ours');
      if (salt.length === 0) throw new Error('SCRAM: no salt');
      if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`SCRAM: bad iteration count ${attrs.get('i')}`);
      if (iterations > MAX_SCRAM_ITERATIONS) throw new Error(`SCRAM: iteration count ${iterations} above ${MAX_SCRAM_ITERATIONS}`);
      // Off the event loop: other checks go on meanwhile.
      const salted = await pbkdf2Async(Buffer.from(saslPrep(password), 'utf8'), salt, iterations, 32, 'sha256');
      const withoutProof = `c=${Buffer.from(gs2).toString('base64')},r=${nonce}`;
      const authMessage = `${firstBare},${serverFirst},${withoutProof}`;
      const clientKey = hmac(salted, 'Client Key');
      const signature = hmac(sha256(clientKey), authMessage);
      const proof = Buffer.alloc(32);
      for (let i = 0; i < 32; i++) proof[i] = clientKey[i]! ^ signature[i]!;
      const serverSignature = hmac(hmac(salted, 'Server Key'), authMessage).toString('base64');
      return { message: `${withoutProof},p=${proof.toString('base64')}`, serverSignature };
    },
  };
}

// ---- the session ----

type State = 'ssl' | 'auth' | 'ready' | 'query' | 'done';

export class PgsqlSession implements Session {
  phase = 'waiting for the answer to SSLRequest';
  private state: State;
  private readonly reader = new MessageReader();
  private scram?: ScramClient;
  private expectedSignature?: string;
  private rows = 0;
  private error?: string;

  constructor(
    private readonly target: Pick<CheckTarget, 'login' | 'passwd' | 'database' | 'request'>,
    /** Ask for TLS first (libpq's sslmode=prefer). */
    private readonly preferTls = true,
  ) {
    this.state = preferTls ? 'ssl' : 'auth';
  }

  private startup(): Buffer {
    this.state = 'auth';
    this.phase = 'during authentication';
    return startupMessage({ user: this.target.login, database: this.target.database, application_name: 'lvsd' });
  }

  open(): Step {
    return { send: [this.preferTls ? SSL_REQUEST : this.startup()] };
  }

  async receive(data: Buffer): Promise<Step> {
    if (this.state === 'ssl') {
      // One byte, and nothing after it: bytes sent before the TLS handshake would be
      // unauthenticated (CVE-2021-23222).
      if (data.length !== 1) throw new Error('unexpected data in the answer to SSLRequest');
      if (data[0] === 0x53) return { startTls: true, send: [this.startup()] };
      if (data[0] === 0x4e) return { send: [this.startup()] };
      throw new Error(`answer 0x${data[0]!.toString(16)} to SSLRequest`);
    }
    const send: Buffer[] = [];
    for (const m of this.reader.push(data)) {
      const step = await this.handle(m.type, m.body);
      if (step.done) return step;
      if (step.send) send.push(...step.send);
    }
    return { send };
  }

  private finish(result: CheckResult): Step {
    this.state = 'done';
    return { done: result, goodbye: TERMINATE };
  }

  private async handle(type: string, body: Buffer): Promise<Step> {
    if (type === 'N' || type === 'S' || type === 'K' || type === 'v') return {}; // notices, parameters, key, version
    if (this.state === 'auth' || this.state === 'ready') {
      if (type === 'E') return { done: down(`${this.state === 'auth' ? 'auth' : 'startup'} failed: ${parseError(body)}`) };
      if (type === 'R') return this.auth(body);
      if (type === 'Z' && this.state === 'ready') {
        this.state = 'query';
        this.phase = 'waiting for the query result';
        return { send: [queryMessage(sqlQuery(this.target.request))] };
      }
    } else if (this.state === 'query') {
      if (type === 'D') this.rows++;
      else if (type === 'E') this.error ??= parseError(body);
      else if (type === 'Z') {
        if (this.error) return this.finish(down(`query failed: ${this.error}`));
        return this.finish(this.rows > 0 ? up(rowsDetail(this.rows)) : down('0 rows'));
      }
      return {}; // RowDescription, CommandComplete, EmptyQueryResponse, ...
    }
    throw new Error(`unexpected message '${type}'`);
  }

  private async auth(body: Buffer): Promise<Step> {
    const code = body.readInt32BE(0);
    const { login, passwd } = this.target;
    const needPassword = () => this.finish(down('auth failed: the server wants a password and passwd is empty'));
    switch (code) {
      case 0: // AuthenticationOk
        if (this.scram) throw new Error('SCRAM: authentication ended before the server proved it knows the password');
        this.state = 'ready';
        return {};
      case 3: // cleartext
        if (passwd === '') return needPassword();
        return { send: [passwordMessage(passwd)] };
      case 5: // md5
        if (passwd === '') return needPassword();
        return { send: [passwordMessage(md5Password(login, passwd, body.subarray(4, 8)))] };
      case 10: {
        // SASL: the mechanisms, each NUL-terminated.
        const mechanisms = body.subarray(4).toString('utf8').split('\0').filter(Boolean);
        if (!mechanisms.includes('SCRAM-SHA-256')) return this.finish(down(`auth failed: no supported SASL mechanism in ${mechanisms.join(', ')}`));
        if (passwd === '') return needPassword();
        // PostgreSQL takes the user from the startup message; libpq leaves it empty here.
        this.scram = scramClient('');
        const first = Buffer.from(this.scram.first, 'utf8');
        return { send: [message('p', Buffer.concat([cstr('SCRAM-SHA-256'), int32(first.length), first]))] };
      }
      case 11: {
        // SASLContinue: server-first-message.
        if (!this.scram) throw new Error('SCRAM: continue without a start');
        const { message: final, serverSignature } = await this.scram.final(body.subarray(4).toString('utf8'), passwd);
        this.expectedSignature = serverSignature;
        return { send: [message('p', Buffer.from(final, 'utf8'))] };
      }
      case 12: {
        // SASLFinal: the server's proof that it knows the password.
        const final = body.subarray(4).toString('utf8');
        if (final.startsWith('e=')) return this.finish(down(`auth failed: SCRAM ${final.slice(2)}`));
        const got = Buffer.from(final.startsWith('v=') ? final.slice(2) : '', 'utf8');
        const want = Buffer.from(this.expectedSignature ?? '', 'utf8');
        if (want.length === 0 || got.length !== want.length || !timingSafeEqual(got, want)) {
          return this.finish(down('auth failed: the server\'s SCRAM signature is wrong (not the server that holds the password)'));
        }
        this.scram = undefined;
        return {};
      }
      default: {
        const names: Record<number, string> = { 2: 'Kerberos V5', 6: 'SCM credentials', 7: 'GSSAPI', 9: 'SSPI' };
        return this.finish(down(`auth failed: the server wants ${names[code] ?? `method ${code}`}, which lvsd does not support`));
      }
    }
  }
}

export const pgsqlCheck: Check = async (target, signal) =>
  missingSettings(target) ?? converse(target, signal, new PgsqlSession(target));
