// Prometheus text exposition of the checker's view, on an optional listen address.
// What it reveals and to whom: docs/checker.md, "Metrics".
import { createServer, type Server } from 'node:http';
import { listenAddress } from './config/address';
import type { CheckerStatus } from './status';

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export interface ProcessCounters {
  checks: number;
  errors: number;
  reloads: number;
}

/** The lvs agent's instances on this node, as far as metrics show them. */
export interface InstanceMetric {
  instance: string;
  vip: string;
  /** Other MACs answering for the VIP (duplicate VIP). */
  duplicates: number;
}

export function renderMetrics(s: CheckerStatus, p: ProcessCounters, instances: InstanceMetric[] = []): string {
  const out: string[] = [];
  const metric = (name: string, type: string, help: string, rows: Array<[string, number]>) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of rows) out.push(`${name}${labels} ${value}`);
  };
  const reals = s.virtuals.flatMap((v) => v.reals.map((r) => ({ v, r, l: `{virtual="${label(v.virtual)}",real="${label(r.real)}"}` })));
  metric('lvsd_real_up', 'gauge', 'Real server health: 1 up, 0 down or not yet checked.', reals.map(({ r, l }) => [l, r.health === 'up' ? 1 : 0]));
  metric('lvsd_real_check_latency_seconds', 'gauge', 'Duration of the last check.', reals.filter(({ r }) => r.lastCheck).map(({ r, l }) => [l, r.lastCheck!.latencyMs / 1000]));
  metric('lvsd_real_consecutive_failures', 'gauge', 'Failed checks in a row.', reals.map(({ r, l }) => [l, r.consecutiveFailures]));
  metric('lvsd_real_weight', 'gauge', 'Weight lvsd set in IPVS (-1: not in the table).', reals.map(({ r, l }) => [l, r.weight ?? -1]));
  metric('lvsd_virtual_reals_up', 'gauge', 'Real servers up per virtual service.', s.virtuals.map((v) => [`{virtual="${label(v.virtual)}"}`, v.realsUp]));
  metric('lvsd_virtual_active', 'gauge', 'The virtual service is in this node\'s kernel (1): its VIP is held here, or it follows none.', s.virtuals.map((v) => [`{virtual="${label(v.virtual)}"}`, v.active === false ? 0 : 1]));
  metric('lvsd_virtual_fallback_active', 'gauge', 'The fallback server is in (no real is up).', s.virtuals.map((v) => [`{virtual="${label(v.virtual)}"}`, v.fallback ? 1 : 0]));
  metric('lvsd_reconcile_total', 'counter', 'IPVS reconciliations (read, compare, apply).', [['', s.reconciles]]);
  metric('lvsd_reconcile_duration_seconds', 'gauge', 'Duration of the last reconciliation.', [['', s.lastReconcileMs / 1000]]);
  metric('lvsd_reconcile_errors_total', 'counter', 'Reconciliations in which the kernel refused a change or ipvsadm failed.', [['', s.reconcileErrors]]);
  metric('lvsd_checks_total', 'counter', 'Health checks completed.', [['', p.checks]]);
  metric('lvsd_errors_total', 'counter', 'Errors logged by lvsd.', [['', p.errors]]);
  metric('lvsd_reloads_total', 'counter', 'Configuration reloads.', [['', p.reloads]]);
  metric(
    'lvs_vip_duplicate',
    'gauge',
    'Other hosts (MACs) the promoted director saw answering for its VIP: 0 when it alone does.',
    instances.map((i) => [`{instance="${label(i.instance)}",vip="${label(i.vip)}"}`, i.duplicates]),
  );
  return out.join('\n') + '\n';
}

/**
 * Listens on "host:port" ("[v6]:port"), with the rule of the metrics directive (an empty host is
 * refused); resolves once listening, rejects with a clear reason.
 */
export function serveMetrics(listen: string, render: () => string): Promise<Server> {
  let at: { host: string; port: number };
  try {
    at = listenAddress(listen);
  } catch (err) {
    return Promise.reject(new Error(`metrics: ${(err as Error).message}`));
  }
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (req.url !== '/metrics') {
      res.writeHead(404).end('see /metrics\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(req.method === 'HEAD' ? undefined : render());
  });
  // A scraper asks once in a while: idle or slow clients must not pile up.
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.maxConnections = 32;
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`metrics: cannot listen on ${listen}: ${err.message}`)));
    server.listen(at.port, at.host, () => resolve(server));
  });
}
