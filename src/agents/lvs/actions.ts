// ocf:heartbeat:lvs actions, one function each. The role lives in the system itself:
// VIP on the NIC = promoted (director), VIP on lo with ARP hidden = unpromoted (DR real server).
import { sameAddress } from '../../net/address';
import { announce, type Announcement, arpingSeconds, stopAnnouncing } from '../../net/announce';
import { addAddress, deleteAddress, type InterfaceAddress, linkState, whereIs } from '../../net/ip';
import { arpKey, readSysctl, writeSysctl } from '../../net/sysctl';
import { which } from '../../exec/run';
import * as ipvs from '../../ipvs/ipvsadm';
import { setPromotionScore } from '../../pacemaker/promotion';
import type { OcfContext } from '../../ocf/agent';
import { OCF, OcfError, type OcfCode } from '../../ocf/codes';
import { type LvsConfig, parseConfig } from './params';
import { announcePidPath, loadState, type LvsState, removeState, saveState, statePath } from './state';

const SCORE_UNPROMOTED = 5;
const SCORE_PROMOTED = 10;

/** sysctls of a DR real server: answer ARP only for addresses of the receiving interface, announce the best local address. */
const HIDDEN_ARP: Record<string, string> = {
  [arpKey('all', 'arp_ignore')]: '1',
  [arpKey('all', 'arp_announce')]: '2',
  [arpKey('lo', 'arp_ignore')]: '1',
  [arpKey('lo', 'arp_announce')]: '2',
};

function forwardingKey(c: LvsConfig): string {
  return c.family === 4 ? 'net/ipv4/conf/all/forwarding' : 'net/ipv6/conf/all/forwarding';
}

/** The sysctls this configuration may change: saved before the first start, restored at stop. */
function touchedKeys(c: LvsConfig): string[] {
  return [...(c.family === 4 ? Object.keys(HIDDEN_ARP) : []), ...(c.forwarding ? [forwardingKey(c)] : [])];
}

interface Agent {
  ctx: OcfContext;
  c: LvsConfig;
  statePath: string;
}

function agentFor(ctx: OcfContext): Agent {
  return { ctx, c: parseConfig(ctx.params), statePath: statePath(ctx.env, ctx.instance) };
}

// --- environment -------------------------------------------------------------------------------

/** A program, unless missing (or ocf-tester's OCF_TESTER_FAIL_HAVE_BINARY pretends so). */
function have(ctx: OcfContext, name: string): string | undefined {
  if (ctx.env.OCF_TESTER_FAIL_HAVE_BINARY === '1') return undefined;
  return which(name, ctx.env);
}

function neededPrograms(c: LvsConfig): string[] {
  return ['ip', ...(c.ipvsCleanup !== 'none' || c.syncInterface ? ['ipvsadm'] : [])];
}

function arpProgram(ctx: OcfContext, c: LvsConfig): { sender: Announcement['sender']; program: string } | undefined {
  if (c.family === 6) {
    const p = have(ctx, 'send_ua');
    return p ? { sender: 'send_ua', program: p } : undefined;
  }
  // send_arp (resource-agents, IPaddr2's default) spaces ARPs in milliseconds; iputils arping in whole seconds.
  const order: Array<'arping' | 'send_arp'> = c.arpSender === 'auto' ? ['send_arp', 'arping'] : [c.arpSender];
  for (const sender of order) {
    const program = have(ctx, sender);
    if (program) return { sender, program };
  }
  return undefined;
}

/** The local environment: programs installed, NIC present. Probes report 7, never 5. */
function checkEnvironment(a: Agent, options: { announce?: boolean } = {}): void {
  const { ctx, c } = a;
  const missing = neededPrograms(c).filter((p) => !have(ctx, p));
  if (options.announce && !arpProgram(ctx, c)) missing.push(c.family === 6 ? 'send_ua' : c.arpSender === 'auto' ? 'send_arp or arping' : c.arpSender);
  const problems = missing.map((p) => `${p} is not installed`);
  if (!linkState(c.nic).exists) problems.push(`interface '${c.nic}' does not exist`);
  if (c.syncInterface && !linkState(c.syncInterface).exists) problems.push(`sync_interface '${c.syncInterface}' does not exist`);
  if (problems.length === 0) return;
  throw new OcfError(ctx.isProbe ? OCF.NOT_RUNNING : OCF.ERR_INSTALLED, problems.join('; '));
}

// --- observation -------------------------------------------------------------------------------

