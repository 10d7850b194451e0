// ocf:heartbeat:lvsd's answers that need no running checker: what a bad or missing configuration
// file, or a bad metrics parameter, make of start, validate-all and the probe. Nothing starts here.
// (Start, monitor and stop with a running lvsd: test/lab/lvsd-compat.test.ts, lvsd-config.test.ts.)
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lvsdAgent } from '../../../src/agents/lvsd';
import { OCF } from '../../../src/ocf/codes';
import { runAgent } from '../../../src/ocf/run';

describe('agents/lvsd: configuration problems as OCF codes', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvsd-agent-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function agent(action: string, params: Record<string, string>, env: Record<string, string> = {}) {
    let stderr = '';
    const code = await runAgent(
      lvsdAgent,
      [action],
      {
        PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
        HA_RSCTMP: dir,
        HA_LOGFILE: join(dir, 'agent.log'),
        OCF_RESOURCE_INSTANCE: 'lvsd-test',
        ...Object.fromEntries(Object.entries(params).map(([k, v]) => [`OCF_RESKEY_${k}`, v])),
        ...env,
      },
      { stdout: () => undefined, stderr: (t) => (stderr += t) },
    );
    const reasons = stderr.split('\n').filter((l) => l.startsWith('ocf-exit-reason:'));
    return { code, reason: reasons.join('\n'), log: readFileSync(join(dir, 'agent.log'), { encoding: 'utf8', flag: 'a+' }) };
  }

  function file(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  it('a configfile missing on this node: 5 (ERR_INSTALLED, this node only) for start and validate-all, 7 for a probe', async () => {
    const missing = join(dir, 'missing.cf');
    for (const action of ['validate-all', 'start']) {
      const r = await agent(action, { configfile: missing });
      assert.equal(r.code, OCF.ERR_INSTALLED, `${action}: ${r.reason}`);
      assert.match(r.reason, new RegExp(`cannot read the configuration`));
    }
    assert.equal((await agent('monitor', { configfile: missing })).code, OCF.NOT_RUNNING, 'probe');
  });

  it('a wrong file: 6 (ERR_CONFIGURED, everywhere), with file:line in the reason', async () => {
    const bad = file('bad.cf', 'virtual=198.51.100.100:80\n    real=198.51.100.11:80 gateway\n    scheduler=WLC\n');
    for (const action of ['validate-all', 'start']) {
      const r = await agent(action, { configfile: bad });
      assert.equal(r.code, OCF.ERR_CONFIGURED, `${action}: ${r.reason}`);
      assert.equal(r.reason, `ocf-exit-reason:${bad}:2: real: unknown value 'gateway' (expected gate, masq or ipip as forwarding method) (and 1 more problem(s))`);
    }
  });

  it('never puts a password into the exit reason (pacemaker stores it in the CIB) or the log', async () => {
    const bad = file('secret.cf', 'virtual=198.51.100.100:3306\n    real=198.51.100.11:3306 gate\n    service=mysql\n    login="check"\n    request="SELECT 1"\n    passwd=TopS3cret\n');
    const r = await agent('validate-all', { configfile: bad });
    assert.equal(r.code, OCF.ERR_CONFIGURED);
    assert.match(r.reason, new RegExp(`${bad}:6: passwd: `));
    assert.doesNotMatch(r.reason + r.log, /TopS3cret/);
  });

  it('metrics=":19102" is refused as the metrics directive refuses it; an explicit address is taken', async () => {
    const good = file('good.cf', 'virtual=198.51.100.100:80\n    real=198.51.100.11:80 gate\n');
    const r = await agent('validate-all', { configfile: good, metrics: ':19102' });
    assert.equal(r.code, OCF.ERR_CONFIGURED);
    assert.match(r.reason, /^ocf-exit-reason:metrics: no address before ':19102': write the address to listen on/);
    for (const metrics of ['198.51.100.10:19102', '[2001:db8::10]:19102', '0.0.0.0:19102', '']) {
      assert.equal((await agent('validate-all', { configfile: good, metrics })).code, OCF.SUCCESS, metrics);
    }
  });
});
