// The MySQL check's protocol pieces and its verdicts (ldirectord's check_sql), without sockets:
// the session is fed what a MySQL/MariaDB server sends.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cleanDetail, type Step } from '../../../../src/checker/checks/conversation';
import {
  cachingSha2Scramble,
  CLIENT,
  MysqlSession,
  mysqlCheck,
  nativePasswordScramble,
  packet,
  PacketReader,
  parseHandshake,
} from '../../../../src/checker/checks/mysql';
import type { CheckTarget } from '../../../../src/checker/checks/types';

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest();
const NONCE = Buffer.from('0123456789abcdefghij');
const SERVER_CAPS =
  CLIENT.LONG_PASSWORD | CLIENT.LONG_FLAG | CLIENT.CONNECT_WITH_DB | CLIENT.PROTOCOL_41 | CLIENT.TRANSACTIONS |
  CLIENT.SECURE_CONNECTION | CLIENT.PLUGIN_AUTH;

/** An Initial Handshake Packet v10 as a server sends it. */
function greeting(plugin = 'mysql_native_password', nonce = NONCE, caps = SERVER_CAPS): Buffer {
  const fixed = Buffer.alloc(4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10);
  let o = 4; // connection id 0
  nonce.copy(fixed, o, 0, 8);
  o += 9;
  fixed.writeUInt16LE(caps & 0xffff, o);
  fixed[o + 2] = 45;
  fixed.writeUInt16LE(0x0002, o + 3);
  fixed.writeUInt16LE(caps >>> 16, o + 5);
  fixed[o + 7] = 21;
  const payload = Buffer.concat([
    Buffer.from([10]),
    Buffer.from('5.5.5-10.11.19-MariaDB\0'),
    fixed,
    nonce.subarray(8),
    Buffer.from([0]),
    Buffer.from(`${plugin}\0`),
  ]);
  return packet(0, payload);
}

const ok = (seq: number) => packet(seq, Buffer.from([0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]));
const err = (seq: number, code: number, state: string, text: string) => {
  const head = Buffer.alloc(3);
  head[0] = 0xff;
  head.writeUInt16LE(code, 1);
  return packet(seq, Buffer.concat([head, Buffer.from(`#${state}${text}`)]));
};
const eof = (seq: number) => packet(seq, Buffer.from([0xfe, 0x00, 0x00, 0x02, 0x00]));
const lenenc = (s: string) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
const column = (seq: number, name: string) =>
  packet(seq, Buffer.concat([lenenc('def'), lenenc(''), lenenc(''), lenenc(''), lenenc(name), lenenc(''), Buffer.from([0x0c, 0x3f, 0, 1, 0, 0, 0, 8, 0x81, 0, 0, 0, 0])]));
const row = (seq: number, value: string) => packet(seq, lenenc(value));

/** A result set of one column with these rows, sequence ids from 1. */
function resultSet(values: string[]): Buffer {
  let seq = 1;
  const parts = [packet(seq++, Buffer.from([1])), column(seq++, 'x'), eof(seq++)];
  for (const v of values) parts.push(row(seq++, v));
  parts.push(eof(seq++));
  return Buffer.concat(parts);
}

function target(over: Partial<CheckTarget> = {}): Pick<CheckTarget, 'login' | 'passwd' | 'database' | 'request'> {
  return { login: 'lvs', passwd: 'secret', database: 'health', request: '/SELECT 1', ...over };
}

/** The HandshakeResponse41 fields the session sent. */
function parseLogin(bytes: Buffer) {
  const [p] = new PacketReader().push(bytes);
  assert.ok(p);
  const b = p.payload;
  const caps = b.readUInt32LE(0);
  let o = 32;
  const userEnd = b.indexOf(0, o);
  const user = b.subarray(o, userEnd).toString();
  o = userEnd + 1;
  const auth = b.subarray(o + 1, o + 1 + b[o]!);
  o += 1 + b[o]!;
  let database = '';
  if (caps & CLIENT.CONNECT_WITH_DB) {
    const end = b.indexOf(0, o);
    database = b.subarray(o, end).toString();
    o = end + 1;
  }
  const plugin = b.subarray(o, b.indexOf(0, o)).toString();
  return { seq: p.seq, caps, user, auth, database, plugin };
}

