// Plumbing shared by the checks: one total deadline (the AbortSignal) over everything a check does,
// TCP/TLS connect, a line reader, UDP request/response and child processes, all torn down when
// the signal aborts, and short reasons for the logs.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { compilePattern, type Pattern } from '../pattern';
import type { CheckResult, CheckTarget } from './types';

export const up = (detail: string): CheckResult => ({ up: true, detail });
export const down = (detail: string): CheckResult => ({ up: false, detail });

/** Thrown inside a check: the real is down, for this reason. */
export class Down extends Error {}

export function fail(detail: string): never {
  throw new Down(detail);
}

interface Disposable {
  destroy(): void;
}

/** What one check holds: its signal, what it is doing now, and what to tear down at the end. */
export class Scope {
  /** Named in the timeout detail: "timed out connecting". */
  phase = 'starting';
  private readonly owned = new Set<Disposable>();
  constructor(readonly signal: AbortSignal) {}

  own<T extends Disposable>(resource: T): T {
    this.owned.add(resource);
    return resource;
  }

  step(phase: string): void {
    this.phase = phase;
  }

  dispose(): void {
    for (const r of this.owned) {
      try {
        r.destroy();
      } catch {
        /* already gone */
      }
    }
    this.owned.clear();
  }
}

/**
 * Runs a check body under the signal: resolves with its result, with "down" and a reason when it
 * throws, or "timed out <phase>" the moment the signal aborts; then destroys everything it owned.
 */
export function guarded(signal: AbortSignal, body: (scope: Scope) => Promise<CheckResult>): Promise<CheckResult> {
  if (signal.aborted) return Promise.resolve(down('timed out before starting'));
  const scope = new Scope(signal);
  return new Promise((resolve) => {
    let done = false;
    const finish = (result: CheckResult) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      scope.dispose();
      resolve(result);
    };
    const onAbort = () => finish(down(`timed out ${scope.phase}`));
    signal.addEventListener('abort', onAbort, { once: true });
    let running: Promise<CheckResult>;
    try {
      running = body(scope);
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then(finish, (err: unknown) => finish(down(describeError(err))));
  });
}

const ERRNO: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed by the server',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connect timed out',
  EADDRNOTAVAIL: 'address not available',
  EACCES: 'permission denied',
};

/** A short reason for the logs. */
export function describeError(err: unknown): string {
  if (err instanceof Down) return err.message;
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code && ERRNO[e.code]) return ERRNO[e.code]!;
  const message = e?.message ?? String(err);
  // OpenSSL's messages bury the reason ("…:SSL routines:ssl3_get_record:wrong version number:…").
  const reason = (e as { reason?: unknown } | undefined)?.reason;
  const ssl = typeof reason === 'string' ? reason : /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1];
  if (ssl !== undefined) return `TLS: ${brief(ssl)}`;
  if (e?.code?.startsWith('ERR_SSL') || e?.code?.startsWith('ERR_TLS')) return `TLS: ${brief(message)}`;
  return brief(message);
}

/** At most `max` characters of one line of text, for details. */
export function brief(text: string, max = 80): string {
  const line = text.replace(/[\r\n]+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * The receive pattern of a target. The configuration parser refused what cannot compile, so this
 * failing is a check failure with the reason, never a crash.
 */
export function receivePattern(receive: string): Pattern {
  try {
    return compilePattern(receive);
  } catch (err) {
    fail(`receive /${brief(receive, 40)}/: ${(err as Error).message}`);
  }
}

/** A literal IPv6 address in a URL or header: in brackets. */
export function hostLiteral(address: string): string {
  return net.isIPv6(address) ? `[${address}]` : address;
}

export interface Endpoint {
  address: string;
  port: number;
  family?: 4 | 6;
}

export function endpointOf(t: Pick<CheckTarget, 'address' | 'port' | 'family'>): Endpoint {
  return { address: t.address, port: t.port, family: t.family };
}

/** TCP (or TLS, unverified like ldirectord's) connection, owned by the scope. */
export function connect(scope: Scope, to: Endpoint, options: { tls?: boolean; servername?: string } = {}): Promise<net.Socket> {
  scope.step('connecting');
  return new Promise((resolve, reject) => {
    const base = { host: to.address, port: to.port, ...(to.family ? { family: to.family } : {}) };
    const socket = options.tls
      ? tls.connect({ ...base, rejectUnauthorized: false, ...(options.servername && !net.isIP(options.servername) ? { servername: options.servername } : {}) })
      : net.connect(base);
    scope.own(socket);
    // An error without a listener would crash the daemon; readers keep their own.
    socket.on('error', () => undefined);
    socket.once(options.tls ? 'secureConnect' : 'connect', () => {
      socket.off('error', reject);
      if (options.tls) scope.step('after the TLS handshake');
      resolve(socket);
    });
    socket.once('error', reject);
    if (options.tls) socket.once('connect', () => scope.step('in the TLS handshake'));
  });
}

/** Writes and resolves once the data is handed to the kernel (or the socket failed). */
export function send(socket: net.Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed || !socket.writable) return resolve();
    socket.write(data, () => resolve());
  });
}

