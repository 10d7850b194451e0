// The checker's core: runs every real's checks concurrently on its own timer with one deadline
// each, keeps health state, and reconciles the kernel's IPVS table with the desired one.
import { diffTables } from '../ipvs/diff';
import { describeService, serviceKey as serviceKeyOf } from '../ipvs/service';
import { applyChanges, type DestState, type IpvsBackend, type Table, type TableChange } from '../ipvs/table';
import { checkFor } from './checks';
import type { CheckerConfig, RealConfig, VirtualConfig } from './config/model';
import { desiredTable, realTarget, serviceOf, virtualKey } from './desired';
import { Maintenance } from './maintenance';
import type { CheckKind, Transition } from './health';
import { buildChecks, type LastCheck, type RealCheck } from './real-check';
import { rampStepMs } from './slowstart';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export interface EngineHooks {
  log(level: LogLevel, message: string): void;
  /** Every check result (monitorfile, metrics). */
  checked?(check: RealCheck, result: LastCheck): void;
  /** A real went up or down in a virtual (e-mail alerts). */
  transition?(virtual: VirtualConfig, real: RealConfig, to: 'up' | 'down', detail: string): void;
  /** A virtual's fallback server went in (true) or out (fallbackcommand). */
  fallback?(virtual: VirtualConfig, active: boolean): void;
  reconciled?(report: { changes: number; durationMs: number; errors: string[] }): void;
}

/** Checks that start a process (ping, external) run at most this many at once. */
const PROCESS_CHECKS_AT_ONCE = 64;
/** Checks started per event-loop turn in the first round. */
const FIRST_ROUND_SLICE = 100;
/** How often the kernel's table is compared even when nothing changed. */
const REPAIR_MS = 30_000;
/** Changes arriving this close together go to the kernel in one batch. */
const BATCH_MS = 20;

/** Which addresses this node holds on an interface other than lo (src/net/monitor.ts LocalAddresses). */
export interface HeldAddresses {
  held(address: string): boolean;
}

export interface Counters {
  reconciles: number;
  lastReconcileMs: number;
  reconcileErrors: number;
  checks: number;
}

export class Engine {
  private checks = new Map<string, RealCheck>();
  private byReal = new Map<RealConfig, RealCheck>();
  /** Resolves when every real has had its first check and the table shows it. */
  settled: Promise<void> = Promise.resolve();
  private owned = new Set<string>();
  private fallbackOn = new Set<string>();
  private pending?: NodeJS.Timeout;
  private periodic?: NodeJS.Timeout;
  private rampTimer?: NodeJS.Timeout;
  private reconciling?: Promise<void>;
  private requested = 0;
  private completed = 0;
  private waiters: Array<{ ticket: number; resolve: () => void }> = [];
  private stopped = false;
  /** start() has built the checks: before, every real would count as down. */
  private started = false;
  private processSlots = PROCESS_CHECKS_AT_ONCE;
  private readonly waiting: Array<() => void> = [];
  private readonly aborts = new Set<AbortController>();
  private lastDesired?: Table;
  /** The kernel's table as this engine last read or wrote it; undefined after an error. */
  private known?: Table<DestState>;
  /** A reconcile was asked for that must read the kernel (anything but a VIP moving). */
  private readWanted = true;
  readonly counters: Counters = { reconciles: 0, lastReconcileMs: 0, reconcileErrors: 0, checks: 0 };
  private firstRound?: { left: number; done: () => void };
  private readonly maintenance = new Maintenance();

  constructor(
    private config: CheckerConfig,
    private readonly backend: IpvsBackend,
    private readonly hooks: EngineHooks,
    private readonly now: () => number = Date.now,
    /** Which function runs a check; tests of the engine's logic replace it. */
    private readonly checkFn: typeof checkFor = checkFor,
    /** followvip: a following virtual is in the kernel only while its address is held here. */
    private readonly addresses?: HeldAddresses,
  ) {}

