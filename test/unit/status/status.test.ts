import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCrmMon, type StatusView } from '../../../src/status/collect';
import { renderJson, renderStatus } from '../../../src/status/render';

// Captured from pacemaker 2.1.5's `crm_mon -1 --output-as=xml` in the lab: a promotable clone
// promoted, a started primitive, and a primitive that failed to start (exit 6).
const XML = readFileSync(join(__dirname, 'fixtures', 'crm_mon-2.1.5.xml'), 'utf8');

describe('status: the cluster view from crm_mon XML, and the one-screen rendering', () => {
  it('reads nodes, the DC, resources inside and outside clones, and failures', () => {
    const v = parseCrmMon(XML);
    assert.equal(v.available, true);
    assert.equal(v.dc, 'd1');
    assert.deepEqual(v.nodes, [{ name: 'd1', online: true, standby: false }]);
    assert.deepEqual(
      v.resources.map((r) => [r.id, r.agent, r.role, r.nodes.join(',')]),
      [
        ['bad', 'ocf:heartbeat:Dummy', 'Started', 'd1'],
        ['vip', 'ocf:heartbeat:IPaddr2', 'Stopped', ''],
        ['st', 'ocf:pacemaker:Stateful', 'Promoted', 'd1'],
      ],
    );
    assert.deepEqual(v.failures, [{ node: 'd1', op: 'vip_start_0', status: 'not configured', reason: '[findif] failed' }]);
  });

  it('shows role, VIP, every real with health and weight, and the cluster on one screen', () => {
    const view: StatusView = {
      directors: [{ instance: 'lvs', vip: '198.51.100.100', nic: 'eth0', role: 'promoted' }],
      checkers: [
        {
          pid: 42, config: '/etc/ha.d/ldirectord.cf', state: 'running', startedAt: '', updatedAt: '', reconciles: 7, lastReconcileMs: 12, reconcileErrors: 0, ageSeconds: 1,
          virtuals: [{
            active: true, virtual: '198.51.100.100:80 tcp', scheduler: 'lc', realsUp: 1, fallback: false,
            reals: [
              { real: '198.51.100.21:80', health: 'up', configuredWeight: 1, weight: 1, uthreshold: 3, consecutiveFailures: 0, rampingUntil: '2026-11-21T08:10:00.000Z', lastCheck: { at: '', up: true, detail: 'HTTP 200', latencyMs: 4, kind: 'negotiate' } },
              { real: '198.51.100.22:80', health: 'down', configuredWeight: 1, weight: 0, uthreshold: 0, consecutiveFailures: 3, lastCheck: { at: '', up: false, detail: 'connection refused', latencyMs: 1, kind: 'negotiate' } },
            ],
          }],
        },
      ],
      cluster: parseCrmMon(XML),
    };
    const text = renderStatus(view);
    assert.match(text, /lvs: PROMOTED {2}VIP 198\.51\.100\.100 on eth0/);
    assert.match(text, /198\.51\.100\.100:80 tcp +lc +1\/2 up/);
    assert.match(text, /198\.51\.100\.21:80 +UP +weight 1\/1 u_threshold 3 .*HTTP 200.*ramping until 08:10:00/);
    assert.match(text, /198\.51\.100\.22:80 +DOWN +weight 0\/1 .*connection refused.*3 failure\(s\) in a row/);
    assert.match(text, /nodes online: d1; DC d1/);
    assert.match(text, /failed action: vip_start_0 on d1: not configured \(\[findif\] failed\)/);
  });

  it('prints what a real or a status file says without control characters, on the screen and in --json', () => {
    const hostile = 'greeting: 554 \x1b[2J\x1b]0;owned\x07go\r\nway\x9b1m\u202eevil';
    const view: StatusView = {
      directors: [],
      checkers: [{
        pid: 1, config: 'a\x1b[31m.cf', state: 'running', startedAt: '', updatedAt: '', reconciles: 0, lastReconcileMs: 0, reconcileErrors: 0, ageSeconds: 0,
        virtuals: [{ virtual: '198.51.100.100:25 tcp', scheduler: 'wrr', active: true, realsUp: 0, fallback: false, reals: [
          { real: '198.51.100.22:25', health: 'down', configuredWeight: 1, weight: null, uthreshold: 0, consecutiveFailures: 1, lastCheck: { at: '', up: false, detail: hostile, latencyMs: 1, kind: 'negotiate' } },
        ] }],
      }],
      cluster: { available: false, reason: 'no cluster\x1b[0m here', nodes: [], resources: [], failures: [] } as unknown as StatusView['cluster'],
    };
    const text = renderStatus(view);
    assert.match(text, /greeting: 554 \[2J \]0;owned go way 1m evil/);
    assert.doesNotMatch(text.replace(/\n/g, ''), /[\x00-\x1f\x7f-\x9f\u202e]/);
    const json = renderJson(view);
    assert.doesNotMatch(JSON.stringify(JSON.parse(json)), /\\u00|\\u202e|[\x7f-\x9f]/, 'nothing left for JSON to escape');
    assert.equal((JSON.parse(json) as StatusView).checkers[0]!.virtuals[0]!.reals[0]!.lastCheck!.detail, 'greeting: 554 [2J ]0;owned go way 1m evil');
  });

  it('says what hides or announces each VIP by its family: ARP for IPv4, neighbour discovery for IPv6', () => {
    const view: StatusView = {
      directors: [
        { instance: 'web4', vip: '198.51.100.100', nic: 'eth0', role: 'promoted' },
        { instance: 'web6', vip: '2001:db8::100', nic: 'eth0', role: 'unpromoted' },
        { instance: 'web4b', vip: '198.51.100.101', nic: 'eth0', role: 'unpromoted' },
        { instance: 'web6b', vip: '2001:db8::101', nic: 'eth1', role: 'promoted' },
      ],
      checkers: [],
      cluster: { available: false, reason: 'no cluster here', nodes: [], resources: [], failures: [] },
    };
    assert.deepEqual(renderStatus(view).split('\n').slice(1, 5), [
      '  web4: PROMOTED  VIP 198.51.100.100 on eth0, answering ARP',
      '  web6: UNPROMOTED  VIP 2001:db8::100 on lo, not advertised (serving as a real server)',
      '  web4b: UNPROMOTED  VIP 198.51.100.101 on lo, ARP hidden (serving as a real server)',
      '  web6b: PROMOTED  VIP 2001:db8::101 on eth1, answering neighbour solicitations',
    ]);
  });
});
