// Pacemaker read back in the lab: the one crm_mon reader (the product's own XML parser, the one
// `lvskit status` uses) and the one reader of pacemaker's detail log, for the lab, the failover
// tests and the benchmarks alike.
import { parseCrmMon, type ClusterResource, type ClusterView } from '../src/status/collect';
import type { Topology } from './topology';

export type { ClusterResource, ClusterView };

/** Time a crm_mon may take on a loaded lab kernel before the node counts as not answering. */
const CRM_MON_TIMEOUT_MS = 60_000;
/**
 * Pause between two crm_mon polls. A crm_mon costs seconds of CPU in the one-CPU UML guest, the CPU
 * pacemaker and the agents under test need: pollers leave it this much room (pacemaker's own log
 * gives the exact times).
 */
export const CRM_MON_POLL_MS = 2000;
export const PACEMAKER_LOG = '/var/log/pacemaker/pacemaker.log';

/** `crm_mon -1 --output-as=xml` on a node, parsed; undefined when no cluster answers there. */
export async function crmMon(topo: Topology, from: string): Promise<ClusterView | undefined> {
  const r = await topo.exec(from, ['crm_mon', '-1', '--output-as=xml'], { timeoutMs: CRM_MON_TIMEOUT_MS });
  if (r.code !== 0 || !r.stdout.includes('<pacemaker-result')) return undefined;
  const view = parseCrmMon(r.stdout);
  return view.available ? view : undefined;
}

/** The instances of a resource (clone instances share the primitive's id). */
export function instancesOf(view: ClusterView, id: string): ClusterResource[] {
  return view.resources.filter((r) => r.id === id);
}

/** The nodes where `id` runs in `role` (Promoted, Unpromoted, Started). */
export function nodesIn(view: ClusterView, id: string, role: string): string[] {
  return instancesOf(view, id).filter((r) => r.role === role).flatMap((r) => r.nodes).sort();
}

/** The node of the single promoted instance of `id` (default lvs); undefined when none or several. */
export function promotedNode(view: ClusterView, id = 'lvs'): string | undefined {
  const p = nodesIn(view, id, 'Promoted');
  return p.length === 1 ? p[0] : undefined;
}

/** Whether every one of `nodes` is online and a DC is elected. */
export function allOnline(view: ClusterView, nodes: string[]): boolean {
  const online = view.nodes.filter((n) => n.online).map((n) => n.name);
  return view.dc !== undefined && nodes.every((n) => online.includes(n));
}

/** One short line for error messages: nodes, DC, every instance and failure. */
export function summary(view: ClusterView | undefined): string {
  if (!view) return 'crm_mon: no answer';
  const nodes = view.nodes.map((n) => `${n.name}${n.online ? '' : ' (offline)'}`).join(', ');
  const rs = view.resources.map((r) => `${r.id}:${r.role}@${r.nodes.join('+') || '-'}${r.failed ? '(failed)' : ''}`).join(' ');
  const fs = view.failures.map((f) => `${f.op}@${f.node}: ${f.status}${f.reason ? ` (${f.reason})` : ''}`).join('; ');
  return `nodes ${nodes}; DC ${view.dc ?? 'none'}; ${rs}${fs ? `; failed actions: ${fs}` : ''}`;
}

// ---- the detail log -------------------------------------------------------------------------------

export interface LogLine {
  /** ms since the epoch (the lab kernel's clock). */
  at: number;
  /** The rest of the line after the time stamp: node, daemon, [pid], (function), level: message. */
  text: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Lines of pacemaker's detail log (`Dec 02 10:00:01.234 d1 pacemaker-controld [123] …`: local time,
 * no year) with their time. `year` is the year the log was written in; `zoneMs` the node's offset
 * from UTC (ms, east positive). Lines without a time stamp (continuations) are left out.
 */
export function parsePacemakerLog(text: string, clock: { year: number; zoneMs: number }): LogLine[] {
  return text.split('\n').flatMap((line) => {
    const m = /^(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d)\.(\d{3}) (.*)$/.exec(line);
    const month = MONTHS.indexOf(m?.[1] ?? '');
    if (!m || month < 0) return [];
    const utc = Date.UTC(clock.year, month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
    return [{ at: utc - clock.zoneMs, text: m[7]! }];
  });
}

/** A node's offset from UTC in ms, from `date +%z` there. */
export function zoneMs(dateZ: string): number {
  const m = /^([+-])(\d\d)(\d\d)$/.exec(dateZ.trim());
  if (!m) throw new Error(`not a UTC offset: '${dateZ.trim()}'`);
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
}

/** A node's pacemaker log lines written at or after `sinceMs` (lab clock). */
export async function pacemakerLog(topo: Topology, node: string, sinceMs: number): Promise<LogLine[]> {
  const zone = zoneMs(await topo.run(node, ['date', '+%z']));
  const text = (await topo.exec(node, ['cat', PACEMAKER_LOG], { timeoutMs: 30_000 })).stdout;
  return parsePacemakerLog(text, { year: new Date(sinceMs + zone).getUTCFullYear(), zoneMs: zone }).filter((l) => l.at >= sinceMs);
}
