// The changes that turn the kernel's table into the desired one, touching only owned services.
import type { DestSpec, ServiceSpec, Table, TableChange } from './table';

function netmaskOf(s: ServiceSpec): string | undefined {
  if (s.persistent === undefined) return undefined;
  // ipvsadm does not print the all-ones mask, so it and "unset" are the same thing.
  if (s.netmask === undefined || s.netmask === '255.255.255.255' || s.netmask === '128') return undefined;
  return s.netmask;
}

function flagsOf(s: ServiceSpec): string {
  return (s.schedflags ?? '').split(',').filter(Boolean).sort().join(',');
}

export function sameService(a: ServiceSpec, b: ServiceSpec): boolean {
  return (
    a.scheduler === b.scheduler &&
    a.persistent === b.persistent &&
    netmaskOf(a) === netmaskOf(b) &&
    a.ops === b.ops &&
    flagsOf(a) === flagsOf(b)
  );
}

export function sameDest(a: DestSpec, b: DestSpec): boolean {
  return a.forward === b.forward && a.weight === b.weight && a.uthreshold === b.uthreshold && a.lthreshold === b.lthreshold;
}

/**
 * Changes from `current` to `desired` (both keyed by serviceKey). Services in `owned` but not desired are deleted; services
 * neither desired nor owned are never touched, nor are their destinations.
 */
export function diffTables(current: Table, desired: Table, owned: ReadonlySet<string> = new Set()): TableChange[] {
  const services: TableChange[] = [];
  const deletes: TableChange[] = [];
  const dests: TableChange[] = [];
  const removed: TableChange[] = [];
  for (const [key, want] of desired) {
    const have = current.get(key);
    const id = want.spec.id;
    if (!have) services.push({ op: 'add-service', service: want.spec });
    else if (!sameService(have.spec, want.spec)) services.push({ op: 'edit-service', service: want.spec });
    for (const [target, dest] of want.dests) {
      const d = have?.dests.get(target);
      if (!d) dests.push({ op: 'add-dest', id, dest });
      else if (!sameDest(d, dest)) dests.push({ op: 'edit-dest', id, dest });
    }
    for (const target of have?.dests.keys() ?? []) {
      if (!want.dests.has(target)) deletes.push({ op: 'delete-dest', id, target });
    }
  }
  for (const key of owned) {
    const have = current.get(key);
    if (!desired.has(key) && have) removed.push({ op: 'delete-service', id: have.spec.id });
  }
  return [...services, ...deletes, ...dests, ...removed];
}
