// The kernel's IPVS table through ipvsadm(8): the only place that knows ipvsadm's syntax.
// The checker uses IpvsadmBackend (asynchronous, one `-S` to read, one `-R` batch to write); the lvs
// agent the synchronous calls below (its actions are short-lived processes).
import { failure, output, runAsync } from '../exec/run';
import { addressService, endpoint, fwmarkService, serviceKey, type ServiceId } from './service';
import type { ApplyReport, DestState, Forward, IpvsBackend, ServiceEntry, ServiceSpec, Table, TableChange } from './table';

const PROTOCOL_FLAG = { tcp: '-t', udp: '-u', sctp: '--sctp-service' } as const;
const FORWARD_FLAG: Record<Forward, string> = { gate: '-g', masq: '-m', ipip: '-i' };
const FLAG_FORWARD: Record<string, Forward> = { '-g': 'gate', '-m': 'masq', '-i': 'ipip' };

/** The service options of ipvsadm: ["-t", "198.51.100.100:80"], ["-f", "7", "-6"]. */
export function serviceArgs(id: ServiceId): string[] {
  if (id.protocol === 'fwmark') return ['-f', String(id.mark), ...(id.family === 6 ? ['-6'] : [])];
  const host = id.address.includes(':') ? `[${id.address}]` : id.address;
  return [PROTOCOL_FLAG[id.protocol], `${host}:${id.port}`];
}

/** "addr:port" or "[v6]:port" as ipvsadm writes a service or real. */
function splitEndpoint(text: string): { address: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  return m ? { address: m[1]!, port: Number(m[2]) } : undefined;
}

/** The service named by tokens [flag, target, ...rest] of an ipvsadm -S line. */
function parseServiceTokens(flag: string, target: string, rest: string[]): ServiceId | undefined {
  if (flag === '-f') {
    const mark = Number(target);
    return Number.isInteger(mark) ? fwmarkService(mark, rest.includes('-6') ? 6 : 4) : undefined;
  }
  const protocol = flag === '-t' ? 'tcp' : flag === '-u' ? 'udp' : flag === '--sctp-service' ? 'sctp' : undefined;
  const ep = splitEndpoint(target);
  return protocol && ep ? addressService(protocol, ep.address, ep.port) : undefined;
}

function optionValue(tokens: string[], flag: string): string | undefined {
  const i = tokens.indexOf(flag);
  return i >= 0 ? tokens[i + 1] : undefined;
}

/** Parses `ipvsadm -S -n` (service and destination rules). */
export function parseSaved(text: string): Table<DestState> {
  const table: Table<DestState> = new Map();
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    const [op, flag, target] = tokens;
    if (!flag || !target || (op !== '-A' && op !== '-a')) continue;
    const id = parseServiceTokens(flag, target, tokens);
    if (!id) continue;
    const key = serviceKey(id);
    if (op === '-A') {
      const spec: ServiceSpec = { id, scheduler: optionValue(tokens, '-s') ?? 'wlc', ops: tokens.includes('-o') };
      const p = optionValue(tokens, '-p');
      if (p !== undefined) spec.persistent = Number(p);
      const m = optionValue(tokens, '-M');
      if (m !== undefined) spec.netmask = m;
      const b = optionValue(tokens, '-b');
      if (b !== undefined) spec.schedflags = b;
      table.set(key, { spec, dests: new Map() });
    } else {
      const entry = table.get(key);
      const real = optionValue(tokens, '-r');
      const ep = real === undefined ? undefined : splitEndpoint(real);
      if (!entry || !real || !ep) continue;
      const target = endpoint(ep.address, ep.port);
      entry.dests.set(target, {
        target,
        forward: FLAG_FORWARD[tokens.find((t) => t in FLAG_FORWARD) ?? '-g'] ?? 'gate',
        weight: Number(optionValue(tokens, '-w') ?? 1),
        uthreshold: 0,
        lthreshold: 0,
        activeConns: 0,
        inactConns: 0,
      });
    }
  }
  return table;
}

const LISTED_FLAG: Record<string, string> = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service', FWM: '-f' };

/** Adds thresholds and connection counts from `ipvsadm -L -n --thresholds` to a parsed table. */
export function mergeThresholds(table: Table<DestState>, text: string): void {
  let current: ServiceEntry<DestState> | undefined;
  for (const line of text.split('\n')) {
    const svc = /^(TCP|UDP|SCTP|FWM)\s+(\S+)(\s+IPv6)?\s/.exec(line + ' ');
    if (svc) {
      const id = parseServiceTokens(LISTED_FLAG[svc[1]!]!, svc[2]!, svc[3] ? ['-6'] : []);
      current = id ? table.get(serviceKey(id)) : undefined;
      continue;
    }
    const dest = /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    const d = dest && current?.dests.get(dest[1]!);
    if (d) {
      d.uthreshold = Number(dest[2]);
      d.lthreshold = Number(dest[3]);
      d.activeConns = Number(dest[4]);
      d.inactConns = Number(dest[5]);
    }
  }
}

function serviceLine(op: '-A' | '-E', s: ServiceSpec): string {
  const parts = [op, ...serviceArgs(s.id), '-s', s.scheduler];
  if (s.persistent !== undefined) {
    parts.push('-p', String(s.persistent));
    if (s.netmask !== undefined) parts.push('-M', s.netmask);
  }
  if (s.ops) parts.push('-o');
  if (s.schedflags) parts.push('-b', s.schedflags);
  return parts.join(' ');
}

