// lvsd's configuration and daemon under hostile input, black-box on a real IPVS kernel (issue 10):
// a reload of a very large file keeps checks and /metrics going; the status heartbeat keeps the
// deep OCF monitor green whatever the checkinterval; supervised=yes and execute as ldirectord has
// them; the metrics listener binds the address it is given.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultSpec, Topology } from '../../lab';
import { BOOT_TIMEOUT_MS, labKernel } from '../support/lab';
import { alive, checkerArgv, DIRECTOR, ldirectordLink, ocfLvsd, OCF, readStatus, show, Started, VIP, VIP2, waitFor, waitGone, writeConfig } from '../support/lvsd';

const D1 = '198.51.100.11';
const R1 = '198.51.100.21';

function lines(...ls: string[]): string {
  return `${ls.join('\n')}\n`;
}

/** r1 behind VIP:80, checked over HTTP every `interval` s. */
function web(interval: number): string {
  return lines(`virtual=${VIP}:80`, `\treal=${R1}:80 gate`, '\tchecktype=negotiate', '\tservice=http', '\treceive="r[0-9]"', `\tcheckinterval=${interval}`);
}

// Inside the director, until STOP exists (at most 300 s): GET / every 100 ms (a 404 from lvsd's event
// loop: how long the loop keeps a request waiting) and GET /metrics every 2 s; one JSON record each.
const PROBE = String.raw`
import json, os, re, sys, time, urllib.error, urllib.request
base, stop, out = sys.argv[1], sys.argv[2], sys.argv[3]
samples, end, i = [], time.time() + 300, 0
def value(body, name):
    m = re.search(r"^" + name + r" (\S+)$", body, re.M)
    return float(m.group(1)) if m else None
while time.time() < end and not os.path.exists(stop):
    path = "/metrics" if i % 20 == 0 else "/"
    i += 1
    t0 = time.time()
    body, error = "", None
    try:
        body = urllib.request.urlopen(base + path, timeout=60).read().decode()
    except urllib.error.HTTPError as e:
        error = None if path == "/" and e.code == 404 else "HTTP %d" % e.code
    except Exception as e:
        error = "%s: %s" % (type(e).__name__, e)
    t1 = time.time()
    samples.append({"path": path, "t0": t0, "t1": t1, "error": error, "reloads": value(body, "lvsd_reloads_total"), "checks": value(body, "lvsd_checks_total")})
    time.sleep(0.1)
with open(out + ".tmp", "w") as f:
    json.dump(samples, f)
os.rename(out + ".tmp", out)
`;

// Inside the director: FILE with N more reals (198.18.0.0/15, never contacted: checktype=off) in a second virtual.
const GROW = String.raw`
import sys
src, n, vip, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
text = open(src).read()
reals = "".join("\treal=198.%d.%d.%d:80 gate\n" % (18 + (i >> 16), (i >> 8) & 255, i & 255) for i in range(n))
open(out, "w").write(text + "virtual=%s:80\n\tchecktype=off\n" % vip + reals)
`;

interface ProbeSample {
  path: string;
  t0: number;
  t1: number;
  error: string | null;
  reloads: number | null;
  checks: number | null;
}

