// The lab's channel to its kernel: exit status and output come back exactly, timeouts are enforced.
import assert from 'node:assert/strict';
import type { Kernel } from '../../lab';
import { BOOT_TIMEOUT_MS, labKernel } from '../support/lab';

describe('lab kernel', function () {
  let kernel: Kernel;
  before(async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    kernel = await labKernel();
  });

  it('has IPVS, network namespaces, veth and bridges', async () => {
    const r = await kernel.exec({ argv: ['cat', '/proc/net/ip_vs'] });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^IP Virtual Server version \d+\.\d+\.\d+/);
    const mods = await kernel.exec({ argv: ['sh', '-c', 'ls -d /sys/module/ip_vs /sys/module/ip_vs_lc /sys/module/veth /sys/module/bridge'] });
    assert.equal(mods.code, 0, mods.stderr);
  });

  it('returns exit status, stdout and stderr exactly', async () => {
    const r = await kernel.exec({ argv: ['sh', '-c', 'printf "out\\n"; printf "err\\n" >&2; exit 7'] });
    assert.deepEqual([r.code, r.stdout, r.stderr, r.timedOut], [7, 'out\n', 'err\n', false]);
  });

  it('passes stdin and large output through intact', async () => {
    const input = 'x'.repeat(100_000);
    const r = await kernel.exec({ argv: ['sh', '-c', 'cat; head -c 2000000 /dev/zero | tr "\\0" y'], stdin: input });
    assert.equal(r.code, 0);
    assert.equal(r.stdout.length, input.length + 2_000_000);
    assert.ok(r.stdout.startsWith(input) && r.stdout.endsWith('yyy'));
  });

  it('reports a signal and a program that does not exist', async () => {
    const killed = await kernel.exec({ argv: ['sh', '-c', 'kill -TERM $$'] });
    assert.equal(killed.signal, 'SIGTERM');
    const missing = await kernel.exec({ argv: ['/nonexistent/program'] });
    assert.match(missing.error ?? '', /ENOENT/);
  });

  it('kills a command and its children at the timeout', async () => {
    const r = await kernel.exec({ argv: ['sh', '-c', 'sleep 300 & sleep 300'], timeoutMs: 1500 });
    assert.equal(r.timedOut, true);
    assert.equal(r.signal, 'SIGKILL');
    const left = await kernel.exec({ argv: ['pgrep', '-x', '-f', 'sleep 300'] });
    assert.equal(left.stdout, '', 'no sleep left behind');
  });
});
