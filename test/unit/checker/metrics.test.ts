import assert from 'node:assert/strict';
import { metricsText, renderMetrics } from '../../../src/checker/metrics';
import { sourceOf, type CheckerStatus, type RealStatus } from '../../../src/checker/status';

function status(reals: RealStatus[]): CheckerStatus {
  return {
    pid: 1, config: '/etc/ha.d/x.cf', state: 'running', startedAt: '', updatedAt: '', reconciles: 3, lastReconcileMs: 12, reconcileErrors: 0,
    virtuals: [{ virtual: '198.51.100.100:80 tcp', active: true, scheduler: 'wrr', realsUp: 1, fallback: false, reals }],
  };
}
const up: RealStatus = { real: '198.51.100.21:80', health: 'up', configuredWeight: 2, weight: 2, uthreshold: 0, consecutiveFailures: 0, lastCheck: { at: '', up: true, detail: 'ok', latencyMs: 4, kind: 'negotiate' } };
const down: RealStatus = { real: '198.51.100.22:80', health: 'down', configuredWeight: 1, weight: null, uthreshold: null, consecutiveFailures: 3 };

describe('checker/metrics: the Prometheus exposition', () => {
  it('one family after the other, each with HELP and TYPE, a real without a check has no latency', () => {
    const text = renderMetrics(status([up, down]), { checks: 7, errors: 1, reloads: 2 });
    const l = '{virtual="198.51.100.100:80 tcp",real="198.51.100.2';
    for (const line of [
      `lvsd_real_up${l}1:80"} 1`, `lvsd_real_up${l}2:80"} 0`,
      `lvsd_real_check_latency_seconds${l}1:80"} 0.004`,
      `lvsd_real_consecutive_failures${l}2:80"} 3`,
      `lvsd_real_weight${l}1:80"} 2`, `lvsd_real_weight${l}2:80"} -1`,
      'lvsd_virtual_reals_up{virtual="198.51.100.100:80 tcp"} 1',
      'lvsd_checks_total 7', 'lvsd_errors_total 1', 'lvsd_reloads_total 2', 'lvsd_reconcile_total 3',
    ]) assert.ok(text.split('\n').includes(line), `${line} in\n${text}`);
    assert.doesNotMatch(text, /lvsd_real_check_latency_seconds\{[^}]*22:80/);
    assert.ok(text.endsWith('# TYPE lvs_vip_duplicate gauge\n'), 'the last family, with no instance');
    const families = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
    assert.equal(new Set(families).size, families.length, 'each family once');
    for (const f of families) {
      const rows = text.split('\n').filter((x) => x.startsWith(`${f}{`) || x.startsWith(`${f} `));
      const at = text.indexOf(`# TYPE ${f} `);
      for (const r of rows) assert.ok(text.indexOf(`${r}\n`) > at, `${r} after its TYPE line`);
    }
  });

  it('comes in pieces for a large table, whose concatenation is the whole text', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => ({ ...down, real: `198.18.${i >> 8}.${i & 255}:80` }));
    const pieces = [...metricsText(sourceOf(status(many)), { checks: 0, errors: 0, reloads: 0 })];
    assert.ok(pieces.length > 20, `${pieces.length} pieces`);
    assert.ok(Math.max(...pieces.map((p) => p.length)) < 200_000, 'no piece holds the whole table');
    assert.equal(pieces.join(''), renderMetrics(status(many), { checks: 0, errors: 0, reloads: 0 }));
    assert.equal(pieces.join('').split('\n').filter((x) => x.startsWith('lvsd_real_up{')).length, 10_000);
  });
});
