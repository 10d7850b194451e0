// A corosync + pacemaker cluster of lab directors, started with the daemons directly (no pcsd,
// no systemd in the lab). Each director has private corosync and pacemaker directories and its
// own network namespace, so nodes meet only over the lab's networks: corosync's ring on the LAN
// (eth0), or on the cluster network (eth1) for directors that have it. The topology's destroy()
// kills the daemons with the namespaces.
import { setTimeout as sleep } from 'node:timers/promises';
import { allOnline, crmMon, PACEMAKER_LOG, summary } from './pacemaker';
import type { Topology } from './topology';

export interface ClusterOptions {
  /** corosync's cluster_name. Default: lvs. */
  name?: string;
  /** How long to wait for every node online with a DC. Default 300 s (a loaded machine). */
  timeoutMs?: number;
  /** corosync's token timeout, ms. Default 1000 (docs/failover.md). */
  tokenMs?: number;
  /**
   * A quorum device: the lab node running corosync-qnetd (TLS off: the lab has no pcsd to sign
   * certificates), algorithm ffsplit; two_node is then off, as pcs sets it. Default: none.
   */
  qdevice?: string;
}

/** The quorum device's algorithm: in a 50:50 split the device votes for one half only. */
export const QDEVICE_ALGORITHM = 'ffsplit';

/**
 * corosync.conf for these lab nodes: knet without crypto (lab.md), each `{` ending its line; the ring
 * on eth1 where a node has it; a quorum device at `qdeviceHost` if given.
 */
export function corosyncConf(topo: Topology, nodes: string[], clusterName: string, tokenMs = 1000, qdeviceHost?: string): string {
  const nodelist = nodes
    .map((name, i) => {
      const n = topo.node(name);
      return `  node {\n    ring0_addr: ${n.ringIp ?? n.ip}\n    name: ${name}\n    nodeid: ${i + 1}\n  }\n`;
    })
    .join('');
  return `totem {
  version: 2
  cluster_name: ${clusterName}
  transport: knet
  crypto_cipher: none
  crypto_hash: none
  token: ${tokenMs}
}
nodelist {
${nodelist}}
quorum {
  provider: corosync_votequorum
${qdeviceHost !== undefined ? qdeviceSection(qdeviceHost) : nodes.length === 2 ? '  two_node: 1\n' : ''}}
logging {
  to_syslog: no
  to_stderr: yes
}
`;
}

function qdeviceSection(host: string): string {
  return `  device {\n    model: net\n    votes: 1\n    net {\n      tls: off\n      host: ${host}\n      algorithm: ${QDEVICE_ALGORITHM}\n    }\n  }\n`;
}

/** corosync-qnetd on a lab node, in the foreground (TLS off); returns once it listens. */
export async function startQnetd(topo: Topology, node: string): Promise<void> {
  await startDaemon(topo, node, ['corosync-qnetd', '-f', '-s', 'off', '-d']);
  await topo.waitListening(node, 5403, 'corosync-qnetd');
}

/** The end of each node's corosync and pacemaker logs, for an error message. */
export async function clusterLogs(topo: Topology, nodes: string[], lines = 15): Promise<string> {
  const out: string[] = [];
  for (const n of nodes) {
    for (const file of [`${topo.node(n).dir}/corosync.log`, PACEMAKER_LOG]) {
      const r = await topo.exec(n, ['tail', '-n', String(lines), file], { timeoutMs: 30_000 });
      out.push(`--- ${n}: ${file}\n${r.stdout}${r.stderr}`);
    }
  }
  return out.join('\n');
}

async function startDaemon(topo: Topology, node: string, argv: string[]): Promise<void> {
  const r = await topo.exec(node, argv, { detach: true, log: `${topo.node(node).dir}/${argv[0]}.log` });
  if (r.error !== undefined) throw new Error(`cannot start ${argv[0]} on ${node}: ${r.error}`);
}

/**
 * corosync, then pacemakerd once corosync answers, as systemd orders them: pacemakerd gives up
 * (exit 69) when corosync's CMAP does not answer within about 15 s, which a busy machine exceeds.
 */
export async function startClusterDaemons(topo: Topology, node: string, timeoutMs = 120_000): Promise<void> {
  await startDaemon(topo, node, ['corosync', '-f']);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await topo.exec(node, ['corosync-cmapctl', '-g', 'totem.cluster_name'], { timeoutMs: 30_000 });
    if (r.code === 0) break;
    if (Date.now() > until) throw new Error(`corosync on ${node} does not answer after ${timeoutMs / 1000} s: ${r.stderr}\n${await clusterLogs(topo, [node])}`);
    await sleep(250);
  }
  // corosync-qdevice needs corosync running, and gives its vote before pacemaker asks for quorum.
  const conf = await topo.run(node, ['cat', '/etc/corosync/corosync.conf']);
  if (/^\s*model:\s*net\s*$/m.test(conf)) await startDaemon(topo, node, ['corosync-qdevice', '-f', '-d']);
  await startDaemon(topo, node, ['pacemakerd', '-f']);
}

/** Starts corosync-qnetd where asked, corosync and pacemakerd on these directors, and waits until all are online with a DC. */
export async function startCluster(topo: Topology, nodes: string[], options: ClusterOptions = {}): Promise<void> {
  const name = options.name ?? 'lvs';
  const timeoutMs = options.timeoutMs ?? 300_000;
  if (options.qdevice !== undefined) await startQnetd(topo, options.qdevice);
  const qdeviceHost = options.qdevice === undefined ? undefined : topo.node(options.qdevice).ip;
  const conf = corosyncConf(topo, nodes, name, options.tokenMs, qdeviceHost);
  for (const n of nodes) await topo.run(n, ['tee', '/etc/corosync/corosync.conf'], { stdin: conf });
  for (const n of nodes) await startClusterDaemons(topo, n);
  const until = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    const view = await crmMon(topo, nodes[0]!);
    if (view && allOnline(view, nodes)) return;
    last = summary(view);
    if (Date.now() > until) break;
    await sleep(1000);
  }
  throw new Error(`cluster ${name} (${nodes.join(', ')}) not online after ${timeoutMs / 1000} s: ${last}\n${await clusterLogs(topo, nodes)}`);
}
