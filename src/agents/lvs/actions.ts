// ocf:heartbeat:lvs actions, one function each. The role lives in the system itself:
// VIP on the NIC = promoted (director), VIP on lo with ARP hidden = unpromoted (DR real server).
// Every system call goes through LvsSystem (system.ts), so the role logic has unit tests too.
import type { Announcement } from '../../net/announce';
import { arpingSeconds } from '../../net/announce';
import { serviceKey } from '../../ipvs/service';
import { sameAddress } from '../../net/address';
import { arpLeaks, HIDDEN_ARP } from '../../net/dr';
import { parseProbeOutput, probeFinished } from '../../net/duplicate';
import { type AddressChange, ALREADY_THERE, type InterfaceAddress, NOT_THERE } from '../../net/ip';
import { arpKey } from '../../net/sysctl';
import type { OcfContext } from '../../ocf/agent';
import { OCF, OcfError, type OcfCode } from '../../ocf/codes';
import { type LvsConfig, parseConfig } from './params';
import { announcePidPath, answersPath, duplicateAttribute, macAttribute, vipWatchPidPath, type LvsState, statePath } from './state';
import { type IpvsCalls, liveSystem, type LvsSystem, type VipWatchSpec } from './system';

/**
 * The promotion score of every director whose NIC has link, whatever its role. Promote and demote
 * never change it: a transient attribute change aborts the transition in progress. Pacemaker keeps
 * the promoted instance where it is when scores are equal (the higher current role wins).
 */
export const SCORE = 10;

function forwardingKey(c: LvsConfig): string {
  return c.family === 4 ? 'net/ipv4/conf/all/forwarding' : 'net/ipv6/conf/all/forwarding';
}

/** The sysctls this configuration may change: saved before the first start, restored at stop; no other key is ever written. */
function touchedKeys(c: LvsConfig): string[] {
  return [...(c.family === 4 ? Object.keys(HIDDEN_ARP) : []), ...(c.forwarding ? [forwardingKey(c)] : [])];
}

/** Every key any configuration may touch: the state file is read against this list. */
const ALLOWED_KEYS: ReadonlySet<string> = new Set([...Object.keys(HIDDEN_ARP), 'net/ipv4/conf/all/forwarding', 'net/ipv6/conf/all/forwarding']);

interface Tools {
  /** ipvsadm's path, when the configuration needs it. */
  ipvsadm?: string;
}

interface Agent {
  ctx: OcfContext;
  c: LvsConfig;
  sys: LvsSystem;
  statePath: string;
  announcePid: string;
  watchPid: string;
  answers: string;
}

function agentFor(ctx: OcfContext, sys: LvsSystem): Agent {
  return {
    ctx,
    sys,
    c: parseConfig(ctx.params),
    statePath: statePath(ctx.env, ctx.instance),
    announcePid: announcePidPath(ctx.env, ctx.instance),
    watchPid: vipWatchPidPath(ctx.env, ctx.instance),
    answers: answersPath(ctx.env, ctx.instance),
  };
}

function load(a: Agent): LvsState | undefined {
  return a.sys.loadState(a.statePath, ALLOWED_KEYS);
}

// --- environment -------------------------------------------------------------------------------

/** A program, unless missing (or ocf-tester's OCF_TESTER_FAIL_HAVE_BINARY pretends so). */
function have(a: Agent, name: string): string | undefined {
  if (a.ctx.env.OCF_TESTER_FAIL_HAVE_BINARY === '1') return undefined;
  return a.sys.which(name);
}

function needsIpvsadm(c: LvsConfig): boolean {
  return c.ipvsCleanup !== 'none' || c.syncInterface !== undefined;
}

function arpProgram(a: Agent): { sender: Announcement['sender']; program: string } | undefined {
  const { c } = a;
  if (c.family === 6) {
    const p = have(a, 'send_ua');
    return p ? { sender: 'send_ua', program: p } : undefined;
  }
  // send_arp (resource-agents, IPaddr2's default) spaces ARPs in milliseconds; iputils arping in whole seconds.
  const order: Array<'arping' | 'send_arp'> = c.arpSender === 'auto' ? ['send_arp', 'arping'] : [c.arpSender];
  for (const sender of order) {
    const program = have(a, sender);
    if (program) return { sender, program };
  }
  return undefined;
}

