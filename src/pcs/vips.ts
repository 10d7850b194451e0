// Several VIPs in one cluster: the --vip syntax (ADDR[/PREFIX][@NIC], repeated), the lvs resource
// of each VIP, and where the promoted instances go relative to each other (--placement).
//
// Each VIP is its own promotable lvs clone: `lvs` for the first (the name a cluster with one VIP
// already has), then `lvs2`, `lvs3`, … in the order the --vip options are given.
import { UsageError } from '../errors';
import { type Family, ipFamily, isInterfaceName, sameAddress, vipProblem } from '../net/address';
import { type Cib, hasRole, isInfinity, type XmlElement } from './cib';
import type { Vocabulary } from './dialect';

export type Placement = 'together' | 'spread';
export const PLACEMENTS: readonly Placement[] = ['together', 'spread'];

export interface Vip {
  address: string;
  family: Family;
  /** Prefix on the NIC when promoted; undefined leaves the agent's default (32, IPv6 128). */
  prefix: number | undefined;
  nic: string;
  /** The lvs primitive of this VIP. */
  resource: string;
}

/**
 * --placement spread keeps a VIP apart from the one before it with this score. Its magnitude stays
 * below the lvs agent's promotion score (10, src/agents/lvs/actions.ts SCORE): a director that holds
 * the other VIP keeps a positive promotion priority, so a lone survivor still holds every VIP
 * (crm_simulate, pacemaker 2.1.5: at -1000, or -9 with two such constraints, it does not).
 */
export const SPREAD_SCORE = -5;

/** The lvs agent's promotion score (src/agents/lvs/actions.ts SCORE; a unit test holds them equal). */
export const PROMOTION_SCORE = 10;

export function lvsResourceId(index: number): string {
  return index === 0 ? 'lvs' : `lvs${index + 1}`;
}

/** The promotable wrapper pcs gives resource `rsc` (`lvs-clone`, or `lvs-master` on pcs 0.9). */
export function promotableId(rsc: string, v: Vocabulary): string {
  return `${rsc}${v.cloneId.slice('lvs'.length)}`;
}

// ADDR, then optionally /PREFIX, then optionally @NIC (an IPv6 address has neither '/' nor '@').
const SPEC = /^([^/@]*)(?:\/([^@]*))?(?:@(.*))?$/;

function checkNic(nic: string, what: string): void {
  if (!isInterfaceName(nic)) throw new UsageError(`${what} is not a valid interface name: '${nic}'`);
  if (nic === 'lo') throw new UsageError(`${what} cannot be lo: the unpromoted directors hold the VIP there`);
}

function prefixOf(raw: string, family: Family, what: string): number {
  const max = family === 4 ? 32 : 128;
  const n = /^\d{1,3}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 1 && n <= max)) throw new UsageError(`${what} must be an integer from 1 to ${max} for an IPv${family} VIP, got '${raw}'`);
  return n;
}

interface Parsed {
  address: string;
  family: Family;
  prefix: number | undefined;
  nic: string | undefined;
}

function parseSpec(spec: string): Parsed {
  const m = SPEC.exec(spec);
  const address = m?.[1] ?? spec;
  const family = ipFamily(address);
  const where = address === spec ? '' : ` (in --vip ${spec})`;
  if (!m || family === undefined) throw new UsageError(`--vip is not an IPv4 or IPv6 address: '${address}'${where}`);
  const problem = vipProblem(address);
  if (problem) throw new UsageError(`--vip ${spec}: ${problem}; a VIP is a unicast address that can move between directors`);
  const prefix = m[2] === undefined ? undefined : prefixOf(m[2], family, `the prefix in --vip ${spec}`);
  if (m[3] !== undefined) checkNic(m[3], `the NIC in --vip ${spec}`);
  return { address, family, prefix, nic: m[3] };
}

/**
 * The VIPs of `--vip` (one or several), with --nic and --vip-prefix as the defaults of those that
 * do not name their own. Every problem is a UsageError naming the option and the value.
 */
export function parseVips(raw: string | string[] | undefined, nicRaw: string | undefined, prefixRaw: string | undefined, defaultNic: string): Vip[] {
  const specs = raw === undefined ? [] : typeof raw === 'string' ? [raw] : raw;
  if (specs.length === 0 || specs.some((s) => s === '')) {
    throw new UsageError('--vip is required: the virtual IP address the promoted director holds (repeat it for several VIPs: --vip ADDR[/PREFIX][@NIC])');
  }
  const nic = nicRaw ?? defaultNic;
  checkNic(nic, '--nic');
  const parsed = specs.map(parseSpec);
  for (let i = 0; i < parsed.length; i++) {
    for (let j = 0; j < i; j++) {
      if (sameAddress(parsed[i]!.address, parsed[j]!.address)) {
        const as = parsed[i]!.address === parsed[j]!.address ? '' : ` (as ${parsed[j]!.address} and ${parsed[i]!.address})`;
        throw new UsageError(`--vip names ${parsed[j]!.address} twice${as}: each VIP is given once`);
      }
    }
  }
  let defaultPrefix: number | undefined;
  if (prefixRaw !== undefined) {
    const families = [...new Set(parsed.filter((p) => p.prefix === undefined).map((p) => p.family))];
    if (families.length === 0) throw new UsageError(`--vip-prefix ${prefixRaw} applies to no VIP: every --vip has its own /PREFIX`);
    if (families.length > 1) {
      throw new UsageError(`--vip-prefix ${prefixRaw} would apply to IPv4 and IPv6 VIPs alike: give the VIPs their own prefix (--vip ADDR/PREFIX)`);
    }
    defaultPrefix = prefixOf(prefixRaw, families[0]!, '--vip-prefix');
  }
  return parsed.map((p, i) => ({ address: p.address, family: p.family, prefix: p.prefix ?? defaultPrefix, nic: p.nic ?? nic, resource: lvsResourceId(i) }));
}

