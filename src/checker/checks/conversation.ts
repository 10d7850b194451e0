// One TCP (or TLS) conversation between a binary-protocol check (ldap, mysql, pgsql) and a real
// server. The protocol itself is a Session: bytes in, bytes out, a verdict; no I/O, so that it is
// unit-tested without sockets. This module feeds it from a socket that socket.ts's guarded() owns,
// so the deadline, the teardown and the short reasons are the same as for every other check.
import type net from 'node:net';
import tls from 'node:tls';
import { printable } from './detail';
import { connect, describeError, Down, down, endpointOf, guarded, send } from './socket';
import type { CheckResult, CheckTarget } from './types';

export interface Step {
  /** Bytes for the server, in order. */
  send?: Buffer[];
  /** Switch this connection to TLS, then send `send` (PostgreSQL's SSLRequest answered 'S'). */
  startTls?: boolean;
  /** With startTls: bytes sent in clear before the switch (MySQL's SSLRequest). */
  beforeTls?: Buffer[];
  /** The verdict. The conversation then ends, after `goodbye` if given (COM_QUIT, Terminate, Unbind). */
  done?: CheckResult;
  goodbye?: Buffer;
}

export interface Session {
  /** What to say once connected (nothing when the server speaks first). */
  open(): Step;
  /** Bytes from the server. May be async (key derivation). Throws on a protocol violation. */
  receive(data: Buffer): Step | Promise<Step>;
  /** What it waits for, completing "timed out ..." and "connection closed ...": "during authentication". */
  readonly phase: string;
}

/** One line, bounded, and never the password (a server may echo what it was sent). */
export function cleanDetail(detail: string, secrets: string[] = []): string {
  let d = detail;
  for (const s of secrets) if (s !== '') d = d.split(s).join('***');
  return printable(d);
}

export interface ConverseOptions {
  /** TLS from the start (ldaps); the certificate is not verified, as ldirectord does not. */
  tls?: boolean;
}

export async function converse(
  target: Pick<CheckTarget, 'address' | 'port' | 'family' | 'passwd'>,
  signal: AbortSignal,
  session: Session,
  options: ConverseOptions = {},
): Promise<CheckResult> {
  const result = await guarded(signal, async (scope) => {
    let socket = await connect(scope, endpointOf(target), { tls: options.tls });
    scope.step(session.phase);
    const outcome = await new Promise<Step>((resolve, reject) => {
      const fail = (detail: string) => reject(new Down(`${detail} ${scope.phase}`));
      // Steps run one after another in arrival order, even when one is async.
      let queue = Promise.resolve();
      const later = (fn: () => Step | Promise<Step> | void) => {
        queue = queue
          .then(async () => {
            const step = await fn();
            if (step) apply(step);
          })
          .catch((err: unknown) =>
            reject(err instanceof Down ? err : new Down(`protocol error ${scope.phase}: ${describeError(err)}`)),
          );
      };
      const apply = (step: Step) => {
        scope.step(session.phase);
        if (step.done) {
          unlisten(); // what the server says after the verdict does not change it
          return resolve(step);
        }
        if (step.startTls) {
          for (const b of step.beforeTls ?? []) socket.write(b);
          return upgrade(step.send ?? []);
        }
        for (const b of step.send ?? []) socket.write(b);
      };
      const listen = (s: net.Socket): (() => void) => {
        const onData = (chunk: Buffer) => later(() => session.receive(chunk));
        const onEnd = () => later(() => void fail('server closed the connection'));
        const onClose = () => later(() => void fail('connection closed'));
        const onError = (err: Error) => fail(describeError(err));
        s.on('data', onData).on('end', onEnd).on('close', onClose).on('error', onError);
        return () => s.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onError);
      };
      let unlisten = listen(socket);
      const upgrade = (then: Buffer[]) => {
        unlisten();
        const secure = scope.own(tls.connect({ socket, rejectUnauthorized: false }));
        secure.on('error', () => undefined); // one after the verdict must not crash the daemon
        socket = secure;
        unlisten = listen(secure);
        scope.step('in the TLS handshake');
        secure.once('secureConnect', () => {
          scope.step(session.phase);
          for (const b of then) secure.write(b);
        });
      };
      later(() => session.open());
    });
    if (outcome.goodbye) await send(socket, outcome.goodbye);
    return outcome.done!;
  });
  return { up: result.up, detail: cleanDetail(result.detail, [target.passwd]) };
}

// Shared by the SQL checks (mysql, pgsql), as ldirectord's check_sql.

/** ldirectord strips one leading "/" (its parser prepends one to every request). */
export function sqlQuery(request: string): string {
  return request.startsWith('/') ? request.slice(1) : request;
}

export const rowsDetail = (n: number) => `${n} row${n === 1 ? '' : 's'}`;

/** ldirectord refuses SQL checks without a login or a request. */
export function missingSettings(target: Pick<CheckTarget, 'login' | 'request'>): CheckResult | undefined {
  if (target.login === '' || sqlQuery(target.request) === '') return down('login and request must be set for SQL checks');
  return undefined;
}
