// The ldap, ldaps, mysql and pgsql checks against Debian's real servers (slapd, MariaDB,
// PostgreSQL) in a lab real server. First the check modules, from source, from the lab client as
// the engine runs them (one AbortSignal deadline each; the host kernel is enough: namespaces, no
// IPVS needed); then the same kinds through the built binary's lvsd in a director on IPVS.
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultSpec, Topology, type TopologySpec } from '../../lab';
import { BOOT_TIMEOUT_MS, labKernel } from '../support/lab';
import { DIRECTOR, readStatus, Started, waitFor, writeConfig, type Status } from '../support/lvsd';
import { HostKernel } from '../../lab/host';
import type { CheckTarget } from '../../src/checker/checks/types';
import type { CaseResult, CheckCase } from '../support/run-check';
import { ROOTDN, startLdap, SUFFIX, type LdapServer } from '../support/servers/ldap-server';
import { startMysql, type MysqlServer } from '../support/servers/mysql-server';
import { startPgsql, type PgsqlServer } from '../support/servers/pgsql-server';

const root = resolve(__dirname, '..', '..');
const DB = '198.51.100.21';
const PORTS = { ldap: 389, ldaps: 636, mysql: 3306, pgsql: 5432 };
// Test-only passwords; what a check sends must never show up in its detail.
const PW = { ldap: 'ldap-Secret-1', mysql: 'mysql-Secret-2', scram: 'scram-Secret-3', md5: 'md5-Secret-4', clear: 'clear-Secret-5' };
const WRONG = 'wrong-Secret-9';
/** Generous: real servers on a busy 2-CPU machine. Hung-server cases use a short one. */
const DEADLINE_MS = 20_000;
const HUNG_DEADLINE_MS = 1_500;

function target(service: CheckTarget['service'], over: Partial<CheckTarget> = {}): CheckTarget {
  const port = PORTS[service as keyof typeof PORTS];
  return {
    family: 4, address: DB, port, protocol: 'tcp', service, request: '/', receive: '', httpmethod: 'GET',
    login: '', passwd: '', database: '', secret: '', checkcount: 1, checkcommand: '',
    virtual: { protocol: 'tcp', address: '198.51.100.100', port }, realPort: port,
    ...over,
  };
}

const CHECK_OF: Record<string, string> = { ldap: 'ldapCheck', ldaps: 'ldapCheck', mysql: 'mysqlCheck', pgsql: 'pgsqlCheck' };

