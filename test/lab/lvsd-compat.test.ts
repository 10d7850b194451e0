// lvsd against what it replaces, on a real IPVS kernel: the table Debian's ldirectord builds from the
// same file, the ldirectord command line (and resource-agents' ocf:heartbeat:ldirectord driving it),
// and ocf:heartbeat:lvsd as pacemaker and ocf-tester run it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { defaultSpec, Topology, type ExecResult } from '../../lab';
import { BOOT_TIMEOUT_MS, labKernel } from '../support/lab';
import {
  alive,
  checkerArgv,
  DIRECTOR,
  esc,
  everyRealChecked,
  hasService,
  settled,
  ldirectordLink,
  listener,
  OCF,
  ocfLvsd,
  show,
  Started,
  stopHttp,
  table,
  VIP,
  waitFor,
  waitGone,
  weights,
  writeConfig,
} from '../support/lvsd';

const R = { r1: '198.51.100.21', r2: '198.51.100.22', r3: '198.51.100.23' };
const SVC = `-t ${VIP}:80`;
const LDIRECTORD_AGENT = '/usr/lib/ocf/resource.d/heartbeat/ldirectord';
const LVSD_AGENT = '/usr/lib/ocf/resource.d/heartbeat/lvsd';

function lines(...ls: string[]): string {
  return `${ls.join('\n')}\n`;
}

/** r1 and r2 behind the VIP, checked over HTTP. */
const SIMPLE = lines(
  'checkinterval=1',
  'checktimeout=1',
  `virtual=${VIP}:80`,
  `\treal=${R.r1}:80 gate 1`,
  `\treal=${R.r2}:80 gate 2`,
  '\tchecktype=negotiate',
  '\tservice=http',
  '\treceive="r[0-9]"',
  '\tscheduler=wrr',
);

/** Line 5 is wrong. */
const BROKEN = lines('checkinterval=1', 'checktimeout=1', `virtual=${VIP}:80`, `\treal=${R.r1}:80 gate 1`, `\treal=${R.r2}:80 gateway 2`);

function useTopology(): { topo: () => Topology; started: Started } {
  let topo: Topology | undefined;
  const get = (): Topology => {
    if (!topo) throw new Error('no topology (before() failed)');
    return topo;
  };
  const started = new Started(get);
  before(async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    topo = await Topology.create(await labKernel(), defaultSpec(1, 3));
    // The director holds the VIP, as a promoted one does: lvsd forwards only held VIPs (followvip).
    await topo.run(DIRECTOR, ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'eth0']);
  });
  afterEach(async function () {
    this.timeout(60_000);
    await started.killAll();
    await get().run(DIRECTOR, ['ipvsadm', '-C']);
    await get().exec(DIRECTOR, ['find', '/run', '-maxdepth', '1', '-name', 'ldirectord.*.pid', '-delete']);
    if ((await listener(get(), 'r3')) === undefined) await get().startHttp('r3');
  });
  after(async function () {
    this.timeout(60_000);
    await topo?.destroy();
  });
  return { topo: get, started };
}

