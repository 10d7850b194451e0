// The IPVS table the configuration and the reals' health call for. Pure: the engine feeds it the
// kernel's current table (for quiescent reals and slow start), the time, and which virtuals are
// active on this node (their VIP held here, or not following one).
import { addressService, endpoint, fwmarkService, serviceKey, type ServiceId } from '../ipvs/service';
import type { DestSpec, DestState, ServiceSpec, Table } from '../ipvs/table';
import type { CheckerConfig, RealConfig, VirtualConfig } from './config/model';
import { effectivePort, type RealCheck } from './real-check';
import { ramped } from './slowstart';

/** The IPVS service a virtual section describes. */
export function serviceOf(v: VirtualConfig): ServiceId {
  if (v.protocol === 'fwm') return fwmarkService(v.fwmark ?? 0, v.family);
  return addressService(v.protocol, v.address ?? '', v.port);
}

export function virtualKey(v: VirtualConfig): string {
  return serviceKey(serviceOf(v));
}

export function serviceSpec(v: VirtualConfig): ServiceSpec {
  const s: ServiceSpec = { id: serviceOf(v), scheduler: v.scheduler, ops: v.ops };
  if (v.persistent !== undefined) {
    s.persistent = v.persistent;
    if (v.netmask !== undefined) s.netmask = v.netmask;
  }
  if (v.schedflags) s.schedflags = v.schedflags;
  return s;
}

export function realTarget(v: VirtualConfig, r: Pick<RealConfig, 'address' | 'port' | 'forward'>): string {
  return endpoint(r.address, effectivePort(v, r as RealConfig));
}

export interface DesiredTable {
  table: Table;
  /** Virtuals (by key) whose fallback server is in. */
  fallback: Set<string>;
  /** Some real is ramping up: the table changes with time alone. */
  ramping: boolean;
}

export interface DesiredInput {
  config: CheckerConfig;
  /** The check of a (virtual, real) pair; undefined for checktype=off. */
  checkOf: (v: VirtualConfig, r: RealConfig) => RealCheck | undefined;
  current: Table<DestState>;
  now: number;
  /** Whether a virtual belongs in this node's kernel (followvip); all do when absent. */
  active?: (v: VirtualConfig) => boolean;
}

export function desiredTable({ config, checkOf, current, now, active }: DesiredInput): DesiredTable {
  const table: Table = new Map();
  const fallback = new Set<string>();
  let ramping = false;
  for (const v of config.virtuals) {
    if (active && !active(v)) continue;
    const key = virtualKey(v);
    const have = current.get(key);
    const dests = new Map<string, DestSpec>();
    let up = 0;
    let unknown = 0;
    const rampers: Array<{ target: string; r: RealConfig; since: number }> = [];
    for (const r of v.reals) {
      const target = realTarget(v, r);
      if (dests.has(target)) continue;
      const check = checkOf(v, r);
      const present = have?.dests.get(target);
      const full: DestSpec = { target, forward: r.forward, weight: r.weight, uthreshold: r.uthreshold ?? 0, lthreshold: r.lthreshold ?? 0 };
      const health = v.checktype === 'on' ? 'up' : check?.state.health ?? 'down';
      if (health === 'up') {
        up++;
        dests.set(target, full);
        const since = check?.state.upSince;
        if (v.slowstart > 0 && check?.state.ramp && since !== undefined && now - since < v.slowstart * 1000) {
          rampers.push({ target, r, since });
        }
      } else if (health === 'unknown') {
        // Not checked yet: leave the kernel's entry as it is, add nothing.
        unknown++;
        if (present) dests.set(target, { target, forward: present.forward, weight: present.weight, uthreshold: present.uthreshold, lthreshold: present.lthreshold });
      } else if (v.quiescent && (present || config.globals.readdquiescent || check?.state.addQuiesced)) {
        dests.set(target, { ...full, weight: 0 });
      }
    }
    // Slow start needs peers to share with; alone, a real takes everything anyway.
    const steady = [...dests.values()].filter((d) => d.weight > 0 && !rampers.some((x) => x.target === d.target));
    if (steady.length > 0) {
      const conns = steady.map((d) => {
        const k = have?.dests.get(d.target);
        return k ? k.activeConns + k.inactConns : 0;
      });
      const peers = conns.reduce((a, b) => a + b, 0) / conns.length;
      for (const { target, r, since } of rampers) {
        const d = dests.get(target)!;
        const next = ramped(
          { weight: d.weight, uthreshold: r.uthreshold ?? 0, lthreshold: r.lthreshold ?? 0 },
          v.scheduler,
          now - since,
          v.slowstart,
          peers,
        );
        dests.set(target, { ...d, ...next });
        ramping = true;
      }
    }
    // ldirectord runs fallbackcommand when every real is down, with or without a fallback server.
    if (v.checktype !== 'off' && up === 0 && unknown === 0 && (v.fallback || v.fallbackcommand)) {
      const fb = v.fallback;
      if (fb) {
        const target = realTarget(v, fb);
        if (!dests.has(target)) dests.set(target, { target, forward: fb.forward, weight: 1, uthreshold: 0, lthreshold: 0 });
      }
      fallback.add(key);
    }
    table.set(key, { spec: serviceSpec(v), dests });
  }
  return { table, fallback, ramping };
}