  /** In this node's kernel: not following an address, or holding the one it follows. */
  isActive(v: VirtualConfig): boolean {
    return v.follow === undefined || this.addresses === undefined || this.addresses.held(v.follow);
  }

  /** The held addresses changed: put in or take out the virtuals that follow them, now. */
  addressesChanged(): void {
    // The first listing arrives before start(): start's own reconcile takes the addresses into account.
    if (this.stopped || !this.started) return;
    // The VIP landing is the failover's critical path: write from the table known, without a read
    // first (one ipvsadm process instead of two); a refused change reads and compares as always.
    void this.reconcileNow({ fromKnown: true });
  }

  get configuration(): CheckerConfig {
    return this.config;
  }

  /**
   * Reads the kernel's table, puts the services in, and checks every real at once. Reals found in
   * the table with a weight are trusted until their first check; the others go in as they pass.
   * Resolves once the services are in; `settled` tells when every real has had its first check.
   */
  async start(): Promise<void> {
    const current = await this.backend.read();
    this.checks = buildChecks(this.config);
    this.index();
    this.started = true;
    for (const check of this.checks.values()) {
      const trusted = check.members.some(({ virtual, real }) => (current.get(virtualKey(virtual))?.dests.get(realTarget(virtual, real))?.weight ?? 0) > 0);
      if (trusted) check.state.assumeUp(this.now());
    }
    this.owned = new Set(this.config.virtuals.map(virtualKey));
    // Checks start while the services go in: results that arrive first join the next batch.
    this.settled = this.scheduleAll(true).then(() => this.reconcileNow());
    await this.reconcileNow();
    this.armPeriodic();
  }

  /** New configuration: checks with the same settings keep their health; removed virtuals go. */
  async reload(config: CheckerConfig): Promise<void> {
    const old = this.checks;
    const next = buildChecks(config);
    for (const [id, check] of next) {
      const before = old.get(id);
      if (before) {
        // Same check: carry its state and timer over; only the member list is new.
        before.members.splice(0, before.members.length, ...check.members);
        next.set(id, before);
      } else check.state.rampOnFirstUp = true;
    }
    for (const [id, check] of old) {
      if (!next.has(id)) clearTimeout(check.timer);
    }
    this.config = config;
    this.checks = next;
    this.index();
    for (const v of config.virtuals) this.owned.add(virtualKey(v));
    for (const check of next.values()) if (!old.has(check.id)) this.schedule(check, 0);
    this.armPeriodic();
    await this.reconcileNow();
    this.owned = new Set(config.virtuals.map(virtualKey));
  }

  /** Stops checking; with cleanstop, removes the virtual services this configuration owns. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const check of this.checks.values()) clearTimeout(check.timer);
    for (const a of this.aborts) a.abort();
    clearTimeout(this.pending);
    clearTimeout(this.periodic);
    clearTimeout(this.rampTimer);
    await this.reconciling;
    const clean = this.config.virtuals.filter((v) => v.cleanstop).map(virtualKey);
    if (clean.length === 0) return;
    const current = await this.backend.read();
    const changes: TableChange[] = clean.flatMap((k) => {
      const have = current.get(k);
      return have ? [{ op: 'delete-service' as const, id: have.spec.id }] : [];
    });
    const report = await this.backend.apply(changes);
    for (const c of changes) if (c.op === 'delete-service') this.hooks.log('info', `Deleted virtual server: ${describeService(c.id)}`);
    for (const e of report.errors) this.hooks.log('error', `cleanstop: ${e}`);
  }

  allChecks(): RealCheck[] {
    return [...this.checks.values()];
  }

  checkOf(_v: VirtualConfig, r: RealConfig): RealCheck | undefined {
    return this.byReal.get(r);
  }

  private index(): void {
    this.byReal = new Map();
    for (const check of this.checks.values()) for (const m of check.members) this.byReal.set(m.real, check);
  }

  /** The table lvsd last asked the kernel for (status and metrics show effective weights from it). */
  desired(): Table | undefined {
    return this.lastDesired;
  }

