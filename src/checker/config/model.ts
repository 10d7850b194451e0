// The checker's configuration after parsing: ldirectord.cf with every default resolved.
// Field names follow ldirectord's directives so a reader can map one to the other.

export type Family = 4 | 6;
export type Forward = 'gate' | 'masq' | 'ipip';
export type VirtualProtocol = 'tcp' | 'udp' | 'fwm';
export type ServiceName =
  | 'dns' | 'ftp' | 'http' | 'https' | 'http_proxy' | 'imap' | 'imaps' | 'ldap' | 'ldaps' | 'mysql'
  | 'nntp' | 'none' | 'pgsql' | 'pop' | 'pops' | 'simpletcp' | 'sip' | 'smtp' | 'submission';

/** checktype: a named kind, or N = N connect checks between two negotiate checks. */
export type CheckType = 'connect' | 'negotiate' | 'ping' | 'external' | 'off' | 'on' | { combined: number };

/** Where a directive was written, for error messages. */
export interface Where {
  file: string;
  line: number;
}

export interface RealConfig {
  where: Where;
  family: Family;
  address: string;
  /** 0 when not given (fwmark services). */
  port: number;
  forward: Forward;
  /** Default 1. */
  weight: number;
  /** Per-real "request", "receive" pair; overrides the virtual's. */
  request?: string;
  receive?: string;
  lthreshold?: number;
  uthreshold?: number;
  /**
   * Resolved port for checks: the per-real URL's port, else the virtual's checkport, else this
   * real's port, else the service's well-known port, else the virtual's port (lvsd: ldirectord
   * has none there). Absent when none applies (fwmark, service none, real without port).
   */
  checkport?: number;
  /**
   * Host to check instead of `address`: set by a per-real request "http://host:port/path" (or
   * https:// for service https), whose path is then `request`. ldirectord still sends
   * `Host: virtualhost`, else the real's address, in that case.
   */
  checkhost?: string;
}

export interface FallbackConfig {
  family: Family;
  address: string;
  /** The virtual's port when not given. */
  port: number;
  forward: Forward;
}

export interface EmailConfig {
  /** Empty: no e-mail. */
  to: string[];
  /** Seconds between reminders while a real stays down; 0 = none. */
  freq: number;
  /** Daemon states in which alerts are sent. */
  status: Array<'starting' | 'running' | 'stopping' | 'reloading'>;
  from?: string;
  /** SMTP server; unset = local sendmail. */
  smtp?: string;
}

export interface VirtualConfig {
  where: Where;
  family: Family;
  protocol: VirtualProtocol;
  /** Absent for fwmark virtuals. */
  address?: string;
  /** 0 for fwmark virtuals. */
  port: number;
  fwmark?: number;
  reals: RealConfig[];

  scheduler: string;
  persistent?: number;
  netmask?: string;
  schedflags?: string;
  ops: boolean;

  checktype: CheckType;
  service: ServiceName;
  checkcommand: string;
  /** Resolved: checkport, else the real's port, else the service's default port. Absent = per real. */
  checkport?: number;
  /** Seconds, resolved as ldirectord does (checktimeout and negotiatetimeout are mutual defaults). */
  checktimeout: number;
  negotiatetimeout: number;
  checkcount: number;
  checkinterval: number;
  failurecount: number;
  /** lvsd: consecutive passed checks before a failed real returns. Default 1. */
  risecount: number;
  /** lvsd: seconds over which a returning real ramps up; 0 = off. */
  slowstart: number;

  request: string;
  receive: string;
  httpmethod: 'GET' | 'HEAD';
  virtualhost?: string;
  login: string;
  passwd: string;
  database: string;
  secret: string;

  quiescent: boolean;
  cleanstop: boolean;
  /** The address this service follows (in the kernel only while held on a non-lo interface); absent: always in. */
  follow?: string;
  fallback?: FallbackConfig;
  fallbackcommand?: string;
  email: EmailConfig;
  monitorfile?: string;
  servicename?: string;
  comment?: string;
}

export interface GlobalConfig {
  checkinterval: number;
  autoreload: boolean;
  callback?: string;
  /** A path, or a syslog facility name; default /var/log/ldirectord.log. */
  logfile: string;
  supervised: boolean;
  fork: boolean;
  readdquiescent: boolean;
  maintenancedir?: string;
  /** Other configuration names started, stopped and reloaded with this one (ldirectord's `execute`). */
  execute: string[];
  /** lvsd: host:port for Prometheus metrics; unset = no listener. */
  metrics?: string;
}

export interface CheckerConfig {
  file: string;
  globals: GlobalConfig;
  virtuals: VirtualConfig[];
  /** Non-fatal remarks (deprecated directives, ignored settings), each naming file and line. */
  warnings: string[];
}

/** ldirectord's identity of a virtual: protocol and address:port ([v6]:port) or the fwmark. */
export function virtualId(v: Pick<VirtualConfig, 'protocol' | 'address' | 'port' | 'fwmark' | 'family'>): string {
  if (v.protocol === 'fwm') return `fwm:${v.fwmark}${v.family === 6 ? ':6' : ''}`;
  const host = v.family === 6 ? `[${v.address}]` : v.address;
  return `${v.protocol}:${host}:${v.port}`;
}

/** A virtual for log lines: `198.51.100.100:80 (tcp)`, `[2001:db8::1]:53 (udp)`, `fwmark 7 (fwm)`. */
export function describeVirtual(v: Pick<VirtualConfig, 'protocol' | 'address' | 'port' | 'fwmark' | 'family'>): string {
  if (v.protocol === 'fwm') return `fwmark ${v.fwmark} (fwm${v.family === 6 ? ', IPv6' : ''})`;
  const host = v.family === 6 ? `[${v.address}]` : v.address;
  return `${host}:${v.port} (${v.protocol})`;
}
