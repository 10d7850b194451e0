// A real server as one check sees it. The same real in several virtuals with the same check
// settings is one RealCheck, checked once per round; its result applies to every member.
import { createHash } from 'node:crypto';
import type { CheckerConfig, RealConfig, VirtualConfig } from './config/model';
import type { CheckResult, CheckTarget } from './checks/types';
import { HealthState, type CheckKind } from './health';

export interface Member {
  virtual: VirtualConfig;
  real: RealConfig;
}

export interface LastCheck extends CheckResult {
  kind: CheckKind;
  at: number;
  latencyMs: number;
}

/** The real's port as IPVS uses it: DR and tunnelled reals of an address:port virtual get the virtual's port. */
export function effectivePort(v: VirtualConfig, r: RealConfig): number {
  return v.protocol !== 'fwm' && r.forward !== 'masq' ? v.port : r.port;
}

export function checkTarget(v: VirtualConfig, r: RealConfig): CheckTarget {
  const realPort = effectivePort(v, r);
  const t: CheckTarget = {
    family: r.family,
    // A per-real "http://host:port/path" request checks that host instead (ldirectord does).
    address: r.checkhost ?? r.address,
    // The parser resolved the port (URL, checkport, real, service, virtual); fwmark reals may have none.
    port: r.checkport ?? v.checkport ?? (realPort > 0 ? realPort : v.port),
    protocol: v.protocol === 'udp' ? 'udp' : 'tcp',
    service: v.service,
    request: r.request ?? v.request,
    receive: r.receive ?? v.receive,
    httpmethod: v.httpmethod,
    login: v.login,
    passwd: v.passwd,
    database: v.database,
    secret: v.secret,
    checkcount: v.checkcount,
    checkcommand: v.checkcommand,
    virtual: { protocol: v.protocol, port: v.port },
    realPort,
  };
  if (v.virtualhost !== undefined) t.virtualhost = v.virtualhost;
  if (v.address !== undefined) t.virtual.address = v.address;
  if (v.fwmark !== undefined) t.virtual.fwmark = v.fwmark;
  return t;
}

/** Everything that makes two checks the same check. Secrets enter only as a digest. */
export function realCheckId(v: VirtualConfig, r: RealConfig): string {
  const t = checkTarget(v, r);
  const type = typeof v.checktype === 'object' ? `combined${v.checktype.combined}` : v.checktype;
  const secret = createHash('sha256').update(`${t.passwd}\0${t.secret}`).digest('hex').slice(0, 12);
  const parts = [
    type, t.service, t.protocol, t.address, t.port, t.virtualhost ?? '', t.httpmethod, t.request, t.receive,
    t.login, t.database, secret, v.checktimeout, v.negotiatetimeout, v.checkinterval, v.failurecount, v.risecount,
    v.checkcount,
  ];
  // An external command is told which virtual it checks, so it is one check per virtual.
  if (v.checktype === 'external') parts.push(t.checkcommand, v.protocol, v.address ?? v.fwmark ?? '', v.port, t.realPort);
  return parts.join('|');
}

export class RealCheck {
  readonly members: Member[] = [];
  readonly state: HealthState;
  readonly target: CheckTarget;
  last?: LastCheck;
  running = false;
  /** Checks completed; the first repeat is jittered. */
  rounds = 0;
  timer?: NodeJS.Timeout;

  constructor(
    readonly id: string,
    first: Member,
  ) {
    this.state = new HealthState(first.virtual.checktype);
    this.target = checkTarget(first.virtual, first.real);
    this.members.push(first);
  }

  private get v(): VirtualConfig {
    return this.members[0]!.virtual;
  }

  get intervalMs(): number {
    return this.v.checkinterval * 1000;
  }

  get limits(): { failurecount: number; risecount: number } {
    return { failurecount: this.v.failurecount, risecount: this.v.risecount };
  }

  nextKind(): CheckKind {
    return this.state.nextKind(this.v.protocol);
  }

  timeoutMs(kind: CheckKind): number {
    return (kind === 'negotiate' ? this.v.negotiatetimeout : this.v.checktimeout) * 1000;
  }

  /** "198.51.100.21:80" for logs. */
  get label(): string {
    const host = this.target.family === 6 ? `[${this.target.address}]` : this.target.address;
    return `${host}:${this.target.port}`;
  }
}

/** The checks a configuration needs, keyed by id; checktype=off virtuals have none. */
export function buildChecks(config: CheckerConfig): Map<string, RealCheck> {
  const checks = new Map<string, RealCheck>();
  for (const virtual of config.virtuals) {
    if (virtual.checktype === 'off') continue;
    for (const real of virtual.reals) {
      const id = realCheckId(virtual, real);
      const existing = checks.get(id);
      if (existing) existing.members.push({ virtual, real });
      else checks.set(id, new RealCheck(id, { virtual, real }));
    }
  }
  return checks;
}
