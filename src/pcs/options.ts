// The options of `lvskit bootstrap`, checked before anything runs: every value that reaches a pcs
// argument is one the resource or cluster accepts, with a message naming the option otherwise.
import { UsageError } from '../errors';
import { isInterfaceName } from '../net/address';
import { parseSafetyOptions, type SafetyOptions, type SafetyRaw } from './safety';
import { parsePlacement, parseVips, type Placement, type Vip } from './vips';

export type Checker = 'ocf' | 'systemd';

export const DEFAULTS = {
  name: 'lvs',
  nic: 'eth0',
  config: '/etc/ha.d/ldirectord.cf',
  stickiness: '100',
  checker: 'ocf' as Checker,
  /** corosync's token, ms: 2.2 s to declare a node lost (token + consensus of 1.2 x token). */
  token: 1000,
};

/** What commander hands over (strings as typed, or undefined). */
export interface RawOptions extends SafetyRaw {
  nodes?: string;
  name?: string;
  /** One or several (--vip repeated): ADDR[/PREFIX][@NIC]. */
  vip?: string | string[];
  nic?: string;
  vipPrefix?: string;
  placement?: string;
  syncInterface?: string;
  config?: string;
  stickiness?: string;
  /** false with --no-stonith. */
  stonith?: boolean;
  checker?: string;
  token?: string;
  pcsVersion?: string;
  apply?: boolean;
  dryRun?: boolean;
}

export interface BootstrapOptions extends SafetyOptions {
  nodes: string[];
  name: string;
  /** In the order given: the first is `lvs`, the others lvs2, lvs3, … (vips.ts). */
  vips: Vip[];
  placement: Placement;
  syncInterface: string | undefined;
  checker: Checker;
  /** The checker's configuration file (ocf checker only). */
  config: string;
  /** resource-stickiness: an integer or INFINITY. */
  stickiness: string;
  stonith: boolean;
  /** corosync totem token, ms. */
  token: number;
  pcsVersion: string | undefined;
  apply: boolean;
}

// A host name as corosync and pcs take it: labels of letters, digits, '-' and '_', dot-separated.
const NODE = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62}))*$/;
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
// INFINITY in pacemaker is 1000000; larger numbers are clamped there, so refuse them here.
const STICKINESS = /^(?:\d{1,7}|infinity)$/i;

function parseNodes(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') throw new UsageError('--nodes is required: the cluster nodes, comma-separated (e.g. --nodes d1,d2)');
  const nodes = raw.split(',').map((n) => n.trim());
  for (const n of nodes) {
    if (n === '') throw new UsageError(`--nodes has an empty name: '${raw}'`);
    if (n.length > 253 || !NODE.test(n)) throw new UsageError(`--nodes: '${n}' is not a valid node name (letters, digits, '-', '_', dot-separated labels)`);
  }
  const seen = new Set<string>();
  for (const n of nodes) {
    if (seen.has(n.toLowerCase())) throw new UsageError(`--nodes names '${n}' twice`);
    seen.add(n.toLowerCase());
  }
  if (nodes.length < 2) throw new UsageError(`--nodes needs at least two nodes, got '${raw}': a director cluster of one node has nothing to fail over to`);
  return nodes;
}

function parseConfigPath(raw: string): string {
  // The path becomes `configfile=<path>` in the CIB: no whitespace or control characters, absolute.
  if (!raw.startsWith('/') || raw.length > 4096 || /[\s\x00-\x1f\x7f]/.test(raw)) {
    throw new UsageError(`--config must be an absolute path without spaces or control characters, got '${raw}'`);
  }
  return raw;
}

// corosync sets no bounds; these catch seconds typed for milliseconds (--token 3) and absurd values.
const TOKEN_MIN = 200;
const TOKEN_MAX = 60_000;

function parseToken(raw: string | undefined): number {
  if (raw === undefined) return DEFAULTS.token;
  const n = /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= TOKEN_MIN && n <= TOKEN_MAX)) throw new UsageError(`--token must be milliseconds from ${TOKEN_MIN} to ${TOKEN_MAX}, got '${raw}'`);
  return n;
}

export function parseOptions(raw: RawOptions): BootstrapOptions {
  const nodes = parseNodes(raw.nodes);
  const name = raw.name ?? DEFAULTS.name;
  if (!CLUSTER_NAME.test(name)) throw new UsageError(`--name: '${name}' is not a valid cluster name (up to 32 letters, digits, '.', '_', '-', starting with a letter or digit)`);

  const vips = parseVips(raw.vip, raw.nic, raw.vipPrefix, DEFAULTS.nic);
  const placement = parsePlacement(raw.placement);

  let syncInterface: string | undefined;
  if (raw.syncInterface !== undefined) {
    if (!isInterfaceName(raw.syncInterface)) throw new UsageError(`--sync-interface is not a valid interface name: '${raw.syncInterface}'`);
    syncInterface = raw.syncInterface;
    // The lvs agent runs the sync daemon of its own role only; two VIPs promoted apart would fight over it.
    if (placement === 'spread' && vips.length > 1) {
      throw new UsageError('--sync-interface cannot be combined with --placement spread and several VIPs: each lvs instance runs only the sync daemon of its own role (master promoted, backup not), so a director promoted for one VIP and not for another would have its instances stop each other\'s daemon');
    }
  }

  const checker = raw.checker ?? DEFAULTS.checker;
  if (checker !== 'ocf' && checker !== 'systemd') throw new UsageError(`--checker must be ocf or systemd, got '${checker}'`);
  if (checker === 'systemd' && raw.config !== undefined) {
    throw new UsageError(`--config applies to --checker ocf only: the systemd unit lvsd.service reads ${DEFAULTS.config} (change it with a drop-in)`);
  }
  const config = parseConfigPath(raw.config ?? DEFAULTS.config);

  const stickiness = raw.stickiness ?? DEFAULTS.stickiness;
  if (!STICKINESS.test(stickiness) || (/^\d+$/.test(stickiness) && Number(stickiness) > 1_000_000)) {
    throw new UsageError(`--stickiness must be an integer from 0 to 1000000 or INFINITY, got '${stickiness}'`);
  }

  const token = parseToken(raw.token);

  if (raw.pcsVersion !== undefined && !/^\d+\.\d+/.test(raw.pcsVersion)) {
    throw new UsageError(`--pcs-version must look like X.Y or X.Y.Z (e.g. 0.11 or 0.10.8), got '${raw.pcsVersion}'`);
  }

  const stonith = raw.stonith ?? true;
  // --qdevice, --fence, --fence-option (safety.ts).
  const safety = parseSafetyOptions(raw, nodes, stonith);

  return {
    nodes,
    name,
    vips,
    placement,
    syncInterface,
    checker,
    config,
    stickiness: /^\d+$/.test(stickiness) ? String(Number(stickiness)) : 'INFINITY',
    stonith,
    token,
    pcsVersion: raw.pcsVersion,
    apply: raw.apply === true,
    ...safety,
  };
}
