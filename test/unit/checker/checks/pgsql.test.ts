// The PostgreSQL check's protocol pieces and its verdicts (ldirectord's check_sql), without
// sockets: the session is fed what a PostgreSQL server sends, and a server's side of SCRAM checks
// the proof it computes.
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import type { Step } from '../../../../src/checker/checks/conversation';
import {
  md5Password,
  message,
  MessageReader,
  parseError,
  PgsqlSession,
  saslPrep,
  scramClient,
  SSL_REQUEST,
  startupMessage,
  TERMINATE,
} from '../../../../src/checker/checks/pgsql';
import type { CheckTarget } from '../../../../src/checker/checks/types';

const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const auth = (code: number, data: Buffer = Buffer.alloc(0)) => message('R', Buffer.concat([int32(code), data]));
const ready = message('Z', Buffer.from('I'));
const error = (code: string, text: string) => message('E', Buffer.from(`SFATAL\0C${code}\0M${text}\0\0`));
const afterLogin = Buffer.concat([auth(0), message('S', Buffer.from('server_version\x0015.18\0')), message('K', Buffer.alloc(8)), ready]);
const dataRow = message('D', Buffer.concat([Buffer.from([0, 1]), int32(1), Buffer.from('1')]));
const rowDescription = message('T', Buffer.from([0, 0]));
const complete = (tag: string) => message('C', Buffer.from(`${tag}\0`));

function target(over: Partial<CheckTarget> = {}): Pick<CheckTarget, 'login' | 'passwd' | 'database' | 'request'> {
  return { login: 'lvs', passwd: 'secret', database: 'health', request: '/SELECT 1', ...over };
}

/** Frontend messages the session sent (after the startup message). */
function sent(step: Step): Array<{ type: string; body: Buffer }> {
  return new MessageReader().push(Buffer.concat(step.send ?? []));
}

async function loggedIn(s: PgsqlSession): Promise<Step> {
  s.open();
  await s.receive(Buffer.from('N'));
  await s.receive(auth(3));
  return s.receive(afterLogin);
}

