// Every directive of ldirectord.cf, in one table: the parser applies it, the reference
// (docs/checker-config.md) is generated from it. Behaviour follows ldirectord's read_config and
// ld_setup; where they and its man page differ, the code wins (see `lvsd` notes).
import { canonicalAddress } from '../../ipvs/service';
import { ipFamily } from '../../net/address';
import { listenAddress, resolveHost, splitHostPort } from './address';
import { ValueError } from './errors';
import type { CheckType, EmailConfig, Family, Forward, VirtualProtocol } from './model';
import { parseReal, type RealDraft, type Reserve } from './real';
import { receiveValue } from './receive';
import type { Resolver } from './resolve';
import { LDIRECTORD_SERVICES, UNSUPPORTED_SERVICES, type LdirectordService } from './services';
import {
  listOr,
  nonEmptyText,
  nonNegativeInteger,
  oneOf,
  optionallyQuoted,
  portNumber,
  positiveInteger,
  quoted,
  text,
  yesNo,
} from './values';

export type Scope = 'global' | 'virtual' | 'both';
export type EmailStatus = EmailConfig['status'][number];

export interface FallbackDraft {
  line: number;
  family: Family;
  address: string;
  /** As written (number or service name); the virtual's port when absent. */
  port?: string;
  forward: Forward;
}

/** What one scope (the globals, or one virtual section) wrote, before defaults and inheritance. */
export interface Settings {
  checktimeout?: number;
  negotiatetimeout?: number;
  checkcount?: number;
  checkinterval?: number;
  failurecount?: number;
  risecount?: number;
  slowstart?: number;
  quiescent?: boolean;
  cleanstop?: boolean;
  /** yes, no, or (in a virtual) the address whose holder forwards this service. */
  followvip?: boolean | string;
  /** Global: the IPv4 fallback. Virtual: its fallback (fallback or fallback6 by family). */
  fallback?: FallbackDraft;
  fallback6?: FallbackDraft;
  fallbackcommand?: string;
  emailalert?: string[];
  emailalertfreq?: number;
  emailalertstatus?: EmailStatus[];
  emailalertfrom?: string;
  smtp?: string;
  autoreload?: boolean;
  callback?: string;
  logfile?: string;
  execute?: string[];
  fork?: boolean;
  supervised?: boolean;
  readdquiescent?: boolean;
  maintenancedir?: string;
  metrics?: string;
  reals?: RealDraft[];
  checktype?: CheckType;
  service?: LdirectordService;
  checkcommand?: string;
  checkport?: number;
  request?: string;
  receive?: string;
  httpmethod?: 'GET' | 'HEAD';
  virtualhost?: string;
  login?: string;
  passwd?: string;
  database?: string;
  secret?: string;
  load?: string;
  scheduler?: string;
  persistent?: number;
  netmask?: string;
  schedflags?: string;
  protocol?: VirtualProtocol;
  ops?: boolean;
  monitorfile?: string;
  servicename?: string;
  comment?: string;
}

export interface DirectiveContext {
  /** The virtual section's family; undefined at global scope. */
  family?: Family;
  /** Whether the section is a fwmark virtual; undefined at global scope or after a broken header. */
  fwmark?: boolean;
  line: number;
  /** The line has no `= value` at all (only directives marked `bare` get here so). */
  bare: boolean;
  resolver: Resolver;
  /** Room for the reals of a real= line, within the file's bound. */
  reserveReals: Reserve;
  /** A non-fatal remark about this line. */
  warn(message: string): void;
}

export interface Directive {
  name: string;
  scope: Scope;
  /** Value syntax, for the reference. */
  syntax: string;
  /** Default when not set, for the reference. */
  default: string;
  summary: string;
  /** Where lvsd differs from ldirectord, or a code/man-page discrepancy it follows. */
  lvsd?: string;
  /** May be given several times in one scope. */
  repeatable?: boolean;
  /** Not in ldirectord. */
  lvsdOnly?: boolean;
  /** Accepted bare (no `= value`). */
  bare?: boolean;
  /** A password or shared secret: no message, warning or log ever shows its value. */
  secret?: boolean;
  /** Stores the value in `s`; throws ValueError when it does not fit. */
  set(value: string, s: Settings, ctx: DirectiveContext): void;
}

