// Slow start: a real that returns (or a reload adds) takes a growing share of new connections
// over `slowstart` seconds instead of all of them at once.
//
// Weight-based schedulers: HAProxy's linear slowstart (doc/configuration.txt "slowstart",
// src/server.c server_recalc_eweight):  weight(t) = max(1, ceil(weight * t / slowstart)).
// Schedulers that ignore the weight (lc, rr, dh, ...) or weights too small to ramp (< 20, so a
// step cannot be 5%): the kernel's upper connection threshold, as HAProxy ramps maxconn
// (src/queue.c srv_dynamic_maxconn):  u_threshold(t) = max(1, ceil(peers * t / slowstart)),
// where peers is the mean number of connections (active + inactive) on the service's other up
// reals, which is what lc balances. At t >= slowstart the configured values return.
// Not applied at daemon start (a new director must serve at once) or when no other real is up.

/** Schedulers whose choice depends on the weight's size, not only on it being zero. */
const WEIGHTED = new Set(['wrr', 'wlc', 'sed', 'nq', 'lblc', 'lblcr', 'mh', 'sh', 'twos']);

export const MIN_RAMP_WEIGHT = 20;

export interface Ramp {
  weight: number;
  uthreshold: number;
  lthreshold: number;
}

/** Seconds between ramp steps: about 5 % of the ramp, at least one second. */
export function rampStepMs(slowstart: number): number {
  return Math.max(1000, (slowstart * 1000) / 20);
}

export function ramped(
  configured: Ramp,
  scheduler: string,
  elapsedMs: number,
  slowstart: number,
  peerConnections: number,
): Ramp {
  const f = slowstart > 0 ? elapsedMs / (slowstart * 1000) : 1;
  if (f >= 1) return configured;
  const fraction = Math.max(0, f);
  const out = { ...configured };
  const weighted = WEIGHTED.has(scheduler);
  if (weighted) out.weight = Math.max(1, Math.ceil(configured.weight * fraction));
  if (!weighted || configured.weight < MIN_RAMP_WEIGHT) {
    let u = Math.max(1, Math.ceil(peerConnections * fraction));
    if (configured.uthreshold > 0) u = Math.min(u, configured.uthreshold);
    out.uthreshold = u;
    out.lthreshold = configured.lthreshold <= u ? configured.lthreshold : 0;
  }
  return out;
}