// One topology for the whole file (a director and three DR real servers): building one costs seconds.
describe('lvsd compared with ldirectord and under OCF', function () {
  const { topo, started } = useTopology();

  describe('lvsd builds the same IPVS table as Debian ldirectord from the same file', function () {

    it('7. tcp, udp 53, fwmark; gate and masq; weights; quiescent=yes with a real down; lc; persistent', async function () {
      this.timeout(300_000);
      const t = topo();
      // r3 down: its HTTP check fails while it still answers ping and connects on other ports.
      await stopHttp(t, 'r3');
      const cfg = await writeConfig(t, 'compare.cf', lines(
        'checktimeout=2',
        'checkinterval=1',
        'quiescent=no',
        'cleanstop=yes',
        '',
        `virtual=${VIP}:80`,
        `\treal=${R.r1}:80 gate 5`,
        `\treal=${R.r2}:80 gate 10`,
        `\treal=${R.r3}:80 gate 1`,
        '\tchecktype=negotiate',
        '\tservice=http',
        '\trequest="index.html"',
        '\treceive="r[0-9]"',
        '\tscheduler=lc',
        '\tquiescent=yes',
        '',
        // Port 53: UDP by default. .29 is no host at all.
        `virtual=${VIP}:53`,
        `\treal=${R.r1}:53 gate 2`,
        `\treal=${R.r2}:53 gate 3`,
        '\treal=198.51.100.29:53 gate 4',
        '\tchecktype=connect',
        '\tscheduler=rr',
        '',
        `virtual=${VIP}:8080`,
        `\treal=${R.r1}:80 masq 4`,
        `\treal=${R.r2}:80 masq 6`,
        '\tchecktype=connect',
        '\tscheduler=wlc',
        '\tpersistent=300',
        '\tnetmask=255.255.255.0',
        '',
        'virtual=7',
        `\treal=${R.r1} gate 7`,
        `\treal=${R.r2} gate 8`,
        '\tchecktype=connect',
        '\tcheckport=80',
        '\tscheduler=sh',
        '\tpersistent=120',
      ));
      const dir = t.node(DIRECTOR).dir;

      const ld = await started.start(DIRECTOR, ['/usr/sbin/ldirectord', '-d', cfg, 'start'], join(dir, 'debian-ldirectord.log'));
      const theirs = await settled(t, 'Debian ldirectord', 8000, 150_000);
      await t.exec(DIRECTOR, ['kill', '-TERM', String(ld)]);
      await waitGone(t, ld, 60_000);
      assert.deepEqual(await table(t), [], 'Debian ldirectord with cleanstop=yes leaves nothing');

      const ours = await started.start(DIRECTOR, checkerArgv(t, cfg), join(dir, 'compare-lvsd.log'));
      await everyRealChecked(t, cfg);
      const mine = await settled(t, 'lvsd', 4000, 60_000);
      await t.exec(DIRECTOR, ['kill', '-TERM', String(ours)]);
      await waitGone(t, ours);
      assert.deepEqual(await table(t), [], 'lvsd with cleanstop=yes leaves nothing');

      assert.deepEqual(mine, theirs, `lvsd's table (actual) must equal Debian ldirectord's (expected)`);
    });
  });

  describe('the ldirectord command line (lvskit as ldirectord)', function () {

    async function ld(args: string[]): Promise<ExecResult> {
      return topo().exec(DIRECTOR, [await ldirectordLink(topo()), ...args], { timeoutMs: 30_000 });
    }

    async function pidFile(name: string): Promise<number | undefined> {
      const r = await topo().exec(DIRECTOR, ['cat', `/var/run/ldirectord.${name}.pid`]);
      return r.code === 0 ? Number(r.stdout.trim()) : undefined;
    }

    it('8. start returns once the daemon runs; status 0; reload, force-reload, restart; stop; status 3; cleanstop empties the table; try-restart when stopped', async function () {
      // Eleven ldirectord calls, each a process start in the guest: seconds apiece when it is busy.
      this.timeout(300_000);
      const t = topo();
      const cfg = await writeConfig(t, 'cli.cf', SIMPLE);
      const start = await ld([cfg, 'start']);
      assert.equal(start.code, 0, show(start));
      const status = await ld([cfg, 'status']);
      assert.equal(status.code, 0, `status right after start:\n${show(status)}`);
      const pid = await pidFile('cli.cf');
      assert.ok(pid !== undefined && (await alive(t, pid)), `/var/run/ldirectord.cli.cf.pid names a live process (${pid})`);
      started.add(pid);
      assert.ok(hasService((await table(t)).join('\n'), SVC), 'the virtual service is in the table once start returns');
    const twice = await ld([cfg, 'start']);
    assert.equal(twice.code, 0, `start when running:\n${show(twice)}`);
    assert.equal(await pidFile('cli.cf'), pid, 'a second start starts no second daemon');
      await waitFor('r1 and r2 in the table', async () => weights((await table(t)).join('\n'), SVC).size === 2, 45_000);

      const reload = await ld([cfg, 'reload']);
      assert.equal(reload.code, 0, show(reload));
      assert.ok(await alive(t, pid), 'the daemon survives a reload');
      assert.equal((await ld([cfg, 'status'])).code, 0, 'status after reload');
      assert.equal(await pidFile('cli.cf'), pid, 'same daemon after reload');

      const force = await ld([cfg, 'force-reload']);
      assert.equal(force.code, 0, show(force));
      assert.equal(await pidFile('cli.cf'), pid, 'same daemon after force-reload');

      // restart: a new daemon, and the table back once its checks pass.
      const restart = await ld([cfg, 'restart']);
      assert.equal(restart.code, 0, show(restart));
      await waitGone(t, pid, 45_000);
      const pid2 = await pidFile('cli.cf');
      assert.ok(pid2 !== undefined && pid2 !== pid && (await alive(t, pid2)), `a new daemon after restart (${pid} → ${pid2})`);
      started.add(pid2);
      assert.equal((await ld([cfg, 'status'])).code, 0, 'status after restart');
      await waitFor('r1 and r2 in the table after restart', async () => weights((await table(t)).join('\n'), SVC).size === 2, 45_000);

      const stop = await ld([cfg, 'stop']);
      assert.equal(stop.code, 0, show(stop));
      await waitGone(t, pid2, 45_000);
      const after = await ld([cfg, 'status']);
      assert.equal(after.code, 3, `status after stop:\n${show(after)}`);
      assert.equal(await pidFile('cli.cf'), undefined, 'the pid file is gone');
      assert.deepEqual(await table(t), [], 'cleanstop (default yes) removed the virtual service');
      const again = await ld([cfg, 'stop']);
      assert.equal(again.code, 0, `stop when stopped:\n${show(again)}`);
      const tryRestart = await ld([cfg, 'try-restart']);
      assert.equal(tryRestart.code, 0, `try-restart when stopped:\n${show(tryRestart)}`);
      assert.equal((await ld([cfg, 'status'])).code, 3, 'try-restart does not start a stopped daemon');
    });

    it('8. with no configuration argument: /etc/ha.d/ldirectord.cf and /var/run/ldirectord.ldirectord.pid', async function () {
      this.timeout(120_000);
      const t = topo();
      // The director's /etc/ha.d is its private copy (lab/guest/node.sh).
      const w = await t.exec(DIRECTOR, ['tee', '/etc/ha.d/ldirectord.cf'], { stdin: SIMPLE });
      assert.equal(w.code, 0, show(w));
      try {
        const start = await ld(['start']);
        assert.equal(start.code, 0, show(start));
        const pid = await pidFile('ldirectord');
        assert.ok(pid !== undefined, 'pid file /var/run/ldirectord.ldirectord.pid');
        started.add(pid);
        assert.equal((await ld(['status'])).code, 0);
        assert.equal((await ld(['stop'])).code, 0);
        await waitGone(t, pid);
        assert.equal((await ld(['status'])).code, 3);
      } finally {
        await t.exec(DIRECTOR, ['rm', '-f', '/etc/ha.d/ldirectord.cf']);
      }
    });

    it('8. `ldirectord -d CONFIG start` stays in the foreground, logs to its output, and SIGTERM cleans up', async function () {
      this.timeout(60_000);
      const t = topo();
      const cfg = await writeConfig(t, 'foreground.cf', SIMPLE);
      const log = join(t.node(DIRECTOR).dir, 'foreground.log');
      const pid = await started.start(DIRECTOR, [await ldirectordLink(t), '-d', cfg, 'start'], log);
      await waitFor('r1 and r2 in the table', async () => weights((await table(t)).join('\n'), SVC).size === 2, 20_000);
      assert.ok(await alive(t, pid), 'the foreground process is the daemon');
      const out = await t.run(DIRECTOR, ['cat', log]);
      assert.match(out, new RegExp(esc(R.r1)), `-d logs to the terminal (here its output file):\n${out}`);
      await t.exec(DIRECTOR, ['kill', '-TERM', String(pid)]);
      await waitGone(t, pid);
      assert.deepEqual(await table(t), [], 'SIGTERM with cleanstop removed the service');
    });

    it('8. a stale pid file: status 1 (and the ldirectord OCF agent sees "not running"); a config error: status 2 naming file:line', async function () {
      this.timeout(60_000);
      const t = topo();
      const cfg = await writeConfig(t, 'stale.cf', SIMPLE);
      // A live process that is not ldirectord (the node's namespace holder), then one that is gone.
      for (const stale of [t.node(DIRECTOR).pid, 999_999]) {
        const w = await t.exec(DIRECTOR, ['tee', '/var/run/ldirectord.stale.cf.pid'], { stdin: `${stale}\n` });
        assert.equal(w.code, 0, show(w));
        const r = await ld([cfg, 'status']);
        assert.equal(r.code, 1, `status with a stale pid file (pid ${stale}):\n${show(r)}`);
        const m = await ocfLdirectord(t, 'monitor', cfg);
        assert.equal(m.code, OCF.NOT_RUNNING, `ocf:heartbeat:ldirectord monitor with a stale pid file (pid ${stale}): the agent looks for "ldirectord stale pid file"\n${show(m)}`);
      }
      await t.run(DIRECTOR, ['rm', '-f', '/var/run/ldirectord.stale.cf.pid']);
      assert.equal((await ld([cfg, 'status'])).code, 3, 'status without a pid file');

      const bad = await writeConfig(t, 'broken.cf', BROKEN);
      const r = await ld([bad, 'status']);
      assert.equal(r.code, 2, show(r));
      assert.match(r.stdout + r.stderr, new RegExp(`${esc(bad)}:5\\b`), `the message names ${bad}:5\n${show(r)}`);
    });

    async function ocfLdirectord(t: Topology, action: string, cfg: string): Promise<ExecResult> {
      return t.exec(DIRECTOR, [LDIRECTORD_AGENT, action], {
        env: {
          OCF_ROOT: '/usr/lib/ocf',
          OCF_RESOURCE_INSTANCE: 'ldirectord',
          OCF_RESKEY_configfile: cfg,
          OCF_RESKEY_ldirectord: await ldirectordLink(t),
          OCF_RESKEY_CRM_meta_timeout: '20000',
        },
        timeoutMs: 60_000,
      });
    }

    it("8. resource-agents' ocf:heartbeat:ldirectord with our binary: start 0, monitor 0, stop 0, monitor 7", async function () {
      this.timeout(120_000);
      const t = topo();
      const cfg = await writeConfig(t, 'ocf-ld.cf', SIMPLE);
      const start = await ocfLdirectord(t, 'start', cfg);
      assert.equal(start.code, OCF.SUCCESS, show(start));
      const pid = await pidFile('ocf-ld.cf');
      if (pid !== undefined) started.add(pid);
      assert.equal((await ocfLdirectord(t, 'monitor', cfg)).code, OCF.SUCCESS, 'monitor after start');
      await waitFor('r1 and r2 in the table', async () => weights((await table(t)).join('\n'), SVC).size === 2, 15_000);
      const stop = await ocfLdirectord(t, 'stop', cfg);
      assert.equal(stop.code, OCF.SUCCESS, show(stop));
      const m = await ocfLdirectord(t, 'monitor', cfg);
      assert.equal(m.code, OCF.NOT_RUNNING, `monitor right after stop:\n${show(m)}`);
      if (pid !== undefined) await waitGone(t, pid);
      assert.deepEqual(await table(t), [], 'stop removed the virtual service');
    });
  });

  describe('ocf:heartbeat:lvsd', function () {

    const lvsdAgent = ocfLvsd;

    it('9. validate-all (and start) with a bad file: 6 and an ocf-exit-reason naming file:line', async function () {
      this.timeout(60_000);
      const t = topo();
      const bad = await writeConfig(t, 'ocf-bad.cf', BROKEN);
      const r = await lvsdAgent(t, 'validate-all', bad);
      assert.equal(r.code, OCF.ERR_CONFIGURED, show(r));
      const reasons = r.stderr.split('\n').filter((l) => l.startsWith('ocf-exit-reason:'));
      assert.ok(reasons.some((l) => l.includes(`${bad}:5`)), `an ocf-exit-reason: line naming ${bad}:5\n${show(r)}`);
      const st = await lvsdAgent(t, 'start', bad);
    assert.equal(st.code, OCF.ERR_CONFIGURED, `start with a bad file:\n${show(st)}`);
    assert.deepEqual(await table(t), [], 'a failed start leaves nothing');
    const good = await writeConfig(t, 'ocf-good.cf', SIMPLE);
      assert.equal((await lvsdAgent(t, 'validate-all', good)).code, OCF.SUCCESS, 'validate-all with a good file');
    });

    it('9. start 0 with the table there; monitor 0 (also OCF_CHECK_LEVEL=10); stop removes the services; monitor 7', async function () {
      this.timeout(120_000);
      const t = topo();
      const cfg = await writeConfig(t, 'ocf-lvsd.cf', SIMPLE);
      assert.equal((await lvsdAgent(t, 'monitor', cfg)).code, OCF.NOT_RUNNING, 'monitor before start');
      const start = await lvsdAgent(t, 'start', cfg);
      try {
        assert.equal(start.code, OCF.SUCCESS, show(start));
        assert.ok(hasService((await table(t)).join('\n'), SVC), `the virtual service is in the table once start returns:\n${(await table(t)).join('\n')}`);
        await waitFor('r1 and r2 in the table', async () => weights((await table(t)).join('\n'), SVC).size === 2, 15_000);
        const m = await lvsdAgent(t, 'monitor', cfg);
        assert.equal(m.code, OCF.SUCCESS, show(m));
        const deep = await lvsdAgent(t, 'monitor', cfg, { OCF_CHECK_LEVEL: '10' });
        assert.equal(deep.code, OCF.SUCCESS, show(deep));
        assert.equal((await lvsdAgent(t, 'start', cfg)).code, OCF.SUCCESS, 'a second start is a no-op success');
      } finally {
        const stop = await lvsdAgent(t, 'stop', cfg);
        assert.equal(stop.code, OCF.SUCCESS, show(stop));
      }
      assert.deepEqual(await table(t), [], 'stop removed the virtual services (cleanstop)');
      assert.equal((await lvsdAgent(t, 'monitor', cfg)).code, OCF.NOT_RUNNING, 'monitor after stop');
      assert.equal((await lvsdAgent(t, 'stop', cfg)).code, OCF.SUCCESS, 'stop when stopped');
    });

    it('9. meta-data is valid against ra-api-1.dtd', async function () {
      this.timeout(60_000);
      const t = topo();
      const md = await lvsdAgent(t, 'meta-data', '/nonexistent.cf');
      assert.equal(md.code, OCF.SUCCESS, show(md));
      const x = await t.exec(DIRECTOR, ['xmllint', '--noout', '--dtdvalid', '/usr/share/resource-agents/ra-api-1.dtd', '-'], { stdin: md.stdout });
      assert.equal(x.code, 0, `xmllint:\n${show(x)}\n${md.stdout}`);
    });

    it('9. ocf-tester passes', async function () {
      this.timeout(300_000);
      const t = topo();
      const cfg = await writeConfig(t, 'ocf-tester.cf', SIMPLE);
      const r = await t.exec(DIRECTOR, ['ocf-tester', '-n', 'lvsd', '-o', `configfile=${cfg}`, LVSD_AGENT], {
        env: { OCF_ROOT: '/usr/lib/ocf' },
        timeoutMs: 240_000,
      });
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout + r.stderr, /passed all tests/, show(r));
      assert.deepEqual(await table(t), [], "ocf-tester's last stop leaves no virtual service");
    });
  });
});
