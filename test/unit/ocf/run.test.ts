import assert from 'node:assert/strict';
import type { AgentDefinition } from '../../../src/ocf/agent';
import { OCF, OcfError } from '../../../src/ocf/codes';
import { runAgent } from '../../../src/ocf/run';

// A toy agent: the protocol layer is tested without anything LVS-specific.
function toyAgent(seen: { probe?: boolean; params?: Record<string, string> } = {}): AgentDefinition {
  return {
    name: 'toy',
    version: '1.0',
    shortdesc: 'toy',
    longdesc: 'toy agent',
    parameters: [
      { name: 'addr', type: 'string', required: true, shortdesc: 'a', longdesc: 'a' },
      { name: 'count', type: 'integer', default: '5', shortdesc: 'c', longdesc: 'c' },
      { name: 'flag', type: 'boolean', default: 'false', shortdesc: 'f', longdesc: 'f' },
    ],
    actions: [
      { name: 'start', timeout: 20 },
      { name: 'stop', timeout: 20 },
      { name: 'monitor', timeout: 20, interval: 10 },
    ],
    handlers: {
      start: (ctx) => {
        seen.params = ctx.params;
        return OCF.SUCCESS;
      },
      stop: () => OCF.SUCCESS,
      monitor: (ctx) => {
        seen.probe = ctx.isProbe;
        if (ctx.params.addr === 'broken') throw new OcfError(OCF.ERR_INSTALLED, 'ip is missing');
        if (ctx.params.addr === 'crash') throw new Error('boom');
        return OCF.NOT_RUNNING;
      },
    },
  };
}

async function call(argv: string[], env: NodeJS.ProcessEnv = {}, agent = toyAgent()) {
  let stdout = '';
  let stderr = '';
  const code = await runAgent(agent, argv, env, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('ocf/run: the OCF action dispatcher', () => {
  it('answers meta-data before validating parameters', async () => {
    const r = await call(['meta-data']);
    assert.equal(r.code, OCF.SUCCESS);
    assert.match(r.stdout, /<resource-agent name="toy"/);
    assert.equal(r.stderr, '');
  });

  it('prints usage for usage and help', async () => {
    for (const action of ['usage', 'help']) {
      const r = await call([action]);
      assert.equal(r.code, OCF.SUCCESS);
      assert.equal(r.stdout, 'usage: toy {meta-data|usage|start|stop|monitor}\n');
    }
  });

  it('returns 2 with usage when no action is given', async () => {
    const r = await call([]);
    assert.equal(r.code, OCF.ERR_ARGS);
    assert.match(r.stderr, /^usage: toy/);
  });

  it('returns 3 and an exit reason for an unknown action', async () => {
    for (const action of ['promote', 'frobnicate', 'constructor', '__proto__']) {
      const r = await call([action], { OCF_RESKEY_addr: 'x' });
      assert.equal(r.code, OCF.ERR_UNIMPLEMENTED, action);
      assert.match(r.stderr, new RegExp(`ocf-exit-reason:action '${action}' is not supported by toy`));
    }
  });

  it('ignores every argument after the action', async () => {
    const r = await call(['start', '--force', 'extra'], { OCF_RESKEY_addr: 'x' });
    assert.equal(r.code, OCF.SUCCESS);
  });

  it('returns 6 naming a missing required parameter', async () => {
    const r = await call(['start']);
    assert.equal(r.code, OCF.ERR_CONFIGURED);
    assert.equal(r.stderr, "ocf-exit-reason:required parameter 'addr' is not set\n");
  });

  it('returns 6 naming a parameter of the wrong type', async () => {
    let r = await call(['start'], { OCF_RESKEY_addr: 'x', OCF_RESKEY_count: '5;reboot' });
    assert.equal(r.code, OCF.ERR_CONFIGURED);
    assert.match(r.stderr, /parameter 'count' must be an integer, got '5;reboot'/);
    r = await call(['start'], { OCF_RESKEY_addr: 'x', OCF_RESKEY_flag: 'maybe' });
    assert.equal(r.code, OCF.ERR_CONFIGURED);
    assert.match(r.stderr, /parameter 'flag' must be a boolean/);
  });

  it('lets stop run on an incomplete configuration', async () => {
    const r = await call(['stop']);
    assert.equal(r.code, OCF.SUCCESS);
  });

  it('applies declared defaults and keeps given values', async () => {
    const seen: { params?: Record<string, string> } = {};
    await call(['start'], { OCF_RESKEY_addr: 'x', OCF_RESKEY_flag: 'yes' }, toyAgent(seen));
    assert.deepEqual(seen.params, { addr: 'x', count: '5', flag: 'yes' });
  });

  it('reports an OcfError with its own code and reason', async () => {
    const r = await call(['monitor'], { OCF_RESKEY_addr: 'broken' });
    assert.equal(r.code, OCF.ERR_INSTALLED);
    assert.equal(r.stderr, 'ocf-exit-reason:ip is missing\n');
  });

  it('turns an unexpected exception into 1 with a reason', async () => {
    const r = await call(['monitor'], { OCF_RESKEY_addr: 'crash' });
    assert.equal(r.code, OCF.ERR_GENERIC);
    assert.match(r.stderr, /^ocf-exit-reason:internal error in monitor: boom$/m);
  });

  it('uses the exit reason prefix pacemaker passes', async () => {
    const r = await call(['start'], { OCF_EXIT_REASON_PREFIX: 'REASON>' });
    assert.match(r.stderr, /^REASON>required parameter/);
  });

  it('tells a probe (interval 0 or unset) from a recurring monitor', async () => {
    const cases: Array<[string | undefined, boolean]> = [[undefined, true], ['0', true], ['10000', false]];
    for (const [interval, probe] of cases) {
      const seen: { probe?: boolean } = {};
      const env: NodeJS.ProcessEnv = { OCF_RESKEY_addr: 'x' };
      if (interval !== undefined) env.OCF_RESKEY_CRM_meta_interval = interval;
      await call(['monitor'], env, toyAgent(seen));
      assert.equal(seen.probe, probe, `interval ${interval}`);
    }
  });
});