describe('checks: PostgreSQL messages', () => {
  it('refuses a message above 1 MiB from its header, before holding it', () => {
    assert.throws(() => new MessageReader().push(Buffer.from([0x44, 0x00, 0x10, 0x00, 0x01])), /message length 1048577/);
    assert.equal(new MessageReader().push(Buffer.from([0x44, 0x00, 0x10, 0x00, 0x00])).length, 0, '1 MiB itself is waited for');
  });

  it('SSLRequest: length 8, code 80877103', () => {
    assert.equal(SSL_REQUEST.toString('hex'), '00000008' + '04d2162f');
  });

  it('startup: length, protocol 3.0, NUL-separated parameters, empty ones left out', () => {
    const m = startupMessage({ user: 'lvs', database: '', application_name: 'lvsd' });
    const body = 'user\0lvs\0application_name\0lvsd\0\0';
    assert.equal(m.readInt32BE(0), 8 + body.length);
    assert.equal(m.readInt32BE(4), 196608);
    assert.equal(m.subarray(8).toString('latin1'), body);
  });

  it('md5: "md5" + md5(md5(password + user) + salt), over the hash pg_authid holds', () => {
    // pg_authid holds md53175bce1d3201d16594cebf9d7eb3f9d for user postgres, password postgres.
    const salt = Buffer.from([0x01, 0x02, 0x03, 0x04]);
    const expected = createHash('md5').update(Buffer.concat([Buffer.from('3175bce1d3201d16594cebf9d7eb3f9d'), salt])).digest('hex');
    assert.equal(md5Password('postgres', 'postgres', salt), `md5${expected}`);
  });

  it('SCRAM-SHA-256: the RFC 7677 test vector', async () => {
    const c = scramClient('user', 'rOprNGfwEbeRWgbNEkqO');
    assert.equal(c.first, 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const final = await c.final('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', 'pencil');
    assert.equal(final.message, 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    assert.equal(final.serverSignature, '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });

  it('SCRAM refuses a server nonce that does not extend the client\'s, and absurd iteration counts', async () => {
    const c = scramClient('', 'abc');
    await assert.rejects(c.final('r=xyz123,s=QUJD,i=4096', 'pw'), /nonce/);
    await assert.rejects(c.final('r=abc123,s=QUJD,i=0', 'pw'), /iteration/);
    await assert.rejects(c.final('r=abc123,s=QUJD,i=100000000', 'pw'), /iteration count 100000000/);
  });

  it('SASLprep leaves ASCII alone and maps non-ASCII spaces and compatibility forms', () => {
    assert.equal(saslPrep('pencil !x'), 'pencil !x');
    assert.equal(saslPrep('a\u00a0b'), 'a b');
    assert.equal(saslPrep('I\u00adX'), 'IX');
    assert.equal(saslPrep('\u2168'), 'IX');
  });

  it('error fields: message and SQLSTATE', () => {
    const [m] = new MessageReader().push(error('28P01', 'password authentication failed for user "lvs"'));
    assert.equal(parseError(m!.body), 'password authentication failed for user "lvs" (28P01)');
  });
});

describe('checks: PostgreSQL session', () => {
  it('asks for TLS first, as libpq\'s sslmode=prefer', () => {
    assert.deepEqual(new PgsqlSession(target()).open().send, [SSL_REQUEST]);
  });

  it('"S": switches to TLS, then starts up; "N": starts up in clear', async () => {
    const yes = await new PgsqlSession(target()).receive(Buffer.from('S'));
    assert.equal(yes.startTls, true);
    assert.deepEqual(yes.send, [startupMessage({ user: 'lvs', database: 'health', application_name: 'lvsd' })]);
    const no = await new PgsqlSession(target()).receive(Buffer.from('N'));
    assert.equal(no.startTls, undefined);
    assert.deepEqual(no.send, [startupMessage({ user: 'lvs', database: 'health', application_name: 'lvsd' })]);
  });

  it('refuses bytes after the answer to SSLRequest (they would bypass TLS, CVE-2021-23222)', async () => {
    await assert.rejects(Promise.resolve().then(() => new PgsqlSession(target()).receive(Buffer.from('SR'))), /unexpected data/);
  });

  it('cleartext and md5 password requests', async () => {
    const clear = new PgsqlSession(target(), false);
    clear.open();
    assert.deepEqual(sent(await clear.receive(auth(3))), [{ type: 'p', body: Buffer.from('secret\0') }]);
    const md5 = new PgsqlSession(target(), false);
    md5.open();
    const salt = Buffer.from('abcd');
    assert.deepEqual(sent(await md5.receive(auth(5, salt))), [{ type: 'p', body: Buffer.from(`${md5Password('lvs', 'secret', salt)}\0`) }]);
  });

  it('SCRAM-SHA-256 against a server that holds only StoredKey and ServerKey', async () => {
    const salt = Buffer.from('0123456789abcdef');
    const salted = pbkdf2Sync('secret', salt, 4096, 32, 'sha256');
    const hmac = (k: Buffer, s: string) => createHmac('sha256', k).update(s).digest();
    const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
    const serverKey = hmac(salted, 'Server Key');

    const s = new PgsqlSession(target(), false);
    s.open();
    const [initial] = sent(await s.receive(auth(10, Buffer.from('SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0'))));
    assert.equal(initial?.type, 'p');
    const body = initial!.body;
    const mechEnd = body.indexOf(0);
    assert.equal(body.subarray(0, mechEnd).toString(), 'SCRAM-SHA-256');
    const clientFirst = body.subarray(mechEnd + 5).toString();
    assert.match(clientFirst, /^n,,n=,r=[A-Za-z0-9+/=]{24}$/);
    const clientNonce = clientFirst.slice('n,,n=,r='.length);

    const serverFirst = `r=${clientNonce}SERVERNONCE,s=${salt.toString('base64')},i=4096`;
    const [final] = sent(await s.receive(auth(11, Buffer.from(serverFirst))));
    const clientFinal = final!.body.toString();
    const withoutProof = clientFinal.slice(0, clientFinal.indexOf(',p='));
    const proof = Buffer.from(clientFinal.slice(clientFinal.indexOf(',p=') + 3), 'base64');
    const authMessage = `${clientFirst.slice(3)},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
    assert.deepEqual(createHash('sha256').update(clientKey).digest(), storedKey, 'the server accepts the proof');
    assert.ok(!clientFinal.includes('secret'));

    const verified = await s.receive(auth(12, Buffer.from(`v=${hmac(serverKey, authMessage).toString('base64')}`)));
    assert.equal(verified.done, undefined);
    assert.deepEqual(sent(await s.receive(afterLogin)), [{ type: 'Q', body: Buffer.from('SELECT 1\0') }]);
  });

  it('SCRAM: a server that cannot prove it knows the password is down', async () => {
    const s = new PgsqlSession(target(), false);
    s.open();
    const [initial] = sent(await s.receive(auth(10, Buffer.from('SCRAM-SHA-256\0\0'))));
    const nonce = initial!.body.toString().split('r=')[1]!;
    await s.receive(auth(11, Buffer.from(`r=${nonce}x,s=QUJD,i=4096`)));
    const step = await s.receive(auth(12, Buffer.from(`v=${Buffer.alloc(32).toString('base64')}`)));
    assert.equal(step.done?.up, false);
    assert.match(step.done!.detail, /SCRAM signature is wrong/);
  });

  it('SCRAM: AuthenticationOk without the server\'s proof is a protocol error', async () => {
    const s = new PgsqlSession(target(), false);
    s.open();
    await s.receive(auth(10, Buffer.from('SCRAM-SHA-256\0\0')));
    await assert.rejects(s.receive(auth(0)), /before the server proved/);
  });

  it('refused credentials: down, "auth failed" with the server\'s words', async () => {
    const s = new PgsqlSession(target({ passwd: 'wrong' }), false);
    s.open();
    await s.receive(auth(5, Buffer.from('abcd')));
    const step = await s.receive(error('28P01', 'password authentication failed for user "lvs"'));
    assert.deepEqual(step.done, { up: false, detail: 'auth failed: password authentication failed for user "lvs" (28P01)' });
  });

  it('a password request with an empty passwd is down, without sending anything', async () => {
    const s = new PgsqlSession(target({ passwd: '' }), false);
    s.open();
    const step = await s.receive(auth(10, Buffer.from('SCRAM-SHA-256\0\0')));
    assert.equal(step.send, undefined);
    assert.match(step.done!.detail, /passwd is empty/);
  });

  it('unsupported methods (GSSAPI) are down, named', async () => {
    const s = new PgsqlSession(target(), false);
    s.open();
    assert.deepEqual((await s.receive(auth(7))).done, { up: false, detail: 'auth failed: the server wants GSSAPI, which lvsd does not support' });
  });

  it('once ready, sends the request (without ldirectord\'s leading "/") as a simple Query', async () => {
    const step = await loggedIn(new PgsqlSession(target()));
    assert.deepEqual(sent(step), [{ type: 'Q', body: Buffer.from('SELECT 1\0') }]);
  });

  it('rows back: up, with how many; then Terminate', async () => {
    const s = new PgsqlSession(target());
    await loggedIn(s);
    const step = await s.receive(Buffer.concat([rowDescription, dataRow, dataRow, complete('SELECT 2'), ready]));
    assert.deepEqual(step.done, { up: true, detail: '2 rows' });
    assert.deepEqual(step.goodbye, TERMINATE);
  });

  it('no rows is down: "0 rows"', async () => {
    const s = new PgsqlSession(target());
    await loggedIn(s);
    assert.deepEqual((await s.receive(Buffer.concat([rowDescription, complete('SELECT 0'), ready]))).done, { up: false, detail: '0 rows' });
  });

  it('a failed query is down with the server\'s message', async () => {
    const s = new PgsqlSession(target());
    await loggedIn(s);
    const step = await s.receive(Buffer.concat([error('42P01', 'relation "t" does not exist'), ready]));
    assert.deepEqual(step.done, { up: false, detail: 'query failed: relation "t" does not exist (42P01)' });
  });

  it('takes the server\'s bytes however they are split', async () => {
    const s = new PgsqlSession(target());
    s.open();
    await s.receive(Buffer.from('N'));
    const stream = Buffer.concat([auth(3), afterLogin, rowDescription, dataRow, complete('SELECT 1'), ready]);
    const steps: Step[] = [];
    for (const b of stream) steps.push(await s.receive(Buffer.from([b])));
    assert.deepEqual(steps.flatMap((st) => sent(st).map((m) => m.type)), ['p', 'Q']);
    assert.deepEqual(steps.at(-1)?.done, { up: true, detail: '1 row' });
  });
});
