// The identity of an IPVS virtual service, shared by the lvs agent and the checker. Typed, so that
// nobody builds or parses ipvsadm option strings outside src/ipvs/ipvsadm.ts.
import { type Family, ipFamily } from '../net/address';

export type ServiceProtocol = 'tcp' | 'udp' | 'sctp';

export type ServiceId =
  | { protocol: ServiceProtocol; family: Family; address: string; port: number }
  | { protocol: 'fwmark'; family: Family; mark: number };

/** The canonical text of an address: IPv6 compressed and lower case, as the kernel prints it. */
export function canonicalAddress(address: string): string {
  if (ipFamily(address) !== 6) return address;
  // The WHATWG URL serializer writes RFC 5952's canonical form.
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** "198.51.100.21:80", "[2001:db8::21]:80". */
export function endpoint(address: string, port: number): string {
  const a = canonicalAddress(address);
  return a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`;
}

/** A service of an address; the family comes from the address. */
export function addressService(protocol: ServiceProtocol, address: string, port: number): ServiceId {
  return { protocol, family: ipFamily(address) === 6 ? 6 : 4, address: canonicalAddress(address), port };
}

export function fwmarkService(mark: number, family: Family = 4): ServiceId {
  return { protocol: 'fwmark', family, mark };
}

/** A stable key for maps and sets: "tcp 198.51.100.100:80", "fwmark 7", "fwmark 8 ipv6". */
export function serviceKey(id: ServiceId): string {
  if (id.protocol === 'fwmark') return `fwmark ${id.mark}${id.family === 6 ? ' ipv6' : ''}`;
  return `${id.protocol} ${endpoint(id.address, id.port)}`;
}

/** For logs and status: "198.51.100.100:80 tcp", "fwmark 7", "fwmark 8 IPv6". */
export function describeService(id: ServiceId): string {
  if (id.protocol === 'fwmark') return `fwmark ${id.mark}${id.family === 6 ? ' IPv6' : ''}`;
  return `${endpoint(id.address, id.port)} ${id.protocol}`;
}

/** The address a service answers on; undefined for fwmark services. */
export function serviceAddress(id: ServiceId): string | undefined {
  return id.protocol === 'fwmark' ? undefined : id.address;
}