type Role = 'stopped' | 'unpromoted' | 'promoted';

interface Observed {
  role: Role;
  /** Set when the system is in no clean role. */
  broken?: string;
  linkUp: boolean;
  linkState: string;
}

function max(...values: string[]): number {
  return Math.max(...values.map((v) => Number.parseInt(v, 10) || 0));
}

/** Where the VIP is, whether ARP is hidden when it is on lo, and the NIC's link. */
function observe(c: LvsConfig): Observed {
  const at = whereIs(c.vip, c.family);
  const onNic = at.find((x) => x.ifname === c.nic);
  const onLo = at.find((x) => x.ifname === 'lo');
  const link = linkState(c.nic);
  const base = { linkUp: link.up, linkState: link.operstate };
  if (onNic && onLo) return { ...base, role: 'promoted', broken: `VIP ${c.vip} is on both ${c.nic} and lo` };
  if (onNic) return { ...base, role: 'promoted' };
  if (!onLo) return { ...base, role: 'stopped' };
  if (c.family === 4) {
    // Effective values on the NIC are the max of all and the NIC (ip-sysctl.rst).
    const nic = link.exists ? c.nic : 'all';
    const ignore = max(readSysctl(arpKey('all', 'arp_ignore')), readSysctl(arpKey(nic, 'arp_ignore')));
    const ann = max(readSysctl(arpKey('all', 'arp_announce')), readSysctl(arpKey(nic, 'arp_announce')));
    // Only arp_ignore 1, 2 and 8 keep the NIC from answering for an address on lo: 3 spares
    // scope-host addresses only, and a VIP added to lo has global scope.
    if (![1, 2, 8].includes(ignore) || ann < 2) {
      return { ...base, role: 'unpromoted', broken: `VIP ${c.vip} is on lo but ARP is not hidden (arp_ignore ${ignore}, arp_announce ${ann} on ${nic})` };
    }
  }
  return { ...base, role: 'unpromoted' };
}

// --- promotion score ---------------------------------------------------------------------------

/** Sets the score (null deletes it) when it differs from the last one set, or always when forced. */
function score(a: Agent, state: LvsState | undefined, value: number | null, force = false): void {
  // Pacemaker always passes its CRM feature set; without it there is no cluster to tell (ocf-tester, by hand).
  if (!a.ctx.env.OCF_RESKEY_crm_feature_set) {
    if (a.ctx.action !== 'monitor') a.ctx.log.info(`not run by pacemaker (no OCF_RESKEY_crm_feature_set): promotion score ${value ?? 'deletion'} not set`);
    return;
  }
  if (!force && state && state.score === value) return;
  const err = setPromotionScore(value ?? undefined, a.ctx.env);
  if (err) {
    // Outside a cluster (no CIB, e.g. under ocf-tester) there is nothing to tell.
    a.ctx.log.warn(`cannot ${value === null ? 'delete' : `set`} the promotion score${value === null ? '' : ` ${value}`}: ${err}`);
    return;
  }
  if (state) {
    state.score = value;
    saveState(a.statePath, state);
  }
}

function desiredScore(role: Role, linkUp: boolean): number | null {
  if (!linkUp || role === 'stopped') return null;
  return role === 'promoted' ? SCORE_PROMOTED : SCORE_UNPROMOTED;
}

// --- steps shared by the transitions -----------------------------------------------------------

function beginState(a: Agent): LvsState {
  const existing = loadState(a.statePath);
  const saved: Record<string, string> = { ...existing?.saved };
  for (const key of touchedKeys(a.c)) if (!(key in saved)) saved[key] = readSysctl(key);
  const state: LvsState = { ...existing, saved, vip: a.c.vip, nic: a.c.nic };
  saveState(a.statePath, state);
  return state;
}

function setSysctls(values: Record<string, string>): void {
  for (const [key, value] of Object.entries(values)) if (readSysctl(key) !== value) writeSysctl(key, value);
}

function restoreSysctls(state: LvsState, keys: string[]): void {
  const values: Record<string, string> = {};
  for (const k of keys) if (k in state.saved) values[k] = state.saved[k]!;
  setSysctls(values);
}

/** `at` is where the VIP was before the transition (one listing for all its steps). */
function ensureAddress(a: Agent, at: InterfaceAddress[], dev: string, prefix: number): void {
  const present = at.filter((x) => x.ifname === dev);
  if (present.length === 1 && present[0]!.prefix === prefix) return;
  for (const x of present) deleteAddress(dev, a.c.vip, x.prefix, a.c.family);
  addAddress(dev, a.c.vip, prefix, a.c.family);
}

