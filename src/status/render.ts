// `lvskit status` on one screen: role and VIP, the checker's reals, the cluster.
import { printable } from '../checker/checks/detail';
import { resolution } from '../net/dr';
import type { StatusView } from './collect';

/**
 * The view with every string made one printable line. Status files and crm_mon carry words from
 * real servers and agents; lvsd cleans what it writes, but a file is only as good as its writer.
 */
export function printableView<T>(value: T): T {
  if (typeof value === 'string') return printable(value, 400) as T;
  if (Array.isArray(value)) return value.map(printableView) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, printableView(v)])) as T;
  }
  return value;
}

export function renderJson(v: StatusView): string {
  return `${JSON.stringify(printableView(v), null, 2)}\n`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function renderStatus(view: StatusView): string {
  const v = printableView(view);
  const out: string[] = [];
  out.push('Director');
  if (v.directors.length === 0) out.push('  no lvs instance has run on this node');
  for (const d of v.directors) {
    // IPv6 has no ARP to hide: neighbour discovery never answers for an address of another interface.
    const v6 = d.vip.includes(':');
    const where =
      d.role === 'promoted' ? `on ${d.nic}, answering ${resolution(v6 ? 6 : 4)}`
      : d.role === 'unpromoted' ? `on lo, ${v6 ? 'not advertised' : 'ARP hidden'} (serving as a real server)`
      : 'not configured';
    out.push(`  ${d.instance}: ${d.role.toUpperCase()}  VIP ${d.vip} ${where}`);
    if (d.duplicate?.unpromoted) {
      out.push(`    DUPLICATE VIP: answered by ${d.duplicate.macs.length} hosts at once (${d.duplicate.macs.join(', ')}) since ${d.duplicate.since}, as this unpromoted director hears it`);
    } else if (d.duplicate) {
      const who = d.duplicate.peers?.length ? `cluster director ${d.duplicate.peers.join(', ')}` : 'a host that is not a cluster director';
      out.push(`    DUPLICATE VIP: also answered by ${d.duplicate.macs.join(', ')} (${who}) since ${d.duplicate.since}`);
    }
    if (d.gaveUp) out.push(`    VIP given up at ${d.gaveUp.at}: ${d.gaveUp.why}; waiting for pacemaker to demote`);
  }
  out.push('', 'Checker');
  if (v.checkers.length === 0) out.push('  no lvsd running on this node');
  for (const c of v.checkers) {
    const stale = c.ageSeconds > 60 ? `  (STALE: no report for ${c.ageSeconds} s)` : '';
    out.push(`  ${c.config}: ${c.state}, pid ${c.pid}, ${c.reconciles} reconciliations (last ${c.lastReconcileMs} ms), ${c.reconcileErrors} errors${stale}`);
    for (const vs of c.virtuals) {
      // A standby director checks every real but forwards only the virtuals whose VIP it holds.
      const where = vs.active === false ? `  STANDBY (VIP ${vs.follows ?? '?'} held elsewhere: not in this kernel)` : vs.follows ? '  FORWARDING (VIP held here)' : '';
      out.push(`  ${pad(vs.virtual, 28)} ${pad(vs.scheduler, 5)} ${vs.realsUp}/${vs.reals.length} up${vs.fallback ? '  FALLBACK IN' : ''}${where}`);
      for (const r of vs.reals) {
        const weight = r.weight === null ? 'not in table' : `weight ${r.weight}/${r.configuredWeight}${r.uthreshold ? ` u_threshold ${r.uthreshold}` : ''}`;
        const last = r.lastCheck ? `${r.lastCheck.kind} ${r.lastCheck.up ? 'ok' : 'FAILED'}: ${r.lastCheck.detail} (${r.lastCheck.latencyMs} ms)` : 'not checked yet';
        const ramp = r.rampingUntil ? `  ramping until ${r.rampingUntil.slice(11, 19)}` : '';
        const fails = r.consecutiveFailures > 0 ? `  ${r.consecutiveFailures} failure(s) in a row` : '';
        out.push(`    ${pad(r.real, 26)} ${pad(r.health.toUpperCase(), 8)} ${pad(weight, 22)} ${last}${fails}${ramp}`);
      }
    }
  }
  out.push('', 'Cluster');
  const cl = v.cluster;
  if (!cl.available) out.push(`  ${cl.reason}`);
  else {
    const online = cl.nodes.filter((n) => n.online).map((n) => n.name);
    const offline = cl.nodes.filter((n) => !n.online).map((n) => n.name);
    out.push(`  nodes online: ${online.join(' ') || 'none'}${offline.length ? `; OFFLINE: ${offline.join(' ')}` : ''}${cl.dc ? `; DC ${cl.dc}` : ''}`);
    for (const r of cl.resources) out.push(`  ${pad(r.id, 10)} ${pad(r.agent, 22)} ${pad(r.role, 11)} ${r.nodes.join(' ')}${r.failed ? '  FAILED' : ''}`);
    for (const f of cl.failures) out.push(`  failed action: ${f.op} on ${f.node}: ${f.status}${f.reason ? ` (${f.reason})` : ''}`);
  }
  return out.join('\n') + '\n';
}
