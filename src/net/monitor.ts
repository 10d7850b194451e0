// Kernel network events (rtnetlink) as they happen, through `ip -o monitor` (Node has no netlink
// socket): one line per event, flushed by ip at once. For the long-lived processes only (lvsd, the
// link watcher); an OCF action reads the state directly.
import { type ChildProcess, spawn } from 'node:child_process';
import { onLines } from '../exec/lines';
import { runAsync } from '../exec/run';
import { canonicalAddress } from '../ipvs/service';
import type { Family } from './address';

/** Follows `ip -o monitor OBJECT`, restarting it if it dies; `onLine` gets each event line. */
export class IpMonitor {
  private child?: ChildProcess;
  private closed = false;
  private restartTimer?: NodeJS.Timeout;

  constructor(
    private readonly ip: string,
    private readonly object: 'address' | 'link',
    private readonly onLine: (line: string) => void,
    /** Called once the monitor runs (again): the caller reads the current state then. */
    private readonly onStart: () => void,
    private readonly onError: (message: string) => void,
  ) {}

  start(): void {
    if (this.closed) return;
    const child = spawn(this.ip, ['-o', 'monitor', this.object], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    onLines(child.stdout!, (line) => {
      if (line.trim()) this.onLine(line);
    });
    child.stderr!.resume();
    child.once('spawn', () => this.onStart());
    child.once('error', (err) => this.onError(`${this.ip} monitor ${this.object}: ${err.message}`));
    child.once('close', (code, signal) => {
      if (this.closed) return;
      this.onError(`${this.ip} monitor ${this.object} ended (${signal ?? `exit ${code}`}); restarting it`);
      this.restartTimer = setTimeout(() => this.start(), 1000);
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.restartTimer);
    this.child?.kill('SIGTERM');
  }
}

export interface AddressEvent {
  deleted: boolean;
  ifname: string;
  address: string;
  family: Family;
}

/** One line of `ip -o monitor address`: "[Deleted ]3: eth0    inet 198.51.100.100/24 scope global eth0\ ...". */
export function parseAddressEvent(line: string): AddressEvent | undefined {
  const m = /^(Deleted\s+)?\d+:\s+(\S+)\s+(inet6?)\s+([0-9A-Fa-f:.]+)\/\d+/.exec(line.trim());
  if (!m) return undefined;
  return { deleted: m[1] !== undefined, ifname: m[2]!, address: canonicalAddress(m[4]!), family: m[3] === 'inet6' ? 6 : 4 };
}

interface IpJsonLink {
  ifname?: string;
  addr_info?: Array<{ local?: string }>;
}

/**
 * The addresses configured on this node's interfaces, kept current from netlink events, and
 * whether an address is held on an interface other than lo (a VIP held by this director).
 * Events that arrive while a full listing is under way are applied again on top of it: events come
 * in order, so the last one for an address is its state.
 */
export class LocalAddresses {
  /** "ifname address" of every configured address. */
  private entries = new Set<string>();
  private heldNow = new Set<string>();
  private monitor: IpMonitor;
  private listing = false;
  private duringListing: AddressEvent[] = [];
  private refreshTimer?: NodeJS.Timeout;
  private firstListing?: { resolve: () => void; reject: (err: Error) => void };

  constructor(
    private readonly ip: string,
    /** The set of held addresses changed. */
    private readonly changed: () => void,
    private readonly log: (message: string) => void,
    /** A full listing this often, for an event lost in a restart of the monitor. */
    private readonly refreshMs = 30_000,
  ) {
    this.monitor = new IpMonitor(ip, 'address', (line) => this.onLine(line), () => void this.refresh(), log);
  }

  /** Starts following; resolves once the first listing is in. */
  start(): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => (this.firstListing = { resolve, reject }));
    this.monitor.start();
    this.refreshTimer = setInterval(() => void this.refresh(), this.refreshMs);
    this.refreshTimer.unref();
    return ready;
  }

  close(): void {
    clearInterval(this.refreshTimer);
    this.monitor.close();
  }

  /** Held on an interface other than lo. */
  held(address: string): boolean {
    return this.heldNow.has(canonicalAddress(address));
  }

  private onLine(line: string): void {
    const e = parseAddressEvent(line);
    if (!e) return;
    if (this.listing) this.duringListing.push(e);
    this.apply([e]);
  }

  private apply(events: AddressEvent[]): void {
    for (const e of events) {
      const entry = `${e.ifname} ${e.address}`;
      if (e.deleted) this.entries.delete(entry);
      else this.entries.add(entry);
    }
    this.recompute();
  }

  private recompute(): void {
    const held = new Set<string>();
    for (const entry of this.entries) {
      const [ifname, address] = entry.split(' ') as [string, string];
      if (ifname !== 'lo') held.add(address);
    }
    const same = held.size === this.heldNow.size && [...held].every((a) => this.heldNow.has(a));
    this.heldNow = held;
    if (!same) this.changed();
  }

  async refresh(): Promise<void> {
    if (this.listing) return;
    this.listing = true;
    this.duringListing = [];
    try {
      const r = await runAsync(this.ip, ['-j', 'addr', 'show']);
      if (r.code !== 0) throw new Error(`${this.ip} -j addr show: ${r.error ?? `exit ${r.code}`}: ${r.stderr.trim()}`);
      const entries = new Set<string>();
      for (const link of JSON.parse(r.stdout || '[]') as IpJsonLink[]) {
        for (const a of link.addr_info ?? []) if (link.ifname && a.local) entries.add(`${link.ifname} ${canonicalAddress(a.local)}`);
      }
      this.entries = entries;
      this.listing = false;
      this.apply(this.duringListing);
      this.firstListing?.resolve();
    } catch (err) {
      this.listing = false;
      this.log(`cannot list addresses: ${(err as Error).message}`);
      this.firstListing?.reject(err as Error);
    } finally {
      this.firstListing = undefined;
      this.duringListing = [];
    }
  }
}