/** Programs installed, NIC present, before anything changes. Probes report 7, never 5. */
function checkEnvironment(a: Agent, options: { announce?: boolean } = {}): Tools {
  const { c, ctx } = a;
  const problems: string[] = [];
  if (!have(a, 'ip')) problems.push('ip is not installed');
  const ipvsadm = needsIpvsadm(c) ? have(a, 'ipvsadm') : undefined;
  if (needsIpvsadm(c) && !ipvsadm) problems.push('ipvsadm is not installed');
  if (options.announce && !arpProgram(a)) problems.push(`${c.family === 6 ? 'send_ua' : c.arpSender === 'auto' ? 'send_arp or arping' : c.arpSender} is not installed`);
  if (!a.sys.link(c.nic).exists) problems.push(`interface '${c.nic}' does not exist`);
  if (c.syncInterface && !a.sys.link(c.syncInterface).exists) problems.push(`sync_interface '${c.syncInterface}' does not exist`);
  if (problems.length > 0) throw new OcfError(ctx.isProbe ? OCF.NOT_RUNNING : OCF.ERR_INSTALLED, problems.join('; '));
  return ipvsadm ? { ipvsadm } : {};
}

function watchSpec(a: Agent): VipWatchSpec {
  const { c } = a;
  return { pidFile: a.watchPid, env: a.ctx.env, nic: c.nic, vip: c.vip, prefix: c.prefix, family: c.family, statePath: a.statePath, duplicateIntervalMs: c.duplicateIntervalMs };
}

function ipvsOf(a: Agent, tools: Tools): IpvsCalls | undefined {
  return tools.ipvsadm ? a.sys.ipvs(tools.ipvsadm) : undefined;
}

// --- observation -------------------------------------------------------------------------------

type Role = 'stopped' | 'unpromoted' | 'promoted';

interface Observed {
  role: Role;
  /** Set when the system is in no clean role. */
  broken?: string;
  /** The VIP configured somewhere with a prefix this agent does not add (the node's own address?). */
  foreign?: string;
  linkUp: boolean;
  linkState: string;
  /** Where the VIP is. */
  at: InterfaceAddress[];
  /** This node's own address of the VIP's family on the NIC (not the VIP), if any. */
  source?: string;
}

/** Whether a place of the VIP is one this agent makes: the NIC with vip_prefix, lo with the host prefix, or recorded as added. */
function ours(a: Agent, x: InterfaceAddress, state: LvsState | undefined): boolean {
  const { c } = a;
  if (state?.added?.[x.ifname] === x.prefix) return true;
  return (x.ifname === c.nic && x.prefix === c.prefix) || (x.ifname === 'lo' && x.prefix === c.hostPrefix);
}

function readArp(a: Agent, dev: string): { sysctls: Record<string, string>; interfaces: string[] } {
  const sysctls: Record<string, string> = {};
  for (const d of ['all', dev]) for (const n of ['arp_ignore', 'arp_announce'] as const) sysctls[arpKey(d, n)] = a.sys.readSysctl(arpKey(d, n));
  return { sysctls, interfaces: [dev] };
}

/** Where the VIP is, whether ARP is hidden when it is on lo, and the NIC's link. */
function observe(a: Agent, state: LvsState | undefined): Observed {
  const { c } = a;
  const all = a.sys.addresses(c.family);
  const at = all.filter((x) => sameAddress(x.address, c.vip));
  const source = all.find((x) => x.ifname === c.nic && !sameAddress(x.address, c.vip))?.address;
  const link = a.sys.link(c.nic);
  const base = { linkUp: link.up, linkState: link.operstate, at, ...(source === undefined ? {} : { source }) };
  const alien = at.filter((x) => !ours(a, x, state));
  const foreign = alien.length > 0 ? `VIP ${c.vip} is configured on ${alien.map((x) => `${x.ifname} as /${x.prefix}`).join(', ')}, which this agent never adds (is it this node's own address?)` : undefined;
  const f = foreign ? { foreign } : {};
  const mine = at.filter((x) => ours(a, x, state));
  const onNic = mine.some((x) => x.ifname === c.nic);
  const onLo = mine.some((x) => x.ifname === 'lo');
  if (onNic && onLo) return { ...base, ...f, role: 'promoted', broken: `VIP ${c.vip} is on both ${c.nic} and lo` };
  if (onNic) return { ...base, ...f, role: 'promoted' };
  if (!onLo) return { ...base, ...f, role: 'stopped' };
  if (c.family === 4) {
    const arp = readArp(a, link.exists ? c.nic : 'all');
    const leaks = arpLeaks(arp);
    if (leaks.length > 0) return { ...base, ...f, role: 'unpromoted', broken: `VIP ${c.vip} is on lo but ARP is not hidden: ${leaks.join('; ')}` };
  }
  return { ...base, ...f, role: 'unpromoted' };
}