function loggedIn(s: MysqlSession): Step {
  s.open();
  s.receive(greeting());
  return s.receive(ok(2));
}

describe('checks: MySQL authentication', () => {
  it('mysql_native_password: a scramble a JDBC client sent (seed "@jx=d_3z42;sS$YrS)p|", password "kingshard")', () => {
    const scramble = nativePasswordScramble('kingshard', Buffer.from('@jx=d_3z42;sS$YrS)p|'));
    assert.equal(scramble.toString('hex'), 'fbc71db5ac3d7b51048d1a1d88c1677f34bcca11');
  });

  it('mysql_native_password: the server, holding only PASSWORD("password"), accepts it', () => {
    // mysql.user holds *2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19 for "password": SHA1(SHA1(pw)).
    const stored = Buffer.from('2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19', 'hex');
    const response = nativePasswordScramble('password', NONCE);
    const key = sha1(Buffer.concat([NONCE, stored]));
    const h1 = Buffer.from(response.map((b, i) => b ^ key[i]!));
    assert.deepEqual(sha1(h1), stored);
    assert.equal(nativePasswordScramble('', NONCE).length, 0, 'no password: empty response');
  });

  it('caching_sha2_password fast path: a known vector', () => {
    const nonce = Buffer.from([10, 47, 74, 111, 75, 73, 34, 48, 88, 76, 114, 74, 37, 13, 3, 80, 82, 2, 23, 21]);
    assert.equal(cachingSha2Scramble('secret', nonce).toString('hex'), 'f490e76f66d9d86665ce54d98c78d0acfe2fb0b08b423da807144873d30b312c');
  });

  it('reads the greeting: version, capabilities, the 20-byte scramble from both parts, the plugin', () => {
    const [p] = new PacketReader().push(greeting('caching_sha2_password'));
    const hs = parseHandshake(p!.payload);
    assert.equal(hs.serverVersion, '5.5.5-10.11.19-MariaDB');
    assert.equal(hs.capabilities, SERVER_CAPS);
    assert.deepEqual(hs.nonce, NONCE);
    assert.equal(hs.plugin, 'caching_sha2_password');
  });

  it('packets: 3-byte length, sequence id, split anywhere; one above 1 MiB is refused from its header', () => {
    assert.equal(packet(3, Buffer.from([1])).toString('hex'), '01000003' + '01');
    const stream = Buffer.concat([packet(5, Buffer.alloc(3000, 7)), packet(6, Buffer.from([8, 9]))]);
    const reader = new PacketReader();
    assert.deepEqual(reader.push(stream.subarray(0, 1000)), []);
    const got = reader.push(stream.subarray(1000));
    assert.deepEqual(got.map((p) => [p.seq, p.payload.length]), [[5, 3000], [6, 2]]);
    assert.throws(() => new PacketReader().push(Buffer.from([0xff, 0xff, 0xff, 0x00])), /reply larger than 1048576 bytes/);
  });
});

