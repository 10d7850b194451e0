// lvsd with IPv6 (virtual6, real6, fallback6) on a real IPVS kernel, black-box through the built
// binary: every check kind that works over IPv6 against real servers with IPv6 addresses, clients
// reaching the reals through the IPv6 VIP (DR, the reals configured by `lvskit realserver up`), the
// VIP followed (followvip), the table Debian's ldirectord builds from the same file, and the
// configuration errors IPv6 adds. The lab is IPv4: the test adds 2001:db8::/64 to its nodes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { defaultSpec, Topology, type ExecResult } from '../../lab';
import { BOOT_TIMEOUT_MS, labKernel } from '../support/lab';
import { addIpv6, curl6, ip6, ndiscAnswers, selfSigned, startServer6, VIP6, vip6On } from '../support/ipv6';
import { checkerArgv, DIRECTOR, everyRealChecked, OCF, readStatus, settled, show, Started, table, VIP, waitFor, waitGone, writeConfig } from '../support/lvsd';

const LVSD_AGENT = '/usr/lib/ocf/resource.d/heartbeat/lvsd';
/** An IPv6 address in the LAN's prefix that no node has: its checks time out. */
const NOBODY = '2001:db8::29';

function lines(...ls: string[]): string {
  return `${ls.join('\n')}\n`;
}