  fallbackActive(v: VirtualConfig): boolean {
    return this.fallbackOn.has(virtualKey(v));
  }

  // ---- checks ----

  private scheduleAll(initial: boolean): Promise<void> {
    const checks = [...this.checks.values()];
    if (!initial || checks.length === 0) return Promise.resolve();
    return new Promise<void>((done) => {
      this.firstRound = { left: checks.length, done };
      // Started in slices, one per event-loop turn, so that answers to the first slice are handled
      // (and reach the kernel) while later ones are still connecting.
      const slice = (from: number) => {
        if (this.stopped) return;
        for (const c of checks.slice(from, from + FIRST_ROUND_SLICE)) void this.runCheck(c);
        if (from + FIRST_ROUND_SLICE < checks.length) setImmediate(() => slice(from + FIRST_ROUND_SLICE));
      };
      slice(0);
    });
  }

  private schedule(check: RealCheck, delayMs: number): void {
    clearTimeout(check.timer);
    if (this.stopped) return;
    check.timer = setTimeout(() => void this.runCheck(check), delayMs);
  }

  private async acquireProcessSlot(): Promise<void> {
    if (this.processSlots > 0) {
      this.processSlots--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private releaseProcessSlot(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.processSlots++;
  }

  private async inMaintenance(check: RealCheck): Promise<boolean> {
    const dir = this.config.globals.maintenancedir;
    // The real's own address, not a per-real URL's host that the check may go to.
    const real = check.members[0]?.real;
    if (!dir || !real) return false;
    return (await this.maintenance.find(dir, { family: real.family, address: real.address, port: check.target.realPort })) !== undefined;
  }

  private async runCheck(check: RealCheck): Promise<void> {
    if (this.stopped || check.running) return;
    check.running = true;
    const started = this.now();
    const kind = check.nextKind();
    let result: { up: boolean; detail: string };
    if (await this.inMaintenance(check)) result = { up: false, detail: 'Server in maintenance' };
    else {
      const usesProcess = kind === 'ping' || kind === 'external';
      if (usesProcess) await this.acquireProcessSlot();
      try {
        result = await this.withDeadline(check, kind);
      } finally {
        if (usesProcess) this.releaseProcessSlot();
      }
    }
    check.running = false;
    if (this.stopped || !this.isCurrent(check)) return;
    this.counters.checks++;
    const last: LastCheck = { ...result, kind, at: started, latencyMs: this.now() - started };
    check.last = last;
    this.hooks.checked?.(check, last);
    const limits = result.detail === 'Server in maintenance' ? { failurecount: 1, risecount: 1 } : check.limits;
    const before = check.state.fails;
    const change = check.state.observe(result.up, kind, this.now(), limits);
    this.report(check, change, result.detail, before);
    if (change) this.requestReconcile();
    if (this.firstRound && --this.firstRound.left === 0) {
      this.firstRound.done();
      this.firstRound = undefined;
    }
    // The next check starts one interval after this one started; the first repeat is spread over
    // the second half of the interval so that checks started together do not stay together.
    const interval = check.intervalMs;
    const jitter = check.rounds++ === 0 ? interval * 0.5 * Math.random() : 0;
    this.schedule(check, Math.max(0, started + interval - jitter - this.now()));
  }

  private isCurrent(check: RealCheck): boolean {
    return this.checks.get(check.id) === check;
  }

  private async withDeadline(check: RealCheck, kind: CheckKind): Promise<{ up: boolean; detail: string }> {
    const timeoutMs = check.timeoutMs(kind);
    const abort = new AbortController();
    this.aborts.add(abort);
    // The abort waits for one turn of the event loop: after the loop was busy (a start-up, a reload, a
    // starved machine), timers run before pending I/O, and an answer that arrived in time would be
    // thrown away as a timeout.
    let pending: NodeJS.Immediate | undefined;
    const timer = setTimeout(() => (pending = setImmediate(() => abort.abort())), timeoutMs);
    // A check that ignores its signal still ends here, shortly after the deadline.
    let late: NodeJS.Timeout | undefined;
    const backstop = new Promise<{ up: boolean; detail: string }>((resolve) => {
      late = setTimeout(() => resolve({ up: false, detail: `timed out after ${timeoutMs / 1000} s` }), timeoutMs + 250);
    });
    try {
      const fn = this.checkFn(kind, check.target.service);
      const result = await Promise.race([
        fn({ ...check.target, timeout: timeoutMs / 1000 }, abort.signal).catch((err: unknown) => ({ up: false, detail: `check failed: ${(err as Error).message}` })),
        backstop,
      ]);
      if (abort.signal.aborted && !result.up && !/timed out/.test(result.detail)) return { up: false, detail: `timed out after ${timeoutMs / 1000} s (${result.detail})` };
      return result;
    } finally {
      clearTimeout(timer);
      clearImmediate(pending);
      clearTimeout(late);
      this.aborts.delete(abort);
    }
  }

  private report(check: RealCheck, change: Transition, detail: string, failsBefore: number): void {
    const { failurecount } = check.limits;
    for (const { virtual, real } of check.members) {
      const where = `${check.label} (${describeVirtual(virtual)})`;
      if (change) {
        this.hooks.log('info', `Real server ${change}: ${where}: ${detail}`);
        this.hooks.transition?.(virtual, real, change, detail);
      } else if (check.state.health === 'up' && check.state.fails > 0) {
        this.hooks.log('info', `Soft failure real server: ${where} failure ${check.state.fails}/${failurecount}: ${detail}`);
      } else if (check.state.health === 'up' && failsBefore > 0 && check.state.fails === 0) {
        this.hooks.log('info', `Resetting soft failure count: ${where}`);
      }
    }
  }

  // ---- reconciling ----

  private requestReconcile(delayMs = BATCH_MS): void {
    if (this.pending || this.stopped) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      void this.reconcileNow();
    }, delayMs);
  }