describe('checks: MySQL session', () => {
  it('logs in as login on database with the server\'s plugin, sequence id 1', () => {
    const s = new MysqlSession(target());
    assert.deepEqual(s.open(), {});
    const step = s.receive(greeting());
    const login = parseLogin(Buffer.concat(step.send ?? []));
    assert.equal(login.seq, 1);
    assert.equal(login.user, 'lvs');
    assert.equal(login.database, 'health');
    assert.equal(login.plugin, 'mysql_native_password');
    assert.deepEqual(login.auth, nativePasswordScramble('secret', NONCE));
    assert.ok(login.caps & CLIENT.PROTOCOL_41 && login.caps & CLIENT.SECURE_CONNECTION);
    assert.ok(!Buffer.concat(step.send ?? []).includes('secret'), 'never the password itself');
  });

  it('without a database it does not ask for one', () => {
    const s = new MysqlSession(target({ database: '' }));
    const login = parseLogin(Buffer.concat(s.receive(greeting()).send ?? []));
    assert.equal(login.caps & CLIENT.CONNECT_WITH_DB, 0);
  });

  it('once in, sends the request (without ldirectord\'s leading "/") as COM_QUERY', () => {
    const step = loggedIn(new MysqlSession(target()));
    assert.deepEqual(step.send, [packet(0, Buffer.from('\x03SELECT 1', 'latin1'))]);
  });

  it('rows back: up, with how many; then COM_QUIT', () => {
    const s = new MysqlSession(target());
    loggedIn(s);
    const step = s.receive(resultSet(['1', '2']));
    assert.deepEqual(step.done, { up: true, detail: '2 rows' });
    assert.deepEqual(step.goodbye, packet(0, Buffer.from([0x01])));
  });

  it('an empty result set is down: "0 rows"', () => {
    const s = new MysqlSession(target());
    loggedIn(s);
    assert.deepEqual(s.receive(resultSet([])).done, { up: false, detail: '0 rows' });
  });

  it('a statement without a result set (OK) is down', () => {
    const s = new MysqlSession(target({ request: 'DO 1' }));
    loggedIn(s);
    assert.equal(s.receive(ok(1)).done?.up, false);
  });

  it('a failed query is down with the server\'s message', () => {
    const s = new MysqlSession(target());
    loggedIn(s);
    const step = s.receive(err(1, 1146, '42S02', "Table 'health.t' doesn't exist"));
    assert.deepEqual(step.done, { up: false, detail: "query failed: Table 'health.t' doesn't exist (1146)" });
  });

  it('refused credentials: down, "auth failed" with the server\'s words', () => {
    const s = new MysqlSession(target({ passwd: 'wrong' }));
    s.receive(greeting());
    const step = s.receive(err(2, 1045, '28000', "Access denied for user 'lvs'@'198.51.100.10' (using password: YES)"));
    assert.equal(step.done?.up, false);
    assert.match(step.done!.detail, /^auth failed: Access denied for user 'lvs'/);
  });

  it('an error instead of a greeting (too many connections) is down', () => {
    const s = new MysqlSession(target());
    const head = Buffer.from([0xff, 0x10, 0x04]);
    const step = s.receive(packet(0, Buffer.concat([head, Buffer.from('Too many connections')])));
    assert.deepEqual(step.done, { up: false, detail: 'server refused the connection: Too many connections (1040)' });
  });

  it('follows a switch to caching_sha2_password and its fast path', () => {
    const s = new MysqlSession(target());
    s.receive(greeting());
    const fresh = Buffer.from('ABCDEFGHIJKLMNOPQRST');
    const switched = s.receive(packet(2, Buffer.concat([Buffer.from([0xfe]), Buffer.from('caching_sha2_password\0'), fresh, Buffer.from([0])])));
    assert.deepEqual(switched.send, [packet(3, cachingSha2Scramble('secret', fresh))]);
    assert.deepEqual(s.receive(packet(4, Buffer.from([0x01, 0x03]))), { send: [] });
    assert.deepEqual(s.receive(ok(5)).send, [packet(0, Buffer.from('\x03SELECT 1', 'latin1'))]);
  });

  it('caching_sha2_password full authentication without TLS is down with a clear reason, the password unsent', () => {
    const s = new MysqlSession(target());
    s.receive(greeting('caching_sha2_password'));
    const step = s.receive(packet(2, Buffer.from([0x01, 0x04])));
    assert.equal(step.done?.up, false);
    assert.match(step.done!.detail, /^auth failed: caching_sha2_password needs full authentication, and the server offers no TLS/);
    assert.ok(!Buffer.concat(step.send ?? []).includes(Buffer.from(target().passwd)));
  });

  it('TLS when the server offers it: SSLRequest (seq 1) in clear, then the login (seq 2) inside TLS', () => {
    const s = new MysqlSession(target());
    const step = s.receive(greeting('mysql_native_password', NONCE, SERVER_CAPS | CLIENT.SSL));
    assert.equal(step.startTls, true);
    const [ask] = step.beforeTls ?? [];
    assert.equal(ask?.length, 4 + 32, 'SSLRequest is the 32-byte head of a login');
    assert.equal(ask![3], 1);
    assert.ok(ask!.readUInt32LE(4) & CLIENT.SSL);
    const login = parseLogin(Buffer.concat(step.send ?? []));
    assert.equal(login.seq, 2);
    assert.equal(login.user, 'lvs');
  });

  it('caching_sha2_password full authentication inside TLS sends the password (NUL-terminated), as libmysqlclient does', () => {
    const s = new MysqlSession(target());
    s.receive(greeting('caching_sha2_password', NONCE, SERVER_CAPS | CLIENT.SSL));
    const step = s.receive(packet(3, Buffer.from([0x01, 0x04])));
    assert.deepEqual(step.send, [packet(4, Buffer.from(`${target().passwd}\0`))]);
    assert.deepEqual(s.receive(ok(5)).send, [packet(0, Buffer.from('\x03SELECT 1', 'latin1'))]);
  });

  it('refuses bytes a server sends after its greeting and before TLS (they would pass as authenticated)', () => {
    const s = new MysqlSession(target());
    assert.throws(() => s.receive(Buffer.concat([greeting('mysql_native_password', NONCE, SERVER_CAPS | CLIENT.SSL), ok(2)])), /unexpected data before the TLS handshake/);
  });

  it('can be told not to use TLS', () => {
    const step = new MysqlSession(target(), false).receive(greeting('mysql_native_password', NONCE, SERVER_CAPS | CLIENT.SSL));
    assert.equal(step.startTls, undefined);
    assert.equal(parseLogin(Buffer.concat(step.send ?? [])).seq, 1);
  });

  it('never sends the password in clear, even when asked to', () => {
    const s = new MysqlSession(target());
    s.receive(greeting());
    const step = s.receive(packet(2, Buffer.from('\xfemysql_clear_password\0', 'latin1')));
    assert.equal(step.send, undefined);
    assert.equal(step.done?.up, false);
    assert.match(step.done!.detail, /in clear/);
  });

  it('an unknown default plugin: offers mysql_native_password and lets the server switch', () => {
    const s = new MysqlSession(target());
    const login = parseLogin(Buffer.concat(s.receive(greeting('client_ed25519')).send ?? []));
    assert.equal(login.plugin, 'mysql_native_password');
  });

  it('without login or request it is down at once, as ldirectord, and connects to nothing', async () => {
    const never = new AbortController().signal;
    const base = { address: '198.51.100.1', port: 3306, family: 4 } as CheckTarget;
    assert.deepEqual(await mysqlCheck({ ...base, ...target({ login: '' }) }, never), { up: false, detail: 'login and request must be set for SQL checks' });
    assert.deepEqual(await mysqlCheck({ ...base, ...target({ request: '/' }) }, never), { up: false, detail: 'login and request must be set for SQL checks' });
  });
});

describe('checks: details of the SQL and LDAP checks', () => {
  it('are one short line, and never hold the password even when a server echoes it', () => {
    assert.equal(cleanDetail("auth failed: bad password 'hunter2' for lvs", ['hunter2']), "auth failed: bad password '***' for lvs");
    assert.equal(cleanDetail('query failed:\n  syntax error\r\n at line 1'), 'query failed: syntax error at line 1');
    assert.equal(cleanDetail('x'.repeat(500)).length, 200);
    assert.equal(cleanDetail('no secret here', ['']), 'no secret here');
  });
});
