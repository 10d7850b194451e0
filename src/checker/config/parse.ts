// ldirectord.cf → CheckerConfig, with ldirectord's line rules (read_config) and defaults (ld_setup):
// - a line `virtual=`/`virtual6=` in column 0 opens a section; the lines after it that are indented
//   by ≥ 4 spaces (a tab counts as 4) belong to it; any other line ends it, a blank one included;
// - inside a section, `#` lines are skipped (even in column 0: they do not end it) and `#…` is cut
//   from every line; on global lines `#` is only a comment at the start;
// - inheritance (global → virtual) is resolved after the whole file, so order does not matter.
// Every problem of the file is collected; one ConfigError lists them all.
import { readFileSync } from 'node:fs';
import { hostname as nodeName } from 'node:os';
import { canonicalAddress } from '../../ipvs/service';
import { resolveHost, resolvePort, splitHostPort } from './address';
import { DIRECTIVE_BY_NAME, DIRECTIVES, type DirectiveContext, type FallbackDraft, type Settings } from './directives';
import { ConfigError, formatProblem, LocalValueError, ValueError, type ConfigProblem } from './errors';
import {
  virtualId,
  type CheckerConfig,
  type Family,
  type FallbackConfig,
  type GlobalConfig,
  type RealConfig,
  type ServiceName,
  type VirtualConfig,
  type VirtualProtocol,
} from './model';
import { MAX_REALS, type RealDraft } from './real';
import { caching, systemResolver, type Resolver } from './resolve';
import { NOT_SHOWN } from './values';
import { PATH_SERVICES, portToService, servicePort, UNSUPPORTED_SERVICES } from './services';

export interface ParseOptions {
  /** Name and service resolution; the system's (getent) by default. Tests inject their own. */
  resolver?: Resolver;
  /** HOSTNAME of the ftp/sip defaults `ldirectord@HOSTNAME`: $HOSTNAME, else the node name, as ldirectord. */
  hostname?: string;
}

interface Header {
  fwmark?: number;
  address?: string;
  portText?: string;
}

interface Section {
  line: number;
  family: Family;
  /** Undefined when the virtual= line itself is wrong (its lines are still read, for their errors). */
  header?: Header;
  settings: Settings;
  /** Line of each directive last set. */
  lines: Map<string, number>;
  /** Directives whose value was refused: no follow-up errors about them. */
  failed: Set<string>;
  protocol?: VirtualProtocol;
  port?: number;
}

const EMAIL_ALL: VirtualConfig['email']['status'] = ['starting', 'running', 'stopping', 'reloading'];
const MAX_MESSAGE = 300;
const DIRECTIVE_LINE = /^([A-Za-z0-9_-]+)\s*(?:=\s*(.*))?$/;

export function loadConfig(file: string, options: ParseOptions = {}): CheckerConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    // Missing or unreadable here; the same path may be fine on another node.
    throw new ConfigError([{ file, line: 0, message: `cannot read the configuration: ${(err as Error).message}`, local: true }]);
  }
  return parseConfig(text, file, options);
}

export function parseConfig(text: string, file: string, options: ParseOptions = {}): CheckerConfig {
  return new Parser(file, options).parse(text);
}

class Parser {
  private readonly problems: ConfigProblem[] = [];
  private readonly seenProblems = new Set<string>();
  private readonly warnings: string[] = [];
  private readonly resolver: Resolver;
  private readonly hostname: string;
  private readonly global: Settings = {};
  private readonly globalLines = new Map<string, number>();
  private readonly sections: Section[] = [];
  private readonly ids = new Map<string, number>();
  private realCount = 0;
  private realsRefused = false;

  constructor(
    private readonly file: string,
    options: ParseOptions,
  ) {
    this.resolver = caching(options.resolver ?? systemResolver);
    this.hostname = options.hostname ?? process.env.HOSTNAME ?? nodeName();
  }

