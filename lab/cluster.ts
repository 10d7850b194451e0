// A corosync + pacemaker cluster of lab directors, started with the daemons directly (no pcsd,
// no systemd in the lab). Each director has private corosync and pacemaker directories and its
// own network namespace, so nodes meet only over the lab LAN. The topology's destroy() kills the
// daemons with the namespaces.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Topology } from './topology';

export interface ClusterOptions {
  /** corosync's cluster_name. Default: lvs. */
  name?: string;
  /** How long to wait for every node online with a DC. Default 120 s. */
  timeoutMs?: number;
}

/** corosync.conf for these lab nodes: knet without crypto (lab.md), each `{` ending its line. */
export function corosyncConf(topo: Topology, nodes: string[], clusterName: string): string {
  const nodelist = nodes
    .map((name, i) => `  node {\n    ring0_addr: ${topo.node(name).ip}\n    name: ${name}\n    nodeid: ${i + 1}\n  }\n`)
    .join('');
  return `totem {
  version: 2
  cluster_name: ${clusterName}
  transport: knet
  crypto_cipher: none
  crypto_hash: none
  token: 1000
}
nodelist {
${nodelist}}
quorum {
  provider: corosync_votequorum
${nodes.length === 2 ? '  two_node: 1\n' : ''}}
logging {
  to_syslog: no
  to_stderr: yes
}
`;
}

/** Node names pacemaker sees online, and whether a DC is elected, from `crm_mon --output-as=xml` on `from`. */
export async function onlineNodes(topo: Topology, from: string): Promise<{ online: string[]; dc: boolean; xml: string }> {
  const r = await topo.exec(from, ['crm_mon', '-1', '--output-as=xml']);
  const xml = r.stdout;
  const online = [...xml.matchAll(/<node name="([^"]+)"[^>]*\bonline="true"/g)].map((m) => m[1]!);
  return { online, dc: /<current_dc [^>]*present="true"/.test(xml), xml };
}

/** Starts corosync and pacemakerd on these directors and waits until all are online with a DC. */
export async function startCluster(topo: Topology, nodes: string[], options: ClusterOptions = {}): Promise<void> {
  const name = options.name ?? 'lvs';
  const timeoutMs = options.timeoutMs ?? 120_000;
  const conf = corosyncConf(topo, nodes, name);
  for (const n of nodes) {
    await topo.run(n, ['tee', '/etc/corosync/corosync.conf'], { stdin: conf });
    for (const argv of [['corosync', '-f'], ['pacemakerd', '-f']]) {
      const r = await topo.exec(n, argv, { detach: true, log: `${topo.node(n).dir}/${argv[0]}.log` });
      if (r.error !== undefined) throw new Error(`cannot start ${argv[0]} on ${n}: ${r.error}`);
    }
  }
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    const s = await onlineNodes(topo, nodes[0]!);
    last = s.xml;
    if (s.dc && nodes.every((n) => s.online.includes(n))) return;
    await sleep(1000);
  }
  throw new Error(`cluster ${name} (${nodes.join(', ')}) not online after ${timeoutMs / 1000} s:\n${last}`);
}
