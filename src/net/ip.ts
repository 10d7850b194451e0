// Addresses and links through ip(8) and sysfs. One `ip -j addr` call reads every address at once.
import { existsSync, readFileSync } from 'node:fs';
import { CommandError, failure, output, run, which } from '../exec/run';
import { type Family, sameAddress } from './address';

export interface InterfaceAddress {
  ifname: string;
  address: string;
  prefix: number;
}

let ipPath: string | undefined;

/** The ip(8) which() finds (also without PATH, as pacemaker may run agents). */
function ipProgram(): string {
  ipPath ??= which('ip');
  if (!ipPath) throw new Error('ip is not installed (package iproute2)');
  return ipPath;
}

function ip(args: string[]): string {
  return output(ipProgram(), args);
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

/** ip(8)'s words after `ip -4|-6` to add or delete one address. */
export function addressArgs(op: 'add' | 'del', dev: string, address: string, prefix: number, family: Family): string[] {
  const args = ['addr', op, `${address}/${prefix}`, 'dev', dev];
  if (op === 'del') return args;
  // IPv6: no duplicate address detection, so the VIP is usable at once (as IPaddr2's nodad); and
  // deprecated, so never a source address: the longest-prefix rule would otherwise pick a /128 VIP
  // for every neighbour in its /64, and a DR real server holding the VIP on lo answers itself.
  if (family === 6) args.push('nodad', 'preferred_lft', '0');
  else if (prefix < 31) args.splice(3, 0, 'brd', '+');
  return args;
}

export function addAddress(dev: string, address: string, prefix: number, family: Family): void {
  ip([`-${family}`, ...addressArgs('add', dev, address, prefix, family)]);
}

export function deleteAddress(dev: string, address: string, prefix: number, family: Family): void {
  ip([`-${family}`, ...addressArgs('del', dev, address, prefix, family)]);
}

/** What ip(8) says when an address to add is there already (older and newer kernels). */
export const ALREADY_THERE = /File exists|already assigned/;
/** ... and when an address to delete is not there. */
export const NOT_THERE = /Cannot assign requested address|Address not found/;

export interface AddressChange {
  op: 'add' | 'del';
  dev: string;
  prefix: number;
}

/**
 * Several changes of one address in one ip process (`-batch`, each line as soon as the last is
 * done): a move from one interface to another is over in microseconds, so that nothing watching
 * the addresses acts on the address being in both places. Every line is tried; returns the
 * failures, each with ip's message.
 */
export function changeAddresses(address: string, family: Family, changes: AddressChange[]): { change: AddressChange; error: string }[] {
  const program = ipProgram();
  const argv = [`-${family}`, '-force', '-batch', '-'];
  const input = changes.map((c) => `${addressArgs(c.op, c.dev, address, c.prefix, family).join(' ')}\n`).join('');
  const r = run(program, argv, { input });
  if (r.code === 0) return [];
  if (r.error) throw new CommandError(failure([program, ...argv], r));
  // Each failed line: its messages, then "Command failed -:N".
  const out: { change: AddressChange; error: string }[] = [];
  let said: string[] = [];
  for (const line of r.stderr.split('\n')) {
    const m = /^Command failed -:(\d+)/.exec(line);
    if (!m) {
      if (line.trim()) said.push(line.trim());
      continue;
    }
    const change = changes[Number(m[1]) - 1];
    if (change) out.push({ change, error: said.join(' ') || 'failed' });
    said = [];
  }
  if (out.length === 0) throw new CommandError(failure([program, ...argv], r));
  return out;
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
