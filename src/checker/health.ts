// One real server's health as one check sees it: rise and fall counting, and which kind of check
// runs next (checktype N alternates connect and negotiate checks, as ldirectord's "combined").
import type { CheckType } from './config/model';

export type Health = 'unknown' | 'up' | 'down';
export type CheckKind = 'connect' | 'negotiate' | 'ping' | 'external' | 'on';

export interface Thresholds {
  /** Consecutive failures that take an up real down (ldirectord's failurecount). */
  failurecount: number;
  /** Consecutive passes that bring a down real back (lvsd's risecount). */
  risecount: number;
}

export type Transition = 'up' | 'down' | undefined;

export class HealthState {
  health: Health = 'unknown';
  fails = 0;
  passes = 0;
  /** When the real last came up (ms); drives slow start. */
  upSince?: number;
  /** Slow start applies to this up-transition (not to the reals found at daemon start). */
  ramp = false;
  /** Set for checks created after the daemon started (a reload added the real): ramp on first up. */
  rampOnFirstUp = false;
  /**
   * Its first check failed: with quiescent=yes the real goes in at weight 0, as ldirectord puts
   * every real in at start and quiesces the failed ones. Cleared once the table has it, so a real
   * an operator removes by hand later stays removed (unless readdquiescent).
   */
  addQuiesced = false;
  private connectsSinceNegotiate = 0;
  private negotiateDue = true;

  constructor(private readonly checktype: CheckType) {}

  /** The kind of the next check, given the virtual's protocol (connect on UDP means ping, as in ldirectord). */
  nextKind(protocol: 'tcp' | 'udp' | 'fwm'): CheckKind {
    const t = this.checktype;
    if (typeof t === 'object') {
      if (this.negotiateDue || this.connectsSinceNegotiate >= t.combined) return 'negotiate';
      return protocol === 'udp' ? 'ping' : 'connect';
    }
    if (t === 'connect' && protocol === 'udp') return 'ping';
    if (t === 'off') return 'on'; // never scheduled; see Engine
    return t;
  }

  /** Records one result; returns the transition it caused, if any. */
  observe(up: boolean, kind: CheckKind, now: number, limits: Thresholds): Transition {
    if (typeof this.checktype === 'object') {
      if (!up) this.negotiateDue = true;
      else if (kind === 'negotiate') {
        this.negotiateDue = false;
        this.connectsSinceNegotiate = 0;
      } else this.connectsSinceNegotiate++;
    }
    if (up) {
      this.passes++;
      this.fails = 0;
      if (this.health === 'up') return undefined;
      // A real nobody has seen fail yet (daemon start) needs one pass; a failed one needs risecount.
      const need = this.health === 'unknown' ? 1 : limits.risecount;
      if (this.passes < need) return undefined;
      this.ramp = this.health === 'down' || this.rampOnFirstUp;
      this.health = 'up';
      this.upSince = now;
      return 'up';
    }
    this.passes = 0;
    this.fails++;
    if (this.health === 'down') return undefined;
    if (this.health === 'up' && this.fails < limits.failurecount) return undefined;
    if (this.health === 'unknown') this.addQuiesced = true;
    this.health = 'down';
    this.ramp = false;
    this.upSince = undefined;
    return 'down';
  }

  /** A real found in the kernel's table with a positive weight at start is trusted until its first check. */
  assumeUp(now: number): void {
    this.health = 'up';
    this.upSince = now;
    this.ramp = false;
  }
}
