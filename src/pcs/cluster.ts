// Is this node already in a cluster? Read from corosync.conf (name, node list) and `crm_node -l`
// (pacemaker runs, and which nodes it knows), so that auth/setup/start run only when needed.
import { readFileSync } from 'node:fs';
import { run, which } from '../exec/run';

export const COROSYNC_CONF = '/etc/corosync/corosync.conf';

export interface CorosyncConf {
  name: string | undefined;
  nodes: string[];
  /** totem token and consensus, ms, when corosync.conf sets them. */
  token?: number;
  consensus?: number;
  /** quorum.device: its model and, for model net, the qnetd host and algorithm. */
  quorumDevice?: { model?: string; host?: string; algorithm?: string };
}

export interface ClusterFacts {
  /** undefined: no corosync.conf. */
  corosync: CorosyncConf | undefined;
  /** Node names pacemaker knows (`crm_node -l`); undefined when pacemaker does not answer. */
  members: string[] | undefined;
}

/** cluster_name, totem token and consensus, and the nodelist's node names (ring0_addr when a node has no name) of a corosync.conf. */
export function parseCorosyncConf(text: string): CorosyncConf {
  const stack: string[] = [];
  let name: string | undefined;
  const totem: { token?: number; consensus?: number } = {};
  const nodes: string[] = [];
  let node: Record<string, string> | undefined;
  let quorumDevice: CorosyncConf['quorumDevice'];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const open = /^([\w.-]+)\s*\{$/.exec(line);
    if (open) {
      stack.push(open[1]!);
      if (stack.join('.') === 'nodelist.node') node = {};
      continue;
    }
    if (line === '}') {
      if (stack.join('.') === 'nodelist.node' && node) {
        const n = node.name ?? node.ring0_addr;
        if (n !== undefined) nodes.push(n);
        node = undefined;
      }
      stack.pop();
      continue;
    }
    const kv = /^([\w.-]+)\s*:\s*(.*)$/.exec(line);
    if (!kv) continue;
    const [, key, value] = kv as unknown as [string, string, string];
    if (stack.join('.') === 'totem' && key === 'cluster_name') name = value.trim();
    if (stack.join('.') === 'totem' && (key === 'token' || key === 'consensus') && /^\d+$/.test(value.trim())) totem[key] = Number(value.trim());
    if (node) node[key] = value.trim();
    const path = stack.join('.');
    if (path === 'quorum.device' && key === 'model') quorumDevice = { ...quorumDevice, model: value.trim() };
    if (path === 'quorum.device.net' && (key === 'host' || key === 'algorithm')) quorumDevice = { ...quorumDevice, [key]: value.trim() };
  }
  return { name, nodes, ...totem, ...(quorumDevice ? { quorumDevice } : {}) };
}

/** Node names from `crm_node -l` lines (`<id> <name> <state>`). */
export function parseCrmNodeList(out: string): string[] {
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 2 && /^\d+$/.test(f[0]!))
    .map((f) => f[1]!);
}

export function readClusterFacts(): ClusterFacts {
  let corosync: CorosyncConf | undefined;
  try {
    corosync = parseCorosyncConf(readFileSync(COROSYNC_CONF, 'utf8'));
  } catch {
    corosync = undefined;
  }
  let members: string[] | undefined;
  const crmNode = which('crm_node');
  if (crmNode) {
    const r = run(crmNode, ['-l'], { timeoutMs: 60_000 });
    if (r.code === 0) members = parseCrmNodeList(r.stdout);
  }
  return { corosync, members };
}

export type ClusterVerdict =
  /** Running with this name and these nodes: the whole cluster phase is done. */
  | { kind: 'running' }
  /** corosync.conf is ours but the cluster does not run: setup is done, auth/start/enable are not. */
  | { kind: 'configured' }
  | { kind: 'absent' }
  | { kind: 'conflict'; why: string };

function sameSet(a: string[], b: string[]): boolean {
  const x = new Set(a.map((s) => s.toLowerCase()));
  const y = new Set(b.map((s) => s.toLowerCase()));
  return x.size === y.size && [...x].every((s) => y.has(s));
}

export function judgeCluster(facts: ClusterFacts, name: string, nodes: string[]): ClusterVerdict {
  const conf = facts.corosync;
  const want = `cluster ${name} with nodes ${nodes.join(', ')}`;
  if (conf === undefined) {
    if (facts.members !== undefined) {
      return { kind: 'conflict', why: `pacemaker runs here (nodes ${facts.members.join(', ')}) but ${COROSYNC_CONF} is missing; not setting up ${want} over it` };
    }
    return { kind: 'absent' };
  }
  const have = `cluster ${conf.name ?? '(no cluster_name)'} with nodes ${conf.nodes.join(', ') || '(none)'}`;
  if (conf.name !== name || !sameSet(conf.nodes, nodes)) {
    return {
      kind: 'conflict',
      why: `this node is already configured for ${have} (${COROSYNC_CONF}), not ${want}; lvskit bootstrap does not replace a cluster (pcs cluster destroy removes it)`,
    };
  }
  if (facts.members === undefined) return { kind: 'configured' };
  if (!sameSet(facts.members, nodes)) {
    return { kind: 'conflict', why: `pacemaker here knows nodes ${facts.members.join(', ')}, not ${nodes.join(', ')} (crm_node -l)` };
  }
  return { kind: 'running' };
}
