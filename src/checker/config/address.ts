// Addresses and ports as ldirectord.cf writes them: a.b.c.d, [v6], host names, ports or service names.
import { isIP } from 'node:net';
import { LocalValueError, ValueError } from './errors';
import type { Family } from './model';
import type { Resolver } from './resolve';

export interface HostPort {
  /** Without brackets. */
  host: string;
  bracketed: boolean;
  port?: string;
}

/** Splits `host[:port]` or `[v6][:port]`; a bare IPv6 address (no brackets) is refused. */
export function splitHostPort(text: string): HostPort {
  let hosts = text;
  let port: string | undefined;
  if (!text.endsWith(']')) {
    const i = text.lastIndexOf(':');
    if (i >= 0) {
      hosts = text.slice(0, i);
      port = text.slice(i + 1);
      if ((hosts.includes(':') && !hosts.endsWith(']')) || !/^[A-Za-z0-9_-]+$/.test(port)) {
        throw new ValueError(`cannot read '${text}' (expected HOST:PORT, or [IPv6]:PORT)`);
      }
    }
  }
  if (hosts.startsWith('[')) {
    if (!hosts.endsWith(']')) throw new ValueError(`missing ']' in '${text}'`);
    return { host: hosts.slice(1, -1), bracketed: true, port };
  }
  return { host: hosts, bracketed: false, port };
}

// Starts alphanumeric: the name is passed to getent, where a leading '-' would read as an option.
const HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** An address of `family` for a literal or a host name; literals are checked, names resolved. */
export function resolveHost(host: string, bracketed: boolean, family: Family, resolver: Resolver, base: string): string {
  const literal = isIP(host);
  if (bracketed || literal === 6) {
    if (literal !== 6) throw new ValueError(`invalid IPv6 address '${host}'`);
    if (family === 4) throw new ValueError(`IPv6 address [${host}] needs ${base}6${base === 'virtual' ? '' : ' in a virtual6 section'}`);
    if (!bracketed) throw new ValueError(`an IPv6 address must be in brackets: [${host}]`);
    return canonical6(host);
  }
  if (literal === 4) {
    if (family === 6) throw new ValueError(`IPv4 address ${host} needs ${base}, not ${base}6`);
    return host;
  }
  if (/^\d+(\.\d+){3}$/.test(host)) throw new ValueError(`invalid IPv4 address '${host}'`);
  if (!HOSTNAME.test(host)) throw new ValueError(`invalid host name '${host}'`);
  const found = resolver.host(host, family)[0];
  // A name may resolve on another node (its DNS or /etc/hosts): this node's problem.
  if (!found) throw new LocalValueError(`cannot resolve host '${host}' to an ${family === 4 ? 'IPv4' : 'IPv6'} address`);
  return family === 6 ? canonical6(found) : found;
}

export interface ListenAddress {
  /** An IPv4 or IPv6 literal (without brackets), or a host name. */
  host: string;
  port: number;
}

/**
 * Where a listener (the metrics endpoint) binds: IPv4:PORT, [IPv6]:PORT or NAME:PORT. The host is
 * required: an empty one means every interface to Node, so that exposure must be asked for by
 * writing 0.0.0.0 or [::]. One rule for the directive, the command line and the OCF parameter.
 */
export function listenAddress(text: string): ListenAddress {
  const m = /^(?:\[([^\]]*)\]|([^[\]:]*)):(\d{1,5})$/.exec(text);
  if (!m) throw new ValueError(`expected HOST:PORT such as 127.0.0.1:9101 or [2001:db8::10]:9101, not '${text}'`);
  const [, v6, name = '', portText = ''] = m;
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new ValueError(`port ${port} is out of range (1..65535)`);
  if (v6 !== undefined) {
    if (isIP(v6) !== 6 || v6.includes('%')) throw new ValueError(`invalid IPv6 address '${v6}'`);
    return { host: v6, port };
  }
  if (name === '') throw new ValueError(`no address before ':${port}': write the address to listen on, such as 127.0.0.1:${port}, or 0.0.0.0:${port} / [::]:${port} for every interface`);
  if (isIP(name) === 4) return { host: name, port };
  if (/^\d+(\.\d+){3}$/.test(name)) throw new ValueError(`invalid IPv4 address '${name}'`);
  if (!HOSTNAME.test(name)) throw new ValueError(`invalid host name '${name}'`);
  return { host: name, port };
}

/** A port number (0..65535) or a service name looked up for `protocol` (any protocol when absent). */
export function resolvePort(text: string, protocol: 'tcp' | 'udp' | undefined, resolver: Resolver): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n > 65535) throw new ValueError(`port ${n} is out of range (0..65535)`);
    return n;
  }
  if (!/^[A-Za-z0-9]/.test(text)) throw new ValueError(`invalid port '${text}'`);
  const port = resolver.service(text, protocol);
  if (port === undefined) throw new LocalValueError(`unknown service name '${text}'${protocol ? ` for ${protocol}` : ''} (not in /etc/services)`);
  return port;
}

/** The usual lower-case, compressed text of an IPv6 address, so that one address has one spelling. */
export function canonical6(address: string): string {
  // isIP() accepts a zone (fe80::1%eth0); IPVS addresses have none, and URL would throw on it.
  const zone = address.indexOf('%');
  if (zone >= 0) throw new ValueError(`IPv6 address '${address}' has a zone index (${address.slice(zone)}): IPVS addresses have none`);
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    throw new ValueError(`invalid IPv6 address '${address}'`);
  }
}

export function ipv4ToInt(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}
