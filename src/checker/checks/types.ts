// What one health check needs and returns. Every check kind is one module in this folder with a
// function of type Check; the engine gives each call one total deadline through `signal`.
import type { Family, ServiceName, VirtualProtocol } from '../config/model';

export interface CheckTarget {
  family: Family;
  /** The real server's address. */
  address: string;
  /** Resolved check port (checkport, else the real's port, else the service's default). */
  port: number;
  /** tcp or udp as the virtual says (fwmark virtuals check over tcp). */
  protocol: 'tcp' | 'udp';
  service: ServiceName;
  /** request/receive after per-real overrides; receive is a regular expression source. */
  request: string;
  receive: string;
  httpmethod: 'GET' | 'HEAD';
  virtualhost?: string;
  login: string;
  passwd: string;
  database: string;
  secret: string;
  checkcount: number;
  checkcommand: string;
  /** The virtual as external checks receive it: VIP (or fwmark) and port. */
  virtual: { protocol: VirtualProtocol; address?: string; port: number; fwmark?: number };
  /** The real's own port (external checks get it). */
  realPort: number;
  /** Seconds until the signal aborts, when known: ping spreads its checkcount probes over it. */
  timeout?: number;
}

export interface CheckResult {
  up: boolean;
  /** Short reason, for logs and the monitorfile: "connect refused", "HTTP 503", "timed out after 5 s". */
  detail: string;
}

/**
 * Runs one check. It must resolve (never reject) and must stop all its I/O, sockets and child
 * processes when `signal` aborts; the engine resolves a timed-out check as down itself.
 */
export type Check = (target: CheckTarget, signal: AbortSignal) => Promise<CheckResult>;
