// The IPVS table as data, read from and written to the kernel through ipvsadm(8).
// The checker only sees Table, TableChange and the IpvsBackend interface; ipvsadm's syntax stays here.
import { runAsync, failure } from '../exec/run';

export type Forward = 'gate' | 'masq' | 'ipip';

export interface ServiceSpec {
  /** ipvsadm's service option, the identity of a service: "-t 198.51.100.100:80", "-u [2001:db8::1]:53", "-f 7", "-f 7 -6". */
  key: string;
  scheduler: string;
  /** Persistence timeout in seconds; undefined = not persistent. */
  persistent?: number;
  /** Persistence netmask (dotted quad, or an IPv6 prefix length); only meaningful with persistent. */
  netmask?: string;
  /** Scheduler flags as ipvsadm -b takes them, e.g. "sh-fallback,sh-port". */
  schedflags?: string;
  ops: boolean;
}

export interface DestSpec {
  /** "198.51.100.21:80", "[2001:db8::21]:80". */
  target: string;
  forward: Forward;
  weight: number;
  uthreshold: number;
  lthreshold: number;
}

export interface DestState extends DestSpec {
  activeConns: number;
  inactConns: number;
}

export interface ServiceEntry<D extends DestSpec = DestSpec> {
  spec: ServiceSpec;
  dests: Map<string, D>;
}

export type Table<D extends DestSpec = DestSpec> = Map<string, ServiceEntry<D>>;

export type TableChange =
  | { op: 'add-service' | 'edit-service'; service: ServiceSpec }
  | { op: 'delete-service'; key: string }
  | { op: 'add-dest' | 'edit-dest'; key: string; dest: DestSpec }
  | { op: 'delete-dest'; key: string; target: string };

export interface ApplyReport {
  /** Lines the kernel (through ipvsadm) refused, with its message; empty when all applied. */
  errors: string[];
}

/** The narrow interface between the checker and the kernel. */
export interface IpvsBackend {
  /** `full` asks for connection counts too (slow start needs them); a cheaper read may leave them 0. */
  read(full?: boolean): Promise<Table<DestState>>;
  apply(changes: TableChange[]): Promise<ApplyReport>;
}

const FORWARD_FLAG: Record<Forward, string> = { gate: '-g', masq: '-m', ipip: '-i' };
const FLAG_FORWARD: Record<string, Forward> = { '-g': 'gate', '-m': 'masq', '-i': 'ipip' };

/** The key of a service, as ipvsadm names it. */
export function serviceKey(protocol: 'tcp' | 'udp' | 'fwm', target: string | number, family: 4 | 6 = 4): string {
  if (protocol === 'fwm') return `-f ${target}${family === 6 ? ' -6' : ''}`;
  return `${protocol === 'tcp' ? '-t' : '-u'} ${target}`;
}

/** "addr:port" as ipvsadm writes it ([v6]:port). */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

// ---- ipvsadm -S -n and -L -n --thresholds ----

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
    const key = flag === '-f' && tokens.includes('-6') ? `-f ${target} -6` : `${flag} ${target}`;
    if (op === '-A') {
      const spec: ServiceSpec = { key, scheduler: optionValue(tokens, '-s') ?? 'wlc', ops: tokens.includes('-o') };
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
      if (!entry || !real) continue;
      const forward = FLAG_FORWARD[tokens.find((t) => t in FLAG_FORWARD) ?? '-g'] ?? 'gate';
      entry.dests.set(real, {
        target: real,
        forward,
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

const PROTO_FLAG: Record<string, string> = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service', FWM: '-f' };

/** Adds thresholds and connection counts from `ipvsadm -L -n --thresholds` to a parsed table. */
export function mergeThresholds(table: Table<DestState>, text: string): void {
  let current: ServiceEntry<DestState> | undefined;
  for (const line of text.split('\n')) {
    const svc = /^(TCP|UDP|SCTP|FWM)\s+(\S+)(\s+IPv6)?\s/.exec(line + ' ');
    if (svc) {
      const flag = PROTO_FLAG[svc[1]!]!;
      current = table.get(flag === '-f' && svc[3] ? `-f ${svc[2]} -6` : `${flag} ${svc[2]}`);
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
  const parts = [op, s.key, '-s', s.scheduler];
  if (s.persistent !== undefined) {
    parts.push('-p', String(s.persistent));
    if (s.netmask !== undefined) parts.push('-M', s.netmask);
  }
  if (s.ops) parts.push('-o');
  if (s.schedflags) parts.push('-b', s.schedflags);
  return parts.join(' ');
}

/** One ipvsadm rule line per change, in the order given. */
export function renderChanges(changes: TableChange[]): string[] {
  return changes.map((c) => {
    switch (c.op) {
      case 'add-service':
        return serviceLine('-A', c.service);
      case 'edit-service':
        return serviceLine('-E', c.service);
      case 'delete-service':
        return `-D ${c.key}`;
      case 'add-dest':
      case 'edit-dest': {
        const d = c.dest;
        const op = c.op === 'add-dest' ? '-a' : '-e';
        return `${op} ${c.key} -r ${d.target} ${FORWARD_FLAG[d.forward]} -w ${d.weight} -x ${d.uthreshold} -y ${d.lthreshold}`;
      }
      case 'delete-dest':
        return `-d ${c.key} -r ${c.target}`;
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

  constructor(private readonly ipvsadm = 'ipvsadm') {}

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
        if (c.op === 'add-dest' || c.op === 'edit-dest') this.thresholds?.set(`${c.key} ${c.dest.target}`, [c.dest.uthreshold, c.dest.lthreshold]);
        else if (c.op === 'delete-dest') this.thresholds?.delete(`${c.key} ${c.target}`);
      }
    }
    return { errors };
  }
}
