// Host and service names in ldirectord.cf are resolved while parsing, as ldirectord does with
// getaddrinfo/getservbyname. Literals never reach the resolver; tests inject their own.
import { run } from '../../exec/run';
import type { Family } from './model';

export interface Resolver {
  /** Addresses of a host name in one family, first preferred; empty when it does not resolve. */
  host(name: string, family: Family): string[];
  /** Port of a service name (for one protocol, or any when absent); undefined when unknown. */
  service(name: string, protocol?: 'tcp' | 'udp'): number | undefined;
}

/**
 * The system's resolver through getent(1), which asks NSS exactly as getaddrinfo and
 * getservbyname do (/etc/hosts, DNS, /etc/services). Synchronous, because the parser is.
 */
export const systemResolver: Resolver = {
  host(name, family) {
    const r = run('getent', [family === 4 ? 'ahostsv4' : 'ahostsv6', name], { timeoutMs: 15_000 });
    return r.code === 0 ? ahostsAddresses(r.stdout, family) : [];
  },
  service(name, protocol) {
    const r = run('getent', ['services', protocol ? `${name}/${protocol}` : name], { timeoutMs: 5_000 });
    return r.code === 0 ? servicesPort(r.stdout) : undefined;
  },
};

/** Addresses in `getent ahostsv4|ahostsv6` output, first first, each once. */
export function ahostsAddresses(stdout: string, family: Family): string[] {
  const found: string[] = [];
  for (const line of stdout.split('\n')) {
    const addr = line.split(/\s+/)[0];
    // ahostsv6 maps IPv4-only names to ::ffff:a.b.c.d; those are not IPv6 servers.
    if (!addr || found.includes(addr) || (family === 6 && addr.toLowerCase().startsWith('::ffff:'))) continue;
    found.push(addr);
  }
  return found;
}

/** The port in `getent services NAME[/PROTO]` output: "http  80/tcp www". */
export function servicesPort(stdout: string): number | undefined {
  const m = /^\S+\s+(\d+)\//.exec(stdout);
  return m ? Number(m[1]) : undefined;
}

/** Remembers answers for the length of one parse: a range or many reals repeat the same names. */
export function caching(resolver: Resolver): Resolver {
  const hosts = new Map<string, string[]>();
  const services = new Map<string, number | undefined>();
  return {
    host(name, family) {
      const key = `${family} ${name}`;
      if (!hosts.has(key)) hosts.set(key, resolver.host(name, family));
      return hosts.get(key)!;
    },
    service(name, protocol) {
      const key = `${protocol ?? ''} ${name}`;
      if (!services.has(key)) services.set(key, resolver.service(name, protocol));
      return services.get(key);
    },
  };
}
