// The kernel's IPVS table through ipvsadm(8): the only place that knows ipvsadm's syntax.
import { output } from '../exec/run';

export type Protocol = 'tcp' | 'udp' | 'fwmark';

export interface ServiceKey {
  protocol: Protocol;
  /** address:port as ipvsadm writes it ([v6]:port for IPv6), or the fwmark number. */
  target: string;
}

function ipvsadm(args: string[]): string {
  return output('ipvsadm', args);
}

const FLAG: Record<string, Protocol> = { '-t': 'tcp', '-u': 'udp', '-f': 'fwmark' };
const OPTION: Record<Protocol, string> = { tcp: '-t', udp: '-u', fwmark: '-f' };

export function listServices(): ServiceKey[] {
  const keys: ServiceKey[] = [];
  for (const line of ipvsadm(['-S', '-n']).split('\n')) {
    const m = /^-A (-[tuf]) (\S+)/.exec(line);
    if (m) keys.push({ protocol: FLAG[m[1]!]!, target: m[2]! });
  }
  return keys;
}

/** The address part of a service target, without brackets; undefined for fwmark services. */
export function serviceAddress(key: ServiceKey): string | undefined {
  if (key.protocol === 'fwmark') return undefined;
  const m = /^\[(.+)\]:\d+$/.exec(key.target) ?? /^(.+):\d+$/.exec(key.target);
  return m?.[1];
}

export function addService(key: ServiceKey, scheduler: string): void {
  ipvsadm(['-A', OPTION[key.protocol], key.target, '-s', scheduler]);
}

export function deleteService(key: ServiceKey): void {
  ipvsadm(['-D', OPTION[key.protocol], key.target]);
}

export function clearServices(): void {
  ipvsadm(['-C']);
}

export type SyncState = 'master' | 'backup';

export interface SyncDaemon {
  state: SyncState;
  iface: string;
  syncid: number;
}

export function syncDaemons(): SyncDaemon[] {
  const out: SyncDaemon[] = [];
  for (const line of ipvsadm(['-L', '--daemon']).split('\n')) {
    const m = /^(master|backup) sync daemon \(mcast=([^,]+), syncid=(\d+)/.exec(line.trim());
    if (m) out.push({ state: m[1] as SyncState, iface: m[2]!, syncid: Number(m[3]) });
  }
  return out;
}

export function startSyncDaemon(state: SyncState, iface: string, syncid: number): void {
  ipvsadm(['--start-daemon', state, '--mcast-interface', iface, '--syncid', String(syncid)]);
}

export function stopSyncDaemon(state: SyncState): void {
  ipvsadm(['--stop-daemon', state]);
}
