// A reload's parse in a child process (this program, run from source here): the same result as
// parsing in-process, the same errors, and the caller's event loop free while it runs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfigInChild } from '../../../../src/checker/config/child';
import { ConfigError } from '../../../../src/checker/config/errors';
import { loadConfig } from '../../../../src/checker/config/parse';

const CLI = resolve(__dirname, '..', '..', '..', '..', 'src', 'cli.ts');
const TSX = pathToFileURL(join(dirname(require.resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;

/** The child as the daemon runs it, but from source. */
function fromSource(file: string) {
  return { file: process.execPath, args: ['--import', TSX, CLI, 'checker', '--config', file, '--emit-config'] };
}

describe('checker/config/child: parsing for a reload in a child process', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvsd-child-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  it('returns what loadConfig returns (literal addresses only: no name lookups here)', async () => {
    const path = file('good.cf', 'checkinterval=3\nvirtual=198.51.100.100:80\n    real=198.51.100.11:80 gate 2\n    real=198.51.100.12->198.51.100.14:80 masq\n    receive="^OK (up|ready)$"\n    checkcount=2\n');
    const got = await loadConfigInChild(path, { command: fromSource(path) });
    assert.deepEqual(got, loadConfig(path));
    assert.equal(got.warnings.length, 1, 'warnings come back too');
  });

  it('throws the same ConfigError for a bad file, and marks a missing one as this node\'s problem', async () => {
    const bad = file('bad.cf', 'virtual=198.51.100.100:80\n    real=198.51.100.11:80 gateway\n    passwd=TopS3cret\n');
    const err = await loadConfigInChild(bad, { command: fromSource(bad) }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ConfigError, String(err));
    assert.deepEqual(err.problems, (() => {
      try {
        loadConfig(bad);
      } catch (e) {
        return (e as ConfigError).problems;
      }
    })());
    const missing = join(dir, 'missing.cf');
    const gone = await loadConfigInChild(missing, { command: fromSource(missing) }).then(() => undefined, (e: unknown) => e);
    assert.ok(gone instanceof ConfigError && gone.local, String(gone));
  });

  it('leaves the caller\'s timers running while it parses 40 000 reals (an in-process parse stops them)', async () => {
    const lines = ['virtual=198.51.100.100:80', '    checktype=on'];
    for (let i = 0; i < 40_000; i++) lines.push(`    real=198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}:80 gate`);
    const path = file('big.cf', `${lines.join('\n')}\n`);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      loadConfig(path);
      const inProcess = ticks;
      const c = await loadConfigInChild(path, { command: fromSource(path) });
      const duringChild = ticks - inProcess;
      assert.equal(c.virtuals[0]!.reals.length, 40_000);
      assert.equal(inProcess, 0, 'no timer fires during an in-process parse');
      assert.ok(duringChild >= 10, `timers fired ${duringChild} times while the child parsed`);
    } finally {
      clearInterval(timer);
    }
  });

  it('kills the child when asked to stop (a SIGTERM must not wait for a parse)', async () => {
    const path = file('any.cf', 'virtual=198.51.100.100:80\n    real=198.51.100.11:80 gate\n');
    const abort = new AbortController();
    const pending = loadConfigInChild(path, { command: fromSource(path), signal: abort.signal });
    abort.abort();
    await assert.rejects(pending, /aborted/);
  });

  it('says so when the parser cannot do its work', async () => {
    await assert.rejects(loadConfigInChild('/x.cf', { command: { file: '/nonexistent/lvskit', args: [] } }), /cannot start the configuration parser/);
    await assert.rejects(loadConfigInChild('/x.cf', { command: { file: process.execPath, args: ['-e', 'process.stderr.write("boom\\n"); process.exit(3)'] } }), /exited with status 3: boom/);
    await assert.rejects(loadConfigInChild('/x.cf', { command: { file: process.execPath, args: ['-e', 'setTimeout(() => {}, 60000)'] }, timeoutMs: 300 }), /took longer than 0.3 s/);
  });
});
