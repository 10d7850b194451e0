// startChild with real programs: exit status, stdin, bounded stderr, and a time limit that ends the
// whole process group (what the program started too).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { childFailure, startChild } from '../../../src/exec/child';

/** Alive and not a zombie (this sandbox's init reaps orphans late). */
const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z';
  } catch {
    return false;
  }
};

describe('exec/child', () => {
  it('reports the exit status and the start of stderr', async () => {
    const end = await startChild('/bin/sh', ['-c', 'echo "it broke" >&2; exit 4']).done;
    assert.equal(end.code, 4);
    assert.equal(end.stderr, 'it broke\n');
    assert.equal(childFailure(end), 'exit 4: it broke');
    assert.equal(childFailure(await startChild('/bin/true', []).done), undefined);
  });

  it('feeds stdin from a string', async () => {
    const end = await startChild('/bin/sh', ['-c', 'read a; read b; [ "$a $b" = "one two" ] || exit 1'], { input: 'one\ntwo\n' }).done;
    assert.equal(end.code, 0);
  });

  it('keeps at most stderrLimit characters of stderr', async () => {
    const end = await startChild('/bin/sh', ['-c', 'head -c 100000 /dev/zero | tr "\\0" x >&2'], { stderrLimit: 100 }).done;
    assert.equal(end.stderr, 'x'.repeat(100));
  });

  it('ends the whole process group at the time limit, even what ignores TERM', async () => {
    const started = Date.now();
    const child = startChild('/bin/sh', ['-c', 'trap "" TERM; sleep 30 & echo $! >&2; wait'], { timeoutMs: 200, graceMs: 200 });
    const end = await child.done;
    assert.ok(end.timedOut);
    assert.match(childFailure(end, 200)!, /^stopped after 0.2 s/);
    const grandchild = Number(end.stderr.trim());
    assert.ok(grandchild > 0, end.stderr);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!alive(grandchild), 'what the program started is gone too');
    assert.ok(Date.now() - started < 10_000);
  });

  it('says when a program cannot be started', async () => {
    const end = await startChild('/nonexistent/program', ['x'], { input: 'ignored' }).done;
    assert.equal(childFailure(end), 'cannot run it: not found');
  });
});