/** One ipvsadm rule line per change, in the order given (the input of `ipvsadm -R`). */
export function renderChanges(changes: TableChange[]): string[] {
  return changes.map((c) => {
    switch (c.op) {
      case 'add-service':
        return serviceLine('-A', c.service);
      case 'edit-service':
        return serviceLine('-E', c.service);
      case 'delete-service':
        return ['-D', ...serviceArgs(c.id)].join(' ');
      case 'add-dest':
      case 'edit-dest': {
        const d = c.dest;
        return [c.op === 'add-dest' ? '-a' : '-e', ...serviceArgs(c.id), '-r', d.target, FORWARD_FLAG[d.forward], '-w', d.weight, '-x', d.uthreshold, '-y', d.lthreshold].join(' ');
      }
      case 'delete-dest':
        return ['-d', ...serviceArgs(c.id), '-r', c.target].join(' ');
    }
  });
}

/**
 * The kernel's table through ipvsadm: one `ipvsadm -S -n` to read, one `ipvsadm -R` batch to write.
 * -S does not show thresholds or connection counts; a full read adds `ipvsadm -L -n --thresholds`.
 * Between full reads the thresholds are those this backend last wrote.
 */
export class IpvsadmBackend implements IpvsBackend {
  private thresholds?: Map<string, [number, number]>;

  /** `ipvsadm` is the path which() found: never a bare name (no PATH may be set). */
  constructor(private readonly ipvsadm: string) {}

  private async list(args: string[]): Promise<string> {
    const r = await runAsync(this.ipvsadm, args);
    if (r.code !== 0) throw new Error(failure([this.ipvsadm, ...args], r));
    return r.stdout;
  }

  /** `full`: also read thresholds and connection counts (always so on the first read). */
  async read(full = false): Promise<Table<DestState>> {
    const needFull = full || this.thresholds === undefined;
    const [saved, listing] = await Promise.all([this.list(['-S', '-n']), needFull ? this.list(['-L', '-n', '--thresholds']) : undefined]);
    const table = parseSaved(saved);
    if (listing !== undefined) {
      mergeThresholds(table, listing);
      this.thresholds = new Map();
      for (const [key, e] of table) for (const d of e.dests.values()) this.thresholds.set(`${key} ${d.target}`, [d.uthreshold, d.lthreshold]);
    } else {
      for (const [key, e] of table) {
        for (const d of e.dests.values()) [d.uthreshold, d.lthreshold] = this.thresholds!.get(`${key} ${d.target}`) ?? [0, 0];
      }
    }
    return table;
  }

  async apply(changes: TableChange[]): Promise<ApplyReport> {
    if (changes.length === 0) return { errors: [] };
    // -R runs each line as its own command and goes on after a kernel error; its exit code is the
    // last line's, so stderr is what tells whether everything applied.
    const r = await runAsync(this.ipvsadm, ['-R'], { input: renderChanges(changes).join('\n') + '\n', timeoutMs: 30_000 });
    const errors = r.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
    if (r.error || (r.code !== 0 && errors.length === 0)) errors.push(failure([this.ipvsadm, '-R'], r));
    if (errors.length > 0) this.thresholds = undefined; // which line failed is unknown: read all again
    else {
      for (const c of changes) {
        if (c.op === 'add-dest' || c.op === 'edit-dest') this.thresholds?.set(`${serviceKey(c.id)} ${c.dest.target}`, [c.dest.uthreshold, c.dest.lthreshold]);
        else if (c.op === 'delete-dest') this.thresholds?.delete(`${serviceKey(c.id)} ${c.target}`);
      }
    }
    return { errors };
  }
}

// ---- the lvs agent's synchronous calls --------------------------------------------------------

/** Every virtual service in the kernel. */
export function listServices(ipvsadm: string): ServiceId[] {
  return [...parseSaved(output(ipvsadm, ['-S', '-n'])).values()].map((e) => e.spec.id);
}

export function addService(ipvsadm: string, id: ServiceId, scheduler: string): void {
  output(ipvsadm, ['-A', ...serviceArgs(id), '-s', scheduler]);
}

export function deleteService(ipvsadm: string, id: ServiceId): void {
  output(ipvsadm, ['-D', ...serviceArgs(id)]);
}

export function clearServices(ipvsadm: string): void {
  output(ipvsadm, ['-C']);
}

export type SyncState = 'master' | 'backup';

export interface SyncDaemon {
  state: SyncState;
  iface: string;
  syncid: number;
}

export function syncDaemons(ipvsadm: string): SyncDaemon[] {
  const out: SyncDaemon[] = [];
  for (const line of output(ipvsadm, ['-L', '--daemon']).split('\n')) {
    const m = /^(master|backup) sync daemon \(mcast=([^,]+), syncid=(\d+)/.exec(line.trim());
    if (m) out.push({ state: m[1] as SyncState, iface: m[2]!, syncid: Number(m[3]) });
  }
  return out;
}

export function startSyncDaemon(ipvsadm: string, state: SyncState, iface: string, syncid: number): void {
  output(ipvsadm, ['--start-daemon', state, '--mcast-interface', iface, '--syncid', String(syncid)]);
}

export function stopSyncDaemon(ipvsadm: string, state: SyncState): void {
  output(ipvsadm, ['--stop-daemon', state]);
}
