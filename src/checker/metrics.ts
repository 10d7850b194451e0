// Prometheus text exposition of the checker's view, on an optional listen address.
// What it reveals and to whom: docs/checker.md, "Metrics".
import { createServer, type Server } from 'node:http';
import { listenAddress } from './config/address';
import { SLICE, sourceOf, type CheckerStatus, type RealStatus, type StatusSource } from './status';

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

/**
 * The exposition in pieces: the per-real series come SLICE reals at a time, so that the server can
 * write a large table (100 000 reals are 20 MB of text) between other work.
 */
export function* metricsText(src: StatusSource, p: ProcessCounters, instances: InstanceMetric[] = []): Generator<string> {
  const header = (name: string, type: string, help: string) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
  function* perReal(name: string, type: string, help: string, value: (r: RealStatus) => number | undefined) {
    yield header(name, type, help);
    for (const v of src.virtuals) {
      const vl = `{virtual="${label(v.head.virtual)}",real="`;
      for (let i = 0; i < v.count; i += SLICE) {
        let rows = '';
        for (const r of v.reals(i, i + SLICE)) {
          const x = value(r);
          if (x !== undefined) rows += `${name}${vl}${label(r.real)}"} ${x}\n`;
        }
        yield rows;
      }
    }
  }
  const one = (name: string, type: string, help: string, rows: Array<[string, number]>) =>
    header(name, type, help) + rows.map(([labels, value]) => `${name}${labels} ${value}\n`).join('');
  const perVirtual = (name: string, help: string, value: (v: StatusSource['virtuals'][number]['head']) => number) =>
    one(name, 'gauge', help, src.virtuals.map((v) => [`{virtual="${label(v.head.virtual)}"}`, value(v.head)]));
  const s = src.head;

  yield* perReal('lvsd_real_up', 'gauge', 'Real server health: 1 up, 0 down or not yet checked.', (r) => (r.health === 'up' ? 1 : 0));
  yield* perReal('lvsd_real_check_latency_seconds', 'gauge', 'Duration of the last check.', (r) => (r.lastCheck ? r.lastCheck.latencyMs / 1000 : undefined));
  yield* perReal('lvsd_real_consecutive_failures', 'gauge', 'Failed checks in a row.', (r) => r.consecutiveFailures);
  yield* perReal('lvsd_real_weight', 'gauge', 'Weight lvsd set in IPVS (-1: not in the table).', (r) => r.weight ?? -1);
  yield perVirtual('lvsd_virtual_reals_up', 'Real servers up per virtual service.', (v) => v.realsUp);
  yield perVirtual('lvsd_virtual_active', 'The virtual service is in this node\'s kernel (1): its VIP is held here, or it follows none.', (v) => (v.active === false ? 0 : 1));
  yield perVirtual('lvsd_virtual_fallback_active', 'The fallback server is in (no real is up).', (v) => (v.fallback ? 1 : 0));
  yield one('lvsd_reconcile_total', 'counter', 'IPVS reconciliations (read, compare, apply).', [['', s.reconciles]]);
  yield one('lvsd_reconcile_duration_seconds', 'gauge', 'Duration of the last reconciliation.', [['', s.lastReconcileMs / 1000]]);
  yield one('lvsd_reconcile_errors_total', 'counter', 'Reconciliations in which the kernel refused a change or ipvsadm failed.', [['', s.reconcileErrors]]);
  yield one('lvsd_checks_total', 'counter', 'Health checks completed.', [['', p.checks]]);
  yield one('lvsd_errors_total', 'counter', 'Errors logged by lvsd.', [['', p.errors]]);
  yield one('lvsd_reloads_total', 'counter', 'Configuration reloads.', [['', p.reloads]]);
  yield one(
    'lvs_vip_duplicate',
    'gauge',
    'Other hosts (MACs) the promoted director saw answering for its VIP: 0 when it alone does.',
    instances.map((i) => [`{instance="${label(i.instance)}",vip="${label(i.vip)}"}`, i.duplicates]),
  );
}

/** The whole exposition of a status already taken. */
export function renderMetrics(s: CheckerStatus, p: ProcessCounters, instances: InstanceMetric[] = []): string {
  return [...metricsText(sourceOf(s), p, instances)].join('');
}

/**
 * Listens on "host:port" ("[v6]:port"), with the rule of the metrics directive (an empty host is
 * refused); resolves once listening, rejects with a clear reason.
 */
export function serveMetrics(listen: string, render: () => Iterable<string>): Promise<Server> {
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
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // One piece per turn of the event loop, waiting for the client when it reads slowly: checks
    // and timers run between the pieces of a large table.
    const pieces = render()[Symbol.iterator]();
    const pump = (): void => {
      if (res.destroyed) return;
      const next = pieces.next();
      if (next.done) res.end();
      else if (res.write(next.value)) setImmediate(pump);
      else res.once('drain', pump);
    };
    pump();
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
