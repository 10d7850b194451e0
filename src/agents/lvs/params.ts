// ocf:heartbeat:lvs parameters: declarations with their defaults, and the check of their syntax.
// Nothing here touches the system; a bad value stops the action before anything changes.
import { type Family, ipFamily, isInterfaceName, vipProblem } from '../../net/address';
import type { ParameterSpec } from '../../ocf/agent';
import { OCF, OcfError } from '../../ocf/codes';
import { isTrue } from '../../ocf/params';

export const PARAMETERS: ParameterSpec[] = [
  { name: 'vip', type: 'string', required: true, unique: true, shortdesc: 'Virtual IP address', longdesc: 'The virtual IP address (IPv4 or IPv6) the clients connect to.' },
  { name: 'nic', type: 'string', default: 'eth0', shortdesc: 'Network interface for the VIP', longdesc: 'The interface on which the promoted instance holds the virtual IP. Its link is monitored: a promoted instance on a NIC without link fails (9) and gives up its promotion score.' },
  { name: 'vip_prefix', type: 'integer', shortdesc: 'Prefix length of the VIP on the NIC', longdesc: 'Prefix length the virtual IP gets on the NIC when promoted: 32 for IPv4 and 128 for IPv6 when not set. On lo it is always a host address (/32, /128).' },
  { name: 'forwarding', type: 'boolean', default: 'false', shortdesc: 'Enable IP forwarding when promoted', longdesc: 'When true, promote sets net.ipv4.conf.all.forwarding (IPv6: net.ipv6.conf.all.forwarding) to 1; demote and stop put back the value found before the first start.' },
  { name: 'arp_sender', type: 'string', default: 'auto', shortdesc: 'Gratuitous ARP sender', longdesc: "Program that announces the VIP at promote: 'arping' (iputils), 'send_arp' (resource-agents) or 'auto' (send_arp if installed, else arping). IPv6 always uses resource-agents' send_ua." },
  { name: 'arp_count', type: 'integer', default: '5', shortdesc: 'Gratuitous ARPs at promote', longdesc: 'Number of gratuitous ARPs (IPv6: unsolicited neighbour advertisements) sent at promote, 1 to 100. They are sent in the background: promote does not wait for them.' },
  { name: 'arp_interval', type: 'integer', default: '200', shortdesc: 'Milliseconds between gratuitous ARPs', longdesc: 'Interval between gratuitous ARPs in milliseconds, 10 to 10000.' },
  { name: 'arp_mode', type: 'string', default: 'request', shortdesc: 'Gratuitous ARP kind', longdesc: "'request' (unsolicited ARP request) or 'reply' (ARP reply; some switches only accept those)." },
  { name: 'ipvs_cleanup', type: 'string', default: 'vip', shortdesc: 'IPVS services removed when unpromoted', longdesc: "At start and demote an unpromoted node must never forward DR packets: 'vip' removes the IPVS services of this VIP, 'all' clears the whole IPVS table (what the replaced shell agent did), 'none' leaves the table alone." },
  { name: 'sync_interface', type: 'string', default: '', shortdesc: 'Interface for IPVS connection sync', longdesc: 'When set, the promoted node runs the IPVS master sync daemon on this interface and every unpromoted node the backup daemon, so that established connections survive a failover. Empty: no sync daemons.' },
  { name: 'duplicate_check_interval', type: 'integer', default: '2', shortdesc: 'Seconds between duplicate VIP probes', longdesc: 'While promoted, every this many seconds the VIP watcher asks the wire who answers for the VIP (ARP duplicate address detection with iputils arping; IPv6: a neighbour solicitation with ndisc6). Another MAC is logged, shown by lvskit status and set as the node attribute lvs-duplicate-<instance>; when it is another cluster director (two partitions), the one whose node name sorts last gives the VIP up. An unpromoted director asks at each recurring monitor, in the background, and reports two or more MACs answering (it acts on nothing). 0 turns the probes off. Cost: one short process and one ARP request per interval on the promoted director, per monitor on an unpromoted one.' },
  { name: 'link_holddown', type: 'integer', default: '15', shortdesc: 'Seconds a returned link waits before the promotion score', longdesc: 'After the NIC was seen without link, an unpromoted instance gives its promotion score back only once the link has been up this many seconds (then at its next monitor). A director cut off with corosync on the same NIC is a partition of its own until corosync merges again (token, consensus and a join: seconds); a score given back in that window lets its own partition promote it beside the director the others promoted. 0 gives the score back at the first action that sees the link.' },
  { name: 'sync_id', type: 'integer', default: '0', shortdesc: 'IPVS sync id', longdesc: 'The sync id (0 to 255) of the IPVS sync daemons; directors of one cluster use the same id.' },
];

