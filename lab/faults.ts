// Faults a lab node can suffer, and its repair: death (every process killed, links down) and a
// reboot, a link cut seen by the node's NIC as carrier loss (the switch-side veth down), a partition
// with carrier (the switch-side veth off its bridge), a real server's HTTP server stopping.
import { setTimeout as sleep } from 'node:timers/promises';
import { startClusterDaemons } from './cluster';
import { describe as describeResult } from './kernel';
import { startEcho } from './echo';
import { ip6, PREFIX6 } from './ipv6';
import { nodePids, vipOn } from './observe';
import { allOnline, crmMon, summary } from './pacemaker';
import { RING, type Topology } from './topology';

async function setSwitchPort(topo: Topology, node: string, dev: 'eth0' | 'eth1', state: 'up' | 'down'): Promise<void> {
  const port = topo.switchPort(node, dev);
  const r = await topo.kernel.exec({ argv: ['ip', '-n', topo.switchNs, 'link', 'set', port, state] });
  if (r.code !== 0) throw new Error(`cannot set ${node}'s switch port ${port} ${state}: ${describeResult(r)}`);
}

/** How long killNode waits for every killed process of the node to be gone. */
const KILL_WAIT_MS = 5000;

/** The node's NICs: eth0, and eth1 when it is on the cluster network. */
const nics = (topo: Topology, node: string): ('eth0' | 'eth1')[] => (topo.node(node).ringIp === undefined ? ['eth0'] : ['eth0', 'eth1']);

/**
 * The node dies: its switch ports go down (its NICs lose carrier, nothing reaches any network) and
 * every process of it (corosync, pacemakerd and children, lvsd, HTTP server…) is killed with
 * SIGKILL. The namespaces stay, for reviveNode. Returns when the links were down (this process's clock).
 */
export async function killNode(topo: Topology, node: string): Promise<number> {
  for (const dev of nics(topo, node)) await setSwitchPort(topo, node, dev, 'down');
  const at = Date.now();
  // Again until none is left: a process may fork while a kill runs (pacemakerd respawning a child),
  // and a killed one is listed until it has finished exiting (a large process takes a moment).
  const until = Date.now() + KILL_WAIT_MS;
  for (;;) {
    const pids = await nodePids(topo, node);
    if (pids.length === 0) return at;
    if (Date.now() > until) throw new Error(`processes of ${node} survived SIGKILL for ${KILL_WAIT_MS / 1000} s: ${pids.join(' ')}`);
    await topo.kernel.exec({ argv: ['kill', '-9', ...pids.map(String)] });
    await sleep(50);
  }
}

/**
 * The dead node boots again: what a reboot clears is cleared (addresses but its own, the IPVS table
 * and sync daemons, ARP sysctls back to the kernel's defaults, neighbours, /run, /dev/shm), its
 * switch ports come up, corosync and pacemakerd start (directors) and its HTTP server (if it has
 * one). Persistent files (/etc, /var/lib/pacemaker) stay, as on disk. Waits until crm_mon on the
 * node shows it online with a DC (directors).
 */
