// lvsd (`lvskit checker`) on a real IPVS kernel, black-box, against the specification of issue 4:
// failure detection for every way a real server dies, fallback, reload, restart, start on an empty
// table, slow start, metrics and --test-config. The table is read with ipvsadm, every ~50 ms inside
// the lab during timed sequences; bounds are checkinterval + checktimeout plus a lab margin.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { defaultSpec, Topology } from '../../lab';
import { BOOT_TIMEOUT_MS, labKernel } from '../support/lab';
import {
  checkerArgv,
  DIRECTOR,
  esc,
  inNode,
  inPoolRe,
  ldirectordLink,
  LAB_BUSY,
  LAB_MARGIN_S,
  logLines,
  listener,
  readStatus,
  runAll,
  realRe,
  scenario,
  show,
  Started,
  startTool,
  stopHttp,
  table,
  thresholds,
  TOOLS,
  VIP,
  VIP2,
  waitFor,
  waitGone,
  watchTable,
  watchThresholds,
  weights,
  writeConfig,
  type Scenario,
} from '../support/lvsd';

const D1 = '198.51.100.11';
const R = { r1: '198.51.100.21', r2: '198.51.100.22', r3: '198.51.100.23', r4: '198.51.100.24', r5: '198.51.100.25' };
const SVC = `-t ${VIP}:80`;
const SVC2 = `-t ${VIP2}:80`;
/** checkinterval and checktimeout of most configurations here. */
const CI = 1;
const CT = 1;
/** Time for the binary to start inside UML (a Node SEA: about 1 s, more on a busy machine). */
const STARTUP_S = 4;
/** What a process start in a busy guest added (LAB_BUSY): up to 15 s. */
const BUSY_START_S = LAB_BUSY ? 15 : 0;

/** An HTTP virtual section (negotiate check, body must name a real server). */
function httpVirtual(vip: string, reals: [string, number][], extra: string[] = [], scheduler = 'wrr'): string {
  return [
    `virtual=${vip}:80`,
    ...reals.map(([ip, w]) => `\treal=${ip}:80 gate ${w}`),
    '\tchecktype=negotiate',
    '\tservice=http',
    '\trequest="/"',
    '\treceive="r[0-9]"',
    `\tscheduler=${scheduler}`,
    ...extra.map((l) => `\t${l}`),
  ].join('\n');
}

function lines(...ls: string[]): string {
  return `${ls.join('\n')}\n`;
}