/** Says goodbye (QUIT, LOGOUT) without waiting for the answer: the check has its result already. */
export async function goodbye(socket: net.Socket, data: string): Promise<void> {
  await send(socket, data);
  socket.end();
}

/** Rejects a value that would end a protocol line early (CR or LF in a login, say). */
export function oneLine(value: string, what: string): string {
  if (/[\r\n]/.test(value)) fail(`${what} contains a line break`);
  return value;
}

/**
 * Reads lines (LF or CRLF, either stripped) or raw bytes from a stream as they come. Wakes when the
 * signal aborts; fails on a line longer than `maxLine`; pauses the stream rather than buffering
 * without limit.
 */
/** Bytes received and not yet taken; appending costs amortized O(1) per byte, however small the chunks. */
class ByteQueue {
  private store = Buffer.alloc(4096);
  private start = 0;
  private end = 0;

  get length(): number {
    return this.end - this.start;
  }

  push(chunk: Buffer): void {
    if (this.end + chunk.length > this.store.length) {
      const size = this.length + chunk.length;
      const store = size * 2 > this.store.length ? Buffer.alloc(Math.max(size * 2, 4096)) : this.store;
      this.store.copy(store, 0, this.start, this.end);
      this.store = store;
      this.end = size - chunk.length;
      this.start = 0;
    }
    chunk.copy(this.store, this.end);
    this.end += chunk.length;
  }

  indexOf(byte: number, from: number): number {
    const i = this.store.subarray(this.start + from, this.end).indexOf(byte);
    return i < 0 ? -1 : i + from;
  }

  take(n: number): Buffer {
    const out = Buffer.from(this.store.subarray(this.start, this.start + n));
    this.start += n;
    return out;
  }

  drop(n: number): void {
    this.start += n;
  }
}

export class LineReader {
  private readonly buf = new ByteQueue();
  /** How far the queue is known to hold no LF. */
  private scanned = 0;
  private ended = false;
  private error: unknown;
  private waiter: (() => void) | undefined;
  /** Buffer this much before pausing the stream. */
  private limit: number;