// --- promotion score ---------------------------------------------------------------------------

function inCluster(a: Agent): boolean {
  // Pacemaker always passes its CRM feature set; without it there is no cluster to tell (ocf-tester, by hand).
  return Boolean(a.ctx.env.OCF_RESKEY_crm_feature_set);
}

/** Sets the score (null deletes it) when it differs from the last one set, or always when forced. */
function score(a: Agent, state: LvsState | undefined, value: number | null, force = false): void {
  if (!inCluster(a)) {
    if (a.ctx.action !== 'monitor') a.ctx.log.info(`not run by pacemaker (no OCF_RESKEY_crm_feature_set): promotion score ${value ?? 'deletion'} not set`);
    return;
  }
  if (!force && state && state.score === value) return;
  const err = a.sys.setScore(value ?? undefined, a.ctx.env, 10_000);
  if (err) {
    // Outside a cluster (no CIB, e.g. under ocf-tester) there is nothing to tell.
    a.ctx.log.warn(`cannot ${value === null ? 'delete' : 'set'} the promotion score${value === null ? '' : ` ${value}`}: ${err}`);
    return;
  }
  if (state) {
    state.score = value;
    a.sys.saveState(a.statePath, state);
  }
}

/**
 * Records the link as an action saw it; true while it is down or back for less than link_holddown:
 * a director cut off with corosync on that NIC is still a partition of its own when the link
 * returns, and with a score would promote itself beside the director the others promoted.
 */
function linkHeldDown(a: Agent, state: LvsState, linkUp: boolean): boolean {
  const now = a.sys.now();
  if (!linkUp) {
    if (!state.link || state.link.upAt) {
      state.link = { downAt: new Date(now).toISOString() };
      a.sys.saveState(a.statePath, state);
    }
    return true;
  }
  if (!state.link) return false;
  if (!state.link.upAt) {
    state.link.upAt = new Date(now).toISOString();
    a.sys.saveState(a.statePath, state);
  }
  const left = a.c.linkHolddownMs - (now - Date.parse(state.link.upAt));
  if (left <= 0) {
    delete state.link;
    a.sys.saveState(a.statePath, state);
    return false;
  }
  a.ctx.log.info(`${a.c.nic} has link again since ${state.link.upAt} (it was lost at ${state.link.downAt}): promotion score in ${Math.ceil(left / 1000)} s (link_holddown)`);
  return true;
}

function desiredScore(a: Agent, state: LvsState | undefined, role: Role, linkUp: boolean): number | null {
  if (role === 'stopped') return null;
  const held = state ? linkHeldDown(a, state, linkUp) : !linkUp;
  return held ? null : SCORE;
}

// --- steps shared by the transitions -----------------------------------------------------------

function beginState(a: Agent, existing: LvsState | undefined): LvsState {
  const saved: Record<string, string> = { ...existing?.saved };
  for (const key of touchedKeys(a.c)) if (!(key in saved)) saved[key] = a.sys.readSysctl(key);
  const state: LvsState = { ...existing, saved, vip: a.c.vip, nic: a.c.nic };
  a.sys.saveState(a.statePath, state);
  return state;
}

function setSysctls(a: Agent, values: Record<string, string>): void {
  for (const [key, value] of Object.entries(values)) if (a.sys.readSysctl(key) !== value) a.sys.writeSysctl(key, value);
}

function restoreSysctls(a: Agent, state: LvsState, keys: string[]): void {
  const values: Record<string, string> = {};
  for (const k of keys) if (k in state.saved && ALLOWED_KEYS.has(k)) values[k] = state.saved[k]!;
  setSysctls(a, values);
}

/**
 * The ARP sysctls as found before the first start, unless another IPv4 address (another lvs
 * instance's VIP, or one `lvskit realserver` put there) is still on lo: un-hiding ARP would make
 * this node answer for it too.
 */