  private armPeriodic(): void {
    clearTimeout(this.periodic);
    if (this.stopped) return;
    // A full comparison now and then repairs changes made behind lvsd's back; transitions do not
    // wait for it (they reconcile at once).
    this.periodic = setTimeout(() => {
      void this.reconcileNow().finally(() => this.armPeriodic());
    }, REPAIR_MS);
  }

  /**
   * One read, one diff, one batch. Concurrent calls coalesce into one more run; each caller is
   * answered by the first run that began after its call (not by the end of a busy series of runs).
   */
  reconcileNow(opts: { fromKnown?: boolean } = {}): Promise<void> {
    if (!opts.fromKnown) this.readWanted = true;
    const ticket = ++this.requested;
    const answered = new Promise<void>((resolve) => this.waiters.push({ ticket, resolve }));
    this.reconciling ??= (async () => {
      try {
        while (this.completed < this.requested && !this.stopped) {
          const covers = this.requested;
          await this.reconcileOnce();
          this.completed = covers;
          this.waiters = this.waiters.filter((w) => (w.ticket <= covers ? (w.resolve(), false) : true));
        }
      } finally {
        // In the same turn as the loop's end: a call from now on starts a new loop.
        this.reconciling = undefined;
        for (const w of this.waiters) w.resolve();
        this.waiters = [];
      }
    })();
    return answered;
  }