export type ArpSenderChoice = 'auto' | 'send_arp' | 'arping';

export interface LvsConfig {
  vip: string;
  family: Family;
  nic: string;
  /** Prefix on the NIC. */
  prefix: number;
  /** Prefix on lo: a host address. */
  hostPrefix: number;
  forwarding: boolean;
  arpSender: ArpSenderChoice;
  arpCount: number;
  arpIntervalMs: number;
  arpMode: 'request' | 'reply';
  ipvsCleanup: 'vip' | 'all' | 'none';
  syncInterface: string | undefined;
  syncId: number;
  duplicateIntervalMs: number;
  linkHolddownMs: number;
}

function bad(message: string): never {
  throw new OcfError(OCF.ERR_CONFIGURED, message);
}

function integerIn(params: Record<string, string>, name: string, min: number, max: number): number {
  const raw = params[name] ?? '';
  const n = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) bad(`parameter '${name}' must be an integer from ${min} to ${max}, got '${raw}'`);
  return n;
}

function oneOf<T extends string>(params: Record<string, string>, name: string, allowed: readonly T[]): T {
  const raw = params[name] ?? '';
  if (!(allowed as readonly string[]).includes(raw)) bad(`parameter '${name}' must be one of ${allowed.join(', ')}, got '${raw}'`);
  return raw as T;
}

function interfaceName(params: Record<string, string>, name: string): string {
  const raw = params[name] ?? '';
  if (!isInterfaceName(raw)) bad(`parameter '${name}' is not a valid interface name: '${raw}'`);
  return raw;
}

/** Parameter syntax only (validate-all level 0): every value is what its parameter takes. */
export function parseConfig(params: Record<string, string>): LvsConfig {
  const vip = params.vip ?? '';
  const family = ipFamily(vip);
  if (family === undefined) bad(`parameter 'vip' is not an IPv4 or IPv6 address: '${vip}'`);
  const unfit = vipProblem(vip);
  if (unfit) bad(`parameter 'vip': ${unfit}, which cannot be a VIP`);
  const hostPrefix = family === 4 ? 32 : 128;
  const nic = interfaceName(params, 'nic');
  if (nic === 'lo') bad("parameter 'nic' cannot be lo: the unpromoted instances hold the VIP there");
  const prefix = params.vip_prefix === undefined ? hostPrefix : integerIn(params, 'vip_prefix', 1, hostPrefix);
  const sync = params.sync_interface ? interfaceName(params, 'sync_interface') : undefined;
  return {
    vip,
    family,
    nic,
    prefix,
    hostPrefix,
    forwarding: isTrue(params.forwarding),
    arpSender: oneOf(params, 'arp_sender', ['auto', 'send_arp', 'arping'] as const),
    arpCount: integerIn(params, 'arp_count', 1, 100),
    arpIntervalMs: integerIn(params, 'arp_interval', 10, 10_000),
    arpMode: oneOf(params, 'arp_mode', ['request', 'reply'] as const),
    ipvsCleanup: oneOf(params, 'ipvs_cleanup', ['vip', 'all', 'none'] as const),
    syncInterface: sync,
    syncId: integerIn(params, 'sync_id', 0, 255),
    duplicateIntervalMs: integerIn(params, 'duplicate_check_interval', 0, 3600) * 1000,
    linkHolddownMs: integerIn(params, 'link_holddown', 0, 3600) * 1000,
  };
}
