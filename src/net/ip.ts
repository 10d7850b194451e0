// Addresses and links through ip(8) and sysfs. One `ip -j addr` call reads every address at once.
import { existsSync, readFileSync } from 'node:fs';
import { output, which } from '../exec/run';
import { type Family, sameAddress } from './address';

export interface InterfaceAddress {
  ifname: string;
  address: string;
  prefix: number;
}

let ipPath: string | undefined;

/** Runs the ip(8) which() finds (also without PATH, as pacemaker may run agents). */
function ip(args: string[]): string {
  ipPath ??= which('ip');
  if (!ipPath) throw new Error('ip is not installed (package iproute2)');
  return output(ipPath, args);
}

interface IpJsonLink {
  ifname?: string;
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
}

/** Every address of one family on every interface. */
export function listAddresses(family: Family): InterfaceAddress[] {
  const links = JSON.parse(ip(['-j', `-${family}`, 'addr', 'show']) || '[]') as IpJsonLink[];
  const out: InterfaceAddress[] = [];
  for (const link of links) {
    for (const a of link.addr_info ?? []) {
      if (link.ifname && a.local !== undefined && a.prefixlen !== undefined) {
        out.push({ ifname: link.ifname, address: a.local, prefix: a.prefixlen });
      }
    }
  }
  return out;
}

/** Where an address is configured: the interfaces and their prefix lengths. */
export function whereIs(address: string, family: Family): InterfaceAddress[] {
  return listAddresses(family).filter((a) => sameAddress(a.address, address));
}

export function addAddress(dev: string, address: string, prefix: number, family: Family): void {
  const args = [`-${family}`, 'addr', 'add', `${address}/${prefix}`, 'dev', dev];
  // IPv6: no duplicate address detection, so the VIP is usable at once (as IPaddr2's nodad).
  if (family === 6) args.push('nodad');
  else if (prefix < 31) args.splice(4, 0, 'brd', '+');
  ip(args);
}

export function deleteAddress(dev: string, address: string, prefix: number, family: Family): void {
  ip([`-${family}`, 'addr', 'del', `${address}/${prefix}`, 'dev', dev]);
}

export interface LinkState {
  exists: boolean;
  /** Carrier present and operstate not down. */
  up: boolean;
  operstate: string;
}

function readSys(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined; // carrier reads fail (EINVAL) while the interface is administratively down
  }
}

/** The link of an interface, from sysfs: no process started. */
export function linkState(dev: string): LinkState {
  const base = `/sys/class/net/${dev}`;
  if (!existsSync(base)) return { exists: false, up: false, operstate: 'absent' };
  const operstate = readSys(`${base}/operstate`) ?? 'unknown';
  const carrier = readSys(`${base}/carrier`) === '1';
  // 'unknown' is what drivers without operstate support (and lo) report while usable.
  const up = carrier && (operstate === 'up' || operstate === 'unknown');
  return { exists: true, up, operstate: carrier ? operstate : `${operstate}, no carrier` };
}
