// A DR real server's configuration for a VIP, and the check of a system against it. Pure.
import { UsageError } from '../errors';
import { type Family, ipFamily, sameAddress, vipProblem } from '../net/address';
import type { InterfaceAddress } from '../net/ip';
import { arpLeaks, HIDDEN_ARP, resolution } from '../net/dr';

export interface Target {
  vip: string;
  family: Family;
  /** Always a host prefix on lo: /32, /128. */
  prefix: number;
}

export { HIDDEN_ARP, resolution };

/** net/ipv4/conf/all/arp_ignore -> net.ipv4.conf.all.arp_ignore, as sysctl(8) writes it. */
export function dotted(key: string): string {
  return key.replaceAll('/', '.');
}

export function parseTarget(vip: string, prefixLength?: string): Target {
  const family = ipFamily(vip);
  if (family === undefined) throw new UsageError(`--vip '${vip}' is not an IPv4 or IPv6 address (give the bare address, without a prefix)`);
  const unfit = vipProblem(vip);
  if (unfit) throw new UsageError(`--vip ${unfit}: it cannot be a VIP; nothing was changed`);
  const host = family === 4 ? 32 : 128;
  if (prefixLength !== undefined) {
    const n = /^\d{1,3}$/.test(prefixLength) ? Number(prefixLength) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > host) throw new UsageError(`--prefix-length '${prefixLength}' is not a prefix length from 1 to ${host}`);
    // On lo every address of the prefix becomes local: with /24 the host could no longer reach its LAN.
    if (n !== host) throw new UsageError(`--prefix-length ${n}: on lo the VIP must be a host address (/${host}); /${n} would make every address of its network local to this host`);
  }
  return { vip, family, prefix: host };
}

/** What the system holds, as the check below needs it. */
export interface Observed {
  /** Where the VIP is configured. */
  at: InterfaceAddress[];
  /** IPv4 only: sysctl key -> value, for all and every interface of `interfaces`. */
  sysctls: Record<string, string>;
  /** IPv4 interfaces other than lo (names under /proc/sys/net/ipv4/conf, without all and default). */
  interfaces: string[];
}

/** Interfaces on which ARP would give the VIP away; [] when ARP is hidden everywhere (IPv4). */
export function arpProblems(o: Observed): string[] {
  return arpLeaks(o);
}

/** Everything that keeps this host from being a DR real server for the VIP; [] when it is one. */
export function problems(t: Target, o: Observed): string[] {
  const out: string[] = [];
  const onLo = o.at.filter((a) => a.ifname === 'lo');
  if (onLo.length === 0) out.push(`${t.vip} is not on lo`);
  for (const a of onLo) if (a.prefix !== t.prefix) out.push(`${t.vip} is on lo as /${a.prefix}, not /${t.prefix}`);
  for (const a of o.at) if (a.ifname !== 'lo') out.push(`${t.vip} is on ${a.ifname}: this host answers ${resolution(t.family)} for it there`);
  if (t.family === 4) out.push(...arpProblems(o));
  return out;
}

/** The state kept in /run while VIPs are configured: the ARP sysctls found before the first up. */
export interface RealServerState {
  /** sysctl key -> value found before the first IPv4 VIP went up. */
  saved: Record<string, string>;
  /** The VIPs `up` configured. */
  vips: string[];
}

export function withVip(s: RealServerState | undefined, vip: string): RealServerState {
  const base = s ?? { saved: {}, vips: [] };
  return base.vips.some((v) => sameAddress(v, vip)) ? base : { ...base, vips: [...base.vips, vip] };
}

export function withoutVip(s: RealServerState, vip: string): RealServerState {
  return { ...s, vips: s.vips.filter((v) => !sameAddress(v, vip)) };
}

/** True while another configured IPv4 VIP still needs ARP hidden. */
export function arpStillNeeded(s: RealServerState): boolean {
  return s.vips.some((v) => ipFamily(v) === 4);
}
