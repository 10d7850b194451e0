// The rules of LVS direct routing on one node, used by the lvs agent, `lvskit realserver` and
// `lvskit status`: which sysctls hide ARP for a VIP on lo, which values really hide it, and the
// role a node has from where the VIP is. Pure: callers read the system and pass what they saw.
import type { Family } from './address';
import type { InterfaceAddress } from './ip';
import { arpKey, type SysctlKey } from './sysctl';

/** A DR real server (IPv4): answer ARP only for addresses of the receiving interface, announce from the best local address. */
export const HIDDEN_ARP: Readonly<Record<SysctlKey, string>> = {
  [arpKey('all', 'arp_ignore')]: '1',
  [arpKey('all', 'arp_announce')]: '2',
  [arpKey('lo', 'arp_ignore')]: '1',
  [arpKey('lo', 'arp_announce')]: '2',
};

// The kernel uses the larger of conf/all and conf/<interface> (ip-sysctl.rst). arp_ignore 1 and 2
// answer only for addresses of the receiving interface, 8 never answers; 3 answers for every global
// address (a VIP on lo is one) and 4-7 are reserved, answered like 0. arp_announce must be 2.
const HIDING_ARP_IGNORE = new Set([1, 2, 8]);

function num(v: string | undefined): number {
  return Number.parseInt(v ?? '', 10) || 0;
}

export interface ArpSettings {
  /** sysctl key -> value, for `all` and each interface named in `interfaces`. */
  sysctls: Readonly<Record<SysctlKey, string>>;
  /** The interfaces that could answer ARP (not lo, all or default). */
  interfaces: readonly string[];
}

/** The effective value on an interface: the larger of conf/all and conf/<dev>. */
export function effectiveArp(s: ArpSettings, dev: string, name: 'arp_ignore' | 'arp_announce'): number {
  return Math.max(num(s.sysctls[arpKey('all', name)]), num(s.sysctls[arpKey(dev, name)]));
}

/** Interfaces on which ARP would give a VIP on lo away; [] when it is hidden everywhere. */
export function arpLeaks(s: ArpSettings): string[] {
  const out: string[] = [];
  const values = (name: 'arp_ignore' | 'arp_announce') => s.interfaces.map((dev) => ({ dev, value: effectiveArp(s, dev, name) }));
  const ignore = values('arp_ignore').filter((e) => !HIDING_ARP_IGNORE.has(e.value));
  if (ignore.length > 0) {
    out.push(`arp_ignore is ${ignore.map((e) => `${e.value} on ${e.dev}`).join(', ')}: ARP requests for the VIP are answered there (1, 2 or 8 hide it; the larger of conf/all and conf/<interface> counts)`);
  }
  const announce = values('arp_announce').filter((e) => e.value !== 2);
  if (announce.length > 0) {
    out.push(`arp_announce is ${announce.map((e) => `${e.value} on ${e.dev}`).join(', ')}: ARP requests may carry the VIP as sender (2 is needed; the larger of conf/all and conf/<interface> counts)`);
  }
  return out;
}

/** What a node answers for an address of its NIC, and must not for a VIP on lo: ARP (IPv4), neighbour solicitations (IPv6). */
export function resolution(family: Family): string {
  return family === 4 ? 'ARP' : 'neighbour solicitations';
}

export type DrRole = 'director' | 'real-server' | 'none';

/**
 * The role the VIP's places give a node: on a NIC it is the director (it answers ARP for the VIP),
 * on lo only a DR real server, nowhere neither. `conflict` says when it is both at once.
 */
export function drRole(at: readonly InterfaceAddress[]): { role: DrRole; nics: string[]; onLo: boolean; conflict: boolean } {
  const nics = [...new Set(at.filter((a) => a.ifname !== 'lo').map((a) => a.ifname))];
  const onLo = at.some((a) => a.ifname === 'lo');
  return { role: nics.length > 0 ? 'director' : onLo ? 'real-server' : 'none', nics, onLo, conflict: nics.length > 0 && onLo };
}
