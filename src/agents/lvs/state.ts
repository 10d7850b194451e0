// What the agent remembers between actions, in $HA_RSCTMP: the sysctl values found before the first
// start (restored at stop), what it put where, the last promotion score set, and a link loss the
// link watcher acted on. The file is not trusted: only known keys and well-formed values are read.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readNoFollow, writeNoFollow } from '../../fs/nofollow';
import { ipFamily, isInterfaceName } from '../../net/address';

export interface LvsState {
  /** sysctl key -> value before the first start (only keys the agent may touch). */
  saved: Record<string, string>;
  /** Last promotion score set; null when deleted. */
  score?: number | null;
  /** The instance's VIP and NIC, for `lvskit status`. */
  vip?: string;
  nic?: string;
  /** Prefixes of the VIP this agent added, by interface: only these are ever deleted. */
  added?: Record<string, number>;
  /** Set by the VIP watcher when it took the VIP off the NIC (link lost, or another director holds it). */
  gaveUp?: { at: string; why: string };
  /**
   * Other MACs answering for the VIP, as the VIP watcher last saw them (peers: cluster directors among
   * them); `unpromoted`: seen by this unpromoted director's probe, two or more hosts answering.
   */
  duplicate?: { macs: string[]; since: string; peers?: string[]; unpromoted?: true };
  /** When an action or the watcher last saw the NIC without link, and when it first saw it back. */
  link?: { downAt: string; upAt?: string };
  /** The NIC's MAC published as the node attribute lvs-mac-<nic>. */
  macPublished?: string;
}

/** The permanent node attribute naming a director's MAC on a NIC: how a VIP watcher knows its peers. */
export function macAttribute(nic: string): string {
  return `lvs-mac-${nic}`;
}

/** The transient node attribute set while another MAC answers for this instance's VIP. */
export function duplicateAttribute(instance: string): string {
  return `lvs-duplicate-${instance.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

export function stateDir(env: NodeJS.ProcessEnv): string {
  return env.HA_RSCTMP || '/run/resource-agents';
}

function fileName(instance: string): string {
  return `lvs-${instance.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

export function statePath(env: NodeJS.ProcessEnv, instance: string): string {
  return join(stateDir(env), `${fileName(instance)}.json`);
}

export function announcePidPath(env: NodeJS.ProcessEnv, instance: string): string {
  return join(stateDir(env), `${fileName(instance)}.announce.pid`);
}

/** Where an unpromoted monitor's answer probe writes its output, for the next monitor. */
export function answersPath(env: NodeJS.ProcessEnv, instance: string): string {
  return join(stateDir(env), `${fileName(instance)}.answers`);
}

export function vipWatchPidPath(env: NodeJS.ProcessEnv, instance: string): string {
  return join(stateDir(env), `${fileName(instance)}.vipwatch.pid`);
}

/**
 * Reads the state; keys outside `allowedSysctls` and malformed values are dropped (a forged key such
 * as ../../tmp/x must never become a path written as root).
 */
export function loadState(path: string, allowedSysctls?: ReadonlySet<string>): LvsState | undefined {
  let raw: unknown;
  try {
    const text = readNoFollow(path);
    if (text === undefined) return undefined;
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const s = raw as Record<string, unknown>;
  if (typeof s.saved !== 'object' || s.saved === null) return undefined;
  const saved: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.saved as Record<string, unknown>)) {
    if (typeof v !== 'string' || !/^-?\d{1,10}$/.test(v)) continue;
    if (allowedSysctls ? allowedSysctls.has(k) : /^net\/ipv[46]\/conf\/(all|lo)\/(arp_ignore|arp_announce|forwarding)$/.test(k)) saved[k] = v;
  }
  const state: LvsState = { saved };
  if (typeof s.score === 'number' && Number.isInteger(s.score)) state.score = s.score;
  else if (s.score === null) state.score = null;
  if (typeof s.vip === 'string' && ipFamily(s.vip) !== undefined) state.vip = s.vip;
  if (typeof s.nic === 'string' && isInterfaceName(s.nic)) state.nic = s.nic;
  if (typeof s.added === 'object' && s.added !== null) {
    const added: Record<string, number> = {};
    for (const [dev, p] of Object.entries(s.added as Record<string, unknown>)) {
      if (isInterfaceName(dev) && typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 128) added[dev] = p;
    }
    state.added = added;
  }
  const isTime = (t: unknown): t is string => typeof t === 'string' && !Number.isNaN(Date.parse(t));
  const g = s.gaveUp as { at?: unknown; why?: unknown } | undefined;
  if (g && isTime(g.at) && typeof g.why === 'string') state.gaveUp = { at: g.at, why: g.why.slice(0, 300) };
  const d = s.duplicate as { macs?: unknown; since?: unknown; peers?: unknown; unpromoted?: unknown } | undefined;
  const isMac = (m: unknown): m is string => typeof m === 'string' && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(m);
  if (d && Array.isArray(d.macs) && d.macs.every(isMac) && typeof d.since === 'string') {
    state.duplicate = { macs: d.macs, since: d.since };
    if (Array.isArray(d.peers) && d.peers.every((p) => typeof p === 'string')) state.duplicate.peers = d.peers as string[];
    if (d.unpromoted === true) state.duplicate.unpromoted = true;
  }
  if (isMac(s.macPublished)) state.macPublished = s.macPublished;
  const l = s.link as { downAt?: unknown; upAt?: unknown } | undefined;
  if (l && isTime(l.downAt)) state.link = isTime(l.upAt) ? { downAt: l.downAt, upAt: l.upAt } : { downAt: l.downAt };
  return state;
}

export function saveState(path: string, state: LvsState): void {
  writeNoFollow(path, JSON.stringify(state));
}

export function removeState(path: string): void {
  rmSync(path, { force: true });
}

/** Every lvs instance that has run on this node since boot, with its state (status, metrics). */
export function readInstances(env: NodeJS.ProcessEnv): Array<{ instance: string; state: LvsState }> {
  const dir = stateDir(env);
  let names: string[] = [];
  try {
    // By name: the directory's own order (tmpfs: newest first) would reorder lvskit status from run to run.
    names = readdirSync(dir).filter((n) => /^lvs-.*\.json$/.test(n)).sort();
  } catch {
    return [];
  }
  const out: Array<{ instance: string; state: LvsState }> = [];
  for (const name of names) {
    const state = loadState(join(dir, name));
    if (state) out.push({ instance: name.slice(4, -5), state });
  }
  return out;
}