function removeAddress(a: Agent, at: InterfaceAddress[], dev: string): void {
  for (const x of at.filter((y) => y.ifname === dev)) deleteAddress(dev, a.c.vip, x.prefix, a.c.family);
}

function cleanIpvs(a: Agent): void {
  const { c, ctx } = a;
  if (c.ipvsCleanup === 'none') return;
  if (c.ipvsCleanup === 'all') {
    if (ipvs.listServices().length > 0) {
      ipvs.clearServices();
      ctx.log.info('cleared the IPVS table');
    }
    return;
  }
  for (const key of ipvs.listServices()) {
    const addr = ipvs.serviceAddress(key);
    if (addr !== undefined && sameAddress(addr, c.vip)) {
      ipvs.deleteService(key);
      ctx.log.info(`removed IPVS service ${key.protocol} ${key.target}`);
    }
  }
}

/** Runs exactly the sync daemon of this role (none when stopped). */
function syncDaemons(a: Agent, wanted: ipvs.SyncState | undefined): void {
  const { c } = a;
  if (!c.syncInterface) return;
  const running = ipvs.syncDaemons();
  for (const d of running) {
    if (d.state !== wanted || d.iface !== c.syncInterface || d.syncid !== c.syncId) ipvs.stopSyncDaemon(d.state);
  }
  const ok = running.some((d) => d.state === wanted && d.iface === c.syncInterface && d.syncid === c.syncId);
  if (wanted && !ok) ipvs.startSyncDaemon(wanted, c.syncInterface, c.syncId);
}

/**
 * With sync_interface: a virtual service that matches no packet (0.0.0.0 and :: are never a
 * destination) while promoted. Linux 5.9+ runs IPVS only while a virtual service exists, so
 * between promote and lvsd's first table the synced connections would not be looked up and the
 * local stack would reset them; the anchor keeps IPVS on from the moment the VIP lands.
 */
function syncAnchor(a: Agent, wanted: boolean): void {
  const { c } = a;
  if (!c.syncInterface) return;
  const key: ipvs.ServiceKey = { protocol: 'tcp', target: c.family === 6 ? '[::]:1' : '0.0.0.0:1' };
  const present = ipvs.listServices().some((k) => k.protocol === key.protocol && k.target === key.target);
  if (wanted && !present) ipvs.addService(key, 'rr');
  if (!wanted && present) ipvs.deleteService(key);
}

