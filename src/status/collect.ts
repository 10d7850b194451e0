// What `lvskit status` shows, gathered from this node: the lvs agent's instances and where their
// VIP is, every running checker's status file, and the cluster as crm_mon sees it.
import { XMLParser } from 'fast-xml-parser';
import { run, which } from '../exec/run';
import { readInstances } from '../agents/lvs/state';
import { readAllStatus, type CheckerStatus } from '../checker/status';
import { listAddresses } from '../net/ip';
import { sameAddress } from '../net/address';
import { drRole } from '../net/dr';

export interface DirectorView {
  instance: string;
  vip: string;
  nic: string;
  /** Promoted: VIP on the NIC; unpromoted: on lo; stopped: nowhere. */
  role: 'promoted' | 'unpromoted' | 'stopped';
  /** Other MACs the VIP watcher saw answering for the VIP (`unpromoted`: every MAC, two or more, this unpromoted director heard). */
  duplicate?: { macs: string[]; since: string; peers?: string[]; unpromoted?: true };
  /** The VIP watcher took the VIP off (link lost, or another director holds it). */
  gaveUp?: { at: string; why: string };
}

export interface ClusterResource {
  id: string;
  agent: string;
  role: string;
  nodes: string[];
  failed: boolean;
}

export interface ClusterView {
  available: boolean;
  /** Why there is no view (no crm_mon, no cluster running here). */
  reason?: string;
  dc?: string;
  nodes: Array<{ name: string; online: boolean; standby: boolean }>;
  resources: ClusterResource[];
  failures: Array<{ node: string; op: string; status: string; reason: string }>;
}

export interface StatusView {
  directors: DirectorView[];
  checkers: Array<CheckerStatus & { ageSeconds: number }>;
  cluster: ClusterView;
}

function directors(env: NodeJS.ProcessEnv): DirectorView[] {
  const out: DirectorView[] = [];
  for (const { instance, state } of readInstances(env)) {
    if (!state.vip || !state.nic) continue;
    let role: DirectorView['role'] = 'stopped';
    try {
      const where = listAddresses(state.vip.includes(':') ? 6 : 4).filter((a) => sameAddress(a.address, state.vip!));
      const dr = drRole(where);
      if (dr.nics.includes(state.nic)) role = 'promoted';
      else if (dr.role === 'real-server') role = 'unpromoted';
    } catch {
      /* ip(8) failed: show the instance as stopped */
    }
    const view: DirectorView = { instance, vip: state.vip, nic: state.nic, role };
    if (state.duplicate) view.duplicate = state.duplicate;
    if (state.gaveUp) view.gaveUp = state.gaveUp;
    out.push(view);
  }
  return out;
}

const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
type Attrs = Record<string, string | undefined> & { node?: unknown; resource?: unknown };

export function parseCrmMon(xml: string): ClusterView {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseAttributeValue: false }).parse(xml) as {
    'pacemaker-result'?: {
      summary?: { current_dc?: Attrs };
      nodes?: { node?: Attrs | Attrs[] };
      resources?: { resource?: Attrs | Attrs[]; clone?: Attrs | Attrs[]; group?: Attrs | Attrs[] };
      failures?: { failure?: Attrs | Attrs[] };
    };
  };
  const r = doc['pacemaker-result'];
  if (!r) return { available: false, reason: 'crm_mon gave no result', nodes: [], resources: [], failures: [] };
  const resources: ClusterResource[] = [];
  const addResource = (x: Attrs) =>
    resources.push({
      id: x.id ?? '?',
      agent: x.resource_agent ?? '',
      role: x.role ?? '',
      nodes: asArray(x.node as Attrs | Attrs[] | undefined).map((n) => n.name ?? '?'),
      failed: x.failed === 'true',
    });
  asArray(r.resources?.resource).forEach(addResource);
  for (const c of [...asArray(r.resources?.clone), ...asArray(r.resources?.group)]) asArray(c.resource as Attrs | Attrs[] | undefined).forEach(addResource);
  const view: ClusterView = {
    available: true,
    nodes: asArray(r.nodes?.node).map((n) => ({ name: n.name ?? '?', online: n.online === 'true', standby: n.standby === 'true' })),
    resources,
    failures: asArray(r.failures?.failure).map((f) => ({ node: String(f.node ?? '?'), op: f.op_key ?? '?', status: f.exitstatus ?? f.status ?? '?', reason: f.exitreason ?? '' })),
  };
  if (r.summary?.current_dc?.name) view.dc = r.summary.current_dc.name;
  return view;
}

function cluster(env: NodeJS.ProcessEnv): ClusterView {
  const crmMon = which('crm_mon', env);
  if (!crmMon) return { available: false, reason: 'crm_mon is not installed', nodes: [], resources: [], failures: [] };
  const r = run(crmMon, ['-1', '--output-as=xml'], { timeoutMs: 10_000 });
  if (!r.stdout.includes('<pacemaker-result')) {
    const why = (r.stderr || r.stdout).trim().split('\n')[0] || r.error || `exit ${r.code}`;
    return { available: false, reason: `no cluster here (crm_mon: ${why})`, nodes: [], resources: [], failures: [] };
  }
  return parseCrmMon(r.stdout);
}

export function collectStatus(env: NodeJS.ProcessEnv = process.env): StatusView {
  const now = Date.now();
  return {
    directors: directors(env),
    checkers: readAllStatus().map((s) => ({ ...s, ageSeconds: Math.round((now - Date.parse(s.updatedAt)) / 1000) })),
    cluster: cluster(env),
  };
}
