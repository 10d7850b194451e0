// ldirectord's service names, their ports, and what lvsd does with them.
import type { ServiceName } from './model';

/** Every service ldirectord's parser accepts, in its order. */
export const LDIRECTORD_SERVICES = [
  'dns', 'ftp', 'http', 'https', 'http_proxy', 'imap', 'imaps', 'ldap', 'ldaps', 'mysql', 'nntp', 'none',
  'oracle', 'pgsql', 'pop', 'pops', 'radius', 'simpletcp', 'sip', 'smtp', 'submission',
] as const;
export type LdirectordService = (typeof LDIRECTORD_SERVICES)[number];

/** Services lvsd cannot check: no Oracle client, no RADIUS client in the binary. */
export const UNSUPPORTED_SERVICES: Partial<Record<LdirectordService, string>> = {
  oracle: 'lvsd has no Oracle client; use checktype=connect or an external check',
  radius: 'lvsd has no RADIUS client; use checktype=ping, connect or an external check',
};

/** Well-known port of each service (ldirectord's ld_service_to_port); its reverse gives the default service of a virtual port. */
export const SERVICE_PORTS: Record<Exclude<LdirectordService, 'none' | 'simpletcp'>, number> = {
  ftp: 21, smtp: 25, dns: 53, http: 80, pop: 110, nntp: 119, imap: 143, ldap: 389, https: 443,
  submission: 587, ldaps: 636, imaps: 993, pops: 995, oracle: 1521, radius: 1812, http_proxy: 3128,
  mysql: 3306, sip: 5060, pgsql: 5432,
};

/** The service ldirectord assumes for a virtual port when `service` is not set. */
export function portToService(port: number): LdirectordService {
  for (const [service, p] of Object.entries(SERVICE_PORTS)) if (p === port) return service as LdirectordService;
  return 'none';
}

export function servicePort(service: ServiceName): number | undefined {
  return service === 'none' || service === 'simpletcp' ? undefined : SERVICE_PORTS[service];
}

/** Services whose request is a path: ldirectord's leading "/" is meaningful for them. */
export const PATH_SERVICES: readonly ServiceName[] = ['http', 'https', 'ftp'];
