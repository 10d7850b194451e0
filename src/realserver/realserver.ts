// `lvskit realserver up|down|status --vip ADDR`: this host as a separate DR real server for a VIP.
// up: save the ARP sysctls, hide ARP (all and lo), then the VIP/32 (/128) on lo; down undoes it in
// reverse. The saved values live in /run: they are only true until the next boot, as the VIP on lo.
import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { LvskitError, UsageError } from '../errors';
import { readNoFollow, writeNoFollow } from '../fs/nofollow';
import { ipFamily, sameAddress } from '../net/address';
import { addAddress, deleteAddress, whereIs } from '../net/ip';
import { arpKey, readSysctl, writeSysctl } from '../net/sysctl';
import { arpProblems, arpStillNeeded, dotted, HIDDEN_ARP, type Observed, parseTarget, problems, type RealServerState, resolution, type Target, withoutVip, withVip } from './config';

export const STATE_FILE = '/run/lvskit/realserver.json';

/** Exit code of `status` when the host is not a real server for the VIP (as an LSB status "not running"). */
export const NOT_CONFIGURED = 3;

export interface RealServerOptions {
  vip: string;
  prefixLength?: string;
}

export interface RealServerContext {
  stateFile: string;
  out: (line: string) => void;
}

function loadState(path: string): RealServerState | undefined {
  let text: string | undefined;
  try {
    text = readNoFollow(path);
  } catch (err) {
    throw new LvskitError(`${(err as Error).message}: remove it by hand`);
  }
  if (text === undefined) return undefined;
  const s = JSON.parse(text) as Partial<RealServerState>;
  if (typeof s.saved !== 'object' || s.saved === null || !Array.isArray(s.vips)) throw new LvskitError(`${path} is not a realserver state file: remove it by hand`);
  // Only the sysctls `up` saves are ever restored, with values of their form: the file is not trusted.
  const saved: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.saved)) {
    if (k in HIDDEN_ARP && typeof v === 'string' && /^\d{1,3}$/.test(v)) saved[k] = v;
  }
  return { saved, vips: s.vips.filter((v): v is string => typeof v === 'string' && ipFamily(v) !== undefined) };
}

function saveState(path: string, s: RealServerState): void {
  writeNoFollow(path, `${JSON.stringify(s, null, 2)}\n`, 0o644);
}

/** Removes the state file, and its directory when nothing else is in it. */
function removeState(path: string): void {
  rmSync(path, { force: true });
  try {
    rmdirSync(dirname(path));
  } catch {
    /* not empty, or already gone */
  }
}

function observe(t: Target): Observed {
  const at = whereIs(t.vip, t.family);
  if (t.family === 6) return { at, sysctls: {}, interfaces: [] };
  const interfaces = readdirSync('/proc/sys/net/ipv4/conf').filter((d) => !['all', 'default', 'lo'].includes(d));
  const sysctls: Record<string, string> = {};
  for (const dev of ['all', ...interfaces]) {
    for (const name of ['arp_ignore', 'arp_announce'] as const) {
      try {
        sysctls[arpKey(dev, name)] = readSysctl(arpKey(dev, name));
      } catch {
        // An interface that went away between the listing and the read has no say.
      }
    }
  }
  return { at, sysctls, interfaces };
}

function setValues(values: Record<string, string>, verb: string, ctx: RealServerContext): void {
  const changed: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (readSysctl(key) === value) continue;
    writeSysctl(key, value);
    changed.push(`${dotted(key)}=${value}`);
  }
  if (changed.length > 0) ctx.out(`${verb} ${changed.join(' ')}`);
}

/** System calls fail with what was being done; a missing permission says so. */
function guarded<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof LvskitError) throw err;
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS' ? ' (run as root)' : '';
    throw new LvskitError(`${what}: ${e.message}${hint}`);
  }
}

