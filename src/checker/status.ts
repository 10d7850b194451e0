// The checker's view, written to a file for `lvskit status` and the OCF monitor's liveness check.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
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

export function snapshot(engine: Engine, meta: Pick<CheckerStatus, 'pid' | 'config' | 'state' | 'startedAt'>): CheckerStatus {
  const desired = engine.desired();
  const virtuals: VirtualStatus[] = engine.configuration.virtuals.map((v) => {
    const dests = desired?.get(virtualKey(v))?.dests;
    const reals: RealStatus[] = v.reals.map((r) => {
      const check = engine.checkOf(v, r);
      const d = dests?.get(realTarget(v, r));
      const s: RealStatus = {
        real: realTarget(v, r),
        health: v.checktype === 'on' ? 'up' : check?.state.health ?? 'down',
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
    });
    return {
      virtual: describeVirtual(v),
      ...(v.follow !== undefined ? { follows: v.follow } : {}),
      active: engine.isActive(v),
      scheduler: v.scheduler,
      realsUp: reals.filter((r) => r.health === 'up').length,
      fallback: engine.fallbackActive(v) && v.fallback !== undefined,
      reals,
    };
  });
  const c = engine.counters;
  return {
    ...meta,
    updatedAt: new Date().toISOString(),
    reconciles: c.reconciles,
    lastReconcileMs: c.lastReconcileMs,
    reconcileErrors: c.reconcileErrors,
    virtuals,
  };
}

export function writeStatus(path: string, status: CheckerStatus): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(status, null, 1));
  renameSync(tmp, path);
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
