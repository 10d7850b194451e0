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
