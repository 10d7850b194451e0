// real = host[->host2][:port] gate|masq|ipip [weight] ["request", "receive"] [l:N] [u:N]
import { intToIpv4, ipv4ToInt, resolveHost, resolvePort, splitHostPort } from './address';
import { ValueError } from './errors';
import type { Family, Forward } from './model';
import { receiveValue } from './receive';
import type { Resolver } from './resolve';
import { oneOf } from './values';

export interface RealDraft {
  line: number;
  family: Family;
  address: string;
  port: number;
  forward: Forward;
  weight: number;
  /** As written (no leading "/" added yet: that depends on the service). */
  request?: string;
  receive?: string;
  lthreshold?: number;
  uthreshold?: number;
}

/** A range this long is a typo, not a pool (ldirectord has no limit and would add them all). */
export const MAX_RANGE = 65536;
/**
 * Real servers of one file, ranges counted one per address: a few ranges must not make lvsd build
 * millions of checks (1M reals took 650 MB before any check ran). docs/checker-config.md.
 */
export const MAX_REALS = 100_000;

/**
 * Makes room for `count` more reals of the file. Throws (once) when they would go beyond
 * MAX_REALS; after that answers false, and the line's reals are not built.
 */
export type Reserve = (count: number) => boolean;
const INT_MAX = 2 ** 31 - 1;
const USAGE = 'expected ADDRESS[->ADDRESS][:PORT] gate|masq|ipip [WEIGHT] ["REQUEST", "RECEIVE"] [l:N u:M]';

export function parseReal(value: string, family: Family, line: number, resolver: Resolver, reserve: Reserve): RealDraft[] {
  const m = /^(\S+)\s+(\S+)(.*)$/.exec(value);
  if (!m) throw new ValueError(`missing forwarding method: ${USAGE}`);
  const [, target = '', method = '', rest0 = ''] = m;
  const forward = oneOf(method, ['gate', 'masq', 'ipip'] as const, ' as forwarding method');
  let rest = rest0;

  let weight = 1;
  const w = /^\s+(\d+)(?=\s|$)(.*)$/.exec(rest);
  if (w) {
    weight = Number(w[1]);
    if (weight > 65535) throw new ValueError(`weight ${weight} is out of range (0..65535)`);
    rest = w[2] ?? '';
  }

  let request: string | undefined;
  let receive: string | undefined;
  if (/^\s+"/.test(rest)) {
    // ldirectord's greedy pattern: the receive string ends at the last quote of the line.
    const pair = /^\s+"(.*)"[, ]\s*"(.*)"(.*)$/.exec(rest);
    if (!pair) throw new ValueError('a per-real check needs both strings: "REQUEST", "RECEIVE"');
    request = pair[1];
    receive = receiveValue(pair[2]!);
    // The man page writes thresholds as "<l:N>" "<u:N>"; ldirectord silently reads that as this pair.
    if (/^<[lu]:\d+>$/.test(request ?? '') || /^<[lu]:\d+>$/.test(receive ?? '')) {
      throw new ValueError(`write thresholds bare, as in l:1 u:5; "${request}", "${receive}" reads as a request/receive pair`);
    }
    rest = pair[3] ?? '';
  }

  const thresholds: { l?: number; u?: number } = {};
  for (const token of rest.trim().split(/\s+/).filter(Boolean)) {
    const t = /^([lu]):(\d+)$/.exec(token);
    if (!t) throw new ValueError(`unexpected '${token}': ${USAGE}`);
    const which = t[1] as 'l' | 'u';
    if (thresholds[which] !== undefined) throw new ValueError(`${which}: given twice`);
    const n = Number(t[2]);
    if (n > INT_MAX) throw new ValueError(`${which}:${n} is out of range`);
    thresholds[which] = n;
  }
  if (thresholds.l !== undefined && thresholds.u === undefined) {
    throw new ValueError(`l:${thresholds.l} needs u:N as well (the kernel refuses a lower threshold above an unset upper one)`);
  }
  if (thresholds.l !== undefined && thresholds.u !== undefined && thresholds.l > thresholds.u) {
    throw new ValueError(`l:${thresholds.l} is above u:${thresholds.u} (the kernel refuses it)`);
  }

  const hp = splitHostPort(target);
  const ends = hp.host.includes('->') || (hp.bracketed && target.includes('->')) ? splitRange(target, hp.port) : undefined;
  const port = hp.port === undefined ? 0 : resolvePort(hp.port, undefined, resolver);
  const base = { line, family, port, forward, weight } as const;
  const extra = {
    ...(request !== undefined ? { request, receive } : {}),
    ...(thresholds.l !== undefined ? { lthreshold: thresholds.l } : {}),
    ...(thresholds.u !== undefined ? { uthreshold: thresholds.u } : {}),
  };
  if (!ends) {
    const address = resolveHost(hp.host, hp.bracketed, family, resolver, 'real');
    return reserve(1) ? [{ ...base, address, ...extra }] : [];
  }
  if (family === 6) throw new ValueError('address ranges are not supported for IPv6 (ldirectord has none either)');
  const first = resolveHost(ends[0].host, ends[0].bracketed, 4, resolver, 'real');
  const last = resolveHost(ends[1].host, ends[1].bracketed, 4, resolver, 'real');
  const a = ipv4ToInt(first);
  const b = ipv4ToInt(last);
  if (a > b) throw new ValueError(`range ${first}->${last} runs backwards`);
  if (b - a + 1 > MAX_RANGE) throw new ValueError(`range ${first}->${last} has ${b - a + 1} addresses (at most ${MAX_RANGE})`);
  if (!reserve(b - a + 1)) return [];
  const reals: RealDraft[] = [];
  for (let n = a; n <= b; n++) reals.push({ ...base, address: intToIpv4(n), ...extra });
  return reals;
}

function splitRange(target: string, port: string | undefined): [{ host: string; bracketed: boolean }, { host: string; bracketed: boolean }] {
  const hosts = port === undefined ? target : target.slice(0, target.length - port.length - 1);
  const parts = hosts.split('->');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw new ValueError(`cannot read range '${hosts}' (expected FIRST->LAST)`);
  const one = (p: string) => (p.startsWith('[') && p.endsWith(']') ? { host: p.slice(1, -1), bracketed: true } : { host: p, bracketed: false });
  return [one(parts[0]), one(parts[1])];
}