export async function reviveNode(topo: Topology, node: string, options: { timeoutMs?: number; cluster?: boolean } = {}): Promise<void> {
  const n = topo.node(node);
  const run = (argv: string[]) => topo.run(node, argv);
  await run(['ip', 'addr', 'flush', 'dev', 'eth0']);
  await run(['ip', 'addr', 'add', `${n.ip}/${topo.spec.prefixLength}`, 'dev', 'eth0']);
  for (const vip of topo.vips) {
    for (const p of await vipOn(topo, node, 'lo', vip)) await run(['ip', 'addr', 'del', `${vip}/${p}`, 'dev', 'lo']);
  }
  if (topo.spec.vip6 !== undefined) {
    await run(['ip', '-6', 'addr', 'add', `${ip6(topo, node)}/${PREFIX6}`, 'dev', 'eth0', 'nodad']);
    // Not there unless the node was a real server for it (a director may have held it on eth0, flushed above).
    await topo.exec(node, ['ip', '-6', 'addr', 'del', `${topo.spec.vip6}/128`, 'dev', 'lo']);
  }
  await run(['ip', 'neigh', 'flush', 'all']);
  // The host kernel may have no IPVS (bench failover-host): nothing of it to clear then.
  const ipvs = (await topo.exec(node, ['test', '-e', '/proc/net/ip_vs'])).code === 0;
  if (ipvs) {
    await run(['ipvsadm', '-C']);
    for (const role of ['master', 'backup']) await topo.exec(node, ['ipvsadm', '--stop-daemon', role]);
  }
  if (n.role === 'director') {
    await run(['sysctl', '-q', ...['all', 'lo'].flatMap((d) => ['-w', `net.ipv4.conf.${d}.arp_ignore=0`, '-w', `net.ipv4.conf.${d}.arp_announce=0`]), ...(ipvs ? ['-w', 'net.ipv4.vs.backup_only=0'] : [])]);
    // -xdev: only the node's own tmpfs, never a mount below it.
    await run(['find', '/run', '/dev/shm', '-xdev', '-mindepth', '1', '-delete']);
    await run(['mkdir', '-p', '/run/crm', '/run/resource-agents']);
    await run(['chown', 'hacluster:haclient', '/run/crm']);
  } else {
    await topo.makeRealServer(node);
  }
  for (const dev of nics(topo, node)) await setSwitchPort(topo, node, dev, 'up');
  if (n.http) await topo.startHttp(node);
  if (n.role === 'real') await startEcho(topo, node);
  // cluster: false is the same reboot for a director that runs no corosync/pacemaker (keepalived).
  if (n.role !== 'director' || options.cluster === false) return;
  await startClusterDaemons(topo, node);
  const timeoutMs = options.timeoutMs ?? 180_000;
  const until = Date.now() + timeoutMs;
  for (;;) {
    const view = await crmMon(topo, node);
    if (view && allOnline(view, [node])) return;
    if (Date.now() > until) throw new Error(`${node} not back online after ${timeoutMs / 1000} s: ${summary(view)}`);
    await sleep(1000);
  }
}

/** The node's switch port goes down: its NIC (default eth0) loses carrier while every process keeps running. */
export async function cutLink(topo: Topology, node: string, dev: 'eth0' | 'eth1' = 'eth0'): Promise<number> {
  await setSwitchPort(topo, node, dev, 'down');
  return Date.now();
}

/** The node's switch port comes up again; returns when (this process's clock). */
export async function restoreLink(topo: Topology, node: string, dev: 'eth0' | 'eth1' = 'eth0'): Promise<number> {
  await setSwitchPort(topo, node, dev, 'up');
  return Date.now();
}

/**
 * A partition: the node's switch ports leave their bridges (its NICs keep carrier, as behind a
 * failed switch uplink) so that nothing reaches it and it reaches nothing; every process keeps
 * running. Returns when (this process's clock).
 */
export async function isolate(topo: Topology, node: string): Promise<number> {
  for (const dev of nics(topo, node)) {
    const port = topo.switchPort(node, dev);
    const r = await topo.kernel.exec({ argv: ['ip', '-n', topo.switchNs, 'link', 'set', port, 'nomaster'] });
    if (r.code !== 0) throw new Error(`cannot detach ${node}'s switch port ${port}: ${describeResult(r)}`);
  }
  return Date.now();
}

/** The partition heals: the node's switch ports back on their bridges. */
export async function rejoin(topo: Topology, node: string): Promise<number> {
  for (const dev of nics(topo, node)) {
    const port = topo.switchPort(node, dev);
    const bridge = dev === 'eth0' ? 'lan0' : RING.bridge;
    const r = await topo.kernel.exec({ argv: ['ip', '-n', topo.switchNs, 'link', 'set', port, 'master', bridge] });
    if (r.code !== 0) throw new Error(`cannot attach ${node}'s switch port ${port} to ${bridge}: ${describeResult(r)}`);
  }
  return Date.now();
}

/** Stops the node's HTTP server on port 80 (the real server dies, the node does not). */
export async function stopHttp(topo: Topology, node: string): Promise<void> {
  const ss = await topo.run(node, ['ss', '-Hltnp', 'sport = :80']);
  const pids = [...new Set([...ss.matchAll(/pid=(\d+)/g)].map((m) => m[1]!))];
  if (pids.length === 0) throw new Error(`no HTTP server listens on ${node}:80`);
  await topo.run(node, ['kill', ...pids]);
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if ((await topo.run(node, ['ss', '-Hltn', 'sport = :80'])).trim() === '') return;
    await sleep(100);
  }
  throw new Error(`the HTTP server on ${node} still listens 30 s after SIGTERM`);
}