function up(t: Target, ctx: RealServerContext): number {
  const elsewhere = whereIs(t.vip, t.family).filter((a) => a.ifname !== 'lo');
  if (elsewhere.length > 0) {
    throw new LvskitError(
      `${t.vip} is on ${elsewhere.map((a) => `${a.ifname} (/${a.prefix})`).join(', ')}: a DR real server must not hold the VIP on a NIC, it would answer ${resolution(t.family)} for it (is this a director?); nothing was changed`,
    );
  }
  const foreign = whereIs(t.vip, t.family).filter((a) => a.ifname === 'lo' && a.prefix !== t.prefix);
  if (foreign.length > 0) {
    throw new LvskitError(`${t.vip} is on lo as /${foreign.map((a) => a.prefix).join(', /')}, which lvskit did not add: remove it by hand first (a DR real server holds /${t.prefix}); nothing was changed`);
  }
  const before = loadState(ctx.stateFile);
  let state = withVip(before, t.vip);
  const savedNow = t.family === 4 && Object.keys(state.saved).length === 0;
  if (savedNow) {
    const saved = Object.fromEntries(Object.keys(HIDDEN_ARP).map((k) => [k, guarded(`cannot read ${dotted(k)}`, () => readSysctl(k))]));
    state = { ...state, saved };
  }
  // The state goes down first: whatever happens next, down can put the values back.
  guarded(`cannot write ${ctx.stateFile}`, () => saveState(ctx.stateFile, state));
  if (savedNow) ctx.out(`saved ${Object.entries(state.saved).map(([k, v]) => `${dotted(k)}=${v}`).join(' ')} in ${ctx.stateFile}`);
  try {
    // ARP hidden before the VIP exists on lo: never a moment in which this host answers for it.
    if (t.family === 4) {
      guarded('cannot hide ARP', () => setValues(HIDDEN_ARP, 'set', ctx));
      // A per-interface value can still give the VIP away (arp_ignore 3 on eth0): then no VIP on lo.
      const leaks = arpProblems(observe(t));
      if (leaks.length > 0) throw new LvskitError(`ARP is not hidden after setting all and lo, so ${t.vip} was not put on lo: ${leaks.join('; ')}`);
    }
    const onLo = whereIs(t.vip, t.family).filter((a) => a.ifname === 'lo');
    if (onLo.length === 1 && onLo[0]!.prefix === t.prefix) {
      ctx.out(`${t.vip}/${t.prefix} already on lo`);
    } else {
      guarded(`cannot put ${t.vip}/${t.prefix} on lo`, () => addAddress('lo', t.vip, t.prefix, t.family));
      ctx.out(`added ${t.vip}/${t.prefix} to lo`);
    }
  } catch (err) {
    // Back to what was there before this call: the sysctls saved now (if this call saved them), the old state.
    try {
      if (before === undefined) {
        setValues(state.saved, 'restored', ctx);
        removeState(ctx.stateFile);
      } else {
        saveState(ctx.stateFile, before);
      }
    } catch {
      /* the first error is the one to report */
    }
    throw err;
  }
  const left = problems(t, observe(t));
  if (left.length > 0) throw new LvskitError(`after up, ${t.vip} is still not served as a DR real server: ${left.join('; ')}`);
  ctx.out(`${t.vip}: DR real server: on lo${t.family === 4 ? ', ARP hidden' : ''}`);
  return 0;
}

function down(t: Target, ctx: RealServerContext): number {
  const state = loadState(ctx.stateFile);
  // Only the host address `up` adds: 127.0.0.1/8 or a /24 someone else put on lo is not ours.
  const onLo = whereIs(t.vip, t.family).filter((a) => a.ifname === 'lo' && a.prefix === t.prefix);
  const known = state?.vips.some((v) => sameAddress(v, t.vip)) ?? false;
  if (onLo.length === 0 && !known) {
    ctx.out(`nothing to undo for ${t.vip}: not on lo, not configured by lvskit realserver up`);
    return 0;
  }
  for (const a of onLo) {
    guarded(`cannot remove ${t.vip}/${a.prefix} from lo`, () => deleteAddress('lo', t.vip, a.prefix, t.family));
    ctx.out(`removed ${t.vip}/${a.prefix} from lo`);
  }
  if (state === undefined) {
    ctx.out(`no saved state in ${ctx.stateFile} (not configured by lvskit realserver up): ARP sysctls left as they are`);
    return 0;
  }
  const rest = withoutVip(state, t.vip);
  if (arpStillNeeded(rest)) {
    guarded(`cannot write ${ctx.stateFile}`, () => saveState(ctx.stateFile, rest));
    ctx.out(`ARP stays hidden for ${rest.vips.join(', ')}`);
    return 0;
  }
  // The VIP is gone from lo: only now may this host answer ARP as before.
  guarded('cannot restore the ARP sysctls', () => setValues(rest.saved, 'restored', ctx));
  if (rest.vips.length > 0) guarded(`cannot write ${ctx.stateFile}`, () => saveState(ctx.stateFile, { saved: {}, vips: rest.vips }));
  else guarded(`cannot remove ${ctx.stateFile}`, () => removeState(ctx.stateFile));
  return 0;
}

function status(t: Target, ctx: RealServerContext): number {
  const left = guarded('cannot read the configuration', () => problems(t, observe(t)));
  if (left.length === 0) {
    ctx.out(`${t.vip}: DR real server: ${t.vip}/${t.prefix} on lo${t.family === 4 ? ', ARP hidden on every interface' : ''}`);
    return 0;
  }
  ctx.out(`${t.vip}: not a DR real server here:`);
  for (const p of left) ctx.out(`  - ${p}`);
  return NOT_CONFIGURED;
}

export function runRealServer(action: 'up' | 'down' | 'status', options: RealServerOptions, ctx: RealServerContext): number {
  // Every value is checked before anything is read or changed.
  const t = parseTarget(options.vip, options.prefixLength);
  switch (action) {
    case 'up':
      return up(t, ctx);
    case 'down':
      return down(t, ctx);
    case 'status':
      return status(t, ctx);
  }
}

const ACTIONS = ['up', 'down', 'status'] as const;

export function realServerCommand(action: string, options: RealServerOptions): number {
  const a = ACTIONS.find((x) => x === action);
  if (a === undefined) throw new UsageError(`realserver: unknown action '${action}' (up, down or status)`);
  return runRealServer(a, options, { stateFile: STATE_FILE, out: (line) => process.stdout.write(`${line}\n`) });
}
