// The checker's view, written to a file for `lvskit status` and the OCF monitor's liveness check.
import { constants, readdirSync, readFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { DestSpec } from '../ipvs/table';
import type { RealConfig, VirtualConfig } from './config/model';
import type { Engine } from './engine';
import { describeVirtual } from './engine';
import { realTarget, virtualKey } from './desired';

export const STATUS_DIR = '/run/lvskit/checker';

/** The OCF monitor at OCF_CHECK_LEVEL=10 says lvsd hangs when its status file is older than this. */
export const STATUS_STALE_MS = 60_000;

/**
 * How often lvsd rewrites its status file even when nothing changed: every checkinterval (the
 * file carries the latest results), but at least every 10 s, well within STATUS_STALE_MS whatever
 * the checkinterval.
 */
export function heartbeatMs(checkinterval: number): number {
  return Math.min(10_000, Math.max(1000, checkinterval * 1000));
}

export interface RealStatus {
  real: string;
  health: 'unknown' | 'up' | 'down';
  configuredWeight: number;
  /** Weight lvsd last set (0 = quiesced, null = not in the table). */
  weight: number | null;
  uthreshold: number | null;
  consecutiveFailures: number;
  lastCheck?: { at: string; up: boolean; detail: string; latencyMs: number; kind: string };
  rampingUntil?: string;
}

export interface VirtualStatus {
  virtual: string;
  /** The VIP it follows (followvip), if any. */
  follows?: string;
  /** In this node's kernel: it follows no VIP, or this node holds its VIP on a NIC. */
  active: boolean;
  scheduler: string;
  realsUp: number;
  fallback: boolean;
  reals: RealStatus[];
}

export interface CheckerStatus {
  pid: number;
  config: string;
  state: 'starting' | 'running' | 'reloading' | 'stopping';
  startedAt: string;
  updatedAt: string;
  reconciles: number;
  lastReconcileMs: number;
  reconcileErrors: number;
  virtuals: VirtualStatus[];
}

export function statusPath(configFile: string, dir = STATUS_DIR): string {
  return join(dir, `${basename(configFile)}.json`);
}

type Meta = Pick<CheckerStatus, 'pid' | 'config' | 'state' | 'startedAt'>;
type Dests = Map<string, DestSpec> | undefined;

function health(engine: Engine, v: VirtualConfig, r: RealConfig): RealStatus['health'] {
  return v.checktype === 'on' ? 'up' : engine.checkOf(v, r)?.state.health ?? 'down';
}

function realStatus(engine: Engine, v: VirtualConfig, r: RealConfig, dests: Dests): RealStatus {
  const check = engine.checkOf(v, r);
  const d = dests?.get(realTarget(v, r));
  const s: RealStatus = {
    real: realTarget(v, r),
    health: health(engine, v, r),
    configuredWeight: r.weight,
    weight: d ? d.weight : null,
    uthreshold: d ? d.uthreshold : null,
    consecutiveFailures: check?.state.fails ?? 0,
  };
  if (check?.last) {
    const l = check.last;
    s.lastCheck = { at: new Date(l.at).toISOString(), up: l.up, detail: l.detail, latencyMs: l.latencyMs, kind: l.kind };
  }
  const since = check?.state.upSince;
  if (check?.state.ramp && since !== undefined && v.slowstart > 0 && since + v.slowstart * 1000 > Date.now()) {
    s.rampingUntil = new Date(since + v.slowstart * 1000).toISOString();
  }
  return s;
}

/** A virtual's status without its reals. */
function virtualHead(engine: Engine, v: VirtualConfig): Omit<VirtualStatus, 'reals'> {
  return {
    virtual: describeVirtual(v),
    ...(v.follow !== undefined ? { follows: v.follow } : {}),
    active: engine.isActive(v),
    scheduler: v.scheduler,
    realsUp: v.reals.filter((r) => health(engine, v, r) === 'up').length,
    fallback: engine.fallbackActive(v) && v.fallback !== undefined,
  };
}

function head(engine: Engine, meta: Meta): Omit<CheckerStatus, 'virtuals'> {
  const c = engine.counters;
  return { ...meta, updatedAt: new Date().toISOString(), reconciles: c.reconciles, lastReconcileMs: c.lastReconcileMs, reconcileErrors: c.reconcileErrors };
}

/**
 * The status, read a slice of reals at a time: the status file and /metrics of a large table are
 * produced between other work instead of in one block (a snapshot of 100 000 reals is 0.5 s).
 */
export interface StatusSource {
  head: Omit<CheckerStatus, 'virtuals'>;
  virtuals: Array<{ head: Omit<VirtualStatus, 'reals'>; count: number; reals(from: number, to: number): RealStatus[] }>;
}

export function statusSource(engine: Engine, meta: Meta): StatusSource {
  return {
    head: head(engine, meta),
    virtuals: engine.configuration.virtuals.map((v) => ({
      head: virtualHead(engine, v),
      count: v.reals.length,
      reals: (from, to) => {
        const dests = engine.desired()?.get(virtualKey(v))?.dests;
        return v.reals.slice(from, to).map((r) => realStatus(engine, v, r, dests));
      },
    })),
  };
}

/** A status already taken, as a source. */
export function sourceOf(s: CheckerStatus): StatusSource {
  const { virtuals, ...rest } = s;
  return { head: rest, virtuals: virtuals.map(({ reals, ...h }) => ({ head: h, count: reals.length, reals: (from, to) => reals.slice(from, to) })) };
}

export function snapshot(engine: Engine, meta: Meta): CheckerStatus {
  const src = statusSource(engine, meta);
  return { ...src.head, virtuals: src.virtuals.map((v) => ({ ...v.head, reals: v.reals(0, v.count) })) };
}

/** Reals per piece of statusText and metricsText. */
export const SLICE = 1000;

/** The status file's JSON (what snapshot() says) in pieces of at most SLICE reals. */
export function* statusText(src: StatusSource): Generator<string> {
  const open = JSON.stringify(src.head);
  yield `${open.slice(0, -1)},"virtuals":[`;
  let first = true;
  for (const v of src.virtuals) {
    const h = JSON.stringify(v.head);
    yield `${first ? '' : ','}${h.slice(0, -1)},"reals":[`;
    first = false;
    for (let i = 0; i < v.count; i += SLICE) {
      yield `${i > 0 ? ',' : ''}${v.reals(i, i + SLICE).map((r) => JSON.stringify(r)).join(',')}`;
    }
    yield ']}';
  }
  yield ']}';
}

/**
 * Writes the pieces to a fresh temporary file (never through a link planted there), one write at a
 * time, then renames it over `path`: readers see the old file or the whole new one.
 */
export async function writeStatus(path: string, pieces: Iterable<string>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await rm(tmp, { force: true });
  const file = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    for (const piece of pieces) await file.write(piece);
  } finally {
    await file.close();
  }
  await rename(tmp, path);
}

export function readStatus(path: string): CheckerStatus | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as CheckerStatus;
  } catch {
    return undefined;
  }
}

/** Every checker's status file on this host. */
export function readAllStatus(dir = STATUS_DIR): CheckerStatus[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return names.map((n) => readStatus(join(dir, n))).filter((s): s is CheckerStatus => s !== undefined);
}
