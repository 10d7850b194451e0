// A one-node corosync + pacemaker cluster in a lab director, so that an agent's crm_attribute calls
// reach a CIB as they do under pacemaker (outside a cluster they fail fast, which would flatter
// promote). The topology's destroy() kills the daemons with the namespace.
import { startCluster as startLabCluster } from '../lab/cluster';
import type { Topology } from '../lab';

/** Starts the cluster on a director and waits until it is its own DC (about 20 s: dc-deadtime). */
export function startCluster(topo: Topology, name: string, timeoutMs = 90_000): Promise<void> {
  return startLabCluster(topo, [name], { name: 'bench', timeoutMs });
}

/** The environment pacemaker-execd runs agents with, on that node (before the OCF_ variables). */
export async function execdEnvironment(topo: Topology, name: string): Promise<Record<string, string>> {
  // pgrep sees every pid namespace's processes: keep those in this node's network namespace.
  const pid = (await topo.run(name, ['pgrep', '-x', '--ns', String(topo.node(name).pid), '--nslist', 'net', 'pacemaker-execd'])).trim();
  if (!/^\d+$/.test(pid)) throw new Error(`no single pacemaker-execd on ${name}: '${pid}'`);
  const environ = await topo.run(name, ['cat', `/proc/${pid}/environ`]);
  return Object.fromEntries(environ.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/** The CRM feature set pacemaker passes agents as OCF_RESKEY_crm_feature_set (e.g. 3.16.1). */
export async function crmFeatureSet(topo: Topology, name: string): Promise<string> {
  const out = await topo.run(name, ['pacemakerd', '--features']);
  const set = /Supporting v(\d+(?:\.\d+)+)/.exec(out)?.[1];
  if (!set) throw new Error(`no feature set in pacemakerd --features: ${out}`);
  return set;
}
