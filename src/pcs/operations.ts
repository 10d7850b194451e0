// The operation timeouts bootstrap gives lvs and lvsd, as pcs `op` arguments, and whether a resource in
// the CIB already has them. Longer timeouts found in the CIB are left alone: they are the operator's.
import { children, type XmlElement } from './cib';

export interface Operation {
  name: 'start' | 'stop' | 'promote' | 'demote' | 'monitor';
  /** Seconds; 0 for the one-shot actions. */
  interval: number;
  /** Seconds. */
  timeout: number;
  role?: 'promoted' | 'unpromoted';
}

// The agents advertise 20 s (their meta-data). A CI run on a busy 2-core machine had lvs actions fail
// with that; these leave room for a node whose every program start is slow (see docs/bootstrap.md).
export const LVS_ACTION_TIMEOUT_S = 60;
export const MONITOR_TIMEOUT_S = 30;

export const LVS_OPERATIONS: Operation[] = [
  { name: 'start', interval: 0, timeout: LVS_ACTION_TIMEOUT_S },
  { name: 'stop', interval: 0, timeout: LVS_ACTION_TIMEOUT_S },
  { name: 'promote', interval: 0, timeout: LVS_ACTION_TIMEOUT_S },
  { name: 'demote', interval: 0, timeout: LVS_ACTION_TIMEOUT_S },
  // Different intervals per role: pacemaker requires it of a promotable clone. Events cover what
  // must be fast (the VIP watcher: link loss; lvsd: the table), so only the promoted instance, which
  // holds the VIP, is checked every 10 s; every monitor is a program start (docs/bootstrap.md).
  { name: 'monitor', interval: 10, timeout: MONITOR_TIMEOUT_S, role: 'promoted' },
  { name: 'monitor', interval: 30, timeout: MONITOR_TIMEOUT_S, role: 'unpromoted' },
];

export const CHECKER_OPERATIONS: Operation[] = [
  { name: 'start', interval: 0, timeout: LVS_ACTION_TIMEOUT_S },
  { name: 'stop', interval: 0, timeout: LVS_ACTION_TIMEOUT_S },
  // 30 s, as the unpromoted lvs: lvsd keeps its table by itself, a monitor only finds it dead.
  { name: 'monitor', interval: 30, timeout: MONITOR_TIMEOUT_S },
];

/** A pacemaker duration ("60", "60s", "1min", "500ms", …) in milliseconds; undefined when unreadable. */
export function durationMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(\d+)\s*(ms|msec|us|usec|s|sec|m|min|h|hr)?\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const factor: Record<string, number> = { ms: 1, msec: 1, us: 0.001, usec: 0.001, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, hr: 3_600_000 };
  return n * factor[unit]!;
}

/** The role as the CIB may spell it (legacy or current names) mapped to ours. */
function roleOf(op: XmlElement): Operation['role'] | undefined {
  const r = (op.attrs.role ?? '').toLowerCase();
  if (r === 'promoted' || r === 'master') return 'promoted';
  if (r === 'unpromoted' || r === 'slave') return 'unpromoted';
  return undefined;
}

/** pcs `op` words for these operations, with the dialect's role names. */
export function opArgs(ops: Operation[], roles: { promoted: string; unpromoted: string }, intervals: Map<Operation, number> = new Map()): string[] {
  return ops.flatMap((op) => [
    'op',
    op.name,
    `interval=${intervals.get(op) ?? op.interval}s`,
    ...(op.role ? [`role=${roles[op.role]}`] : []),
    `timeout=${op.timeout}s`,
  ]);
}

export interface OpsFinding {
  /** Operations that lack a timeout at least ours (a missing timeout is pacemaker's 20 s). */
  short: Operation[];
  /** The interval each short monitor has in the CIB, kept when bootstrap updates it. */
  intervals: Map<Operation, number>;
}

/** Which of `want` the primitive's <operations> lack, or have with a shorter timeout. */
export function findShortOps(prim: XmlElement, want: Operation[]): OpsFinding {
  const have = children(children(prim, 'operations')[0], 'op');
  const short: Operation[] = [];
  const intervals = new Map<Operation, number>();
  for (const w of want) {
    const match = have.find((op) => op.attrs.name === w.name && roleOf(op) === w.role && (w.name === 'monitor') === ((durationMs(op.attrs.interval) ?? 0) > 0));
    const timeout = durationMs(match?.attrs.timeout);
    if (match && timeout !== undefined && timeout >= w.timeout * 1000) continue;
    short.push(w);
    const interval = durationMs(match?.attrs.interval);
    if (w.name === 'monitor' && interval !== undefined && interval > 0 && interval % 1000 === 0) intervals.set(w, interval / 1000);
  }
  return { short, intervals };
}

export function describeOps(ops: Operation[]): string {
  return ops.map((o) => `${o.name}${o.role ? ` (${o.role})` : ''} ${o.timeout} s`).join(', ');
}
