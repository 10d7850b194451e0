import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { outage, parseLoadLog, type Sample } from '../../../lab/load';

/** Requests every 100 ms from t=0; `failed` lists the indexes that failed; each took 10 ms. */
function run(n: number, failed: number[]): Sample[] {
  return Array.from({ length: n }, (_, i) => {
    const ok = !failed.includes(i);
    return { at: i * 100, ms: 10, ok, status: ok ? 'ok' : 'timeout', real: ok ? 'r1' : '-', mac: '-' };
  });
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('lab/load: the load generator\'s log and the outage around an event', () => {
  it('reads the log in send order, whatever order the requests ended in', () => {
    const text = [
      '1000.5 ok 12.0 r1 aa:bb:cc:dd:ee:01',
      '1100.0 fail 500.2 timeout -',
      '1050.0 ok 3.1 d2 aa:bb:cc:dd:ee:02',
      'Traceback (most recent call last):',
      '1200.0 ok 2',
    ].join('\n');
    assert.deepEqual(parseLoadLog(text), [
      { at: 1000.5, ms: 12, ok: true, status: 'ok', real: 'r1', mac: 'aa:bb:cc:dd:ee:01' },
      { at: 1050, ms: 3.1, ok: true, status: 'ok', real: 'd2', mac: 'aa:bb:cc:dd:ee:02' },
      { at: 1100, ms: 500.2, ok: false, status: 'timeout', real: '-', mac: '-' },
    ]);
  });

  it('measures from the answer before the run of failures to the answer after it', () => {
    const o = outage(run(30, range(10, 19)), 1000);
    // last ok: sent 900, answered 910; first ok after: sent 2000, answered 2010
    assert.deepEqual(o, { lastOkBefore: 910, firstOkAfter: 2010, ms: 1100, failed: 10 });
  });

  it('takes the longest run around the event, not the first one', () => {
    const o = outage(run(60, [...range(10, 12), ...range(20, 39), 45]), 1000);
    assert.equal(o.failed, 20);
    assert.equal(o.ms, 4010 - 1910);
  });

  it('counts a run already going at the event, ignores runs over before it and runs starting after the window', () => {
    assert.equal(outage(run(30, range(5, 14)), 1000).failed, 10, 'started before, still going at the event');
    assert.deepEqual(outage(run(30, range(2, 4)), 1000), { lastOkBefore: 1010, firstOkAfter: 1110, ms: 0, failed: 0 }, 'over before the event: no outage');
    assert.equal(outage(run(400, range(350, 360)), 1000, 30_000).failed, 0, 'starts 34 s after the event: not its outage');
  });

  it('says when the outage is not over, and when nothing failed', () => {
    assert.deepEqual(outage(run(20, range(10, 19)), 1000), { lastOkBefore: 910, firstOkAfter: undefined, ms: undefined, failed: 10 });
    assert.deepEqual(outage(run(20, []), 1000), { lastOkBefore: 1010, firstOkAfter: 1110, ms: 0, failed: 0 });
  });

  it('load.py keeps its schedule while requests hang, and gives each its own time limit', function () {
    // A server that accepts and never answers, in a network namespace of this test (only its
    // loopback, a TEST-NET address on it): every request must end on its own 200 ms limit while the
    // next ones still go out every 50 ms. A serial client would send one every 200 ms at best.
    this.timeout(60_000);
    if (spawnSync('unshare', ['-n', 'true']).status !== 0) this.skip();
    const script = [
      'set -e',
      'ip link set lo up',
      'ip addr add 198.51.100.1/32 dev lo',
      `python3 -c 'import socket; s=socket.socket(); s.bind(("198.51.100.1",8080)); s.listen(128); c=[]; [c.append(s.accept()) for _ in iter(int,1)]' &`,
      'for i in $(seq 300); do ss -Hltn "sport = :8080" | grep -q . && break; sleep 0.1; done',
      `timeout 4 python3 ${join(__dirname, '..', '..', '..', 'lab', 'guest', 'load.py')} 198.51.100.1 8080 50 200 || true`,
      'kill %1',
    ].join('\n');
    const r = spawnSync('unshare', ['-n', 'bash', '--norc', '--noprofile', '-c', script], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    const samples = parseLoadLog(r.stdout);
    assert.ok(samples.length >= 10, `requests ended: ${samples.length}\n${r.stdout}${r.stderr}`);
    assert.ok(samples.every((s) => !s.ok && s.status === 'timeout'), `every request timed out: ${JSON.stringify(samples.slice(0, 3))}`);
    assert.ok(samples.every((s) => s.ms >= 190 && s.ms < 1000), `each on its own 200 ms limit: ${samples.map((s) => Math.round(s.ms)).join(' ')}`);
    const gaps = samples.slice(1).map((s, i) => s.at - samples[i]!.at).sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)]!;
    assert.ok(median < 100, `sent every 50 ms whatever the previous ones do: median gap ${Math.round(median)} ms`);
  });
});