function restoreArp(a: Agent, state: LvsState, all: InterfaceAddress[]): void {
  const others = all.filter((x) => x.ifname === 'lo' && !sameAddress(x.address, a.c.vip) && !x.address.startsWith('127.'));
  if (others.length === 0) {
    restoreSysctls(a, state, Object.keys(HIDDEN_ARP));
    return;
  }
  a.ctx.log.info(`ARP stays hidden: ${others.map((x) => x.address).join(', ')} still on lo (a DR real server for it)`);
}

/** Records the place before adding it (a crash in between leaves it known as ours), then adds it. */
function addVip(a: Agent, state: LvsState, dev: string, prefix: number): void {
  state.added = { ...state.added, [dev]: prefix };
  a.sys.saveState(a.statePath, state);
  try {
    a.sys.addAddress(dev, a.c.vip, prefix, a.c.family);
  } catch (err) {
    // Already there (a repeated action): fine; anything else is a failure.
    if (!ALREADY_THERE.test((err as Error).message)) throw err;
  }
}

/**
 * Promote's first step: the VIP onto the NIC and off lo in one ip process, so that lvsd, following
 * the VIP, never finds it on lo beside its services. Only the lo prefix this agent added is taken.
 */
function moveToNic(a: Agent, state: LvsState): boolean {
  const { c } = a;
  state.added = { ...state.added, [c.nic]: c.prefix };
  a.sys.saveState(a.statePath, state);
  const changes: AddressChange[] = [{ op: 'add', dev: c.nic, prefix: c.prefix }];
  if (state.added.lo !== undefined) changes.push({ op: 'del', dev: 'lo', prefix: state.added.lo });
  for (const f of a.sys.changeAddresses(c.vip, c.family, changes)) {
    if (f.change.op === 'add' && ALREADY_THERE.test(f.error)) continue;
    if (f.change.op === 'del' && NOT_THERE.test(f.error)) continue;
    throw new OcfError(OCF.ERR_GENERIC, `ip ${f.change.op === 'add' ? 'adding' : 'deleting'} ${c.vip}/${f.change.prefix} ${f.change.op === 'add' ? 'to' : 'from'} ${f.change.dev}: ${f.error}`);
  }
  if (changes.length === 1) return false;
  forgetPlace(a, state, 'lo');
  return true;
}

/** Removes the VIP from `dev`, only with the prefixes this agent adds there. */
function removeVip(a: Agent, state: LvsState | undefined, at: InterfaceAddress[], dev: string): void {
  for (const x of at.filter((y) => y.ifname === dev && ours(a, y, state))) a.sys.deleteAddress(dev, a.c.vip, x.prefix, a.c.family);
  if (state) forgetPlace(a, state, dev);
}

/** The VIP is no longer on `dev`: its record goes from the state file. */
function forgetPlace(a: Agent, state: LvsState, dev: string): void {
  if (state.added?.[dev] === undefined) return;
  const { [dev]: _gone, ...rest } = state.added;
  state.added = rest;
  a.sys.saveState(a.statePath, state);
}

function cleanIpvs(a: Agent, ipvs: IpvsCalls | undefined): void {
  const { c, ctx } = a;
  if (c.ipvsCleanup === 'none' || !ipvs) return;
  if (c.ipvsCleanup === 'all') {
    if (ipvs.list().length > 0) {
      ipvs.clear();
      ctx.log.info('cleared the IPVS table');
    }
    return;
  }
  for (const id of ipvs.list()) {
    if (id.protocol !== 'fwmark' && sameAddress(id.address, c.vip)) {
      try {
        ipvs.remove(id);
      } catch (err) {
        // lvsd, following the VIP off the NIC, may have deleted it a moment before: only a service still there is a failure.
        if (ipvs.list().some((x) => serviceKey(x) === serviceKey(id))) throw err;
        continue;
      }
      ctx.log.info(`removed IPVS service ${id.protocol} ${id.address}:${id.port}`);
    }
  }
}

/** Runs exactly the sync daemon of this role (none when stopped). */
function syncDaemons(a: Agent, ipvs: IpvsCalls | undefined, wanted: 'master' | 'backup' | undefined): void {
  const { c } = a;
  if (!c.syncInterface || !ipvs) return;
  const running = ipvs.syncDaemons();
  for (const d of running) {
    if (d.state !== wanted || d.iface !== c.syncInterface || d.syncid !== c.syncId) ipvs.stopSync(d.state);
  }
  const ok = running.some((d) => d.state === wanted && d.iface === c.syncInterface && d.syncid === c.syncId);
  if (wanted && !ok) ipvs.startSync(wanted, c.syncInterface, c.syncId);
}

