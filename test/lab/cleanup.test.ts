// The lab leaves nothing behind: namespaces, processes, files.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { defaultSpec, openKernel, Topology } from '../../lab';
import { BOOT_TIMEOUT_MS, labKernel } from '../support/lab';

describe('lab: cleanup', function () {
  it('destroying a topology removes its namespaces, processes and files', async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    const kernel = await labKernel();
    const topo = await Topology.create(kernel, defaultSpec(1, 1));
    const holders = topo.all().map((n) => n.pid);
    const dirs = topo.all().map((n) => n.dir);
    await topo.destroy();
    const ns = await kernel.exec({ argv: ['ip', 'netns', 'list'] });
    assert.doesNotMatch(ns.stdout, new RegExp(topo.prefix));
    for (const pid of holders) {
      const alive = await kernel.exec({ argv: ['kill', '-0', String(pid)] });
      assert.notEqual(alive.code, 0, `holder ${pid} still alive`);
    }
    const left = await kernel.exec({ argv: ['ls', '-d', ...dirs] });
    assert.notEqual(left.code, 0, `left: ${left.stdout}`);
  });

  it('closing a lab kernel leaves no process and no file on the host', async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    const kernel = await openKernel();
    const where = kernel.kind === 'uml' ? (kernel as unknown as { dir: string }).dir : kernel.workdir;
    assert.ok(existsSync(where));
    await kernel.close();
    assert.equal(existsSync(where), false, `${where} left behind`);
    const procs = spawnSync('pgrep', ['-f', where], { encoding: 'utf8' });
    assert.equal(procs.stdout, '', `processes left: ${procs.stdout}`);
  });
});
