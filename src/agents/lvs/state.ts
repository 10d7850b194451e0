// What the agent remembers between actions, in $HA_RSCTMP: the sysctl values found before the first
// start (restored at stop), what it put where, the last promotion score set, and a link loss the
// link watcher acted on. The file is not trusted: only known keys and well-formed values are read.
import { rmSync } from 'node:fs';
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
  /** Set by the link watcher when it took the VIP off the NIC: ISO time of the loss. */
  linkLostAt?: string;
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

export function linkWatchPidPath(env: NodeJS.ProcessEnv, instance: string): string {
  return join(stateDir(env), `${fileName(instance)}.linkwatch.pid`);
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
  if (typeof s.linkLostAt === 'string' && !Number.isNaN(Date.parse(s.linkLostAt))) state.linkLostAt = s.linkLostAt;
  return state;
}

export function saveState(path: string, state: LvsState): void {
  writeNoFollow(path, JSON.stringify(state));
}

export function removeState(path: string): void {
  rmSync(path, { force: true });
}