function verify(a: Agent, want: Role): Observed {
  const seen = observe(a.c);
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

// --- actions -----------------------------------------------------------------------------------

/** start and demote: a DR real server, ARP hidden before the VIP goes on lo. */
function toUnpromoted(ctx: OcfContext): OcfCode {
  const a = agentFor(ctx);
  checkEnvironment(a);
  return guarded(ctx.action, () => {
    const { c } = a;
    const state = beginState(a);
    stopAnnouncing(announcePidPath(ctx.env, ctx.instance));
    if (c.family === 4) setSysctls(HIDDEN_ARP);
    const at = whereIs(c.vip, c.family);
    ensureAddress(a, at, 'lo', c.hostPrefix);
    removeAddress(a, at, c.nic);
    if (c.forwarding) restoreSysctls(state, [forwardingKey(c)]);
    cleanIpvs(a);
    syncAnchor(a, false);
    syncDaemons(a, 'backup');
    const seen = verify(a, 'unpromoted');
    score(a, state, desiredScore('unpromoted', seen.linkUp), true);
    if (!seen.linkUp) ctx.log.warn(`${c.nic} has no link (${seen.linkState}): no promotion score`);
    ctx.log.info(`${ctx.action}: VIP ${c.vip} on lo, ARP hidden (unpromoted)`);
    return OCF.SUCCESS;
  });
}

async function promote(ctx: OcfContext): Promise<OcfCode> {
  const a = agentFor(ctx);
  checkEnvironment(a);
  const sender = guarded('promote', () => {
    const { c } = a;
    const link = linkState(c.nic);
    if (!link.up) {
      score(a, loadState(a.statePath), null, true);
      throw new OcfError(OCF.ERR_GENERIC, `cannot promote: ${c.nic} has no link (${link.operstate})`);
    }
    const state = beginState(a);
    syncAnchor(a, true);
    // On the NIC first, then off lo: no moment without the VIP.
    const at = whereIs(c.vip, c.family);
    ensureAddress(a, at, c.nic, c.prefix);
    removeAddress(a, at, 'lo');
    if (c.family === 4) restoreSysctls(state, Object.keys(HIDDEN_ARP));
    if (c.forwarding) setSysctls({ [forwardingKey(c)]: '1' });
    syncDaemons(a, 'master');
    verify(a, 'promoted');
    score(a, state, SCORE_PROMOTED, true);
    return arpProgram(ctx, c);
  });
  const { c } = a;
  // The address is in place: announce it, without waiting for the whole series.
  if (!sender) {
    ctx.log.error(`no ${c.family === 6 ? 'send_ua' : 'ARP sender'} installed: VIP ${c.vip} not announced`);
  } else {
    if (sender.sender === 'arping' && c.arpIntervalMs % 1000 !== 0) {
      ctx.log.warn(`iputils arping takes whole seconds: arp_interval ${c.arpIntervalMs} ms sent as ${arpingSeconds(c.arpIntervalMs)} s`);
    }
    const failed = await announce({ ...sender, address: c.vip, family: c.family, prefix: c.prefix, dev: c.nic, count: c.arpCount, intervalMs: c.arpIntervalMs, mode: c.arpMode, pidFile: announcePidPath(ctx.env, ctx.instance) });
    // As IPaddr2: the VIP is up, so a failed announcement is logged, not a failed promote.
    if (failed) ctx.log.error(`gratuitous ARP failed: ${failed}`);
  }
  ctx.log.info(`promote: VIP ${c.vip}/${c.prefix} on ${c.nic} (promoted)`);
  return OCF.SUCCESS;
}

function stop(ctx: OcfContext): OcfCode {
  let a: Agent;
  try {
    a = agentFor(ctx);
  } catch (err) {
    // Nothing can have been started with parameters that do not parse; a failed stop would be fenced.
    ctx.log.warn(`stop with an invalid configuration, nothing to do: ${err instanceof Error ? err.message : String(err)}`);
    return OCF.SUCCESS;
  }
  const { c } = a;
  stopAnnouncing(announcePidPath(ctx.env, ctx.instance));
  if (!have(ctx, 'ip')) {
    // Without ip(8) nothing of ours can have been configured.
    ctx.log.warn('ip is not installed: nothing to stop');
    return OCF.SUCCESS;
  }
  return guarded('stop', () => {
    const at = whereIs(c.vip, c.family);
    removeAddress(a, at, c.nic);
    removeAddress(a, at, 'lo');
    if (c.syncInterface && have(ctx, 'ipvsadm')) {
      syncAnchor(a, false);
      syncDaemons(a, undefined);
    }
    const state = loadState(a.statePath);
    if (state) restoreSysctls(state, Object.keys(state.saved));
    verify(a, 'stopped');
    // No state to update: it is removed right after.
    score(a, undefined, null, true);
    removeState(a.statePath);
    ctx.log.info(`stop: VIP ${c.vip} removed, sysctls restored`);
    return OCF.SUCCESS;
  });
}

function monitor(ctx: OcfContext): OcfCode {
  const a = agentFor(ctx);
  checkEnvironment(a);
  const seen = guarded('monitor', () => observe(a.c));
  const state = loadState(a.statePath);
  if (seen.broken) throw new OcfError(OCF.ERR_GENERIC, seen.broken);
  if (seen.role === 'stopped') return OCF.NOT_RUNNING;
  // Probes re-set the score: after a controller restart the transient attribute is gone.
  score(a, state, desiredScore(seen.role, seen.linkUp), ctx.isProbe);
  if (seen.role === 'promoted') {
    if (!seen.linkUp) throw new OcfError(OCF.FAILED_PROMOTED, `${a.c.nic} has no link (${seen.linkState}): promotion score dropped`);
    return OCF.RUNNING_PROMOTED;
  }
  return OCF.SUCCESS;
}

function validate(ctx: OcfContext): OcfCode {
  const a = agentFor(ctx);
  // Level 0 (what pcs runs, maybe on another node): syntax only. Deeper: this node's environment.
  if (ctx.checkLevel >= 10) checkEnvironment(a, { announce: true });
  return OCF.SUCCESS;
}

export const actions = {
  start: toUnpromoted,
  demote: toUnpromoted,
  promote,
  stop,
  monitor,
  notify: () => OCF.SUCCESS,
  'validate-all': validate,
};
