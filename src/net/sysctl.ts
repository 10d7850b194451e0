// Kernel parameters read and written through /proc/sys directly: no sysctl(8) process, and
// interface names with dots (VLANs) need no escaping.
import { readFileSync, writeFileSync } from 'node:fs';

const ROOT = '/proc/sys/';

/** A key such as net/ipv4/conf/lo/arp_ignore. */
export type SysctlKey = string;

export function arpKey(dev: string, name: 'arp_ignore' | 'arp_announce'): SysctlKey {
  return `net/ipv4/conf/${dev}/${name}`;
}

export function readSysctl(key: SysctlKey): string {
  return readFileSync(ROOT + key, 'utf8').trim();
}

export function writeSysctl(key: SysctlKey, value: string): void {
  writeFileSync(ROOT + key, `${value}\n`);
  const now = readSysctl(key);
  if (now !== value) throw new Error(`${key} is ${now} after writing ${value}`);
}