const CHECKTYPES = ['connect', 'negotiate', 'ping', 'external', 'off', 'on'] as const;
const EMAIL_STATES: EmailStatus[] = ['starting', 'running', 'stopping', 'reloading'];
const FACILITIES = [
  'auth', 'authpriv', 'cron', 'daemon', 'ftp', 'kern', 'lpr', 'mail', 'news', 'syslog', 'user', 'uucp',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
];

function checktype(value: string, ctx: DirectiveContext): CheckType {
  if (/^\d+$/.test(value)) return { combined: nonNegativeInteger(value) };
  if (value === 'external-perl') {
    ctx.warn('external-perl: lvsd runs the script as an external command (no embedded Perl), so it must be executable');
    return 'external';
  }
  if ((CHECKTYPES as readonly string[]).includes(value)) return value as CheckType;
  throw new ValueError(`unknown value '${value}' (expected connect, negotiate, ping, external, external-perl, off, on or a number)`);
}

function followVip(value: string, ctx: DirectiveContext): boolean | string {
  if (value === 'yes' || value === 'no') return value === 'yes';
  if (ctx.family === undefined) throw new ValueError(`'${value}' is not yes or no (an address is only taken in a virtual section)`);
  const family = ipFamily(value);
  if (family === undefined) throw new ValueError(`'${value}' is not yes, no or an IP address`);
  if (family !== ctx.family) throw new ValueError(`${value} is IPv${family}, the virtual service IPv${ctx.family}`);
  return canonicalAddress(value);
}

function service(value: string): LdirectordService {
  const name = oneOf(value, LDIRECTORD_SERVICES);
  const why = UNSUPPORTED_SERVICES[name];
  if (why) throw new ValueError(`${name} is not supported by lvsd: ${why}`);
  return name;
}

function emailStatus(value: string): EmailStatus[] {
  const items = value.split(/\s*,\s*/);
  if (items.includes('none')) {
    if (items.length > 1) throw new ValueError(`'none' cannot be combined with other states in '${value}'`);
    return [];
  }
  const states = new Set<EmailStatus>();
  for (const item of items) {
    if (item === 'all') EMAIL_STATES.forEach((s) => states.add(s));
    else states.add(oneOf(item, EMAIL_STATES, ', all or none'));
  }
  return EMAIL_STATES.filter((s) => states.has(s));
}

function emailAddresses(value: string): string[] {
  const list = optionallyQuoted(value).split(/\s*,\s*/).filter(Boolean);
  if (list.length === 0) throw new ValueError('no e-mail address given');
  return list;
}

function smtpHost(value: string): string {
  if (!/^[0-9A-Za-z._+-]+$/.test(value)) throw new ValueError(`expected a host name or IPv4 address, not '${value}'`);
  return value;
}

function fallback(value: string, family: Family, resolver: Resolver): FallbackDraft {
  const parts = value.split(/\s+/);
  if (!parts[0] || parts.length > 2) throw new ValueError(`expected HOST[:PORT] [gate|masq|ipip], not '${value}'`);
  const hp = splitHostPort(parts[0]);
  const forward = parts[1] === undefined ? 'gate' : oneOf(parts[1], ['gate', 'masq', 'ipip'] as const, ' as forwarding method');
  const address = resolveHost(hp.host, hp.bracketed, family, resolver, 'fallback');
  return { line: 0, family, address, ...(hp.port !== undefined ? { port: hp.port } : {}), forward };
}

function setFallback(name: 'fallback' | 'fallback6', value: string, s: Settings, ctx: DirectiveContext): void {
  const family: Family = name === 'fallback6' ? 6 : 4;
  if (ctx.family !== undefined && ctx.family !== family) {
    throw new ValueError(ctx.family === 6 ? 'a virtual6 section takes fallback6' : 'a virtual section takes fallback, not fallback6');
  }
  const draft = { ...fallback(value, family, ctx.resolver), line: ctx.line };
  if (ctx.family === undefined && family === 6) s.fallback6 = draft;
  else s.fallback = draft;
}

