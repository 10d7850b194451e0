// Syntax of addresses and interface names, checked before anything touches the system.
import { isIP } from 'node:net';

export type Family = 4 | 6;

/** The address family of a bare IP address (no prefix, no zone), or undefined. */
export function ipFamily(value: string): Family | undefined {
  if (value.includes('%') || value.includes('/')) return undefined;
  const f = isIP(value);
  return f === 4 || f === 6 ? f : undefined;
}

// Linux: at most 15 bytes, no '/', no whitespace, not '.' or '..'. Stricter here: no leading '-',
// which would read as an option to ip(8), and only characters interface names use in practice.
const IFNAME = /^[A-Za-z0-9_][A-Za-z0-9_.@:-]{0,14}$/;

export function isInterfaceName(value: string): boolean {
  return IFNAME.test(value) && value !== '.' && value !== '..';
}

/** Compares two textual addresses of one family (IPv6 may be written in several ways). */
export function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  if (ipFamily(a) !== 6 || ipFamily(b) !== 6) return false;
  return expand6(a) === expand6(b);
}

function expand6(addr: string): string {
  let text = addr.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

/**
 * Why an address cannot be a VIP, or undefined: a VIP is a unicast address that can move between
 * nodes, so loopback, unspecified, multicast, broadcast and link-local addresses are refused (on lo
 * 127.0.0.1/8 would be deleted with it; a link-local address is tied to one link and one node).
 */
export function vipProblem(address: string): string | undefined {
  const family = ipFamily(address);
  if (family === 4) {
    const [a, b] = address.split('.').map(Number) as [number, number];
    if (a === 0) return `${address} is an unspecified ("this network") address`;
    if (a === 127) return `${address} is a loopback address`;
    if (a >= 224 && a <= 239) return `${address} is a multicast address`;
    if (address === '255.255.255.255') return `${address} is the broadcast address`;
    if (a >= 240) return `${address} is a reserved address (240.0.0.0/4)`;
    if (a === 169 && b === 254) return `${address} is a link-local address (169.254.0.0/16)`;
    return undefined;
  }
  if (family === 6) {
    const groups = expand6(address).split(':').map((g) => Number.parseInt(g, 16));
    if (groups.every((g) => g === 0)) return `${address} is the unspecified address`;
    if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return `${address} is the loopback address`;
    if (groups[0]! >= 0xff00) return `${address} is a multicast address (ff00::/8)`;
    if ((groups[0]! & 0xffc0) === 0xfe80) return `${address} is a link-local address (fe80::/10)`;
    if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `${address} is an IPv4-mapped address: give the IPv4 address`;
    return undefined;
  }
  return `'${address}' is not an IPv4 or IPv6 address`;
}
