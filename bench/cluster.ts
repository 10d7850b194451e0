// A one-node corosync + pacemaker cluster in a lab director, so that an agent's crm_attribute calls
// reach a CIB as they do under pacemaker (outside a cluster they fail fast, which would flatter
// promote). The topology's destroy() kills the daemons with the namespace.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Topology } from '../lab';

function corosyncConf(name: string, ip: string): string {
  // knet without crypto, as lab.md found working; each `{` ends its line.
  return `totem {
  version: 2
  cluster_name: bench
  transport: knet
  crypto_cipher: none
  crypto_hash: none
  token: 1000
}
nodelist {
  node {
    ring0_addr: ${ip}
    name: ${name}
    nodeid: 1
  }
}
quorum {
  provider: corosync_votequorum
}
logging {
  to_syslog: no
  to_stderr: yes
}
`;
}

/** Starts the cluster on a director and waits until it is its own DC (about 20 s: dc-deadtime). */
export async function startCluster(topo: Topology, name: string, timeoutMs = 90_000): Promise<void> {
  const n = topo.node(name);
  await topo.run(name, ['tee', '/etc/corosync/corosync.conf'], { stdin: corosyncConf(name, n.ip) });
  for (const argv of [['corosync', '-f'], ['pacemakerd', '-f']]) {
    const r = await topo.exec(name, argv, { detach: true, log: `${n.dir}/${argv[0]}.log` });
    if (r.error !== undefined) throw new Error(`cannot start ${argv[0]} on ${name}: ${r.error}`);
  }
  const online = new RegExp(`Online: \\[ ${name} \\]`);
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    last = (await topo.exec(name, ['crm_mon', '-1'])).stdout;
    if (/Current DC: \S/.test(last) && !/Current DC: NONE/.test(last) && online.test(last)) return;
    await sleep(500);
  }
  throw new Error(`pacemaker on ${name} not online after ${timeoutMs / 1000} s:\n${last}`);
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
