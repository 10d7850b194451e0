// ldirectord's execute: which `ldirectord NAME COMMAND` a running lvsd issues, in which order.
// (The commands themselves, through the built binary, are exercised in test/lab/lvsd-config.test.ts.)
import assert from 'node:assert/strict';
import { Instances, type InstanceCommand, type InstanceResult } from '../../../src/checker/instances';

function recorder(fail: Record<string, number> = {}) {
  const calls: string[] = [];
  const logs: string[] = [];
  const run = async (name: string, command: InstanceCommand): Promise<InstanceResult> => {
    calls.push(`${name} ${command}`);
    await new Promise((r) => setTimeout(r, 5));
    return { code: fail[`${name} ${command}`] ?? 0, output: '' };
  };
  const instances = new Instances('/etc/ha.d/self.cf', (level, message) => logs.push(`${level} ${message}`), run);
  return { calls, logs, instances };
}

describe('checker/instances: execute = other configurations, as ldirectord', () => {
  it('starts and stops each named configuration, in order', async () => {
    const { calls, instances } = recorder();
    await instances.start(['/srv/a.cf', 'b.cf']);
    await instances.stop(['/srv/a.cf', 'b.cf']);
    assert.deepEqual(calls, ['/srv/a.cf start', 'b.cf start', '/srv/a.cf stop', 'b.cf stop']);
  });

  it('on reload: stops the ones removed, reloads the kept ones (starting those not running), starts the new ones', async () => {
    const { calls, instances } = recorder({ 'kept2.cf reload': 1 });
    await instances.reload(['gone.cf', 'kept1.cf', 'kept2.cf'], ['kept1.cf', 'kept2.cf', 'new.cf']);
    assert.deepEqual(calls, ['gone.cf stop', 'kept1.cf reload', 'kept2.cf reload', 'kept2.cf start', 'new.cf start']);
  });

  it('never commands its own configuration, and says why', async () => {
    const { calls, logs, instances } = recorder();
    await instances.start(['/etc/ha.d/self.cf', 'other.cf']);
    assert.deepEqual(calls, ['other.cf start']);
    assert.ok(logs.some((l) => /^warning execute \/etc\/ha\.d\/self\.cf: that is this configuration itself/.test(l)), logs.join('\n'));
  });

  it('runs one command at a time: a stop asked during a start waits for it', async () => {
    const { calls, instances } = recorder();
    const start = instances.start(['a.cf', 'b.cf']);
    const stop = instances.stop(['a.cf', 'b.cf']);
    await Promise.all([start, stop]);
    assert.deepEqual(calls, ['a.cf start', 'b.cf start', 'a.cf stop', 'b.cf stop']);
  });

  it('logs a failed command with its status and goes on with the next', async () => {
    const { calls, logs, instances } = recorder({ 'a.cf start': 1 });
    await instances.start(['a.cf', 'b.cf']);
    assert.deepEqual(calls, ['a.cf start', 'b.cf start']);
    assert.ok(logs.includes('error execute: ldirectord a.cf start failed (exit 1)'), logs.join('\n'));
  });
});