export function parsePlacement(raw: string | undefined): Placement {
  const p = raw ?? 'together';
  if (!(PLACEMENTS as readonly string[]).includes(p)) throw new UsageError(`--placement must be ${PLACEMENTS.join(' or ')}, got '${p}'`);
  return p as Placement;
}

/** `lvs2 2001:db8::100/64 on eth0`. */
export function describeVip(v: Vip): string {
  return `${v.resource} ${v.address}${v.prefix === undefined ? '' : `/${v.prefix}`} on ${v.nic}`;
}

// ---- placement constraints ----------------------------------------------------------------------

/** What the steps of placement need from the plan (plan.ts defines Step and Verdict). */
export interface PlacementStep {
  id: string;
  resource: string;
  description: string;
  argv: string[];
  check: (cib: Cib) => { kind: 'todo' } | { kind: 'done'; what: string } | { kind: 'conflict'; why: string };
}

/** A score as pacemaker reads it, INFINITY as 1000000 (what it clamps to). */
function scoreValue(score: string | undefined): number {
  if (score === undefined) return 0;
  if (isInfinity(score)) return 1_000_000;
  if (isInfinity(score.trim().replace(/^-/, ''))) return -1_000_000;
  const n = Number.parseInt(score, 10);
  return Number.isNaN(n) ? 0 : n;
}

/** Colocations between the promoted instances of clones a and b, in either direction. */
function promotedPairs(cib: Cib, a: string, b: string): XmlElement[] {
  return cib.constraints('rsc_colocation').filter((c) => {
    const { rsc, 'with-rsc': withRsc } = c.attrs;
    const pair = (rsc === a && withRsc === b) || (rsc === b && withRsc === a);
    return pair && hasRole(c.attrs['rsc-role'], 'promoted') && hasRole(c.attrs['with-rsc-role'], 'promoted');
  });
}

/** The dialect's spelling of a colocation score (bare, or score=… on pcs 0.12). */
function scoreArg(v: Vocabulary, score: string): string {
  return v.colocationScore.replace('INFINITY', score);
}

function colocate(v: Vocabulary, dependent: string, primary: string, score: string): string[] {
  return ['pcs', 'constraint', 'colocation', 'add', v.promoted, dependent, 'with', v.promoted, primary, scoreArg(v, score)];
}

/**
 * together: every later VIP's promoted instance only where the first one's is (INFINITY).
 * spread: each VIP apart from the one before it (SPREAD_SCORE), one constraint per VIP: on two
 * directors the VIPs alternate, and no clone sums two negative scores (see SPREAD_SCORE). Adding a
 * VIP adds only constraints with the new clone as the dependent: the VIPs already placed stay.
 */
export function placementSteps(vips: Vip[], placement: Placement, v: Vocabulary): PlacementStep[] {
  const clone = (x: Vip) => promotableId(x.resource, v);
  return vips.slice(1).map((vip, i): PlacementStep => {
    const c = clone(vip);
    const earlier = vips.slice(0, i + 1);
    // A constraint of the other placement between this clone and an earlier one stops the run.
    const contradiction = (cib: Cib) => {
      for (const e of earlier) {
        for (const x of promotedPairs(cib, c, clone(e))) {
          const s = scoreValue(x.attrs.score);
          if (placement === 'together' ? s >= 0 : s <= 0 && s > -PROMOTION_SCORE) continue;
          const id = x.attrs.id ?? '';
          const meaning = s > 0 ? 'puts them on one director' : s <= -PROMOTION_SCORE ? `leaves a lone director unable to hold both (it outweighs the promotion score ${PROMOTION_SCORE})` : 'keeps them apart';
          return { kind: 'conflict' as const, why: `colocation ${id} of the promoted ${c} and ${clone(e)} (score ${x.attrs.score ?? ''}) ${meaning}, against --placement ${placement}; remove it (pcs constraint remove ${id || 'ID'}) or give the placement the cluster was built with` };
        }
      }
      return undefined;
    };
    const primary = placement === 'together' ? vips[0]! : vips[i]!;
    const p = clone(primary);
    const wanted = (x: XmlElement) => {
      const s = scoreValue(x.attrs.score);
      return placement === 'together' ? x.attrs.rsc === c && s >= 1_000_000 : s < 0 && s > -PROMOTION_SCORE;
    };
    const together = placement === 'together';
    return {
      id: `${vip.resource}-placement`,
      resource: vip.resource,
      description: together
        ? `promote ${vip.resource} only where ${primary.resource} is promoted (--placement together: one director holds every VIP)`
        : `promote ${vip.resource} apart from ${primary.resource} where it can (--placement spread, score ${SPREAD_SCORE}: a lone director still holds both)`,
      argv: colocate(v, c, p, together ? 'INFINITY' : String(SPREAD_SCORE)),
      check: (cib) => {
        const bad = contradiction(cib);
        if (bad) return bad;
        const x = promotedPairs(cib, c, p).find(wanted);
        if (!x) return { kind: 'todo' };
        return { kind: 'done', what: `colocation ${x.attrs.id ?? ''}: the promoted ${c} ${together ? 'only with' : 'apart from'} the promoted ${p}, score ${x.attrs.score ?? ''}` };
      },
    };
  });
}
