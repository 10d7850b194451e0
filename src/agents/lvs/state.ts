// What the agent remembers between actions, in $HA_RSCTMP: the sysctl values found before the first
// start (restored at stop) and the last promotion score set (a monitor only calls crm_attribute on change).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LvsState {
  /** sysctl key -> value before the first start. */
  saved: Record<string, string>;
  /** Last promotion score set; null when deleted. */
  score?: number | null;
  /** The instance's VIP and NIC, for `lvskit status`. */
  vip?: string;
  nic?: string;
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

export function loadState(path: string): LvsState | undefined {
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as LvsState;
    return typeof s.saved === 'object' && s.saved !== null ? s : undefined;
  } catch {
    return undefined;
  }
}

export function saveState(path: string, state: LvsState): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify(state));
  renameSync(`${path}.tmp`, path);
}

export function removeState(path: string): void {
  rmSync(path, { force: true });
}