/**
 * With sync_interface: a virtual service per family that matches no packet (0.0.0.0 and :: are
 * never a destination) while promoted. Linux 5.9+ runs IPVS for a family only while it has a
 * virtual service, so until lvsd's services are in, the synced connections would not be looked up
 * and the local stack would reset them; the anchors keep IPVS on from the moment the VIP lands.
 * Never while unpromoted: IPVS would then forward by its synced entries what the director sends
 * this node as a real server.
 * Both families: the sync daemons carry every connection of the director, whichever VIP (another
 * lvs instance's) it came through. The other family's anchor is best effort (a kernel without
 * IPv6 IPVS still promotes).
 */
function syncAnchor(a: Agent, ipvs: IpvsCalls | undefined, wanted: boolean): void {
  const { c } = a;
  if (!c.syncInterface || !ipvs) return;
  const present = ipvs.list();
  for (const family of c.family === 6 ? ([6, 4] as const) : ([4, 6] as const)) {
    const address = family === 6 ? '::' : '0.0.0.0';
    const has = present.some((id) => id.protocol === 'tcp' && id.port === 1 && id.address === address);
    const anchor = { protocol: 'tcp' as const, family, address, port: 1 };
    try {
      if (wanted && !has) ipvs.add(anchor, 'rr');
      if (!wanted && has) ipvs.remove(anchor);
    } catch (err) {
      if (family === c.family) throw err;
      a.ctx.log.warn(`cannot ${wanted ? 'add' : 'remove'} the IPv${family} sync anchor ${family === 6 ? '[::]:1' : '0.0.0.0:1'}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function verify(a: Agent, want: Role, state: LvsState | undefined): Observed {
  const seen = observe(a, state);
  if (seen.role !== want || seen.broken) {
    throw new OcfError(OCF.ERR_GENERIC, `after ${a.ctx.action} the node is ${seen.role}${seen.broken ? ` (${seen.broken})` : ''}, expected ${want}`);
  }
  return seen;
}

/** System calls that fail (ip, ipvsadm, /proc/sys) end the action with 1 and their message. */
function guarded<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof OcfError) throw err;
    throw new OcfError(OCF.ERR_GENERIC, `${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** What the VIP watcher left behind (it gave the VIP up, saw a duplicate) is over once the role changes. */
function forgetWatch(a: Agent, state: LvsState): void {
  if (state.gaveUp === undefined && state.duplicate === undefined) return;
  if (state.duplicate && inCluster(a)) {
    const err = a.sys.setAttribute(duplicateAttribute(a.ctx.instance), undefined, 'reboot', a.ctx.env);
    if (err) a.ctx.log.warn(`cannot delete ${duplicateAttribute(a.ctx.instance)}: ${err}`);
  }
  delete state.gaveUp;
  delete state.duplicate;
  a.sys.saveState(a.statePath, state);
}

/**
 * This director's MAC on the NIC, as a permanent node attribute, written once: a VIP watcher that
 * sees this MAC answer for its VIP knows it is a cluster director (two partitions), not a rogue host.
 */
function publishMac(a: Agent, state: LvsState): void {
  if (!inCluster(a) || a.ctx.action !== 'start') return;
  const mac = a.sys.mac(a.c.nic);
  if (!mac || state.macPublished === mac) return;
  const err = a.sys.setAttribute(macAttribute(a.c.nic), mac, 'forever', a.ctx.env);
  if (err) {
    a.ctx.log.warn(`cannot publish ${macAttribute(a.c.nic)}=${mac}: ${err}`);
    return;
  }
  state.macPublished = mac;
  a.sys.saveState(a.statePath, state);
}

function refuseForeign(a: Agent, seen: Observed): void {
  // This node cannot be a director or a real server for an address it already owns; nothing is changed.
  if (seen.foreign) throw new OcfError(OCF.ERR_INSTALLED, `${seen.foreign}; refusing to ${a.ctx.action} on this node`);
}

// --- actions -----------------------------------------------------------------------------------

/** start and demote: a DR real server, ARP hidden before the VIP goes on lo. */
function toUnpromoted(ctx: OcfContext, sys: LvsSystem): OcfCode {
  const a = agentFor(ctx, sys);
  const tools = checkEnvironment(a);
  const ipvs = ipvsOf(a, tools);
  return guarded(ctx.action, () => {
    const { c } = a;
    const before = load(a);
    const found = observe(a, before);
    refuseForeign(a, found);
    const state = beginState(a, before);
    a.sys.stopVipWatch(a.watchPid);
    a.sys.stopAnnouncing(a.announcePid);
    // Off the NIC and its services gone before the VIP goes on lo: with the VIP local on lo and a
    // service for it, this node would balance again what the new director sends it (a loop).
    const { at } = found;
    removeVip(a, state, at, c.nic);
    cleanIpvs(a, ipvs);
    syncAnchor(a, ipvs, false);
    if (c.family === 4) setSysctls(a, HIDDEN_ARP);
    if (!at.some((x) => x.ifname === 'lo' && x.prefix === c.hostPrefix)) addVip(a, state, 'lo', c.hostPrefix);
    if (c.forwarding) restoreSysctls(a, state, [forwardingKey(c)]);
    syncDaemons(a, ipvs, 'backup');
    const seen = verify(a, 'unpromoted', state);
    forgetWatch(a, state);
    publishMac(a, state);
    // start sets the score (a restarted controller has lost it). demote only ever drops it (no link):
    // raising it would abort the transition that is promoting another director; the next
    // unpromoted monitor gives it back.
    const wanted = desiredScore(a, state, 'unpromoted', seen.linkUp);
    if (ctx.action === 'start') score(a, state, wanted, true);
    else if (wanted === null) score(a, state, null);
    if (!seen.linkUp) ctx.log.warn(`${c.nic} has no link (${seen.linkState}): no promotion score`);
    ctx.log.info(`${ctx.action}: VIP ${c.vip} on lo, ARP hidden (unpromoted)`);
    return OCF.SUCCESS;
  });
}

/** The VIP on the NIC and the first gratuitous ARP before anything else: that is what the clients wait for. */
async function promote(ctx: OcfContext, sys: LvsSystem): Promise<OcfCode> {
  const a = agentFor(ctx, sys);
  const tools = checkEnvironment(a);
  const ipvs = ipvsOf(a, tools);
  const { c } = a;
  const link = a.sys.link(c.nic);
  if (!link.up) {
    guarded('promote', () => {
      const state = load(a);
      if (state) linkHeldDown(a, state, false);
      score(a, state, null, true);
    });
    throw new OcfError(OCF.ERR_GENERIC, `cannot promote: ${c.nic} has no link (${link.operstate})`);
  }
  const state = load(a) ?? { saved: {}, vip: c.vip, nic: c.nic };
  // The anchors before the VIP: a client's segment that reaches the VIP before them meets no IPVS
  // and is reset by the local stack, though its synced connection is in the table (seen in the lab).
  guarded('promote', () => syncAnchor(a, ipvs, true));
  const tookLo = guarded('promote', () => moveToNic(a, state));
  const sender = arpProgram(a);
  const announced = sender
    ? a.sys.announce({ ...sender, address: c.vip, family: c.family, prefix: c.prefix, dev: c.nic, count: c.arpCount, intervalMs: c.arpIntervalMs, mode: c.arpMode, pidFile: a.announcePid })
    : Promise.resolve(`no ${c.family === 6 ? 'send_ua' : 'ARP sender'} installed: VIP ${c.vip} not announced`);
  guarded('promote', () => {
    const full = beginState(a, state);
    const all = a.sys.addresses(c.family);
    // Without a record of the lo prefix (a state from an older version), look for it.
    if (!tookLo) removeVip(a, full, all.filter((x) => sameAddress(x.address, c.vip)), 'lo');
    if (c.family === 4) restoreArp(a, full, all);
    if (c.forwarding) setSysctls(a, { [forwardingKey(c)]: '1' });
    syncDaemons(a, ipvs, 'master');
    verify(a, 'promoted', full);
    forgetWatch(a, full);
    // What an unpromoted monitor's probe heard is not the promoted watcher's business.
    a.sys.removeState(a.answers);
    a.sys.startVipWatch(watchSpec(a));
  });
  if (sender?.sender === 'arping' && c.arpIntervalMs % 1000 !== 0) {
    ctx.log.warn(`iputils arping takes whole seconds: arp_interval ${c.arpIntervalMs} ms sent as ${arpingSeconds(c.arpIntervalMs)} s`);
  }
  // As IPaddr2: the VIP is up, so a failed announcement is logged, not a failed promote.
  const failed = await announced;
  if (failed) ctx.log.error(`gratuitous ARP failed: ${failed}`);
  ctx.log.info(`promote: VIP ${c.vip}/${c.prefix} on ${c.nic} (promoted), link watcher started`);
  return OCF.SUCCESS;
}

function stop(ctx: OcfContext, sys: LvsSystem): OcfCode {
  let a: Agent;
  try {
    a = agentFor(ctx, sys);
  } catch (err) {
    // Nothing can have been started with parameters that do not parse; a failed stop would be fenced.
    ctx.log.warn(`stop with an invalid configuration, nothing to do: ${err instanceof Error ? err.message : String(err)}`);
    return OCF.SUCCESS;
  }
  const { c } = a;
  a.sys.stopVipWatch(a.watchPid);
  a.sys.stopAnnouncing(a.announcePid);
  if (!have(a, 'ip')) {
    // Without ip(8) nothing of ours can have been configured.
    ctx.log.warn('ip is not installed: nothing to stop');
    return OCF.SUCCESS;
  }
  const ipvsadm = needsIpvsadm(c) ? have(a, 'ipvsadm') : undefined;
  return guarded('stop', () => {
    const state = load(a);
    const all = a.sys.addresses(c.family);
    const at = all.filter((x) => sameAddress(x.address, c.vip));
    removeVip(a, state, at, c.nic);
    removeVip(a, state, at, 'lo');
    if (c.syncInterface && ipvsadm) {
      const ipvs = a.sys.ipvs(ipvsadm);
      syncAnchor(a, ipvs, false);
      syncDaemons(a, ipvs, undefined);
    }
    if (state) {
      restoreSysctls(a, state, Object.keys(state.saved).filter((k) => !(k in HIDDEN_ARP)));
      if (c.family === 4) restoreArp(a, state, all);
    }
    const seen = observe(a, state);
    if (seen.role !== 'stopped') throw new OcfError(OCF.ERR_GENERIC, `after stop the node is ${seen.role}, expected stopped`);
    if (seen.foreign) ctx.log.warn(`${seen.foreign}: left as it is`);
    if (state) forgetWatch(a, state);
    // No state to update: it is removed right after. No state at all: delete the score anyway.
    if (!state || state.score !== null) score(a, undefined, null, true);
    a.sys.removeState(a.statePath);
    a.sys.removeState(a.answers);
    ctx.log.info(`stop: VIP ${c.vip} removed, sysctls restored`);
    return OCF.SUCCESS;
  });
}

function monitor(ctx: OcfContext, sys: LvsSystem): OcfCode {
  const a = agentFor(ctx, sys);
  checkEnvironment(a);
  const state = load(a);
  const seen = guarded('monitor', () => observe(a, state));
  if (seen.foreign) {
    // Not ours to report as promoted: a probe says not running, and start will refuse with the reason.
    if (ctx.isProbe && seen.role === 'stopped') {
      ctx.log.warn(seen.foreign);
      return OCF.NOT_RUNNING;
    }
    throw new OcfError(OCF.ERR_GENERIC, seen.foreign);
  }
  if (seen.broken) throw new OcfError(OCF.ERR_GENERIC, seen.broken);
  if (seen.role === 'stopped') {
    if (state?.gaveUp) {
      // Why first: pacemaker keeps 128 characters of an exit reason.
      throw new OcfError(OCF.FAILED_PROMOTED, `VIP watcher took VIP ${a.c.vip} off ${a.c.nic}: ${state.gaveUp.why}, at ${state.gaveUp.at}${state.score === null ? ', score dropped' : ''}; waiting for the demote`);
    }
    return OCF.NOT_RUNNING;
  }
  // Probes re-set the score: after a controller restart the transient attribute is gone.
  guarded('monitor', () => score(a, state, desiredScore(a, state, seen.role, seen.linkUp), ctx.isProbe));
  if (seen.role === 'promoted') {
    if (!seen.linkUp) {
      // The watcher should have done this at once; do it now.
      guarded('monitor', () => removeVip(a, state, seen.at, a.c.nic));
      throw new OcfError(OCF.FAILED_PROMOTED, `${a.c.nic} has no link (${seen.linkState}): VIP taken off the NIC, promotion score dropped`);
    }
    if (!a.sys.vipWatchRunning(a.watchPid)) {
      ctx.log.warn(`the link watcher of ${a.c.nic} was not running: started again`);
      guarded('monitor', () =>
        a.sys.startVipWatch(watchSpec(a)),
      );
    }
    return OCF.RUNNING_PROMOTED;
  }
  if (!ctx.isProbe && a.c.duplicateIntervalMs > 0 && seen.linkUp && state) {
    // It only reports: whatever goes wrong in it never fails the monitor.
    try {
      answersForVip(a, state, seen.source);
    } catch (err) {
      ctx.log.warn(`duplicate VIP check while unpromoted: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return OCF.SUCCESS;
}

/** An answer probe is over after its 1 s wait; its output is read only once it is this old. */
const ANSWERS_SETTLED_MS = 2000;
/** Older than this (maintenance, monitors stopped) it says nothing about now. */
const ANSWERS_STALE_MS = 120_000;

/**
 * Unpromoted: who answers for the VIP, asked in the background by one probe per monitor (the monitor
 * does not wait for answers); this monitor reads what the previous one's probe heard. One host is the
 * promoted director; two or more are two hosts claiming the VIP, reported (log, state, node
 * attribute), and cleared once one answers again. Nothing else is done: the promoted directors'
 * watchers settle it between them.
 */
function answersForVip(a: Agent, state: LvsState, source: string | undefined): void {
  const { c, ctx } = a;
  const heard = a.sys.takeAnswerProbe(a.answers, ANSWERS_SETTLED_MS, ANSWERS_STALE_MS);
  // A probe that failed (no output, or cut short) knows nothing: it neither reports nor clears.
  if (heard !== undefined && probeFinished(heard, c.family)) {
    const self = a.sys.mac(c.nic);
    const macs = parseProbeOutput(heard).filter((m) => m !== self).sort();
    const was = state.duplicate?.unpromoted ? state.duplicate : undefined;
    if (macs.length >= 2 && was?.macs.join() !== macs.join()) {
      state.duplicate = { macs, since: new Date(a.sys.now()).toISOString(), unpromoted: true };
      a.sys.saveState(a.statePath, state);
      ctx.log.error(`VIP ${c.vip} is answered on the wire by ${macs.length} hosts at once: ${macs.join(', ')} (heard by this unpromoted director; the promoted directors' watchers settle it)`);
      if (inCluster(a)) {
        const err = a.sys.setAttribute(duplicateAttribute(ctx.instance), macs.join(','), 'reboot', ctx.env);
        if (err) ctx.log.warn(`cannot set ${duplicateAttribute(ctx.instance)}: ${err}`);
      }
    } else if (macs.length < 2 && was) {
      delete state.duplicate;
      a.sys.saveState(a.statePath, state);
      ctx.log.info(`VIP ${c.vip} is answered by ${macs.length === 1 ? 'one host' : 'no host'} again`);
      if (inCluster(a)) a.sys.setAttribute(duplicateAttribute(ctx.instance), undefined, 'reboot', ctx.env);
    }
  }
  if (c.family === 4 && source === undefined) {
    ctx.log.debug(`no duplicate VIP check while unpromoted: ${c.nic} has no IPv4 address of its own to ask from`);
    return;
  }
  const err = a.sys.startAnswerProbe({ nic: c.nic, vip: c.vip, family: c.family, ...(source ? { source } : {}), outFile: a.answers, env: ctx.env });
  if (err) ctx.log.debug(`no duplicate VIP check while unpromoted: ${err}`);
}

function validate(ctx: OcfContext, sys: LvsSystem): OcfCode {
  const a = agentFor(ctx, sys);
  // Level 0 (what pcs runs, maybe on another node): syntax only. Deeper: this node's environment.
  if (ctx.checkLevel >= 10) {
    checkEnvironment(a, { announce: true });
    const seen = guarded('validate-all', () => observe(a, load(a)));
    if (seen.foreign) throw new OcfError(OCF.ERR_INSTALLED, seen.foreign);
  }
  return OCF.SUCCESS;
}

/** The handlers, bound to a system (the live one for the agent, a fake in unit tests). */
export function lvsActions(sys: LvsSystem = liveSystem) {
  return {
    start: (ctx: OcfContext) => toUnpromoted(ctx, sys),
    demote: (ctx: OcfContext) => toUnpromoted(ctx, sys),
    promote: (ctx: OcfContext) => promote(ctx, sys),
    stop: (ctx: OcfContext) => stop(ctx, sys),
    monitor: (ctx: OcfContext) => monitor(ctx, sys),
    notify: () => OCF.SUCCESS,
    'validate-all': (ctx: OcfContext) => validate(ctx, sys),
  };
}

export const actions = lvsActions();