describe('lvsd configuration and daemon under hostile input', function () {
  let topo: Topology | undefined;
  const t = (): Topology => {
    if (!topo) throw new Error('no topology (before() failed)');
    return topo;
  };
  const started = new Started(t);
  before(async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    topo = await Topology.create(await labKernel(), defaultSpec(1, 1));
  });
  afterEach(async function () {
    this.timeout(60_000);
    await started.killAll();
    await t().run(DIRECTOR, ['ipvsadm', '-C']);
    await t().exec(DIRECTOR, ['find', '/run', '-maxdepth', '1', '-name', 'ldirectord.*.pid', '-delete']);
  });
  after(async function () {
    this.timeout(60_000);
    await topo?.destroy();
  });

  it('item 5: while a 30 000-real file is parsed for a reload, lvsd answers at once and r1 keeps being checked; the listener is on the address given', async function () {
    this.timeout(600_000);
    const dir = t().node(DIRECTOR).dir;
    const small = await writeConfig(t(), 'reload.cf', lines('checkinterval=10', `metrics=${D1}:19102`, web(1).trimEnd()));
    const cfg = join(dir, 'reload-live.cf');
    const log = join(dir, 'reload.log');
    await t().run(DIRECTOR, ['cp', small, cfg]);
    const pid = await started.start(DIRECTOR, checkerArgv(t(), cfg), log);
    const metrics = async () => (await t().exec(DIRECTOR, ['curl', '-sS', '--max-time', '5', `http://${D1}:19102/metrics`])).stdout;
    await waitFor('r1 up in /metrics', async () => /^lvsd_real_up\{[^}]*\} 1$/m.test(await metrics()), 30_000);
    const listening = await t().run(DIRECTOR, ['ss', '-Hltn', 'sport = :19102']);
    assert.match(listening, new RegExp(`\\s${D1.replace(/\./g, '\\.')}:19102\\s`), `bound to ${D1} only:\n${listening}`);
    assert.doesNotMatch(listening, /(\*|0\.0\.0\.0|\[::\]):19102/, listening);

    const grow = await t().exec(DIRECTOR, ['python3', '-c', GROW, small, '30000', VIP2, `${cfg}.new`], { timeoutMs: 60_000 });
    assert.equal(grow.code, 0, show(grow));
    await t().run(DIRECTOR, ['mv', `${cfg}.new`, cfg]);
    const out = join(dir, 'probe.json');
    const stop = join(dir, 'probe.stop');
    const probe = await started.start(DIRECTOR, ['python3', '-c', PROBE, `http://${D1}:19102`, stop, out], join(dir, 'probe.log'));
    await sleep(3000);
    const hup = Date.now() / 1000;
    await t().run(DIRECTOR, ['kill', '-HUP', String(pid)]);
    await waitFor('the reload to be done', async () => /Reloaded: /.test(await t().run(DIRECTOR, ['cat', log])), 240_000, 1000);
    await sleep(3000);
    await t().run(DIRECTOR, ['touch', stop]);
    await waitGone(t(), probe, 120_000);
    const samples = JSON.parse(await t().run(DIRECTOR, ['cat', out])) as ProbeSample[];
    const rss = (await t().run(DIRECTOR, ['grep', 'VmRSS', `/proc/${pid}/status`])).trim().replace(/\s+/g, ' ');
    const logged = await t().run(DIRECTOR, ['cat', log]);
    const report = samples.map((s) => `${(s.t0 - hup).toFixed(2)}s ${s.path} ${((s.t1 - s.t0) * 1000).toFixed(0)} ms${s.path === '/metrics' ? ` checks=${s.checks} reloads=${s.reloads}` : ''}${s.error ? ` ${s.error}` : ''}`).join('\n');

    const times = /Reloaded: 2 virtual service\(s\), 1 check\(s\); parsed in ([\d.]+) s, applied in ([\d.]+) s/.exec(logged);
    assert.ok(times, `the reload is logged with its times:\n${logged.slice(-2000)}`);
    const [parsedS, appliedS] = [Number(times[1]), Number(times[2])];
    assert.deepEqual(samples.filter((s) => s.error), [], `every request answered:\n${report}`);
    // While the child parses, lvsd's loop is free: every request started then is answered promptly.
    const parsing = samples.filter((s) => s.t0 >= hup && s.t1 <= hup + parsedS - 0.2);
    const slowest = Math.max(0, ...parsing.map((s) => s.t1 - s.t0));
    const stall = Math.max(0, ...samples.filter((s) => s.t1 > hup + parsedS - 0.2).map((s) => s.t1 - s.t0));
    const scrapes = parsing.filter((s) => s.path === '/metrics').map((s) => s.checks ?? 0);
    process.stdout.write(`      reload of 30 000 reals: parsed in ${parsedS} s (child), applied in ${appliedS} s; while parsing ${parsing.length} requests, slowest ${(slowest * 1000).toFixed(0)} ms, r1 checks ${scrapes.join(' → ')}; longest wait after: ${(stall * 1000).toFixed(0)} ms; lvsd ${rss}\n`);
    assert.ok(parsing.length >= 5, `requests while the file was parsed:\n${report}`);
    assert.ok(slowest < 3, `no request waited 3 s or more while the file was parsed (the daemon parsed it itself before):\n${report}`);
    if (scrapes.length >= 2) assert.ok(scrapes[scrapes.length - 1]! > scrapes[0]!, `r1 was checked while the file was parsed:\n${report}`);
    assert.ok(await alive(t(), pid), 'lvsd runs on');
  });

  it('item 6 (deep monitor): with checkinterval=300, and after a reload to 600, OCF_CHECK_LEVEL=10 passes after 70 s; the status file is rewritten every 10 s', async function () {
    this.timeout(300_000);
    const cfg = await writeConfig(t(), 'slow.cf', lines('checkinterval=300', web(300).trimEnd()));
    const start = await ocfLvsd(t(), 'start', cfg);
    assert.equal(start.code, OCF.SUCCESS, show(start));
    const first = await readStatus(t(), cfg);
    started.add(first.pid);
    try {
      await sleep(5000);
      // A reload to a longer interval must keep the heartbeat (it was not re-armed on reload).
      await writeConfig(t(), 'slow.cf', lines('checkinterval=600', web(600).trimEnd()));
      await t().run(DIRECTOR, ['kill', '-HUP', String(first.pid)]);
      const seen: number[] = [];
      const until = Date.now() + 70_000;
      while (Date.now() < until) {
        const at = Date.parse((await readStatus(t(), cfg)).updatedAt);
        if (seen[seen.length - 1] !== at) seen.push(at);
        await sleep(1000);
      }
      const gaps = seen.slice(1).map((x, i) => (x - seen[i]!) / 1000);
      process.stdout.write(`      status file rewritten every ${gaps.map((g) => g.toFixed(1)).join(', ')} s\n`);
      assert.ok(gaps.length >= 5 && Math.max(...gaps) <= 15, `the heartbeat rewrote the status file every 10 s or so: ${gaps.join(', ')}`);
      const deep = await ocfLvsd(t(), 'monitor', cfg, { OCF_CHECK_LEVEL: '10' });
      assert.equal(deep.code, OCF.SUCCESS, `deep monitor 75 s after start with checkinterval 300/600:\n${show(deep)}`);
    } finally {
      const stop = await ocfLvsd(t(), 'stop', cfg);
      assert.equal(stop.code, OCF.SUCCESS, show(stop));
    }
  });

  it('supervised=yes: `ldirectord CONFIG start` stays in the foreground and logs to stdout; status, reload and stop find it', async function () {
    this.timeout(120_000);
    const dir = t().node(DIRECTOR).dir;
    const cfg = await writeConfig(t(), 'supervised.cf', lines('supervised=yes', 'checkinterval=1', web(1).trimEnd()));
    const ld = await ldirectordLink(t());
    const log = join(dir, 'supervised.out');
    const pid = await started.start(DIRECTOR, [ld, cfg, 'start'], log);
    await waitFor('its status file', async () => (await t().exec(DIRECTOR, ['test', '-s', `/run/lvskit/checker/supervised.cf.json`])).code === 0, 30_000);
    await sleep(2000);
    assert.ok(await alive(t(), pid), '`ldirectord start` did not return: it is the daemon');
    const out = await t().run(DIRECTOR, ['cat', log]);
    assert.match(out, /^\[\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4}\] Starting lvsd/m, `ldirectord's supervised lines on stdout:\n${out}`);
    const status = await t().exec(DIRECTOR, [ld, cfg, 'status']);
    assert.equal(status.code, 0, show(status));
    assert.match(status.stderr, new RegExp(`running with pid: ${pid}`));
    assert.equal((await t().exec(DIRECTOR, [ld, cfg, 'reload'])).code, 0);
    const stop = await t().exec(DIRECTOR, [ld, cfg, 'stop'], { timeoutMs: 40_000 });
    assert.equal(stop.code, 0, show(stop));
    await waitGone(t(), pid);
  });

  it('execute=NAME: the other configuration starts, reloads and stops with this one, through `ldirectord NAME …`', async function () {
    this.timeout(300_000);
    const ld = await ldirectordLink(t());
    // Both in the director's private /etc/ha.d, found by name as ldirectord finds them.
    const a = '/etc/ha.d/lvsd-exec-a.cf';
    const b = '/etc/ha.d/lvsd-exec-b.cf';
    const withB = lines('checkinterval=2', 'execute=lvsd-exec-b.cf', web(2).trimEnd());
    const put = async (path: string, text: string) => {
      const r = await t().exec(DIRECTOR, ['tee', path], { stdin: text });
      assert.equal(r.code, 0, show(r));
    };
    await put(a, withB);
    await put(b, lines('checkinterval=2', `virtual=${VIP2}:80`, `\treal=${R1}:80 gate`, '\tchecktype=connect'));
    const pidOf = async (name: string) => {
      const r = await t().exec(DIRECTOR, ['cat', `/run/ldirectord.${name}.pid`]);
      const pid = r.code === 0 ? Number(r.stdout.trim()) : undefined;
      return pid !== undefined && (await alive(t(), pid)) ? pid : undefined;
    };
    try {
      const start = await t().exec(DIRECTOR, [ld, 'lvsd-exec-a.cf', 'start'], { timeoutMs: 90_000 });
      assert.equal(start.code, 0, show(start));
      const pa = await pidOf('lvsd-exec-a.cf');
      assert.ok(pa, 'A runs');
      started.add(pa);
      await waitFor('B started by A', async () => (await pidOf('lvsd-exec-b.cf')) !== undefined, 60_000);
      const pb = (await pidOf('lvsd-exec-b.cf'))!;
      started.add(pb);
      const status = await t().exec(DIRECTOR, [ld, 'lvsd-exec-a.cf', 'status']);
      assert.equal(status.code, 0, show(status));
      assert.match(status.stderr, new RegExp(`ldirectord for ${b} is running with pid: ${pb}`), show(status));

      // A reload without the execute line stops B; with it again, starts a new B.
      await put(a, lines('checkinterval=2', web(2).trimEnd()));
      assert.equal((await t().exec(DIRECTOR, [ld, 'lvsd-exec-a.cf', 'reload'])).code, 0);
      await waitGone(t(), pb, 60_000);
      await put(a, withB);
      assert.equal((await t().exec(DIRECTOR, [ld, 'lvsd-exec-a.cf', 'reload'])).code, 0);
      await waitFor('B started again on reload', async () => (await pidOf('lvsd-exec-b.cf')) !== undefined, 60_000);
      const pb2 = (await pidOf('lvsd-exec-b.cf'))!;
      started.add(pb2);
      assert.notEqual(pb2, pb);

      const stop = await t().exec(DIRECTOR, [ld, 'lvsd-exec-a.cf', 'stop'], { timeoutMs: 90_000 });
      assert.equal(stop.code, 0, show(stop));
      await waitGone(t(), pa);
      await waitGone(t(), pb2, 60_000);
    } finally {
      await t().exec(DIRECTOR, ['rm', '-f', a, b]);
    }
  });
});