describe('lvsd on a real IPVS kernel (spec of issue 4)', function () {
  let topo: Topology | undefined;
  const t = (): Topology => {
    if (!topo) throw new Error('no topology (before() failed)');
    return topo;
  };
  const started = new Started(t);
  /** r5 serves HTTP through a server the test can slow down: it answers after 3 s while this file exists. */
  let slowFlag = '';

  before(async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    const spec = defaultSpec(1, 5);
    spec.nodes = spec.nodes.map((n) => (n.name === 'r5' ? { ...n, http: false } : n));
    topo = await Topology.create(await labKernel(), spec);
    const r5 = topo.node('r5');
    slowFlag = join(r5.dir, 'slow');
    await topo.exec('r5', ['python3', '-c', TOOLS, 'slowhttp', 'r5', slowFlag], { detach: true, log: join(r5.dir, 'slowhttp.log') });
    await waitFor('the slow-capable HTTP server on r5', async () => (await listener(t(), 'r5')) !== undefined);
  });

  // The director holds its VIPs on eth0, as a promoted director does: lvsd forwards only the
  // virtual services whose VIP is held here (followvip), so without them the table stays empty.
  beforeEach(async function () {
    for (const a of [VIP, VIP2]) await t().run(DIRECTOR, ['ip', 'addr', 'replace', `${a}/32`, 'dev', 'eth0']);
  });

  afterEach(async function () {
    this.timeout(60_000);
    const tp = t();
    await started.killAll();
    await tp.run(DIRECTOR, ['ipvsadm', '-C']);
    // Put every real server back as the topology built it, whatever the test did to it.
    const reals = ['r1', 'r2', 'r3', 'r4', 'r5'] as const;
    const res = await runAll(tp, [
      inNode(tp, DIRECTOR, ['ipvsadm', '-C']),
      ['rm', '-f', slowFlag],
      ...[VIP, VIP2].map((a) => inNode(tp, DIRECTOR, ['ip', 'addr', 'del', `${a}/32`, 'dev', 'eth0'])),
      ...reals.flatMap((name) => [
        ['ip', '-n', tp.switchNs, 'link', 'set', name, 'up'],
        inNode(tp, name, ['ip', 'addr', 'replace', `${R[name]}/24`, 'dev', 'eth0']),
        inNode(tp, name, ['ip', 'route', 'del', 'blackhole', `${D1}/32`]),
        inNode(tp, name, ['ip', 'addr', 'del', `${VIP2}/32`, 'dev', 'lo']),
        inNode(tp, name, ['ss', '-Hltn', 'sport = :80']),
      ]),
    ]);
    assert.equal(res[0]?.rc, 0, `ipvsadm -C: ${res[0]?.out}`);
    const listening = res.slice(-reals.length * 5).filter((_, i) => i % 5 === 4).map((r) => (r.out ?? '').trim() !== '');
    for (const [i, name] of reals.entries()) if (name !== 'r5' && !listening[i]) await tp.startHttp(name);
  });

  after(async function () {
    this.timeout(60_000);
    await topo?.destroy();
  });

  /** Seconds from a step (its start, or for a wait the moment it was met) to the moment `seen` was met. */
  function latency(sc: Scenario, fault: string, seen: string): number {
    const s = sc.step(seen);
    assert.ok(s.ok && s.t !== undefined, `'${seen}' was not seen\n${sc.history()}`);
    const from = sc.step(fault);
    return s.t - (from.t ?? from.t0);
  }

  it('1. refused, address gone, link down, black-holed, slow: quiesced (quiescent=yes) and removed (quiescent=no) within checkinterval + checktimeout', async function () {
    this.timeout(240_000);
    const tp = t();
    const all: [string, number][] = [[R.r1, 1], [R.r2, 2], [R.r3, 3], [R.r4, 4], [R.r5, 5]];
    const cfg = await writeConfig(tp, 'faults.cf', lines(
      `checkinterval=${CI}`,
      `checktimeout=${CT}`,
      httpVirtual(VIP, all, ['quiescent=yes']),
      httpVirtual(VIP2, all, ['quiescent=no']),
    ));
    const httpPid = await listener(tp, 'r1');
    const bound = CI + CT + LAB_MARGIN_S;
    const out = (ip: string) => ({ all: [realRe(SVC, `${ip}:80`, 0)], none: [realRe(SVC2, `${ip}:80`)] });
    const back = (ip: string, w: number) => ({ all: [realRe(SVC, `${ip}:80`, w), realRe(SVC2, `${ip}:80`, w)] });
    const faults: { name: string; ip: string; w: number; inject: string[]; repair: string[] }[] = [
      { name: 'refused', ip: R.r1, w: 1, inject: ['kill', String(httpPid)], repair: [] },
      { name: 'address gone', ip: R.r2, w: 2, inject: inNode(tp, 'r2', ['ip', 'addr', 'del', `${R.r2}/24`, 'dev', 'eth0']), repair: inNode(tp, 'r2', ['ip', 'addr', 'add', `${R.r2}/24`, 'dev', 'eth0']) },
      { name: 'link down', ip: R.r3, w: 3, inject: ['ip', '-n', tp.switchNs, 'link', 'set', 'r3', 'down'], repair: ['ip', '-n', tp.switchNs, 'link', 'set', 'r3', 'up'] },
      { name: 'black-holed', ip: R.r4, w: 4, inject: inNode(tp, 'r4', ['ip', 'route', 'add', 'blackhole', `${D1}/32`]), repair: inNode(tp, 'r4', ['ip', 'route', 'del', 'blackhole', `${D1}/32`]) },
      { name: 'slow', ip: R.r5, w: 5, inject: ['touch', slowFlag], repair: ['rm', '-f', slowFlag] },
    ];
    const r1 = tp.node('r1');
    const sc = await scenario(tp, {
      watch: [watchTable(tp)],
      steps: [
        { label: 'start', spawn: inNode(tp, DIRECTOR, checkerArgv(tp, cfg)), log: join(tp.node(DIRECTOR).dir, 'faults.log') },
        { label: 'all up', wait: { all: all.flatMap(([ip, w]) => [realRe(SVC, `${ip}:80`, w), realRe(SVC2, `${ip}:80`, w)]) }, timeout: 30 },
        ...faults.flatMap((f) => [
          { label: `${f.name}: inject`, run: f.inject },
          { label: `${f.name}: out`, wait: out(f.ip), timeout: bound + 10 },
          f.repair.length > 0
            ? { label: `${f.name}: repair`, run: f.repair }
            : { label: `${f.name}: repair`, spawn: inNode(tp, 'r1', ['python3', '-m', 'http.server', '80', '--bind', '0.0.0.0', '--directory', join(r1.dir, 'www')]), log: join(r1.dir, 'http.log') },
          { label: `${f.name}: back`, wait: back(f.ip, f.w), timeout: 20 },
        ]),
        { label: 'stop', signal: 'start', always: true },
        { label: 'exited', waitExit: 'start', timeout: 20, always: true },
      ],
    }, 240_000);
    const pid = sc.step('start').pid;
    if (pid) started.add(pid);
    const late: string[] = [];
    for (const f of faults) {
      const s = sc.step(`${f.name}: out`);
      assert.ok(s.ok, `${f.name} (${f.ip}): never quiesced in ${VIP}:80 and removed from ${VIP2}:80\n${sc.history()}`);
      const dt = latency(sc, `${f.name}: inject`, `${f.name}: out`);
      if (dt > bound) late.push(`${f.name}: ${dt.toFixed(2)} s`);
    }
    assert.deepEqual(late, [], `failures seen later than checkinterval + checktimeout + ${LAB_MARGIN_S} s = ${bound} s\n${sc.history()}`);
    sc.assertOk();
  });

  it('1. a black-holed real with negotiatetimeout=10 does not delay the detection of another real failing', async function () {
    this.timeout(120_000);
    const tp = t();
    const NT = 10;
    const cfg = await writeConfig(tp, 'hang.cf', lines(
      `checkinterval=${CI}`,
      `checktimeout=${CT}`,
      httpVirtual(VIP, [[R.r1, 1], [R.r2, 2], [R.r4, 4]], [`negotiatetimeout=${NT}`]),
    ));
    const httpPid = await listener(tp, 'r1');
    const sc = await scenario(tp, {
      watch: [watchTable(tp)],
      steps: [
        { label: 'start', spawn: inNode(tp, DIRECTOR, checkerArgv(tp, cfg)), log: join(tp.node(DIRECTOR).dir, 'hang.log') },
        { label: 'all up', wait: { all: [realRe(SVC, `${R.r1}:80`, 1), realRe(SVC, `${R.r2}:80`, 2), realRe(SVC, `${R.r4}:80`, 4)] }, timeout: 30 },
        { label: 'black-hole r4', run: inNode(tp, 'r4', ['ip', 'route', 'add', 'blackhole', `${D1}/32`]) },
        // Let r4's check start and hang before r1 fails.
        { label: 'r4 hanging', sleep: CI + 1 },
        { label: 'refuse r1', run: ['kill', String(httpPid)] },
        { label: 'r1 out', wait: { none: [realRe(SVC, `${R.r1}:80`)] }, timeout: NT + 10 },
        { label: 'r4 out', wait: { none: [realRe(SVC, `${R.r4}:80`)] }, timeout: NT + 10 },
        { label: 'stop', signal: 'start', always: true },
        { label: 'exited', waitExit: 'start', timeout: 20, always: true },
      ],
    });
    const pid = sc.step('start').pid;
    if (pid) started.add(pid);
    sc.assertOk();
    const r1 = latency(sc, 'refuse r1', 'r1 out');
    assert.ok(r1 <= CI + CT + LAB_MARGIN_S, `r1 (refused) left ${r1.toFixed(2)} s after it failed, while r4's check hung (bound ${CI + CT + LAB_MARGIN_S} s)\n${sc.history()}`);
    const r4 = latency(sc, 'black-hole r4', 'r4 out');
    assert.ok(r4 <= CI + NT + LAB_MARGIN_S, `r4 (black-holed) left after ${r4.toFixed(2)} s (bound checkinterval + negotiatetimeout + margin = ${CI + NT + LAB_MARGIN_S} s)\n${sc.history()}`);
    const r2Out = sc.between(sc.step('all up').t ?? 0, sc.step('r4 out').t ?? 0).filter((s) => !new RegExp(realRe(SVC, `${R.r2}:80`, 2), 'm').test(s));
    assert.deepEqual(r2Out, [], 'r2 stayed healthy and in the pool throughout');
  });

  it('failurecount=4 and risecount=4: out after the 4th failed check, back after the 4th passed one', async function () {
    this.timeout(120_000);
    const tp = t();
    const N = 4;
    const cfg = await writeConfig(tp, 'counts.cf', lines(
      `checkinterval=${CI}`,
      `checktimeout=${CT}`,
      `failurecount=${N}`,
      `risecount=${N}`,
      httpVirtual(VIP, [[R.r1, 1], [R.r2, 2]]),
    ));
    const p1 = await listener(tp, 'r1');
    const r1 = tp.node('r1');
    const sc = await scenario(tp, {
      watch: [watchTable(tp), inNode(tp, 'r1', ['ss', '-Hltn', 'sport = :80'])],
      steps: [
        { label: 'start', spawn: inNode(tp, DIRECTOR, checkerArgv(tp, cfg)), log: join(tp.node(DIRECTOR).dir, 'counts.log') },
        { label: 'up', wait: { all: [realRe(SVC, `${R.r1}:80`, 1), realRe(SVC, `${R.r2}:80`, 2)] }, timeout: 30 },
        { label: 'r1 refused', run: ['kill', String(p1)] },
        { label: 'r1 out', wait: { none: [realRe(SVC, `${R.r1}:80`)] }, timeout: N * CI + CT + 10 },
        { label: 'r1 returns', spawn: inNode(tp, 'r1', ['python3', '-m', 'http.server', '80', '--bind', '0.0.0.0', '--directory', join(r1.dir, 'www')]), log: join(r1.dir, 'http.log') },
        { label: 'r1 listens', wait: { all: ['LISTEN'], watch: 1 }, timeout: 15 },
        { label: 'r1 back', wait: { all: [realRe(SVC, `${R.r1}:80`, 1)] }, timeout: N * CI + CT + 10 },
        { label: 'stop', signal: 'start', always: true },
        { label: 'exited', waitExit: 'start', timeout: 20, always: true },
      ],
    });
    const pid = sc.step('start').pid;
    if (pid) started.add(pid);
    sc.assertOk();
    // N checks one checkinterval apart: the first may come at once, the N-th not before (N-1) intervals.
    const out = latency(sc, 'r1 refused', 'r1 out');
    assert.ok(out >= (N - 1) * CI - 0.3 && out <= N * CI + CT + LAB_MARGIN_S, `r1 out ${out.toFixed(2)} s after it failed; failurecount=${N} wants (N-1)·checkinterval ≤ t ≤ N·checkinterval + checktimeout + margin\n${sc.history()}`);
    // The listener is seen up to one sample late: allow that much below the lower bound.
    const back = latency(sc, 'r1 listens', 'r1 back');
    assert.ok(back >= (N - 1) * CI - 1 && back <= N * CI + CT + LAB_MARGIN_S, `r1 back ${back.toFixed(2)} s after it listened again; risecount=${N} wants about (N-1)·checkinterval or more\n${sc.history()}`);
    const r2Out = sc.between(sc.step('up').t ?? 0, sc.step('r1 back').t ?? 0).filter((s) => !new RegExp(realRe(SVC, `${R.r2}:80`, 2), 'm').test(s));
    assert.deepEqual(r2Out, [], 'r2 stayed in the pool');
  });

  it('2. fallback: in at weight 1 when every real is down (quiescent yes and no), out when one real returns', async function () {
    this.timeout(120_000);
    const tp = t();
    const FB = `${R.r4}:80`;
    const reals: [string, number][] = [[R.r1, 1], [R.r2, 2]];
    const cfg = await writeConfig(tp, 'fallback.cf', lines(
      `checkinterval=${CI}`,
      `checktimeout=${CT}`,
      `fallback=${FB} gate`,
      httpVirtual(VIP, reals, ['quiescent=no']),
      httpVirtual(VIP2, reals, ['quiescent=yes']),
    ));
    const p1 = await listener(tp, 'r1');
    const p2 = await listener(tp, 'r2');
    const r1 = tp.node('r1');
    const sc = await scenario(tp, {
      watch: [watchTable(tp)],
      steps: [
        { label: 'start', spawn: inNode(tp, DIRECTOR, checkerArgv(tp, cfg)), log: join(tp.node(DIRECTOR).dir, 'fallback.log') },
        { label: 'reals up', wait: { all: [realRe(SVC, `${R.r1}:80`, 1), realRe(SVC, `${R.r2}:80`, 2), realRe(SVC2, `${R.r1}:80`, 1), realRe(SVC2, `${R.r2}:80`, 2)] }, timeout: 30 },
        { label: 'r1 refused', run: ['kill', String(p1)] },
        { label: 'r2 refused', run: ['kill', String(p2)] },
        {
          label: 'fallback in',
          wait: {
            all: [realRe(SVC, FB, 1), realRe(SVC2, FB, 1), realRe(SVC2, `${R.r1}:80`, 0), realRe(SVC2, `${R.r2}:80`, 0)],
            none: [realRe(SVC, `${R.r1}:80`), realRe(SVC, `${R.r2}:80`)],
          },
          timeout: 20,
        },
        { label: 'r1 returns', spawn: inNode(tp, 'r1', ['python3', '-m', 'http.server', '80', '--bind', '0.0.0.0', '--directory', join(r1.dir, 'www')]), log: join(r1.dir, 'http.log') },
        { label: 'fallback out', wait: { all: [realRe(SVC, `${R.r1}:80`, 1), realRe(SVC2, `${R.r1}:80`, 1)], none: [realRe(SVC, FB), realRe(SVC2, FB)] }, timeout: 20 },
        { label: 'stop', signal: 'start', always: true },
        { label: 'exited', waitExit: 'start', timeout: 20, always: true },
      ],
    });
    const pid = sc.step('start').pid;
    if (pid) started.add(pid);
    sc.assertOk();
    const before = sc.between(sc.step('reals up').t ?? 0, sc.step('r2 refused').t0).filter((s) => s.includes(FB));
    assert.deepEqual(before, [], 'no fallback while a real is up');
    const dt = latency(sc, 'r2 refused', 'fallback in');
    assert.ok(dt <= CI + CT + LAB_MARGIN_S, `fallback in ${dt.toFixed(2)} s after the last real failed (bound ${CI + CT + LAB_MARGIN_S} s)\n${sc.history()}`);
  });

  /**
   * A reload test's configuration: r1, r2 and r4 under wrr; `changed`: r1's weight 7 (it is down
   * then: a new weight is no new health), r2's weight 5, r3 added, r4 dropped, the scheduler wlc.
   */
  function reloadConfig(quiescent: 'yes' | 'no', changed: boolean): string {
    const reals: [string, number][] = changed ? [[R.r1, 7], [R.r2, 5], [R.r3, 3]] : [[R.r1, 1], [R.r2, 2], [R.r4, 4]];
    return lines(`checkinterval=${CI}`, `checktimeout=${CT}`, `quiescent=${quiescent}`, httpVirtual(VIP, reals, [], changed ? 'wlc' : 'wrr'));
  }
  const APPLIED = { all: [`^-A ${esc(SVC)} -s wlc$`, realRe(SVC, `${R.r2}:80`, 5), realRe(SVC, `${R.r3}:80`, 3)], none: [realRe(SVC, `${R.r4}:80`)] };

  it('3. SIGHUP keeps a down real out (quiescent=no), applies added/removed reals, a weight and a scheduler; a broken file changes nothing', async function () {
    this.timeout(120_000);
    const tp = t();
    const cfg = await writeConfig(tp, 'reload.cf', reloadConfig('no', false));
    const v2 = await writeConfig(tp, 'reload.cf.v2', reloadConfig('no', true));
    const broken = await writeConfig(tp, 'reload.cf.broken', `${reloadConfig('no', true)}\tfrobnicate=1\n`);
    const p1 = await listener(tp, 'r1');
    const sc = await scenario(tp, {
      watch: [watchTable(tp)],
      steps: [
        { label: 'start', spawn: inNode(tp, DIRECTOR, checkerArgv(tp, cfg)), log: join(tp.node(DIRECTOR).dir, 'reload.log') },
        { label: 'up', wait: { all: [realRe(SVC, `${R.r1}:80`, 1), realRe(SVC, `${R.r2}:80`, 2), realRe(SVC, `${R.r4}:80`, 4)] }, timeout: 30 },
        { label: 'r1 refused', run: ['kill', String(p1)] },
        { label: 'r1 out', wait: { none: [realRe(SVC, `${R.r1}:80`)] }, timeout: 15 },
        { label: 'new config', run: ['cp', v2, cfg] },
        { label: 'SIGHUP', signal: 'start', sig: 1 },
        { label: 'applied', wait: APPLIED, timeout: 15 },
        // A few more check rounds in which r1 must stay out.
        { label: 'settle', sleep: 3 * CI + CT },
        { label: 'broken config', run: ['cp', broken, cfg] },
        { label: 'SIGHUP 2', signal: 'start', sig: 1 },
        { label: 'after broken', sleep: 2 * CI + CT },
        { label: 'still running', alive: 'start' },
        { label: 'stop', signal: 'start', always: true },
        { label: 'exited', waitExit: 'start', timeout: 20, always: true },
      ],
    });
    const pid = sc.step('start').pid;
    if (pid) started.add(pid);
    for (const l of ['start', 'up', 'r1 refused', 'r1 out', 'new config', 'SIGHUP', 'applied', 'settle']) {
      assert.ok(sc.step(l).ok, `step '${l}' failed\n${sc.history()}`);
    }
    const r1Back = sc.between(sc.step('SIGHUP').t0, sc.step('settle').t1).filter((s) => new RegExp(realRe(SVC, `${R.r1}:80`), 'm').test(s));
    assert.deepEqual(r1Back, [], `r1 (down) must stay out across the reload\n${sc.history()}`);
    // The file is parsed in a child process (a process start in the guest, seconds when it is busy);
    // lvsd logs how long parsing and applying took. Applying is the bound; the whole is reported.
    const dt = latency(sc, 'SIGHUP', 'applied');
    const reloaded = (await logLines(tp, join(tp.node(DIRECTOR).dir, 'reload.log'))).find((l) => l.text.includes('Reloaded:'))?.text ?? '';
    const m = /parsed in ([\d.]+) s, applied in ([\d.]+) s/.exec(reloaded);
    assert.ok(m, `lvsd logs the reload with its times: ${reloaded}\n${sc.history()}`);
    assert.ok(Number(m[2]) <= CT + LAB_MARGIN_S, `the new configuration was applied in ${m[2]} s (parsed in ${m[1]} s; ${dt.toFixed(2)} s from SIGHUP to the table)\n${sc.history()}`);
    assert.ok(dt <= CT + LAB_MARGIN_S + 1 + BUSY_START_S, `the new configuration took ${dt.toFixed(2)} s after SIGHUP (${reloaded})\n${sc.history()}`);
    // A reload with a broken file keeps the running configuration and the daemon.
    assert.ok(sc.step('still running').ok, `lvsd exited after SIGHUP with a broken file\n${sc.history()}`);
    const settledTable = sc.between(sc.step('settle').t1, sc.step('settle').t1)[0];
    const afterBroken = sc.between(sc.step('SIGHUP 2').t0, sc.step('after broken').t1).filter((s) => s !== settledTable);
    assert.deepEqual(afterBroken, [], `a SIGHUP with a broken file must change nothing:\n${settledTable}\n${sc.history()}`);
    sc.assertOk();
  });

  it('3. `ldirectord reload` keeps a quiesced real at weight 0 (quiescent=yes) and applies the new configuration', async function () {
    this.timeout(120_000);
    const tp = t();
    const ld = await ldirectordLink(tp);
    const cfg = await writeConfig(tp, 'ldreload.cf', reloadConfig('yes', false));
    const v2 = await writeConfig(tp, 'ldreload.cf.v2', reloadConfig('yes', true));
    const start = await tp.exec(DIRECTOR, [ld, cfg, 'start'], { timeoutMs: 30_000 });
    assert.equal(start.code, 0, show(start));
    const pid = Number((await tp.run(DIRECTOR, ['cat', '/var/run/ldirectord.ldreload.cf.pid'])).trim());
    started.add(pid);
    await waitFor('r1 and r2 in the pool', async () => {
      const w = weights((await table(tp)).join('\n'), SVC);
      return w.get(`${R.r1}:80`) === 1 && w.get(`${R.r2}:80`) === 2 && w.get(`${R.r4}:80`) === 4;
    }, 20_000);
    await stopHttp(tp, 'r1');
    await waitFor('r1 quiesced', async () => weights((await table(tp)).join('\n'), SVC).get(`${R.r1}:80`) === 0, 15_000);
    const sc = await scenario(tp, {
      watch: [watchTable(tp)],
      steps: [
        { label: 'new config', run: ['cp', v2, cfg] },
        { label: 'reload', run: inNode(tp, DIRECTOR, [ld, cfg, 'reload']) },
        { label: 'applied', wait: APPLIED, timeout: 15 },
        { label: 'settle', sleep: 3 * CI + CT },
      ],
    });
    sc.assertOk();
    assert.equal(sc.step('reload').rc, 0, `ldirectord reload: ${sc.step('reload').out}`);
    const r1InPool = sc.between(sc.step('reload').t0, sc.step('settle').t1).filter((s) => new RegExp(inPoolRe(SVC, `${R.r1}:80`), 'm').test(s));
    assert.deepEqual(r1InPool, [], `r1 (down) must not get a weight across the reload\n${sc.history()}`);
    assert.match(sc.samples.at(-1)?.outs[0] ?? '', new RegExp(realRe(SVC, `${R.r1}:80`, 0), 'm'), 'r1 stays quiesced at weight 0');
    const stop = await tp.exec(DIRECTOR, [ld, cfg, 'stop'], { timeoutMs: 30_000 });
    assert.equal(stop.code, 0, show(stop));
    await waitGone(tp, pid);
  });

  it('4. restart (SIGTERM with cleanstop=no, then kill -9) keeps the table, a DR connection through the VIP, and a down real down', async function () {
    this.timeout(180_000);
    const tp = t();
    const PORT = 9000;
    const svc = `-t ${VIP}:${PORT}`;
    await tp.run(DIRECTOR, ['ip', 'addr', 'replace', `${VIP}/32`, 'dev', 'eth0']);
    const echo: Record<string, number> = {};
    for (const r of ['r1', 'r2']) echo[r] = await startTool(started, r, ['echo', r, String(PORT)], join(tp.node(r).dir, 'echo.log'));
    for (const r of ['r1', 'r2']) await waitFor(`echo on ${r}`, async () => (await listener(tp, r, PORT)) !== undefined);
    const cfg = await writeConfig(tp, 'restart.cf', lines(
      `checkinterval=${CI}`,
      `checktimeout=${CT}`,
      'cleanstop=no',
      'quiescent=yes',
      `virtual=${VIP}:${PORT}`,
      `\treal=${R.r1}:${PORT} gate 3`,
      `\treal=${R.r2}:${PORT} gate 2`,
      '\tchecktype=connect',
      '\tscheduler=wrr',
    ));
    const client = tp.node('client');
    const stopFile = join(client.dir, 'pinger.stop');
    const result = join(client.dir, 'pinger.json');
    const log = join(tp.node(DIRECTOR).dir, 'restart.log');
    const lvsd = inNode(tp, DIRECTOR, checkerArgv(tp, cfg));
    const sc = await scenario(tp, {
      watch: [watchTable(tp)],
      steps: [
        { label: 'lvsd 1', spawn: lvsd, log },
        { label: 'up', wait: { all: [realRe(svc, `${R.r1}:${PORT}`, 3), realRe(svc, `${R.r2}:${PORT}`, 2)] }, timeout: 30 },
        { label: 'r2 dies', run: ['kill', String(echo.r2)] },
        { label: 'r2 quiesced', wait: { all: [realRe(svc, `${R.r1}:${PORT}`, 3), realRe(svc, `${R.r2}:${PORT}`, 0)] }, timeout: 15 },
        { label: 'pinger', spawn: inNode(tp, 'client', ['python3', '-c', TOOLS, 'pinger', VIP, String(PORT), stopFile, result]), log: join(client.dir, 'pinger.log') },
        { label: 'traffic', sleep: 2 },
        { label: 'SIGTERM', signal: 'lvsd 1' },
        { label: 'lvsd 1 gone', waitExit: 'lvsd 1', timeout: 20 },
        { label: 'down', sleep: 1 },
        { label: 'lvsd 2', spawn: lvsd, log },
        { label: 'lvsd 2 runs', sleep: STARTUP_S + 2 * CI + CT },
        { label: 'SIGKILL', signal: 'lvsd 2', sig: 9 },
        { label: 'lvsd 2 gone', waitExit: 'lvsd 2', timeout: 20 },
        { label: 'down again', sleep: 1 },
        { label: 'lvsd 3', spawn: lvsd, log },
        { label: 'lvsd 3 runs', sleep: STARTUP_S + 2 * CI + CT },
        { label: 'stop pinger', run: ['touch', stopFile], always: true },
        { label: 'pinger done', waitExit: 'pinger', timeout: 15, always: true },
      ],
    }, 180_000);
    for (const l of ['lvsd 1', 'lvsd 2', 'lvsd 3']) {
      const pid = sc.step(l).pid;
      if (pid) started.add(pid);
    }
    sc.assertOk();
    const kept = sc.step('r2 quiesced').t ?? 0;
    const reference = sc.between(kept, kept)[0] ?? '';
    const changed = sc.between(kept, sc.step('lvsd 3 runs').t1).filter((s) => s !== reference);
    assert.deepEqual(changed, [], `the table must stay as it was (r1 at 3, r2 quiesced at 0) through both restarts:\n${reference}\n${sc.history()}`);
    const ping = JSON.parse(await tp.run('client', ['cat', result])) as { server: string; sent: number; received: number; maxGapS: number; error: string | null };
    assert.equal(ping.error, null, `the connection through the VIP broke: ${JSON.stringify(ping)}`);
    assert.equal(ping.server, 'r1', 'the connection went to the real in the pool');
    const ran = sc.step('stop pinger').t0 - sc.step('pinger').t0;
    assert.ok(ping.received >= ran * 3, `only ${ping.received} echoes in ${ran.toFixed(1)} s (a line every 0.1 s): ${JSON.stringify(ping)}`);
    assert.ok(ping.maxGapS < 2, `the connection stalled for ${ping.maxGapS.toFixed(2)} s`);
    // lvsd 3 still checks: r2 comes back once its service does.
    echo.r2 = await startTool(started, 'r2', ['echo', 'r2', String(PORT)], join(tp.node('r2').dir, 'echo.log'));
    await waitFor('r2 back at weight 2 after the restarts', async () => weights((await table(tp)).join('\n'), svc).get(`${R.r2}:${PORT}`) === 2, 15_000);
  });

  it('5. start on an empty table: live reals are added at once, concurrently; dead ones never appear; SIGTERM cleans up', async function () {
    this.timeout(120_000);
    const tp = t();
    const NT = 10;
    // r4 black-holed and listed first: a serial checker would wait negotiatetimeout for it first.
    await tp.run('r4', ['ip', 'route', 'add', 'blackhole', `${D1}/32`]);
    await stopHttp(tp, 'r3');
    const cfg = await writeConfig(tp, 'empty.cf', lines(
      `checkinterval=${CI}`,
      `checktimeout=${CT}`,
      httpVirtual(VIP, [[R.r4, 4], [R.r1, 1], [R.r2, 2], [R.r3, 3]], [`negotiatetimeout=${NT}`]),
    ));
    assert.deepEqual(await table(tp), [], 'the table is empty before the start');
    const sc = await scenario(tp, {
      watch: [watchTable(tp)],
      steps: [
        { label: 'start', spawn: inNode(tp, DIRECTOR, checkerArgv(tp, cfg)), log: join(tp.node(DIRECTOR).dir, 'empty.log') },
        { label: 'live reals in', wait: { all: [realRe(SVC, `${R.r1}:80`, 1), realRe(SVC, `${R.r2}:80`, 2)] }, timeout: 30 },
        // Past r4's negotiatetimeout and a few more rounds.
        { label: 'settle', sleep: NT + 2 * CI },
      ],
    });
    const pid = sc.step('start').pid;
    if (pid) started.add(pid);
    sc.assertOk();
    // Timed from lvsd's own log: its first line to r1 and r2 up. A serial checker would wait out
    // r4's negotiatetimeout first; a spawn-to-table time would add the guest's process start-up.
    const log = await logLines(tp, join(tp.node(DIRECTOR).dir, 'empty.log'));
    const begin = log.find((l) => l.text.includes('Starting lvsd'))?.at;
    const upAt = [R.r1, R.r2].map((r) => log.find((l) => l.text.includes(`Real server up: ${r}:80`))?.at);
    assert.ok(begin !== undefined && upAt.every((x) => x !== undefined), `lvsd's log names its start and r1, r2 up:\n${log.map((l) => l.text).join('\n')}`);
    const dt = (Math.max(...(upAt as number[])) - begin) / 1000;
    const spawned = latency(sc, 'start', 'live reals in');
    assert.ok(dt <= CT + LAB_MARGIN_S, `r1 and r2 were up ${dt.toFixed(2)} s after lvsd started (in the table ${spawned.toFixed(2)} s after its spawn; bound: checktimeout + margin; r4's negotiatetimeout is ${NT} s)\n${sc.history()}`);
    assert.ok(spawned <= STARTUP_S + CT + LAB_MARGIN_S + BUSY_START_S, `r1 and r2 were in the table ${spawned.toFixed(2)} s after lvsd's spawn\n${sc.history()}`);
    const dead = sc.samples.map((s) => s.outs[0]!).filter((s) => new RegExp(`${esc(R.r3)}|${esc(R.r4)}`).test(s));
    assert.deepEqual(dead, [], `dead reals r3 (refused) and r4 (black-holed) must never be in the table\n${sc.history()}`);
    // The status file tells the same story.
    const status = await readStatus(tp, cfg);
    assert.equal(status.state, 'running');
    const health = Object.fromEntries(status.virtuals.flatMap((v) => v.reals.map((r) => [r.real, r.health])));
    assert.deepEqual(health, { [`${R.r1}:80`]: 'up', [`${R.r2}:80`]: 'up', [`${R.r3}:80`]: 'down', [`${R.r4}:80`]: 'down' }, JSON.stringify(status, null, 1));
    for (const r of status.virtuals.flatMap((v) => v.reals)) assert.ok(r.lastCheck?.at, `status of ${r.real} has a lastCheck`);
    await tp.exec(DIRECTOR, ['kill', '-TERM', String(pid)]);
    await waitGone(tp, pid!);
    assert.deepEqual(await table(tp), [], 'SIGTERM with cleanstop (default yes) removes the virtual services');
  });

  it('6. slow start: wlc weight ramps from small to 100; lc u_threshold from small to 0; none at daemon start', async function () {
    this.timeout(180_000);
    const tp = t();
    const SS = 10;
    for (const a of [VIP, VIP2]) await tp.run(DIRECTOR, ['ip', 'addr', 'replace', `${a}/32`, 'dev', 'eth0']);
    for (const r of ['r2', 'r3']) await tp.run(r, ['ip', 'addr', 'add', `${VIP2}/32`, 'dev', 'lo']);
    const section = (vip: string, sched: string) => [
      `virtual=${vip}:80`,
      `\treal=${R.r2}:80 gate 100`,
      `\treal=${R.r3}:80 gate 100`,
      '\tchecktype=connect',
      `\tscheduler=${sched}`,
      `\tslowstart=${SS}`,
    ].join('\n');
    const cfg = await writeConfig(tp, 'slowstart.cf', lines(`checkinterval=${CI}`, `checktimeout=${CT}`, section(VIP, 'wlc'), section(VIP2, 'lc')));
    const p2 = await listener(tp, 'r2');
    const full = [realRe(SVC, `${R.r2}:80`, 100), realRe(SVC, `${R.r3}:80`, 100), realRe(SVC2, `${R.r2}:80`, 100), realRe(SVC2, `${R.r3}:80`, 100)];
    const a = await scenario(tp, {
      watch: [watchTable(tp), watchThresholds(tp)],
      steps: [
        { label: 'start', spawn: inNode(tp, DIRECTOR, checkerArgv(tp, cfg)), log: join(tp.node(DIRECTOR).dir, 'slowstart.log') },
        { label: 'up', wait: { all: full }, timeout: 30 },
        { label: 'r2 dies', run: ['kill', String(p2)] },
        { label: 'r2 out', wait: { none: [realRe(SVC, `${R.r2}:80`), realRe(SVC2, `${R.r2}:80`)] }, timeout: 15 },
      ],
    });
    const pid = a.step('start').pid;
    if (pid) started.add(pid);
    a.assertOk();
    const atStart = a.between(a.step('start').t0, a.step('r2 dies').t0).flatMap((s) => [...weights(s, SVC).values(), ...weights(s, SVC2).values()]);
    assert.ok(atStart.every((w) => w === 100), `no slow start at daemon start: weights seen ${atStart.join(',')}\n${a.history()}`);
    const uAtStart = a.between(a.step('start').t0, a.step('r2 dies').t0, 1).flatMap((s) => [...thresholds(s).values()].flatMap((m) => [...m.values()].map((x) => x.u)));
    assert.ok(uAtStart.every((u) => u === 0), `no u_threshold at daemon start: ${uAtStart.join(',')}`);

    // Connections on r3 for lc to balance against: they set how far r2's u_threshold ramps.
    const client = tp.node('client');
    const stopFile = join(client.dir, 'hold.stop');
    const CONNS = 40;
    await startTool(started, 'client', ['hold', VIP2, '80', String(CONNS), stopFile], join(client.dir, 'hold.log'));
    const r3conns = async () => thresholds(await tp.run(DIRECTOR, ['ipvsadm', '-L', '-n', '--thresholds'])).get(`TCP ${VIP2}:80`)?.get(`${R.r3}:80`)?.active ?? 0;
    await waitFor(`${CONNS} connections on r3 through ${VIP2}`, async () => (await r3conns()) >= CONNS, 20_000);

    const r2 = tp.node('r2');
    const b = await scenario(tp, {
      watch: [watchTable(tp), watchThresholds(tp)],
      steps: [
        { label: 'r2 returns', spawn: inNode(tp, 'r2', ['python3', '-m', 'http.server', '80', '--bind', '0.0.0.0', '--directory', join(r2.dir, 'www')]), log: join(r2.dir, 'http.log') },
        { label: 'r2 in', wait: { all: [realRe(SVC, `${R.r2}:80`), realRe(SVC2, `${R.r2}:80`)] }, timeout: 20 },
        { label: 'ramp', sleep: SS + LAB_MARGIN_S + 1 },
      ],
    }, 120_000);
    await tp.kernel.exec({ argv: ['touch', stopFile] });
    b.assertOk();
    const tIn = b.step('r2 in').t ?? 0;
    // wlc: r2's weight over time, from its return.
    const ws = b.samples.filter((s) => s.t1 >= tIn).map((s) => ({ t: s.t1 - tIn, w: weights(s.outs[0]!, SVC).get(`${R.r2}:80`) })).filter((x) => x.w !== undefined) as { t: number; w: number }[];
    const seq = ws.map((x) => `${x.t.toFixed(1)}s:${x.w}`).join(' ');
    assert.ok(ws.length > 0, `no weight seen for r2\n${b.history()}`);
    assert.ok(ws[0]!.w < 50, `wlc: r2 came back at weight ${ws[0]!.w}, not ramping from small (${seq})`);
    assert.ok(ws.every((x, i) => i === 0 || x.w >= ws[i - 1]!.w), `wlc: weight must only grow (${seq})`);
    assert.ok(new Set(ws.map((x) => x.w)).size >= 3, `wlc: the ramp must be visible as several steps (${seq})`);
    assert.equal(ws.at(-1)!.w, 100, `wlc: ends at the configured weight (${seq})`);
    const full100 = ws.find((x) => x.w === 100)!.t;
    // Not at once, not late. On a busy lab the first sample comes late in the ramp: a lower floor.
    assert.ok(full100 >= SS / (LAB_BUSY ? 4 : 2) && full100 <= SS + LAB_MARGIN_S, `wlc: reached 100 after ${full100.toFixed(1)} s for slowstart=${SS} (${seq})`);
    // lc: r2's u_threshold over time.
    const us = b.samples.filter((s) => s.t1 >= tIn).map((s) => ({ t: s.t1 - tIn, u: thresholds(s.outs[1]!).get(`TCP ${VIP2}:80`)?.get(`${R.r2}:80`)?.u })).filter((x) => x.u !== undefined) as { t: number; u: number }[];
    const useq = us.map((x) => `${x.t.toFixed(1)}s:${x.u}`).join(' ');
    assert.ok(us.length > 0 && us[0]!.u >= 1 && us[0]!.u < CONNS / 2, `lc: r2 must come back with a small u_threshold (${useq})\n${b.history(1)}`);
    const ramping = us.filter((x) => x.u > 0);
    assert.ok(ramping.every((x, i) => i === 0 || x.u >= ramping[i - 1]!.u), `lc: u_threshold must only grow while ramping (${useq})`);
    assert.ok(new Set(ramping.map((x) => x.u)).size >= 2, `lc: u_threshold must grow over the ramp (${useq}; ${CONNS} connections on r3)`);
    assert.equal(us.at(-1)!.u, 0, `lc: u_threshold ends at 0, unlimited (${useq})`);
    const unlimited = us.find((x) => x.u === 0)!.t;
    assert.ok(unlimited >= SS / (LAB_BUSY ? 4 : 2) && unlimited <= SS + LAB_MARGIN_S, `lc: unlimited after ${unlimited.toFixed(1)} s for slowstart=${SS} (${useq})`);
  });

  it('10. metrics: the per-real series for every real, from the directive and from --metrics; logfile; a foreign service is left alone', async function () {
    this.timeout(120_000);
    const tp = t();
    await stopHttp(tp, 'r3');
    // A virtual service lvsd does not manage: neither its start nor its cleanstop may touch it.
    const foreign = ['-A -t 198.51.100.200:80 -s rr', '-a -t 198.51.100.200:80 -r 198.51.100.21:80 -g -w 7'];
    for (const l of foreign) await tp.run(DIRECTOR, ['ipvsadm', ...l.split(' ')]);
    const reals: [string, number][] = [[R.r1, 1], [R.r2, 2], [R.r3, 3]];
    const logfile = join(tp.node(DIRECTOR).dir, 'metrics-logfile.log');
    const cfg = await writeConfig(tp, 'metrics.cf', lines(`checkinterval=${CI}`, `checktimeout=${CT}`, `metrics = ${D1}:9100`, `logfile="${logfile}"`, httpVirtual(VIP, reals)));
    const up = { [R.r1]: 1, [R.r2]: 1, [R.r3]: 0 };
    const runs = [
      // Without -d and without a terminal, lvsd logs to the logfile directive.
      { how: 'directive', port: 9100, argv: [tp.spec.binary, 'checker', '--config', cfg] },
      { how: '--metrics', port: 9101, argv: checkerArgv(tp, cfg, ['--metrics', `${D1}:9101`]) },
    ];
    for (const { how, port, argv } of runs) {
      const pid = await started.start(DIRECTOR, argv, join(tp.node(DIRECTOR).dir, `metrics-${port}.log`));
      let text = '';
      const fetchMetrics = async () => {
        const r = await tp.exec('client', ['curl', '-sS', '--max-time', '3', `http://${D1}:${port}/metrics`]);
        text = r.code === 0 ? r.stdout : `curl: ${r.stderr}`;
        return r.code === 0;
      };
      // Settled: r1 and r2 in the table, r3 counted as failing.
      await waitFor('r1 and r2 in the table', async () => weights((await table(tp)).join('\n'), SVC).size === 2, 20_000);
      await waitFor(`metrics on ${D1}:${port} (${how}) with every real checked`, async () => (await fetchMetrics()) && /lvsd_virtual_reals_up\{[^}]*\} 2\b/.test(text) && new RegExp(`lvsd_real_consecutive_failures\\{[^}]*${esc(R.r3)}:80[^}]*\\} [1-9]`).test(text), 20_000)
        .catch((err: Error) => assert.fail(`${err.message}\nlast answer:\n${text}`));
      for (const [ip, w] of reals) {
        const series = (name: string) => new RegExp(`^${name}\\{[^}]*real="${esc(ip)}:80"[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1];
        assert.equal(series('lvsd_real_up'), String(up[ip]), `${how}: lvsd_real_up for ${ip}\n${text}`);
        assert.ok(series('lvsd_real_check_latency_seconds') !== undefined, `${how}: lvsd_real_check_latency_seconds for ${ip}\n${text}`);
        assert.ok(series('lvsd_real_consecutive_failures') !== undefined, `${how}: lvsd_real_consecutive_failures for ${ip}`);
        const weight = series('lvsd_real_weight');
        assert.ok(weight !== undefined, `${how}: lvsd_real_weight for ${ip}`);
        if (up[ip] === 1) assert.equal(weight, String(w), `${how}: lvsd_real_weight of ${ip} is its weight in the table\n${text}`);
      }
      for (const name of ['lvsd_reconcile_total', 'lvsd_reconcile_duration_seconds', 'lvsd_errors_total']) {
        assert.match(text, new RegExp(`^${name}(\\{[^}]*\\})? \\S+$`, 'm'), `${how}: ${name}`);
      }
      const mine = (await table(tp)).filter((l) => l.includes(`${VIP}:80`));
      assert.ok(mine.length > 0, "lvsd's service is in the table");
      await tp.exec(DIRECTOR, ['kill', '-TERM', String(pid)]);
      await waitGone(tp, pid);
      assert.deepEqual(await table(tp), [...foreign].sort(), `${how}: cleanstop removes lvsd's service and only it`);
      if (how === 'directive') {
        const logged = await tp.run(DIRECTOR, ['cat', logfile]);
        assert.match(logged, new RegExp(esc(R.r1)), `the logfile directive's file holds lvsd's log:\n${logged}`);
      }
    }
  });

  it('10. --test-config: 0 for a good file; 1 for a bad one, naming file:line and the directive', async function () {
    this.timeout(60_000);
    const tp = t();
    const good = await writeConfig(tp, 'good.cf', lines(`checkinterval=${CI}`, httpVirtual(VIP, [[R.r1, 1]])));
    const r0 = await tp.exec(DIRECTOR, [tp.spec.binary, 'checker', '--test-config', '--config', good]);
    assert.equal(r0.code, 0, show(r0));
    // Line 4: an unknown directive inside the virtual section.
    const bad = await writeConfig(tp, 'bad.cf', lines('checkinterval=1', `virtual=${VIP}:80`, `\treal=${R.r1}:80 gate 1`, '\tfrobnicate=yes', '\tscheduler=wrr'));
    const r1 = await tp.exec(DIRECTOR, [tp.spec.binary, 'checker', '--test-config', '--config', bad]);
    assert.equal(r1.code, 1, show(r1));
    assert.match(r1.stdout + r1.stderr, new RegExp(`${esc(bad)}:4\\b.*frobnicate`), show(r1));
    assert.deepEqual(await table(tp), [], '--test-config changes nothing');
  });
});