  constructor(
    private readonly stream: Readable,
    private readonly signal?: AbortSignal,
    private readonly maxLine = 64 * 1024,
  ) {
    this.limit = maxLine;
    const wake = () => {
      const w = this.waiter;
      this.waiter = undefined;
      w?.();
    };
    const onAbort = () => wake();
    stream.on('data', (chunk: Buffer | string) => {
      this.buf.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      if (this.buf.length > this.limit) stream.pause();
      wake();
    });
    stream.on('end', () => {
      this.ended = true;
      wake();
    });
    stream.on('error', (err) => {
      this.error = err;
      wake();
    });
    stream.on('close', () => {
      this.ended = true;
      signal?.removeEventListener('abort', onAbort);
      wake();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  }

  private get finished(): boolean {
    return this.ended || this.error !== undefined;
  }

  /** The next line, or null at the end of the stream (a last line without LF counts). */
  async line(): Promise<string | null> {
    const raw = await this.rawLine();
    if (raw === null) return null;
    const end = raw[raw.length - 1] === 10 ? raw.length - 1 : raw.length;
    return stripCr(raw.subarray(0, end).toString('utf8'));
  }

  /** The next line as bytes with its LF, as Perl's `<$socket>` reads it; null at the end. */
  async rawLine(): Promise<Buffer | null> {
    for (;;) {
      const nl = this.buf.indexOf(10, this.scanned);
      this.scanned = nl < 0 ? this.buf.length : nl;
      if (nl >= 0 && nl <= this.maxLine) return this.take(nl + 1);
      if (this.buf.length > this.maxLine) fail(`line longer than ${this.maxLine} bytes`);
      if (this.finished) {
        if (this.error !== undefined) throw this.error;
        return this.buf.length ? this.take(this.buf.length) : null;
      }
      await this.waitForMore(this.maxLine);
    }
  }

  /** Exactly `n` bytes (at most the line limit), or null when the stream ends before. */
  async bytes(n: number): Promise<Buffer | null> {
    if (n > this.maxLine) fail(`a message of ${n} bytes (at most ${this.maxLine})`);
    for (;;) {
      if (this.buf.length >= n) return this.take(n);
      if (this.finished) {
        if (this.error !== undefined) throw this.error;
        return null;
      }
      await this.waitForMore(n);
    }
  }

  /** Reads and forgets `n` bytes, holding at most the line limit at a time; false when the stream ends before. */
  async skip(n: number): Promise<boolean> {
    for (let left = n; ; ) {
      const k = Math.min(left, this.buf.length);
      this.buf.drop(k);
      this.scanned = 0;
      left -= k;
      if (left === 0) return true;
      if (this.finished) {
        if (this.error !== undefined) throw this.error;
        return false;
      }
      await this.waitForMore(this.maxLine);
    }
  }

  /** Everything up to the end of the stream, at most `max` bytes (then `truncated`). */
  async rest(max: number): Promise<{ data: Buffer; truncated: boolean }> {
    for (;;) {
      if (this.buf.length >= max) return { data: this.take(max), truncated: true };
      if (this.finished) {
        if (this.error !== undefined) throw this.error;
        return { data: this.take(this.buf.length), truncated: false };
      }
      await this.waitForMore(max);
    }
  }

  private take(n: number): Buffer {
    this.scanned = 0;
    return this.buf.take(n);
  }

  private async waitForMore(limit: number): Promise<void> {
    if (this.signal?.aborted) fail('timed out');
    this.limit = limit;
    if (this.stream.isPaused() && this.buf.length <= limit) this.stream.resume();
    await new Promise<void>((resolve) => (this.waiter = resolve));
    if (this.signal?.aborted) fail('timed out');
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** An SMTP/FTP style reply: a 3-digit code, continuation lines "NNN-" up to the final "NNN ". */
export interface Reply {
  code: number;
  text: string;
}

export async function readReply(reader: LineReader): Promise<Reply> {
  const first = await reader.line();
  if (first === null) fail('connection closed by the server');
  const m = /^(\d{3})([ -]|$)/.exec(first);
  if (!m) fail(`unexpected reply "${brief(first, 40)}"`);
  const code = m[1]!;
  let last = first;
  for (let lines = 0; m[2] === '-' && !(last.startsWith(`${code} `) || last === code); lines++) {
    if (lines > 1000) fail('reply of more than 1000 lines');
    const next = await reader.line();
    if (next === null) fail('connection closed in the middle of a reply');
    last = next;
  }
  return { code: Number(code), text: first.slice(4) };
}

/** A reply in the 2xx range, or down with `what` and the reply. */
export function expect2xx(reply: Reply, what: string): Reply {
  if (reply.code < 200 || reply.code > 299) fail(`${what}: ${reply.code} ${brief(reply.text, 40)}`.trimEnd());
  return reply;
}

/**
 * One UDP request/response with the real: sends `request(localAddress, localPort)` on a connected
 * socket (so ICMP port unreachable comes back as "connection refused"), resends it after 1, 2, 4 …
 * s, and resolves with the first datagram `accept` takes.
 */
export function udpExchange(
  scope: Scope,
  to: Endpoint,
  request: (local: { address: string; port: number }) => Buffer,
  accept: (message: Buffer) => boolean,
): Promise<Buffer> {
  scope.step('waiting for a UDP answer');
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(to.family === 6 || net.isIPv6(to.address) ? 'udp6' : 'udp4');
    let timer: NodeJS.Timeout | undefined;
    let open = true;
    // Closed as soon as it has served (a truncated DNS answer goes on over TCP), or with the scope.
    const close = () => {
      clearTimeout(timer);
      if (!open) return;
      open = false;
      socket.close();
    };
    scope.own({ destroy: close });
    socket.on('error', (err) => {
      close();
      reject(err);
    });
    socket.on('message', (message) => {
      if (!open || !accept(message)) return;
      close();
      resolve(message);
    });
    socket.connect(to.port, to.address, () => {
      if (!open) return;
      const local = socket.address();
      const packet = request({ address: local.address, port: local.port });
      let wait = 1000;
      const sendOnce = () => {
        if (!open) return;
        socket.send(packet);
        timer = setTimeout(sendOnce, wait);
        wait = Math.min(wait * 2, 8000);
      };
      sendOnce();
    });
  });
}

/** A TCP stream of DNS messages: a two-byte length, then the message. */
export async function readLengthPrefixed(reader: LineReader): Promise<Buffer> {
  const head = await reader.bytes(2);
  if (head === null) fail('connection closed before an answer');
  const body = await reader.bytes(head.readUInt16BE(0));
  if (body === null) fail('connection closed in the middle of an answer');
  return body;
}

export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The start of what it wrote to stderr. */
  stderr: string;
}

/**
 * Runs a program (argument array, no shell) in its own process group, owned by the scope: when the
 * check ends before the program does, the whole group gets SIGTERM, then SIGKILL half a second later
 * (what ignores TERM must not outlive the check).
 */
export function runChild(scope: Scope, file: string, args: string[]): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(file, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      return reject(err);
    }
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 512) stderr += chunk.toString('utf8');
    });
    child.stderr?.on('error', () => undefined);
    scope.own({
      destroy: () => {
        child.stderr?.destroy();
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
        const pid = child.pid;
        const kill = (sig: NodeJS.Signals) => {
          try {
            process.kill(-pid, sig);
          } catch {
            /* the group is gone */
          }
        };
        kill('SIGTERM');
        setTimeout(() => kill('SIGKILL'), 500);
      },
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' ? new Down(`cannot run ${file}: not found`) : err.code === 'EACCES' ? new Down(`cannot run ${file}: permission denied`) : err);
    });
    // 'exit', not 'close': a grandchild may hold stderr open long after.
    child.once('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}