describe('lvsd with IPv6 virtual services (lab)', function () {
  let topo: Topology | undefined;
  const t = (): Topology => {
    if (!topo) throw new Error('no topology (before() failed)');
    return topo;
  };
  const started = new Started(t);
  const a = (node: string) => ip6(t(), node);
  const svc = (port: number, proto = 't') => `-${proto} [${VIP6}]:${port}`;
  const real = (port: number, node: string, proto = 't', weight = 1) => `-a ${svc(port, proto)} -r [${a(node)}]:${port} -g -w ${weight}`;

  before(async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    topo = await Topology.create(await labKernel(), defaultSpec(1, 2));
    await addIpv6(topo);
    // r1 serves every protocol over IPv6; r2 only HTTP (port 80), so that every other check of r2 fails.
    const { cert, key } = await selfSigned(topo, 'r1');
    await startServer6(topo, 'r1', 'http', 80);
    await startServer6(topo, 'r1', 'https', 443, [cert, key]);
    await startServer6(topo, 'r1', 'line', 7010);
    await startServer6(topo, 'r1', 'dns', 53);
    await startServer6(topo, 'r1', 'echo', 7000);
    await startServer6(topo, 'r2', 'http', 80);
  });
  beforeEach(async function () {
    // The director holds the VIPs on eth0 as promote puts them there (IPv6: no DAD, deprecated: never a source address).
    await t().run(DIRECTOR, ['ip', '-6', 'addr', 'replace', `${VIP6}/128`, 'dev', 'eth0', 'nodad', 'preferred_lft', '0']);
    await t().run(DIRECTOR, ['ip', 'addr', 'replace', `${VIP}/32`, 'dev', 'eth0']);
  });
  afterEach(async function () {
    this.timeout(60_000);
    await started.killAll();
    await t().run(DIRECTOR, ['ipvsadm', '-C']);
    await t().exec(DIRECTOR, ['ip', '-6', 'addr', 'del', `${VIP6}/128`, 'dev', 'eth0']);
    await t().exec(DIRECTOR, ['ip', 'addr', 'del', `${VIP}/32`, 'dev', 'eth0']);
  });
  after(async function () {
    this.timeout(60_000);
    await topo?.destroy();
  });

  /** One virtual6 per check kind, each with r1 (serves it) and a real that cannot pass it. */
  const CHECKS = () =>
    lines(
      'checkinterval=1',
      'checktimeout=2',
      'quiescent=no',
      `virtual6=[${VIP6}]:80`,
      `\treal6=[${a('r1')}]:80 gate`,
      `\treal6=[${a('r2')}]:80 gate`,
      '\tchecktype=negotiate',
      '\tservice=http',
      '\trequest="/"',
      '\treceive="r[12]"',
      '\tscheduler=rr',
      `virtual6=[${VIP6}]:443`,
      `\treal6=[${a('r1')}]:443 gate`,
      `\treal6=[${a('r2')}]:443 gate`,
      '\tchecktype=negotiate',
      '\tservice=https',
      '\treceive="r1"',
      `virtual6=[${VIP6}]:7010`,
      `\treal6=[${a('r1')}]:7010 gate`,
      `\treal6=[${a('r2')}]:7010 gate`,
      '\tchecktype=negotiate',
      '\tservice=simpletcp',
      '\trequest="hello"',
      '\treceive="^status=ok"',
      `virtual6=[${VIP6}]:53`,
      `\treal6=[${a('r1')}]:53 gate`,
      `\treal6=[${a('r2')}]:53 gate`,
      '\tchecktype=negotiate',
      '\tservice=dns',
      '\trequest="www.example.test"',
      '\treceive="203.0.113.5"',
      `virtual6=[${VIP6}]:7000`,
      `\treal6=[${a('r1')}]:7000 gate`,
      `\treal6=[${a('r2')}]:7000 gate`,
      '\tchecktype=connect',
      `virtual6=[${VIP6}]:8080`,
      `\treal6=[${a('r1')}]:8080 gate`,
      `\treal6=[${NOBODY}]:8080 gate`,
      '\tchecktype=ping',
      // Every real down: the fallback goes in.
      `virtual6=[${VIP6}]:9090`,
      `\treal6=[${a('r2')}]:9090 gate`,
      `\tfallback6=[${a('r1')}]:9090 gate`,
      '\tchecktype=connect',
      // An IPv4 virtual in the same file, beside them.
      `virtual=${VIP}:80`,
      `\treal=${t().node('r1').ip}:80 gate`,
      '\tchecktype=connect',
    );

  it('checks IPv6 reals with connect, http, https, simpletcp, dns and ping: each passing real in, each failing one out, fallback6 when none passes', async function () {
    this.timeout(180_000);
    const cfg = await writeConfig(t(), 'checks6.cf', CHECKS());
    const pid = await started.start(DIRECTOR, checkerArgv(t(), cfg), join(t().node(DIRECTOR).dir, 'checks6.log'));
    const want = [
      `-A ${svc(80)} -s rr`, real(80, 'r1'), real(80, 'r2'),
      `-A ${svc(443)} -s wrr`, real(443, 'r1'),
      `-A ${svc(7010)} -s wrr`, real(7010, 'r1'),
      `-A ${svc(53, 'u')} -s wrr`, real(53, 'r1', 'u'),
      `-A ${svc(7000)} -s wrr`, real(7000, 'r1'),
      `-A ${svc(8080)} -s wrr`, real(8080, 'r1'),
      `-A ${svc(9090)} -s wrr`, real(9090, 'r1'),
      `-A -t ${VIP}:80 -s wrr`, `-a -t ${VIP}:80 -r ${t().node('r1').ip}:80 -g -w 1`,
    ].sort();
    let now: string[] = [];
    await waitFor('the IPv6 table to be as the checks say', async () => (now = await table(t())).join('\n') === want.join('\n'), 30_000, 300).catch(async (err: Error) => {
      const checks = (await readStatus(t(), cfg)).virtuals.flatMap((v) => v.reals.map((r) => `${v.virtual} ${r.real}: ${JSON.stringify(r.lastCheck)}`));
      throw new Error(`${err.message}\nwant:\n${want.join('\n')}\nhave:\n${now.join('\n')}\nlvsd's checks:\n${checks.join('\n')}`);
    });
    // What each check said, as lvsd reports it: r2's failures are the real reason, not a parse error.
    const st = await everyRealChecked(t(), cfg);
    const detail = (v: string, r: string) => st.virtuals.find((x) => x.virtual.startsWith(v))?.reals.find((x) => x.real.startsWith(r))?.lastCheck;
    assert.equal(detail(`[${VIP6}]:443`, `[${a('r2')}]`)?.up, false);
    assert.match(String(detail(`[${VIP6}]:7010`, `[${a('r2')}]`)?.detail), /refused/i);
    assert.match(String(detail(`[${VIP6}]:53`, `[${a('r1')}]`)?.detail), /answer 203\.0\.113\.5/);
    assert.equal(detail(`[${VIP6}]:8080`, `[${NOBODY}]`)?.up, false);
    assert.equal(detail(`[${VIP6}]:8080`, `[${a('r1')}]`)?.up, true);
    await t().run(DIRECTOR, ['kill', '-TERM', String(pid)]);
    await waitGone(t(), pid);
    assert.deepEqual(await table(t()), [], 'cleanstop removes every IPv6 virtual');
  });

  it('clients reach several reals through the IPv6 VIP (DR; the reals set up by lvskit realserver up), and no real answers for the VIP', async function () {
    this.timeout(180_000);
    for (const r of ['r1', 'r2']) {
      // The reals share the lab's /run: each gets its own, for realserver's state file.
      await t().run(r, ['mount', '-t', 'tmpfs', '-o', 'mode=755', 'tmpfs', '/run']);
      const up = await t().exec(r, [t().spec.binary, 'realserver', 'up', '--vip', VIP6]);
      assert.equal(up.code, 0, show(up));
    }
    try {
      assert.deepEqual(await ndiscAnswers(t(), 'client'), [t().node(DIRECTOR).mac], 'only the director answers for the VIP, not the reals with it on lo');
      const cfg = await writeConfig(t(), 'dr6.cf', CHECKS());
      await started.start(DIRECTOR, checkerArgv(t(), cfg), join(t().node(DIRECTOR).dir, 'dr6.log'));
      await waitFor('both reals in the :80 service', async () => (await table(t())).filter((l) => l.startsWith(`-a ${svc(80)} `)).length === 2, 30_000, 300);
      const answers = new Map<string, number>();
      for (let i = 0; i < 8; i++) {
        const r = await curl6(t(), 'client', VIP6);
        assert.equal(r.code, 0, `request ${i + 1} through [${VIP6}]:80: ${show(r)}`);
        answers.set(r.stdout.trim(), (answers.get(r.stdout.trim()) ?? 0) + 1);
      }
      assert.deepEqual([...answers.keys()].sort(), ['r1', 'r2'], `rr over both reals: ${JSON.stringify([...answers])}`);
      const tls = await t().exec('client', ['curl', '-sS', '-g', '-k', '--max-time', '3', `https://[${VIP6}]:443/`]);
      assert.equal(tls.stdout.trim(), 'r1', `https through the VIP: ${show(tls)}`);
      // The director's IPVS connection table shows IPv6 connections to both reals.
      const conns = await t().run(DIRECTOR, ['ipvsadm', '-Lnc']);
      for (const r of ['r1', 'r2']) assert.match(conns, new RegExp(`\\[${a(r)}\\]:80`), `a connection to ${r}:\n${conns}`);
    } finally {
      for (const r of ['r1', 'r2']) {
        const down = await t().exec(r, [t().spec.binary, 'realserver', 'down', '--vip', VIP6]);
        assert.equal(down.code, 0, show(down));
        assert.deepEqual(await vip6On(t(), r, 'lo'), []);
        await t().run(r, ['umount', '/run']);
      }
    }
  });

  it('follows the IPv6 VIP: its services leave the table when it leaves eth0 and come back with it; the IPv4 virtual stays', async function () {
    this.timeout(180_000);
    const cfg = await writeConfig(t(), 'follow6.cf', CHECKS());
    await started.start(DIRECTOR, checkerArgv(t(), cfg), join(t().node(DIRECTOR).dir, 'follow6.log'));
    const v6Services = async () => (await table(t())).filter((l) => l.startsWith('-A ') && l.includes(`[${VIP6}]`)).length;
    const v4 = `-A -t ${VIP}:80 -s wrr`;
    await waitFor('the 7 IPv6 services in', async () => (await v6Services()) === 7, 30_000, 200);
    // As demote leaves it: the VIP on lo, not on the NIC.
    await t().run(DIRECTOR, ['ip', '-6', 'addr', 'del', `${VIP6}/128`, 'dev', 'eth0']);
    await t().run(DIRECTOR, ['ip', '-6', 'addr', 'add', `${VIP6}/128`, 'dev', 'lo']);
    try {
      await waitFor('every IPv6 service out once the VIP is only on lo', async () => (await v6Services()) === 0, 10_000, 100);
      assert.ok((await table(t())).includes(v4), 'the IPv4 virtual is not touched');
      // The status file is written at most once a second (and may not be there yet: the table comes first).
      let seen = 'no status file';
      const standby = async () => {
        const st = await readStatus(t(), cfg).catch(() => undefined);
        if (!st) return false;
        const active = (st.virtuals as Array<{ virtual: string; active?: boolean }>).filter((v) => v.virtual.includes(VIP6)).map((v) => v.active);
        seen = `active ${JSON.stringify(active)} in the status of ${st.updatedAt}`;
        return JSON.stringify(active) === JSON.stringify(Array(7).fill(false));
      };
      await waitFor('status: every IPv6 virtual on standby', standby, 30_000, 300).catch(async (err: Error) => {
        const log = (await t().exec(DIRECTOR, ['tail', '-n', '40', join(t().node(DIRECTOR).dir, 'follow6.log')])).stdout;
        throw new Error(`${err.message}; ${seen}; now ${(await t().run(DIRECTOR, ['date', '-u', '+%FT%T.%3NZ'])).trim()}\nlvsd's log:\n${log}`);
      });
      await t().run(DIRECTOR, ['ip', '-6', 'addr', 'del', `${VIP6}/128`, 'dev', 'lo']);
      await t().run(DIRECTOR, ['ip', '-6', 'addr', 'add', `${VIP6}/128`, 'dev', 'eth0', 'nodad', 'preferred_lft', '0']);
      await waitFor('the IPv6 services back with the VIP on eth0', async () => (await v6Services()) === 7, 10_000, 100);
      // Their reals come back with the health already known: r1 and r2 in :80 at once.
      assert.equal((await table(t())).filter((l) => l.startsWith(`-a ${svc(80)} `)).length, 2);
    } finally {
      await t().exec(DIRECTOR, ['ip', '-6', 'addr', 'del', `${VIP6}/128`, 'dev', 'lo']);
    }
  });

  it('builds the same IPv6 table as Debian ldirectord from the same file (connect, simpletcp, dns; weights, quiescent, fallback6, persistent with an IPv6 netmask, fwmark)', async function () {
    this.timeout(300_000);
    // Debian's ldirectord checks http over IPv6 only with Net::INET6Glue (not installed): not compared here.
    const cfg = await writeConfig(t(), 'compare6.cf', lines(
      'checktimeout=2',
      'checkinterval=1',
      'quiescent=no',
      'cleanstop=yes',
      `virtual6=[${VIP6}]:7000`,
      `\treal6=[${a('r1')}]:7000 gate 5`,
      `\treal6=[${a('r2')}]:7000 gate 10`,
      `\treal6=[${NOBODY}]:7000 gate 2`,
      '\tchecktype=connect',
      '\tscheduler=lc',
      '\tquiescent=yes',
      `virtual6=[${VIP6}]:7010`,
      `\treal6=[${a('r1')}]:7010 gate 3`,
      `\treal6=[${a('r2')}]:7010 gate 4`,
      '\tchecktype=negotiate',
      '\tservice=simpletcp',
      '\trequest="hello"',
      '\treceive="status=ok"',
      '\tscheduler=wrr',
      '\tpersistent=300',
      '\tnetmask=64',
      `virtual6=[${VIP6}]:53`,
      `\treal6=[${a('r1')}]:53 gate 2`,
      `\treal6=[${a('r2')}]:53 gate 3`,
      '\tchecktype=negotiate',
      '\tservice=dns',
      '\trequest="www.example.test"',
      '\treceive="203.0.113.5"',
      '\tscheduler=rr',
      `virtual6=[${VIP6}]:9090`,
      `\treal6=[${a('r2')}]:9090 gate`,
      `\tfallback6=[${a('r1')}]:9090 gate`,
      '\tchecktype=connect',
      '\tscheduler=wlc',
      'virtual6=7',
      `\treal6=[${a('r1')}] gate 7`,
      `\treal6=[${a('r2')}] gate 8`,
      '\tchecktype=connect',
      '\tcheckport=7000',
      '\tscheduler=sh',
      '\tpersistent=120',
    ));
    const dir = t().node(DIRECTOR).dir;
    const ld = await started.start(DIRECTOR, ['/usr/sbin/ldirectord', '-d', cfg, 'start'], join(dir, 'debian-ldirectord6.log'));
    const theirs = await settled(t(), 'Debian ldirectord', 8000, 150_000).catch(async (err: Error) => {
      const log = (await t().exec(DIRECTOR, ['tail', '-n', '60', join(dir, 'debian-ldirectord6.log')])).stdout;
      throw new Error(`${err.message}\nits log:\n${log}`);
    });
    await t().exec(DIRECTOR, ['kill', '-TERM', String(ld)]);
    await waitGone(t(), ld, 60_000);
    assert.deepEqual(await table(t()), [], 'Debian ldirectord with cleanstop=yes leaves nothing');
    // Debian ldirectord knows nothing of followvip: the fwmark virtual is always in, and lvsd says so.
    const ours = await started.start(DIRECTOR, checkerArgv(t(), cfg), join(dir, 'compare6-lvsd.log'));
    await everyRealChecked(t(), cfg);
    const mine = await settled(t(), 'lvsd', 4000, 60_000);
    await t().exec(DIRECTOR, ['kill', '-TERM', String(ours)]);
    await waitGone(t(), ours);
    assert.deepEqual(mine, theirs, `lvsd's IPv6 table (actual) must equal Debian ldirectord's (expected)`);
    // Not an empty comparison: the reals that pass are in, the one that cannot is quiesced, the fallback is in.
    assert.ok(mine.includes(real(7000, 'r1', 't', 5)) && mine.includes(`-a ${svc(7000)} -r [${NOBODY}]:7000 -g -w 0`), mine.join('\n'));
    assert.ok(mine.includes(real(9090, 'r1')), `fallback6 in:\n${mine.join('\n')}`);
    assert.ok(mine.some((l) => l.startsWith('-A -f 7 ') && l.includes('-6')), `the IPv6 fwmark service:\n${mine.join('\n')}`);
  });

  describe('IPv6 configuration errors: a clear message naming file:line, nothing started, nothing changed', function () {
    const BAD: Array<{ what: string; text: () => string; line: number; says: RegExp }> = [
      { what: 'an IPv4 real under virtual6', text: () => lines('checktimeout=2', `virtual6=[${VIP6}]:80`, `\treal=${t().node('r1').ip}:80 gate`, '\tchecktype=connect'), line: 3, says: /real: a virtual6 section takes real6/ },
      { what: 'real6 with an IPv4 address', text: () => lines('checktimeout=2', `virtual6=[${VIP6}]:80`, `\treal6=${t().node('r1').ip}:80 gate`, '\tchecktype=connect'), line: 3, says: /real6: IPv4 address 198\.51\.100\.21 needs real, not real6/ },
      { what: 'an IPv4 fallback6', text: () => lines(`virtual6=[${VIP6}]:80`, `\treal6=[${a('r1')}]:80 gate`, `\tfallback6=${t().node('r1').ip}:80 gate`), line: 3, says: /fallback6: IPv4 address .* needs fallback, not fallback6/ },
      { what: 'an IPv6 virtual written as virtual', text: () => lines(`virtual=[${VIP6}]:80`, `\treal=${t().node('r1').ip}:80 gate`), line: 1, says: /virtual: IPv6 address \[2001:db8::100\] needs virtual6/ },
      { what: 'an IPv6 netmask over 128', text: () => lines(`virtual6=[${VIP6}]:80`, `\treal6=[${a('r1')}]:80 gate`, '\tpersistent=30', '\tnetmask=129'), line: 4, says: /netmask: .*between 1 and 128/ },
      { what: 'a prefix in virtual6', text: () => lines(`virtual6=[${VIP6}/129]:80`, `\treal6=[${a('r1')}]:80 gate`), line: 1, says: /virtual6: invalid IPv6 address '2001:db8::100\/129'/ },
    ];

    const lvsdAgent = (action: string, cfg: string): Promise<ExecResult> =>
      t().exec(DIRECTOR, [LVSD_AGENT, action], {
        env: {
          OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: 'lvsd', OCF_RESOURCE_TYPE: 'lvsd', OCF_RESOURCE_PROVIDER: 'heartbeat',
          OCF_RA_VERSION_MAJOR: '1', OCF_RA_VERSION_MINOR: '1', OCF_RESKEY_configfile: cfg, OCF_RESKEY_CRM_meta_timeout: '20000', OCF_RESKEY_CRM_meta_interval: '0',
        },
        timeoutMs: 60_000,
      });

    for (const [i, c] of BAD.entries()) {
      it(`${c.what}: --test-config 1, lvsd refuses to start, ocf:heartbeat:lvsd start 6, the table unchanged`, async function () {
        this.timeout(120_000);
        const existing = `-A -t [${VIP6}]:8443 -s rr`;
        await t().run(DIRECTOR, ['ipvsadm', '-R'], { stdin: `${existing}\n` });
        const cfg = await writeConfig(t(), `bad6-${i}.cf`, c.text());
        const where = new RegExp(`${cfg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${c.line}: ${c.says.source}`);
        const test = await t().exec(DIRECTOR, [t().spec.binary, 'checker', '--test-config', '--config', cfg]);
        assert.equal(test.code, 1, show(test));
        assert.match(test.stdout + test.stderr, where, show(test));
        const run = await t().exec(DIRECTOR, checkerArgv(t(), cfg), { timeoutMs: 30_000 });
        assert.notEqual(run.code, 0, `lvsd started with a bad file:\n${show(run)}`);
        assert.match(run.stdout + run.stderr, where, show(run));
        const ocf = await lvsdAgent('start', cfg);
        assert.equal(ocf.code, OCF.ERR_CONFIGURED, show(ocf));
        assert.ok(ocf.stderr.split('\n').some((l) => l.startsWith('ocf-exit-reason:') && where.test(l)), `an ocf-exit-reason: line naming ${cfg}:${c.line}:\n${show(ocf)}`);
        assert.deepEqual(await table(t()), [existing], 'the table as it was');
      });
    }
  });
});
