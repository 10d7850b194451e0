// The lvs agent logs as resource agents do, and traces on OCF_TRACE_RA. Read-only actions on the host.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const agent = resolve(__dirname, '..', '..', 'agents', 'lvs');
// Any interface of this host but lo: a probe only reads addresses and links.
const nic = readdirSync('/sys/class/net').find((n) => n !== 'lo') ?? 'lo';

function lvs(action: string, env: Record<string, string>) {
  const r = spawnSync(agent, [action], {
    encoding: 'utf8',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: 'web-vip', OCF_RESKEY_vip: '203.0.113.77', OCF_RESKEY_nic: nic, OCF_RESKEY_CRM_meta_interval: '0', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('lvs agent: logging and tracing', function () {
  this.timeout(20_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'lvskit-log-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes failures to HA_LOGFILE, tagged with the instance', () => {
    const logfile = join(dir, 'ha.log');
    const r = lvs('start', { HA_LOGFILE: logfile, OCF_RESKEY_sync_id: '300' });
    assert.equal(r.code, 6);
    assert.match(r.stderr, /^ocf-exit-reason:parameter 'sync_id' must be an integer from 0 to 255, got '300'$/m);
    assert.match(readFileSync(logfile, 'utf8'), /^lvs\(web-vip\)\[\d+\]:\t\d{4}\/\d\d\/\d\d_\d\d:\d\d:\d\d ERR: parameter 'sync_id' must be/m);
  });

  it('traces every command of an action to OCF_TRACE_FILE', () => {
    const trace = join(dir, 'trace');
    const r = lvs('monitor', { OCF_TRACE_RA: '1', OCF_TRACE_FILE: trace });
    assert.equal(r.code, 7, r.stderr);
    const text = readFileSync(trace, 'utf8');
    assert.match(text, /^\+ lvs monitor \(instance web-vip/m);
    assert.match(text, /^\+ (\S*\/)?ip -j -4 addr show {2}# exit 0, \d+ ms$/m);
  });

  it('traces into HA_VARLIB/trace_ra/lvs when no trace file is named', () => {
    const r = lvs('monitor', { OCF_RESKEY_trace_ra: '1', HA_VARLIB: dir });
    assert.equal(r.code, 7, r.stderr);
    const files = readdirSync(join(dir, 'trace_ra', 'lvs'));
    assert.equal(files.length, 1);
    assert.match(files[0]!, /^web-vip\.monitor\.\d{4}-\d\d-\d\d\.\d\d:\d\d:\d\d$/);
  });
});