  parse(text: string): CheckerConfig {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    let section: Section | undefined;
    lines.forEach((raw0, i) => {
      const line = i + 1;
      const raw = raw0.replace(/\r$/, '');
      if (section) {
        if (/^\s*#/.test(raw)) return;
        const cut = raw.replace(/#.*/, '');
        const m = /^ {4,}(\S.*)$/.exec(cut.replace(/\t/g, '    '));
        if (m) {
          this.directive(m[1]!.trimEnd(), line, section, cut !== raw);
          return;
        }
        this.finish(section);
        section = undefined;
        if (cut.trim() === '') return;
      }
      if (raw.trim() === '' || /^\s*#/.test(raw)) return;
      if (/^\s/.test(raw)) {
        this.problem(line, undefined, 'indented line outside a virtual section (section lines need 4 spaces or a tab, and a blank line ends a section)');
        return;
      }
      const m = DIRECTIVE_LINE.exec(raw.trimEnd());
      if (m && (m[1] === 'virtual' || m[1] === 'virtual6') && m[2] !== undefined) {
        section = this.open(m[1], m[2], line);
        return;
      }
      this.directive(raw.trimEnd(), line, undefined, false);
    });
    if (section) this.finish(section);

    const virtuals: VirtualConfig[] = [];
    for (const s of this.sections) {
      const v = this.build(s);
      if (v) virtuals.push(v);
    }
    if (this.problems.length) throw new ConfigError(this.problems);
    return { file: this.file, globals: this.globals(), virtuals, warnings: this.warnings };
  }

  private problem(line: number, directive: string | undefined, text: string, local = false): void {
    // Messages quote what was written: a 1 MB line must not make a 1 MB message.
    const message = text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
    const p: ConfigProblem = { file: this.file, line, message, ...(directive ? { directive } : {}), ...(local ? { local } : {}) };
    const key = formatProblem(p);
    if (this.seenProblems.has(key)) return;
    this.seenProblems.add(key);
    this.problems.push(p);
  }

  private warn(line: number, directive: string, message: string): void {
    this.warnings.push(formatProblem({ file: this.file, line, directive, message }));
  }

  /**
   * Runs `fn`, turning what it throws into a problem of `line`/`directive`; false when it failed.
   * Even an unexpected error stays a problem of its line: one bad value must not hide the others.
   */
  private attempt(line: number, directive: string, fn: () => void, suffix = '', secret?: string): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      const message = err instanceof ValueError ? err.message + suffix : `cannot read this value (${(err as Error).message})`;
      this.problem(line, directive, secret === undefined ? message : withoutSecret(message, secret), err instanceof LocalValueError);
      return false;
    }
  }

  /** The file's bound on reals (MAX_REALS), reported once, at the line that crosses it. */
  private readonly reserveReals = (count: number): boolean => {
    if (this.realsRefused) return false;
    if (this.realCount + count > MAX_REALS) {
      this.realsRefused = true;
      throw new ValueError(
        `this line brings the file to ${this.realCount + count} real servers, above lvsd's bound of ${MAX_REALS} (a range counts one per address); the reals after it are not read`,
      );
    }
    this.realCount += count;
    return true;
  };

  private open(name: 'virtual' | 'virtual6', value: string, line: number): Section {
    const family: Family = name === 'virtual6' ? 6 : 4;
    const section: Section = { line, family, settings: {}, lines: new Map(), failed: new Set() };
    this.attempt(line, name, () => {
      const v = value.trim();
      if (/^\d+$/.test(v)) {
        const mark = Number(v);
        if (mark < 1 || mark > 0xffffffff) throw new ValueError(`firewall mark ${v} is out of range (1..4294967295)`);
        section.header = { fwmark: mark };
        return;
      }
      const hp = splitHostPort(v);
      if (hp.port === undefined) throw new ValueError(`expected ADDRESS:PORT${family === 6 ? ' ([IPv6]:PORT)' : ''} or a firewall mark, not '${v}'`);
      section.header = { address: resolveHost(hp.host, hp.bracketed, family, this.resolver, 'virtual'), portText: hp.port };
    });
    return section;
  }

  private directive(body: string, line: number, section: Section | undefined, commentCut: boolean): void {
    const m = DIRECTIVE_LINE.exec(body);
    if (!m) {
      // `passwd TopS3cret` is no directive line, but it still holds a secret.
      const word = /^[A-Za-z0-9_-]*/.exec(body)![0].toLowerCase();
      const secret = DIRECTIVES.find((d) => d.secret && word.startsWith(d.name));
      if (secret) this.problem(line, undefined, `cannot read this ${secret.name} line (expected ${secret.name} = "value"; the line is ${NOT_SHOWN})`);
      else this.problem(line, undefined, `cannot read '${body}' (expected directive = value)`);
      return;
    }
    const name = m[1]!;
    const value = m[2]?.trimEnd();
    const d = DIRECTIVE_BY_NAME.get(name);
    if (!d) {
      this.problem(line, name, DIRECTIVE_BY_NAME.has(name.toLowerCase()) ? 'unknown directive (directive names are lower case)' : 'unknown directive');
      return;
    }
    if (section && (name === 'virtual' || name === 'virtual6')) {
      this.problem(line, name, 'a virtual service line must start in column 0');
      return;
    }
    if (!section && d.scope === 'virtual') {
      this.problem(line, name, 'only valid inside a virtual section (indent it by 4 spaces or a tab, below a virtual= line, with no blank line between)');
      return;
    }
    if (section && d.scope === 'global') {
      this.problem(line, name, 'a global directive: write it in column 0, outside virtual sections');
      return;
    }
    if (value === undefined && !d.bare) {
      this.problem(line, name, "expected '= value'");
      return;
    }
    const settings = section ? section.settings : this.global;
    const lines = section ? section.lines : this.globalLines;
    const ctx: DirectiveContext = {
      line,
      resolver: this.resolver,
      reserveReals: this.reserveReals,
      warn: (message) => this.warn(line, name, message),
      bare: value === undefined,
      ...(section ? { family: section.family } : {}),
      ...(section?.header ? { fwmark: section.header.fwmark !== undefined } : {}),
    };
    const hint = commentCut ? ' (a "#" starts a comment inside a virtual section)' : '';
    const ok = this.attempt(line, name, () => d.set(value ?? '', settings, ctx), hint, d.secret ? (value ?? '') : undefined);
    if (!ok) {
      section?.failed.add(name);
      return;
    }
    const before = lines.get(name);
    if (before !== undefined && !d.repeatable) this.warn(line, name, `set again; the value of line ${before} is replaced`);
    lines.set(name, line);
  }

  /** End of a section: its protocol, port and identity are now known. */
  private finish(section: Section): void {
    const h = section.header;
    if (!h) return;
    const s = section.settings;
    const fwm = h.fwmark !== undefined;
    section.protocol = s.protocol ?? (fwm ? 'fwm' : /^(53|domain)$/.test(h.portText ?? '') ? 'udp' : 'tcp');
    const name = section.family === 6 ? 'virtual6' : 'virtual';
    const ok = this.attempt(section.line, name, () => {
      section.port = fwm ? 0 : resolvePort(h.portText!, section.protocol === 'udp' ? 'udp' : 'tcp', this.resolver);
      if (section.port === 0 && !fwm && s.persistent === undefined) throw new ValueError('port 0 needs persistent= (IPVS accepts it only for persistent services)');
    });
    if (!ok) return;
    const id = virtualId({ protocol: section.protocol, address: h.address, port: section.port!, fwmark: h.fwmark, family: section.family });
    const first = this.ids.get(id);
    if (first !== undefined) {
      this.problem(section.line, name, `duplicate virtual service (also at line ${first})`);
      return;
    }
    this.ids.set(id, section.line);
    this.sections.push(section);
  }

  private globals(): GlobalConfig {
    const g = this.global;
    return {
      checkinterval: g.checkinterval ?? 10,
      autoreload: g.autoreload ?? false,
      ...(g.callback !== undefined ? { callback: g.callback } : {}),
      logfile: g.logfile ?? '/var/log/ldirectord.log',
      supervised: g.supervised ?? false,
      fork: g.fork ?? false,
      readdquiescent: g.readdquiescent ?? false,
      ...(g.maintenancedir !== undefined ? { maintenancedir: g.maintenancedir } : {}),
      execute: g.execute ?? [],
      ...(g.metrics !== undefined ? { metrics: g.metrics } : {}),
    };
  }

  private build(section: Section): VirtualConfig | undefined {
    const s = section.settings;
    const g = this.global;
    const h = section.header!;
    const protocol = section.protocol!;
    const port = section.port!;
    const fwm = h.fwmark !== undefined;
    const vname = section.family === 6 ? 'virtual6' : 'virtual';
    const at = (name: string) => section.lines.get(name) ?? section.line;
    const before = this.problems.length;

    const checktype = s.checktype ?? 'negotiate';
    const negotiates = checktype === 'negotiate' || typeof checktype === 'object';
    let service: ServiceName;
    if (s.service) service = s.service as ServiceName;
    else {
      const implied = fwm ? 'none' : portToService(port);
      const why = UNSUPPORTED_SERVICES[implied];
      if (why && negotiates && !section.failed.has('service')) {
        this.problem(section.line, vname, `port ${port} implies service ${implied}, which lvsd does not support (${why}); set service= or checktype=`);
      }
      service = why ? 'none' : (implied as ServiceName);
    }

    let ops = s.ops ?? false;
    if (ops && protocol !== 'udp') {
      this.warn(at('ops'), 'ops', 'ignored: one-packet scheduling applies to UDP virtual services only');
      ops = false;
    }
    if (s.netmask !== undefined && s.persistent === undefined) this.warn(at('netmask'), 'netmask', 'ignored without persistent=');

    const request = normalizeRequest(service, s.request);
    const receive = s.receive ?? '';
    const httpmethod = s.httpmethod ?? 'GET';
    if (httpmethod === 'HEAD' && receive) this.warn(at('httpmethod'), 'httpmethod', 'HEAD answers have no body, so the receive string can never match');

    const reals = this.reals(section, service, checktype, protocol, port);
    const fallback = this.fallback(s.fallback ?? (section.family === 6 ? g.fallback6 : g.fallback), protocol, port);

    const v: VirtualConfig = {
      where: { file: this.file, line: section.line },
      family: section.family,
      protocol,
      ...(h.address !== undefined ? { address: h.address } : {}),
      port,
      ...(fwm ? { fwmark: h.fwmark } : {}),
      reals,
      scheduler: s.scheduler ?? 'wrr',
      ...(s.persistent !== undefined ? { persistent: s.persistent } : {}),
      ...(s.netmask !== undefined && s.persistent !== undefined ? { netmask: s.netmask } : {}),
      ...(s.schedflags !== undefined ? { schedflags: s.schedflags } : {}),
      ops,
      checktype,
      service,
      checkcommand: s.checkcommand ?? '/bin/true',
      ...(s.checkport !== undefined ? { checkport: s.checkport } : {}),
      checktimeout: s.checktimeout ?? s.negotiatetimeout ?? g.checktimeout ?? g.negotiatetimeout ?? 5,
      negotiatetimeout: s.negotiatetimeout ?? s.checktimeout ?? g.negotiatetimeout ?? g.checktimeout ?? 30,
      checkcount: s.checkcount ?? g.checkcount ?? 1,
      checkinterval: s.checkinterval ?? g.checkinterval ?? 10,
      failurecount: s.failurecount ?? g.failurecount ?? 1,
      risecount: s.risecount ?? g.risecount ?? 1,
      slowstart: s.slowstart ?? g.slowstart ?? 0,
      request,
      receive,
      httpmethod,
      ...(s.virtualhost !== undefined ? { virtualhost: s.virtualhost } : {}),
      login: s.login ?? (service === 'ftp' ? 'anonymous' : service === 'sip' ? `ldirectord@${this.hostname}` : ''),
      passwd: s.passwd ?? (service === 'ftp' ? `ldirectord@${this.hostname}` : ''),
      database: s.database ?? '',
      secret: s.secret ?? '',
      quiescent: s.quiescent ?? g.quiescent ?? false,
      cleanstop: s.cleanstop ?? g.cleanstop ?? true,
      ...this.follow(section, s.followvip ?? g.followvip ?? true, h.address, fwm),
      ...(fallback ? { fallback } : {}),
      ...((s.fallbackcommand ?? g.fallbackcommand) !== undefined ? { fallbackcommand: s.fallbackcommand ?? g.fallbackcommand } : {}),
      email: {
        to: s.emailalert ?? g.emailalert ?? [],
        freq: s.emailalertfreq ?? g.emailalertfreq ?? 0,
        status: s.emailalertstatus ?? g.emailalertstatus ?? [...EMAIL_ALL],
        ...(g.emailalertfrom !== undefined ? { from: g.emailalertfrom } : {}),
        ...((s.smtp ?? g.smtp) !== undefined ? { smtp: s.smtp ?? g.smtp } : {}),
      },
      ...(s.monitorfile !== undefined ? { monitorfile: s.monitorfile } : {}),
      ...(s.servicename !== undefined ? { servicename: s.servicename } : {}),
      ...(s.comment !== undefined ? { comment: s.comment } : {}),
    };
    if (negotiates) this.requirements(section, v);
    return this.problems.length > before ? undefined : v;
  }

  /** followvip resolved: the address followed, if any; a fwmark service with none is warned about. */
  private follow(section: Section, value: boolean | string, address: string | undefined, fwm: boolean): { follow?: string } {
    if (value === false) return {};
    if (typeof value === 'string') return { follow: value };
    if (!fwm && address !== undefined) return { follow: canonicalAddress(address) };
    this.warn(
      section.lines.get('followvip') ?? section.line,
      'followvip',
      'a fwmark service has no address to follow: it is in the kernel on every node running lvsd; name its VIP with followvip=ADDRESS, or say followvip=no',
    );
    return {};
  }

  /** What a negotiate check of some services cannot run without (ldirectord fails such checks forever). */
  private requirements(section: Section, v: VirtualConfig): void {
    const at = (name: string) => section.lines.get(name) ?? section.line;
    const reals = v.reals.length ? v.reals : [{ request: undefined, receive: undefined }];
    if (v.service === 'http_proxy' && reals.some((r) => !/^https?:\/\//.test(r.request ?? v.request))) {
      this.problem(at('request'), 'request', 'service http_proxy needs an absolute URL, e.g. request="http://www.example.com/", fetched through each real server as a proxy');
    }
    if ((v.service === 'mysql' || v.service === 'pgsql') && (!v.login || reals.some((r) => !(r.request ?? v.request)))) {
      this.problem(at('service'), 'service', `${v.service} checks need login= and request= (an SQL query returning at least one row)`);
    }
    if (v.service === 'dns' && reals.some((r) => !(r.receive ?? v.receive))) {
      this.problem(at('service'), 'service', 'dns checks need receive= (an address or name expected in the answer)');
    }
  }

  private reals(section: Section, service: ServiceName, checktype: VirtualConfig['checktype'], protocol: VirtualProtocol, virtualPort: number): RealConfig[] {
    const s = section.settings;
    const name = section.family === 6 ? 'real6' : 'real';
    const needsPort = typeof checktype === 'object' || (checktype === 'connect' && protocol !== 'udp');
    const seen = new Map<string, number>();
    const out: RealConfig[] = [];
    for (const d of s.reals ?? []) {
      this.attempt(d.line, name, () => {
        const key = `${d.address} ${d.port}`;
        const first = seen.get(key);
        if (first !== undefined) throw new ValueError(`${realText(d)} is already a real server of this virtual (line ${first})`);
        seen.set(key, d.line);
        const r: RealConfig = {
          where: { file: this.file, line: d.line },
          family: d.family,
          address: d.address,
          port: d.port,
          forward: d.forward,
          weight: d.weight,
          ...(d.lthreshold !== undefined ? { lthreshold: d.lthreshold } : {}),
          ...(d.uthreshold !== undefined ? { uthreshold: d.uthreshold } : {}),
        };
        // ldirectord stops at the service's port; where it has none, an address virtual's port is
        // where IPVS sends the traffic of a real written without one.
        let checkport = s.checkport ?? (d.port > 0 ? d.port : (servicePort(service) ?? (virtualPort || undefined)));
        if (d.request !== undefined) {
          const url = (service === 'http' || service === 'https') && d.request.startsWith(`${service}://`) ? urlOverride(d.request) : undefined;
          if (url) {
            r.checkhost = url.host;
            checkport = url.port;
            r.request = url.path;
          } else r.request = normalizeRequest(service, d.request);
          r.receive = d.receive ?? '';
        }
        if (checkport !== undefined) r.checkport = checkport;
        else if (needsPort) throw new ValueError(`${realText(d)}: no port to check (give the real a port, or set checkport=)`);
        out.push(r);
      });
    }
    return out;
  }

  private fallback(draft: FallbackDraft | undefined, protocol: VirtualProtocol, port: number): FallbackConfig | undefined {
    if (!draft) return undefined;
    let p = port;
    const ok = this.attempt(draft.line, draft.family === 6 ? 'fallback6' : 'fallback', () => {
      if (draft.port !== undefined) p = resolvePort(draft.port, protocol === 'fwm' ? undefined : protocol, this.resolver);
    });
    return ok ? { family: draft.family, address: draft.address, port: p, forward: draft.forward } : undefined;
  }
}

/**
 * ldirectord prefixes every request with "/" and then strips it again in each check except
 * http(s) and ftp; this keeps the request as the check uses it.
 */
function normalizeRequest(service: ServiceName, request: string | undefined): string {
  if ((PATH_SERVICES as readonly string[]).includes(service)) {
    const r = request ?? '';
    return r.startsWith('/') ? r : `/${r}`;
  }
  if (request === undefined) return '';
  return request.startsWith('/') ? request.slice(1) : request;
}

/** A secret directive's message, unless some of the value slipped into it (the value helpers never put it there). */
function withoutSecret(message: string, value: string): string {
  const inner = value.replace(/^"|"$/g, '').trim();
  const parts = [value.trim(), inner, ...inner.split(/["\s]+/)].filter((p) => p.length >= 3);
  const said = message.replaceAll(NOT_SHOWN, '');
  return parts.some((p) => said.includes(p)) ? `invalid value (${NOT_SHOWN})` : message;
}

/** A per-real request "http://host:port/path": the check goes there instead (ldirectord ld_setup). */
function urlOverride(request: string): { host: string; port: number; path: string } {
  let url: URL;
  try {
    url = new URL(request);
  } catch {
    throw new ValueError(`invalid URL '${request}' in the per-real request`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { host, port, path: `${url.pathname}${url.search}` };
}

function realText(d: RealDraft): string {
  const host = d.family === 6 ? `[${d.address}]` : d.address;
  return d.port ? `${host}:${d.port}` : host;
}
