// maintenancedir as ldirectord reads it: a file named IP:PORT, IP, FQDN:PORT, FQDN, SHORT:PORT or
// SHORT forces that real down. The names come from reverse resolution of the real's address
// (getnameinfo, as ldirectord: /etc/hosts, then DNS). Unlike ldirectord, which resolves at every
// check, a name is looked up only while the directory holds a file that is not an address, and
// kept for a minute: no resolver traffic, and no thread-pool time, for the common IP-named files.
import { lookupService } from 'node:dns/promises';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

export interface MaintenanceReal {
  family: 4 | 6;
  address: string;
  port: number;
}

/** How long a name (or the lack of one) is trusted. */
const NAME_TTL_MS = 60_000;
/** A check waits at most this long for a name; the lookup goes on and fills the cache. */
const NAME_WAIT_MS = 2_000;
/** The directory's listing is read again after this long even when its mtime did not change. */
const LISTING_TTL_MS = 1_000;
/** Lookups at once: getnameinfo holds one of libuv's 4 threads, which file I/O shares. */
const LOOKUPS_AT_ONCE = 2;

/** The short name ldirectord derives: the first label, if the name starts lowercase and has a dot. */
export function shortName(fqdn: string): string | undefined {
  return /^([a-z][a-z0-9-]+)\./.exec(fqdn)?.[1];
}

/** File names that mean "this real is in maintenance", in ldirectord's order. */
export function maintenanceNames(real: MaintenanceReal, fqdn?: string): string[] {
  const host = real.family === 6 ? `[${real.address}]` : real.address;
  const hosts = [host];
  if (fqdn) hosts.push(fqdn);
  const short = fqdn ? shortName(fqdn) : undefined;
  if (short) hosts.push(short);
  return hosts.flatMap((h) => [`${h}:${real.port}`, h]);
}

/** Whether a file name in the directory is an address name (IP, IP:PORT, [IPv6], [IPv6]:PORT). */
export function isAddressName(name: string): boolean {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(name);
  if (m) return isIP(m[1]!) === 6;
  return isIP(name) === 4 || isIP(name.replace(/:\d+$/, '')) === 4;
}

/** getnameinfo's name for an address; undefined when it has none (NI_NAMEREQD, as ldirectord). */
async function reverseName(address: string): Promise<string | undefined> {
  try {
    const { hostname } = await lookupService(address, 0);
    return isIP(hostname) ? undefined : hostname;
  } catch {
    return undefined;
  }
}

interface Known {
  fqdn: string | undefined;
  at: number;
}

export class Maintenance {
  private readonly known = new Map<string, Known>();
  private readonly inFlight = new Map<string, Promise<string | undefined>>();
  private readonly queue: Array<() => void> = [];
  private running = 0;
  private listing?: { stamp: string; at: number; hostNames: boolean };

  constructor(
    private readonly reverse: (address: string) => Promise<string | undefined> = reverseName,
    private readonly now: () => number = Date.now,
    private readonly waitMs = NAME_WAIT_MS,
  ) {}

  /** The file in `dir` that puts this real in maintenance, if any. */
  async find(dir: string, real: MaintenanceReal): Promise<string | undefined> {
    const [byAddressPort, byAddress] = maintenanceNames(real);
    for (const name of [byAddressPort!, byAddress!]) if (existsSync(join(dir, name))) return name;
    if (!this.holdsHostNames(dir)) return undefined;
    const fqdn = await this.name(real.address);
    if (fqdn === undefined) return undefined;
    return maintenanceNames(real, fqdn)
      .slice(2)
      .find((name) => existsSync(join(dir, name)));
  }

  /**
   * Whether any file in the directory is named other than by an address. The listing is read again
   * when the directory changes, and at least every second: its mtime ticks coarsely, so a file
   * added in the same tick as the last read would otherwise go unseen.
   */
  private holdsHostNames(dir: string): boolean {
    let stamp: string;
    try {
      const st = statSync(dir);
      stamp = `${dir}:${st.ino}:${st.mtimeMs}`;
    } catch {
      return false;
    }
    const now = this.now();
    if (this.listing?.stamp !== stamp || now - this.listing.at >= LISTING_TTL_MS) {
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        /* unreadable: nothing to match */
      }
      this.listing = { stamp, at: now, hostNames: names.some((n) => !isAddressName(n)) };
    }
    return this.listing.hostNames;
  }

  /** The address's name: cached, else looked up (waiting at most waitMs). */
  private async name(address: string): Promise<string | undefined> {
    const known = this.known.get(address);
    const fresh = known !== undefined && this.now() - known.at < NAME_TTL_MS;
    if (fresh) return known.fqdn;
    const lookup = this.lookup(address);
    // A stale name serves while the new lookup runs.
    if (known !== undefined) return known.fqdn;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, this.waitMs, undefined);
    });
    try {
      return await Promise.race([lookup, waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  private lookup(address: string): Promise<string | undefined> {
    let p = this.inFlight.get(address);
    if (p) return p;
    p = (async () => {
      await this.slot();
      try {
        const fqdn = await this.reverse(address);
        this.known.set(address, { fqdn, at: this.now() });
        return fqdn;
      } finally {
        this.release();
        this.inFlight.delete(address);
      }
    })();
    this.inFlight.set(address, p);
    return p;
  }

  private async slot(): Promise<void> {
    if (this.running < LOOKUPS_AT_ONCE) {
      this.running++;
      return;
    }
    // release() hands its slot over.
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.running--;
  }
}