function netmask(value: string, family: Family | undefined): string {
  if (family === 6) {
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 128) {
      throw new ValueError(`expected a prefix length between 1 and 128 for an IPv6 virtual, not '${value}'`);
    }
    return value;
  }
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(value);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) throw new ValueError(`expected a dotted-quad netmask such as 255.255.255.0, not '${value}'`);
  return value;
}

function logfile(value: string): string {
  const v = quoted(value);
  if (!v.startsWith('/') && !FACILITIES.includes(v)) {
    throw new ValueError(`'${v}' is neither an absolute path nor a syslog facility (${listOr(FACILITIES)})`);
  }
  return v;
}

/** Appends in place: copying the list for every real= line made parsing quadratic. */
function addReals(s: Settings, reals: RealDraft[]): void {
  const list = (s.reals ??= []);
  for (const r of reals) list.push(r);
}

const TIMEOUT_RULE = 'checktimeout and negotiatetimeout default to each other: per virtual, then global, then 5 s / 30 s';

/** The table. Order: ldirectord's man page (globals, then the virtual section), then lvsd's own. */
export const DIRECTIVES: readonly Directive[] = [
  {
    name: 'virtual', scope: 'global', syntax: 'IPv4:PORT | HOST:PORT | FWMARK', default: '—',
    summary: 'Starts a virtual service section; PORT may be a service name. Lines after it indented by ≥ 4 spaces or a tab belong to it; a blank line or a line in column 0 ends it.',
    lvsd: 'HOST is resolved while parsing (getaddrinfo through getent); a name that does not resolve is an error (of this node: ocf:heartbeat:lvsd answers ERR_INSTALLED, not ERR_CONFIGURED, as for a configuration file missing here). An IPv6 zone (%eth0) is an error: IPVS addresses have none.',
    repeatable: true,
    set() { /* handled by the parser: it opens a section */ },
  },
  {
    name: 'virtual6', scope: 'global', syntax: '[IPv6]:PORT | HOST:PORT | FWMARK', default: '—',
    summary: 'Starts an IPv6 virtual service section (reals are real6, fallback is fallback6).',
    repeatable: true,
    set() { /* handled by the parser */ },
  },
  {
    name: 'checktimeout', scope: 'both', syntax: 'seconds ≥ 1', default: 'negotiatetimeout, else 5',
    summary: `Timeout of connect, ping and external checks. ${TIMEOUT_RULE}.`,
    set(v, s) { s.checktimeout = positiveInteger(v); },
  },
  {
    name: 'negotiatetimeout', scope: 'both', syntax: 'seconds ≥ 1', default: 'checktimeout, else 30',
    summary: `Timeout of negotiate checks. ${TIMEOUT_RULE}.`,
    set(v, s) { s.negotiatetimeout = positiveInteger(v); },
  },
  {
    name: 'connecttimeout', scope: 'both', syntax: '—', default: '—',
    summary: 'Removed from ldirectord: an error, as in ldirectord.',
    set() { throw new ValueError('removed from ldirectord in favour of negotiatetimeout'); },
  },
  {
    name: 'timeout', scope: 'global', syntax: '—', default: '—',
    summary: 'Removed from ldirectord: an error, as in ldirectord.',
    set() { throw new ValueError('removed from ldirectord in favour of checktimeout and negotiatetimeout'); },
  },
  {
    name: 'checkinterval', scope: 'both', syntax: 'seconds ≥ 1', default: '10',
    summary: 'Seconds between two checks of a real server.',
    lvsd: 'ldirectord honours a per-virtual value only with fork=yes (and warns otherwise); lvsd always honours it, without a warning.',
    set(v, s) { s.checkinterval = positiveInteger(v); },
  },
  {
    name: 'checkcount', scope: 'both', syntax: 'count ≥ 1', default: '1',
    summary: 'Deprecated: attempts of a ping check. Warns, as ldirectord does.',
    set(v, s, ctx) {
      s.checkcount = positiveInteger(v);
      ctx.warn("deprecated and slated for removal in ldirectord; see 'failurecount'");
    },
  },
  {
    name: 'failurecount', scope: 'both', syntax: 'count ≥ 1', default: '1',
    summary: 'Consecutive failed checks before a real server is taken out; a passed check resets the count.',
    set(v, s) { s.failurecount = positiveInteger(v); },
  },
  {
    name: 'autoreload', scope: 'global', syntax: 'yes | no', default: 'no',
    summary: 'Reload when the configuration file changes on disk.',
    lvsd: 'The file is compared by content every second (a touch alone does not reload). As every reload, the file is parsed in a child process: checks and /metrics go on meanwhile; a file that does not parse leaves the running configuration in place.',
    set(v, s) { s.autoreload = yesNo(v); },
  },
  {
    name: 'callback', scope: 'global', syntax: '"/path"', default: 'unset',
    summary: 'Run with the configuration file as argument when the file changed on disk (with or without autoreload); skipped, with a warning, when it is not executable. Quotes required, as in ldirectord.',
    set(v, s) { s.callback = quoted(v); },
  },
  {
    name: 'fallback', scope: 'both', syntax: 'HOST[:PORT] [gate | masq | ipip]', default: 'unset; PORT = the virtual\'s port, forwarding gate',
    summary: 'Server added (weight 1) while every real server of a virtual is down. Global: for all IPv4 virtuals; in a section: for that virtual.',
    lvsd: 'A global fallback also applies to fwmark virtuals (ldirectord\'s lookup breaks for them).',
    set(v, s, ctx) { setFallback('fallback', v, s, ctx); },
  },
  {
    name: 'fallback6', scope: 'both', syntax: '[IPv6][:PORT] [gate | masq | ipip]', default: 'unset; as fallback',
    summary: 'IPv6 fallback: global for all virtual6 services, or inside a virtual6 section.',
    set(v, s, ctx) { setFallback('fallback6', v, s, ctx); },
  },
  {
    name: 'fallbackcommand', scope: 'both', syntax: '"/path" or /path', default: 'unset',
    summary: 'Run as `COMMAND start|stop VIP:VPORT PROTOCOL` when the last real server goes down / the first comes back.',
    set(v, s) { s.fallbackcommand = optionallyQuoted(v); },
  },
  {
    name: 'logfile', scope: 'global', syntax: '"/path" | "facility"', default: '/var/log/ldirectord.log',
    summary: 'Log file (absolute path, opened per line), or a syslog facility. Quotes required, as in ldirectord. Not used with -d (stderr) or supervised=yes (stdout).',
    lvsd: 'A value that is neither an absolute path nor a syslog facility is an error; the parser does not open the file (ldirectord does while parsing). Under systemd lvsd logs to the journal instead.',
    set(v, s) { s.logfile = logfile(v); },
  },
  {
    name: 'emailalert', scope: 'both', syntax: '"addr[, addr…]"', default: 'none',
    summary: 'Where to mail real server state changes. Quotes optional.',
    set(v, s) { s.emailalert = emailAddresses(v); },
  },
  {
    name: 'emailalertfrom', scope: 'global', syntax: 'text', default: 'lvsd@HOSTNAME',
    summary: 'From header of the alerts, kept exactly as written (quotes included, as the man page says).',
    lvsd: 'The SMTP envelope sender is the address in it (ldirectord: always USER@HOST).',
    set(v, s) { s.emailalertfrom = nonEmptyText(v); },
  },
  {
    name: 'emailalertfreq', scope: 'both', syntax: 'seconds ≥ 0', default: '0',
    summary: 'Repeat the alert every N seconds while a real server stays down; 0 = never.',
    set(v, s) { s.emailalertfreq = nonNegativeInteger(v); },
  },
  {
    name: 'emailalertstatus', scope: 'both', syntax: 'all | none | starting,running,stopping,reloading', default: 'all',
    summary: 'Daemon states in which alerts are sent; none cannot be combined.',
    set(v, s) { s.emailalertstatus = emailStatus(v); },
  },
  {
    name: 'smtp', scope: 'both', syntax: 'HOST', default: 'unset (local sendmail)',
    summary: 'SMTP server for the alerts (port 25; no TLS, no authentication).',
    set(v, s) { s.smtp = smtpHost(v); },
  },
  {
    name: 'execute', scope: 'global', syntax: '"configuration" or configuration', default: 'none',
    summary: 'Another configuration started, stopped and reloaded with this one, through the ldirectord command line: `ldirectord NAME start` once this lvsd runs, `ldirectord NAME stop` before it stops, and on a reload `stop` for names gone, `reload` (else `start`) for names kept, `start` for new ones; `ldirectord CONFIG status` shows theirs too. NAME is found as ldirectord finds its files (/etc/ha.d/NAME, /etc/ha.d/conf/NAME, NAME). May be repeated.',
    lvsd: 'The commands run one at a time beside the checks instead of before them; a name that is this configuration itself is skipped with a warning. Under pacemaker, prefer one ocf:heartbeat:lvsd resource per configuration: an instance started by execute is not monitored by the cluster.',
    repeatable: true,
    set(v, s) {
      const name = optionallyQuoted(v);
      s.execute = [...(s.execute ?? []).filter((e) => e !== name), name];
    },
  },
  {
    name: 'supervised', scope: 'global', syntax: 'yes | no', default: 'no',
    summary: 'yes: `ldirectord start` stays in the foreground (for daemontools and the like) and logs to stdout as `[time] message`, instead of the logfile. A bare `supervised` means yes, with a warning (as ldirectord).',
    lvsd: 'Also applies to `lvskit checker` (under systemd the journal is used all the same). ocf:heartbeat:lvsd always runs lvsd detached, which then logs to the logfile. lvsd writes its pid file in the foreground too, so `ldirectord CONFIG stop|status|reload` find it.',
    bare: true,
    set(v, s, ctx) {
      if (ctx.bare) {
        ctx.warn('a bare supervised means supervised = yes; write it so');
        s.supervised = true;
      } else s.supervised = yesNo(v);
    },
  },
  {
    name: 'fork', scope: 'global', syntax: 'yes | no', default: 'no',
    summary: 'ldirectord: one process per virtual.',
    lvsd: 'Accepted and recorded; lvsd always checks every real server concurrently.',
    set(v, s) { s.fork = yesNo(v); },
  },
  {
    name: 'quiescent', scope: 'both', syntax: 'yes | no', default: 'no',
    summary: 'yes: a failed real server stays in the table with weight 0 instead of being removed.',
    lvsd: 'The man page says the default is yes; ldirectord\'s code (and so lvsd) defaults to no.',
    set(v, s) { s.quiescent = yesNo(v); },
  },
  {
    name: 'readdquiescent', scope: 'global', syntax: 'yes | no', default: 'no',
    summary: 'With quiescent=yes: a failed real server missing from the table (removed by hand) is re-added with weight 0.',
    set(v, s) { s.readdquiescent = yesNo(v); },
  },
  {
    name: 'cleanstop', scope: 'both', syntax: 'yes | no', default: 'yes',
    summary: 'yes: remove the virtual services of this file when stopping (never other services in the table).',
    set(v, s) { s.cleanstop = yesNo(v); },
  },
  {
    name: 'followvip', scope: 'both', syntax: 'yes | no | ADDRESS (virtual only)', default: 'yes',
    summary:
      'yes: the virtual service is in the kernel only while its address is on an interface of this node other than lo ' +
      '(the director holding the VIP), so that lvsd can run on every director without standby directors forwarding ' +
      '(a loop where directors are also real servers). ADDRESS, in a fwmark virtual: the VIP it follows. ' +
      'no: always in the kernel, as ldirectord.',
    lvsd: 'fwmark virtuals have no address: without followvip=ADDRESS they are always in the kernel, with a warning.',
    lvsdOnly: true,
    set(v, s, ctx) { s.followvip = followVip(v, ctx); },
  },
  {
    name: 'maintenancedir', scope: 'global', syntax: '/directory', default: 'unset',
    summary: 'A file named IP:PORT, IP, FQDN:PORT, FQDN, SHORT:PORT or SHORT in it forces that real server down.',
    lvsd: 'Quotes are optional and removed; the parser does not look at the directory (ldirectord warns if it is missing). Reverse names are looked up only while the directory holds a file not named by an address, and kept a minute (ldirectord: at every check).',
    set(v, s) { s.maintenancedir = optionallyQuoted(v); },
  },
  {
    name: 'real', scope: 'virtual', syntax: 'HOST[->HOST][:PORT] gate|masq|ipip [WEIGHT] ["REQUEST", "RECEIVE"] [l:N] [u:N]', default: '—',
    summary: 'A real server (or an IPv4 range, one per address). PORT 0 when omitted; WEIGHT 1. The optional pair overrides the virtual\'s request/receive; an http(s):// request also moves the check to that URL\'s host and port. l:/u: are IPVS connection thresholds.',
    lvsd: 'Thresholds are bare `l:N u:N` as in ldirectord\'s code, in either order; the man page\'s quoted `"<l:N>" "<u:N>"`, which ldirectord silently reads as a request/receive pair, is an error. l without u, or l > u, is an error (the kernel refuses it). Ranges above 65536 addresses, duplicate reals and more than 100000 reals in one file (all virtuals, a range counting one per address) are errors.',
    repeatable: true,
    set(v, s, ctx) {
      if (ctx.family === 6) throw new ValueError('a virtual6 section takes real6');
      addReals(s, parseReal(v, 4, ctx.line, ctx.resolver, ctx.reserveReals));
    },
  },
  {
    name: 'real6', scope: 'virtual', syntax: '[IPv6][:PORT] gate|masq|ipip [WEIGHT] ["REQUEST", "RECEIVE"] [l:N] [u:N]', default: '—',
    summary: 'An IPv6 real server, in a virtual6 section. No ranges.',
    repeatable: true,
    set(v, s, ctx) {
      if (ctx.family === 4) throw new ValueError('a virtual section takes real, not real6');
      addReals(s, parseReal(v, 6, ctx.line, ctx.resolver, ctx.reserveReals));
    },
  },
  {
    name: 'checktype', scope: 'virtual', syntax: 'connect | negotiate | ping | external | external-perl | off | on | N', default: 'negotiate',
    summary: 'N: N connect checks between two negotiate checks. off: no checks; the virtual service goes in without real servers (and without fallback). on: no checks, every real server up. connect on a UDP virtual pings (ldirectord).',
    lvsd: 'external-perl runs the script as an external command, with a warning.',
    set(v, s, ctx) { s.checktype = checktype(v, ctx); },
  },
  {
    name: 'service', scope: 'virtual', syntax: LDIRECTORD_SERVICES.filter((x) => !UNSUPPORTED_SERVICES[x]).join(' | '), default: 'by the virtual\'s port (21 ftp, 25 smtp, 53 dns, 80 http, 110 pop, 119 nntp, 143 imap, 389 ldap, 443 https, 587 submission, 636 ldaps, 993 imaps, 995 pops, 3128 http_proxy, 3306 mysql, 5060 sip, 5432 pgsql), else none; fwmark: none',
    summary: 'What a negotiate check speaks.',
    lvsd: 'oracle and radius (ldirectord) are errors: lvsd has no client for them. A virtual on port 1521 or 1812 without service= is an error only when its checks would negotiate.',
    set(v, s) { s.service = service(v); },
  },
  {
    name: 'checkcommand', scope: 'virtual', syntax: '"/path" or /path', default: '/bin/true',
    summary: 'Program of external checks, run as `COMMAND VIP|FWMARK VPORT RIP RPORT`; exit 0 = up.',
    set(v, s) { s.checkcommand = optionallyQuoted(v); },
  },
  {
    name: 'checkport', scope: 'virtual', syntax: '1..65535', default: 'the real\'s port, else the service\'s port, else the virtual\'s',
    summary: 'Port checked instead of the real\'s.',
    lvsd: 'Where ldirectord has no port to check (real without port, service without one), lvsd checks the virtual\'s port, where IPVS sends that real\'s traffic; a fwmark virtual\'s connect check with no port at all is an error.',
    set(v, s) { s.checkport = portNumber(v); },
  },
  {
    name: 'request', scope: 'virtual', syntax: '"text"', default: '"/" for http, https, ftp; else empty',
    summary: 'URI path (http, https), absolute URL (http_proxy), file (ftp), name (dns), base DN (ldap), query (mysql, pgsql), payload with \\n escapes (simpletcp). Quotes required.',
    lvsd: 'ldirectord prefixes every request with "/" and each check strips it again except http(s) and ftp; lvsd stores the request as the check uses it ("/" added for http, https, ftp; one leading "/" removed for the others).',
    set(v, s) { s.request = quoted(v); },
  },
  {
    name: 'receive', scope: 'virtual', syntax: '"Perl regular expression"', default: 'empty (any answer)',
    summary: 'What the answer must match: the body (http, https, http_proxy), a line with its newline (simpletcp), the file (ftp), the entry\'s DN (ldap); for dns the exact address or name expected. Quotes required; inside a section a "#" starts a comment, so it cannot appear here.',
    lvsd: 'Matched as Perl matches bytes (POSIX classes, (?imsx) anywhere, \\A \\z \\Z, $ before a final newline), in time linear in the answer, and compiled when the file is read: what a linear-time matcher cannot do (look-around, back-references, atomic groups, possessive quantifiers, recursion, code, \\G, \\R, /u, /l) or what Perl versions read differently ({,n}, unknown escapes) is an error naming the line, where ldirectord fails every check at run time.',
    set(v, s) { s.receive = receiveValue(quoted(v)); },
  },
  {
    name: 'httpmethod', scope: 'virtual', syntax: 'GET | HEAD', default: 'GET',
    summary: 'HTTP method; any case.',
    lvsd: 'HEAD with a receive string warns: a HEAD answer has no body to match.',
    set(v, s) { s.httpmethod = oneOf(v.toUpperCase(), ['GET', 'HEAD'] as const); },
  },
  {
    name: 'virtualhost', scope: 'virtual', syntax: '"host" or host', default: 'the real server\'s address',
    summary: 'Host header of HTTP(S) checks.',
    set(v, s) { s.virtualhost = optionallyQuoted(v); },
  },
  {
    name: 'login', scope: 'virtual', syntax: '"user"', default: 'ftp: anonymous; sip: ldirectord@HOSTNAME; else empty',
    summary: 'User for ftp, imap, ldap, mysql, pgsql, pop, sip checks. Quotes required.',
    lvsd: 'ldirectord applies the ftp/sip defaults only when service= is written; lvsd also when the service comes from the port.',
    set(v, s) { s.login = quoted(v); },
  },
  {
    name: 'passwd', scope: 'virtual', syntax: '"password"', default: 'ftp: ldirectord@HOSTNAME; else empty',
    summary: 'Password of those checks. Quotes required. Never shown in an error or a log.',
    secret: true,
    set(v, s) { s.passwd = quoted(v, true); },
  },
  {
    name: 'database', scope: 'virtual', syntax: '"name"', default: 'empty',
    summary: 'Database of mysql and pgsql checks. Quotes required.',
    set(v, s) { s.database = quoted(v); },
  },
  {
    name: 'secret', scope: 'virtual', syntax: '"secret"', default: 'empty',
    summary: 'RADIUS secret (accepted; lvsd has no RADIUS check). Quotes required. Never shown in an error or a log.',
    secret: true,
    set(v, s) { s.secret = quoted(v, true); },
  },
  {
    name: 'load', scope: 'virtual', syntax: '"word"', default: 'unset',
    summary: 'Parsed and ignored, as in ldirectord (undocumented there).',
    set(v, s) {
      const w = quoted(v);
      if (!/\w/.test(w)) throw new ValueError('expected a word');
      s.load = w;
    },
  },
  {
    name: 'scheduler', scope: 'virtual', syntax: 'lower-case name (rr, wrr, lc, wlc, sh, mh, …)', default: 'wrr',
    summary: 'IPVS scheduler; not checked against a list (the kernel refuses unknown ones), as in ldirectord.',
    set(v, s) {
      if (!/^[a-z]+$/.test(v)) throw new ValueError(`expected a scheduler name of lower-case letters, not '${v}'`);
      s.scheduler = v;
    },
  },
  {
    name: 'persistent', scope: 'virtual', syntax: 'seconds ≥ 1', default: 'unset (not persistent)',
    summary: 'Persistence timeout (ipvsadm -p).',
    set(v, s) { s.persistent = positiveInteger(v); },
  },
  {
    name: 'netmask', scope: 'virtual', syntax: 'dotted quad (IPv4) | 1..128 (IPv6)', default: 'unset',
    summary: 'Persistence granularity (ipvsadm -M); only used with persistent, else a warning.',
    set(v, s, ctx) { s.netmask = netmask(v, ctx.family); },
  },
  {
    name: 'schedflags', scope: 'virtual', syntax: 'flag[,flag…]', default: 'unset',
    summary: 'Scheduler flags (ipvsadm -b), e.g. sh-port,sh-fallback.',
    set(v, s) {
      if (!/^[a-z0-9-]+(,[a-z0-9-]+)*$/.test(v)) throw new ValueError(`expected comma-separated flag names, not '${v}'`);
      s.schedflags = v;
    },
  },
  {
    name: 'protocol', scope: 'virtual', syntax: 'tcp | udp (address virtuals) | fwm (fwmark virtuals)', default: 'tcp; udp when the port is 53 (domain); fwm for a fwmark',
    summary: 'Protocol of the virtual service.',
    set(v, s, ctx) {
      if (ctx.fwmark === true && v !== 'fwm') throw new ValueError(`must be fwm for a fwmark virtual, not '${v}'`);
      if (ctx.fwmark === false && v !== 'tcp' && v !== 'udp') throw new ValueError(`must be tcp or udp for an address:port virtual, not '${v}'`);
      s.protocol = oneOf(v, ['tcp', 'udp', 'fwm'] as const);
    },
  },
  {
    name: 'ops', scope: 'virtual', syntax: 'yes | no', default: 'no',
    summary: 'One-packet scheduling (ipvsadm -o); UDP virtuals only, ignored with a warning otherwise.',
    set(v, s) { s.ops = yesNo(v); },
  },
  {
    name: 'monitorfile', scope: 'virtual', syntax: '"/path" or /path', default: 'unset',
    summary: 'File to which every check result of this virtual is appended.',
    lvsd: 'The parser does not open it (ldirectord does while parsing).',
    set(v, s) { s.monitorfile = optionallyQuoted(v); },
  },
  {
    name: 'servicename', scope: 'virtual', syntax: 'text', default: 'unset',
    summary: 'Name of the service in its e-mail alerts: the subject starts with [NAME], the body has "Service name: NAME"; kept as written.',
    set(v, s) { s.servicename = text(v); },
  },
  {
    name: 'comment', scope: 'virtual', syntax: 'text', default: 'unset',
    summary: 'Note in the body of its e-mail alerts, as "Comment: TEXT"; kept as written.',
    set(v, s) { s.comment = text(v); },
  },
  {
    name: 'risecount', scope: 'both', syntax: 'count ≥ 1', default: '1',
    summary: 'Consecutive passed checks before a failed real server returns.',
    lvsdOnly: true,
    set(v, s) { s.risecount = positiveInteger(v); },
  },
  {
    name: 'slowstart', scope: 'both', syntax: 'seconds ≥ 0', default: '0 (off)',
    summary: 'Seconds over which a returning real server ramps up to its weight.',
    lvsdOnly: true,
    set(v, s) { s.slowstart = nonNegativeInteger(v); },
  },
  {
    name: 'metrics', scope: 'global', syntax: 'HOST:PORT', default: 'unset (no listener)',
    summary: 'Address of the Prometheus metrics listener (/metrics): IPv4:PORT, [IPv6]:PORT or NAME:PORT. The host is required: 0.0.0.0:PORT or [::]:PORT for every interface. No authentication: anyone who reaches it sees every virtual and real address with its health and weight (docs/checker.md, Metrics). `--metrics` and the OCF parameter `metrics` follow the same rule.',
    lvsdOnly: true,
    set(v, s) {
      listenAddress(v);
      s.metrics = v;
    },
  },
];

export const DIRECTIVE_BY_NAME: ReadonlyMap<string, Directive> = new Map(DIRECTIVES.map((d) => [d.name, d]));