  private async reconcileOnce(): Promise<void> {
    const started = this.now();
    let errors: string[] = [];
    let changes: TableChange[] = [];
    try {
      // Connection counts only matter to slow start (and the known table has none fresh).
      const full = this.config.virtuals.some((v) => v.slowstart > 0);
      const fromKnown = !this.readWanted && !full ? this.known : undefined;
      this.readWanted = false;
      this.known = undefined;
      const current = fromKnown ?? (await this.backend.read(full));
      // Only the marks this table was computed from: a first failure during the apply keeps its own.
      const marked = [...this.checks.values()].filter((c) => c.state.addQuiesced);
      const want = desiredTable({ config: this.config, checkOf: (v, r) => this.checkOf(v, r), current, now: this.now(), active: (v) => this.isActive(v) });
      changes = diffTables(current, want.table, this.owned);
      if (changes.length > 0) errors = (await this.backend.apply(changes)).errors;
      let after: Table<DestState> | undefined;
      if (errors.length === 0) after = applyChanges(current, changes);
      else {
        after = await this.backend.read();
        if (diffTables(after, want.table, this.owned).length === 0) {
          // Another writer (the lvs agent cleaning up at demote) made the same change first: nothing failed.
          this.hooks.log('debug', `IPVS: the table changed while lvsd applied its changes (${errors.join('; ')}); it is as desired`);
          errors = [];
        } else if (fromKnown) {
          // Written from what lvsd knew, and someone changed the table since: a normal pass at once.
          this.hooks.log('info', `IPVS: the table was not as lvsd last saw it (${errors.join('; ')}); reconciling it again`);
          errors = [];
          void this.reconcileNow();
        } else after = undefined;
      }
      this.known = after;
      if (errors.length === 0) for (const c of marked) c.state.addQuiesced = false;
      this.lastDesired = want.table;
      this.logChanges(current, changes);
      this.updateFallbacks(want.fallback);
      this.armRamp(want.ramping);
    } catch (err) {
      errors = [(err as Error).message];
    }
    this.counters.reconciles++;
    this.counters.lastReconcileMs = this.now() - started;
    if (errors.length > 0) {
      this.counters.reconcileErrors++;
      for (const e of errors) this.hooks.log('error', `IPVS: ${e}`);
      // The kernel refused something: look again soon rather than at the next periodic pass.
      this.requestReconcile(1000);
    }
    this.hooks.reconciled?.({ changes: changes.length, durationMs: this.counters.lastReconcileMs, errors });
  }

  private armRamp(ramping: boolean): void {
    clearTimeout(this.rampTimer);
    this.rampTimer = undefined;
    if (!ramping || this.stopped) return;
    const step = Math.min(...this.config.virtuals.filter((v) => v.slowstart > 0).map((v) => rampStepMs(v.slowstart)));
    this.rampTimer = setTimeout(() => void this.reconcileNow(), step);
  }

  private updateFallbacks(active: Set<string>): void {
    for (const v of this.config.virtuals) {
      const key = virtualKey(v);
      const was = this.fallbackOn.has(key);
      const is = active.has(key);
      if (was === is) continue;
      if (is) this.fallbackOn.add(key);
      else this.fallbackOn.delete(key);
      this.hooks.fallback?.(v, is);
    }
  }

  private logChanges(current: Table, changes: TableChange[]): void {
    const log = (level: LogLevel, m: string) => this.hooks.log(level, m);
    for (const c of changes) {
      switch (c.op) {
        case 'add-service':
          log('info', `Added virtual server: ${describeService(c.service.id)}`);
          break;
        case 'edit-service':
          log('info', `Changed virtual server: ${describeService(c.service.id)}`);
          break;
        case 'delete-service':
          log('info', `Deleted virtual server: ${describeService(c.id)}`);
          break;
        case 'delete-dest':
          log('info', `Deleted real server: ${c.target} (${describeService(c.id)})`);
          break;
        case 'add-dest':
          log('info', `Added real server: ${c.dest.target} (${describeService(c.id)}) (Weight set to ${c.dest.weight})`);
          break;
        case 'edit-dest': {
          const before = current.get(serviceKeyOf(c.id))?.dests.get(c.dest.target)?.weight ?? 0;
          const what = `${c.dest.target} (${describeService(c.id)})`;
          if (c.dest.weight === 0) log('info', `Quiescent real server: ${what} (Weight set to 0)`);
          else if (before === 0) log('info', `Restored real server: ${what} (Weight set to ${c.dest.weight})`);
          else log('debug', `Changed real server: ${what} (weight ${c.dest.weight}, u_threshold ${c.dest.uthreshold})`);
          break;
        }
      }
    }
  }
}

export function describeVirtual(v: VirtualConfig): string {
  return describeService(serviceOf(v));
}