describe('lab: ldap, ldaps, mysql and pgsql checks against slapd, MariaDB and PostgreSQL', function () {
  let kernel: HostKernel | undefined;
  let topo: Topology;
  let ldap: LdapServer;
  let mysql: MysqlServer;
  let pgsql: PgsqlServer;

  before(async function () {
    this.timeout(180_000);
    kernel = new HostKernel();
    const spec: TopologySpec = { ...defaultSpec(0, 1), nodes: defaultSpec(0, 1).nodes.map((n) => ({ ...n, http: false })) };
    topo = await Topology.create(kernel, spec);
    [ldap, mysql, pgsql] = await Promise.all([
      startLdap(topo, 'r1', { address: DB, port: PORTS.ldap, tlsPort: PORTS.ldaps, password: PW.ldap }),
      startMysql(topo, 'r1', { address: DB, port: PORTS.mysql, user: 'lvs', password: PW.mysql }),
      startPgsql(topo, 'r1', { address: DB, port: PORTS.pgsql, passwords: { scram: PW.scram, md5: PW.md5, clear: PW.clear } }),
    ]);
  });

  after(async function () {
    this.timeout(60_000);
    await topo?.destroy();
    await kernel?.close();
  });

  /** Runs the checks at once from the client; the runner must end by itself (no socket left behind). */
  async function run(targets: Array<[string, CheckTarget]>, deadlineMs = DEADLINE_MS): Promise<Record<string, CaseResult>> {
    const cases: CheckCase[] = targets.map(([id, t]) => ({ id, check: CHECK_OF[t.service]!, target: t, deadlineMs }));
    const loader = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
    const r = await topo.exec('client', [process.execPath, '--import', loader, join(root, 'test', 'support', 'run-check.ts')], {
      stdin: JSON.stringify(cases),
      timeoutMs: deadlineMs + 30_000,
    });
    assert.equal(r.timedOut, false, `the check runner did not end by itself: something was left open\n${r.stderr}`);
    assert.equal(r.code, 0, r.stderr);
    for (const pw of [...Object.values(PW), WRONG]) assert.ok(!r.stdout.includes(pw) && !r.stderr.includes(pw), 'a password in the output');
    const results = JSON.parse(r.stdout) as CaseResult[];
    for (const res of results) assert.equal(res.error, undefined, `${res.id}: ${res.error}`);
    return Object.fromEntries(results.map((res) => [res.id, res]));
  }

  /** While `pid` is stopped (SIGSTOP) the kernel still accepts connections, and nothing answers. */
  async function whileHung<T>(pid: number, body: () => Promise<T>): Promise<T> {
    await topo.run('r1', ['kill', '-STOP', String(pid)]);
    try {
      return await body();
    } finally {
      await topo.run('r1', ['kill', '-CONT', String(pid)]);
    }
  }

  describe('ldap, ldaps', () => {
    it('up: the base entry, anonymously and bound as the rootdn, over LDAP and LDAPS (unverified certificate)', async () => {
      const r = await run([
        ['anonymous', target('ldap', { request: `/${SUFFIX}` })],
        ['bound', target('ldap', { request: `/${SUFFIX}`, login: ROOTDN, passwd: PW.ldap, receive: '^dc=example,' })],
        ['ldaps', target('ldaps', { request: `/ou=people,${SUFFIX}`, login: ROOTDN, passwd: PW.ldap, receive: 'ou=people' })],
      ]);
      assert.deepEqual(r.anonymous && { up: r.anonymous.up, detail: r.anonymous.detail }, { up: true, detail: `entry "${SUFFIX}"` });
      assert.equal(r.bound?.up, true, r.bound?.detail);
      assert.equal(r.ldaps?.up, true, r.ldaps?.detail);
    });

    it('down: a wrong password, no such entry, an entry that does not match receive', async () => {
      const r = await run([
        ['wrong', target('ldaps', { request: `/${SUFFIX}`, login: ROOTDN, passwd: WRONG })],
        ['missing', target('ldap', { request: `/ou=nobody,${SUFFIX}` })],
        ['mismatch', target('ldap', { request: `/${SUFFIX}`, receive: '^ou=' })],
      ]);
      assert.equal(r.wrong?.up, false);
      assert.match(r.wrong!.detail, /^bind failed: invalidCredentials \(49\)/);
      assert.equal(r.missing?.up, false);
      assert.match(r.missing!.detail, /^0 entries: noSuchObject \(32\)/);
      assert.deepEqual([r.mismatch?.up, r.mismatch?.detail], [false, `entry "${SUFFIX}" does not match receive`]);
    });

    it('down at the deadline: a server that accepts and never answers', async () => {
      const r = await whileHung(ldap.pid(), () =>
        run([['hung', target('ldap', { request: `/${SUFFIX}` })], ['hung-tls', target('ldaps', { request: `/${SUFFIX}` })]], HUNG_DEADLINE_MS),
      );
      assert.deepEqual([r.hung?.up, r.hung?.detail], [false, 'timed out waiting for the bind result']);
      assert.equal(r['hung-tls']?.up, false);
      assert.match(r['hung-tls']!.detail, /^timed out in the TLS handshake/);
    });
  });

  describe('mysql', () => {
    const health = (over: Partial<CheckTarget>) => target('mysql', { login: 'lvs', passwd: PW.mysql, database: 'health', request: '/SELECT ok FROM up', ...over });

    it('up: mysql_native_password login, one row', async () => {
      const r = await run([['up', health({})]]);
      assert.deepEqual(r.up && [r.up.up, r.up.detail], [true, '1 row']);
    });

    it('logs in inside TLS when the server offers it (libmysqlclient\'s ssl-mode=PREFERRED): the server says so', async () => {
      // A row only when this very session is encrypted.
      const overTls = "/SELECT 1 FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER' AND VARIABLE_VALUE <> ''";
      const r = await run([['tls', health({ request: overTls })]]);
      assert.deepEqual(r.tls && [r.tls.up, r.tls.detail], [true, '1 row']);
    });

    it('down: a wrong password, with the server\'s words and without the password', async () => {
      const r = await run([['wrong', health({ passwd: WRONG })]]);
      assert.equal(r.wrong?.up, false);
      assert.match(r.wrong!.detail, /^auth failed: Access denied for user 'lvs'@'198\.51\.100\.10' \(using password: YES\) \(1045\)$/);
    });

    it('down: zero rows, and a failing query', async () => {
      const r = await run([['zero', health({ request: '/SELECT ok FROM up WHERE ok = 0' })], ['bad', health({ request: 'SELECT * FROM nothing' })]]);
      assert.deepEqual(r.zero && [r.zero.up, r.zero.detail], [false, '0 rows']);
      assert.equal(r.bad?.up, false);
      assert.match(r.bad!.detail, /^query failed: Table 'health\.nothing' doesn't exist \(1146\)$/);
    });

    it('down at the deadline: a server that accepts and never answers', async () => {
      const r = await whileHung(mysql.pid(), () => run([['hung', health({})]], HUNG_DEADLINE_MS));
      assert.deepEqual(r.hung && [r.hung.up, r.hung.detail], [false, 'timed out waiting for the greeting']);
    });
  });

  describe('pgsql', () => {
    const health = (login: string, passwd: string, over: Partial<CheckTarget> = {}) =>
      target('pgsql', { login, passwd, database: 'health', request: '/SELECT 1', ...over });

    it('up: SCRAM-SHA-256 (on a TLS-only role: the check asks for TLS first), md5 and cleartext', async () => {
      const r = await run([
        ['scram', health('lvs_scram', PW.scram)],
        ['md5', health('lvs_md5', PW.md5)],
        ['clear', health('lvs_clear', PW.clear)],
      ]);
      for (const id of ['scram', 'md5', 'clear']) assert.deepEqual(r[id] && [r[id].up, r[id].detail], [true, '1 row'], `${id}: ${r[id]?.detail}`);
    });

    it('down: wrong passwords, with the server\'s words and without the password', async () => {
      const r = await run([['scram', health('lvs_scram', WRONG)], ['md5', health('lvs_md5', WRONG)]]);
      for (const id of ['scram', 'md5']) {
        assert.equal(r[id]?.up, false);
        assert.match(r[id]!.detail, new RegExp(`^auth failed: password authentication failed for user "lvs_${id}" \\(28P01\\)$`));
      }
    });

    it('down: zero rows, and a failing query', async () => {
      const r = await run([
        ['zero', health('lvs_md5', PW.md5, { request: '/SELECT 1 WHERE false' })],
        ['bad', health('lvs_md5', PW.md5, { request: '/SELECT * FROM nothing' })],
      ]);
      assert.deepEqual(r.zero && [r.zero.up, r.zero.detail], [false, '0 rows']);
      assert.equal(r.bad?.up, false);
      assert.match(r.bad!.detail, /^query failed: relation "nothing" does not exist \(42P01\)$/);
    });

    it('down at the deadline: a server that accepts and never answers', async () => {
      const r = await whileHung(pgsql.pid(), () => run([['hung', health('lvs_md5', PW.md5)]], HUNG_DEADLINE_MS));
      assert.deepEqual(r.hung && [r.hung.up, r.hung.detail], [false, 'timed out waiting for the answer to SSLRequest']);
    });
  });
});

describe("lab: ldap, ldaps, mysql and pgsql through the built binary's lvsd on IPVS", function () {
  let topo: Topology | undefined;
  const t = (): Topology => {
    if (!topo) throw new Error('no topology (before() failed)');
    return topo;
  };
  const started = new Started(t);
  const VIP = '198.51.100.100';
  /** Nothing listens there: its checks are refused. */
  const OTHER = '198.51.100.22';

  before(async function () {
    this.timeout(BOOT_TIMEOUT_MS + 420_000); // MariaDB's bootstrap takes minutes in UML
    const base = defaultSpec(1, 2);
    topo = await Topology.create(await labKernel(), { ...base, nodes: base.nodes.map((n) => ({ ...n, http: false })) });
    await Promise.all([
      startLdap(topo, 'r1', { address: DB, port: PORTS.ldap, tlsPort: PORTS.ldaps, password: PW.ldap }),
      startMysql(topo, 'r1', { address: DB, port: PORTS.mysql, user: 'lvs', password: PW.mysql }),
      startPgsql(topo, 'r1', { address: DB, port: PORTS.pgsql, passwords: { scram: PW.scram, md5: PW.md5, clear: PW.clear } }),
    ]);
  });

  after(async function () {
    this.timeout(60_000);
    await started.killAll();
    await topo?.run(DIRECTOR, ['ipvsadm', '-C']).catch(() => undefined);
    await topo?.destroy();
  });

  it('each kind: the database real up, the other down, in the status file; no password in the log', async function () {
    this.timeout(120_000);
    const tp = t();
    const KINDS: Array<[string, number, string[]]> = [
      ['ldap', PORTS.ldap, ['service=ldap', `request="${SUFFIX}"`, `login="${ROOTDN}"`, `passwd="${PW.ldap}"`, 'receive="^dc=example,"']],
      ['ldaps', PORTS.ldaps, ['service=ldaps', `request="ou=people,${SUFFIX}"`, 'receive="ou=people"']],
      ['mysql', PORTS.mysql, ['service=mysql', 'login="lvs"', `passwd="${PW.mysql}"`, 'database="health"', 'request="SELECT ok FROM up"']],
      ['pgsql', PORTS.pgsql, ['service=pgsql', 'login="lvs_scram"', `passwd="${PW.scram}"`, 'database="health"', 'request="SELECT 1"']],
    ];
    const sections = KINDS.map(([, port, lines]) => [`virtual=${VIP}:${port}`, `\treal=${DB}:${port} gate 1`, `\treal=${OTHER}:${port} gate 1`, ...lines.map((l) => `\t${l}`)].join('\n'));
    const config = await writeConfig(tp, 'db.cf', `checkinterval=2\nnegotiatetimeout=10\n${sections.join('\n')}\n`);
    const log = join(tp.node(DIRECTOR).dir, 'db-lvsd.log');
    await started.start(DIRECTOR, [tp.spec.binary, 'checker', '-d', '--config', config], log);
    const realsOf = (s: Status, port: number) => new Map((s.virtuals.find((v) => v.virtual.includes(`${VIP}:${port}`))?.reals ?? []).map((r) => [r.real.replace(/:\d+$/, ''), r]));
    let status: Status | undefined;
    await waitFor('every real checked', async () => {
      status = await readStatus(tp, config).catch(() => undefined);
      return !!status && KINDS.every(([, port]) => [DB, OTHER].every((ip) => realsOf(status!, port).get(ip)?.lastCheck !== undefined));
    }, 90_000).catch((err: Error) => assert.fail(`${err.message}\n${JSON.stringify(status, null, 1)}`));
    const wrong = KINDS.flatMap(([kind, port]) => {
      const reals = realsOf(status!, port);
      return ([[DB, 'up'], [OTHER, 'down']] as const)
        .filter(([ip, want]) => reals.get(ip)?.health !== want)
        .map(([ip, want]) => `${kind}: ${ip} is ${reals.get(ip)?.health} (${reals.get(ip)?.lastCheck?.detail}), not ${want}`);
    });
    assert.deepEqual(wrong, []);
    const logged = await tp.run(DIRECTOR, ['cat', log]);
    for (const pw of Object.values(PW)) assert.ok(!logged.includes(pw) && !JSON.stringify(status).includes(pw), 'a password in the log or the status file');
  });
});

