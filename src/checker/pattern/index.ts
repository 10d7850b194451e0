// ldirectord's `receive`: a Perl regular expression matched against a real server's answer. Any
// answer a real can send must cost bounded work, so the pattern runs on a lazy DFA built from its
// NFA (linear in the answer, whatever the pattern), over bytes as Perl sees them, and an async match
// gives the event loop back every few milliseconds and stops when the check's deadline passes.
// syntax.ts says which Perl constructs are refused and why.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ASSERTIONS, compile, Op, type Program } from './program';
import { parse } from './syntax';

export { PatternError } from './syntax';

export interface Pattern {
  /** The pattern as written in the configuration. */
  readonly source: string;
  /** Whether Perl's `subject =~ /source/` is true; for short subjects. */
  test(subject: Buffer | string): boolean;
  /** The same, yielding to the event loop as it goes; false once `signal` aborts. */
  matches(subject: Buffer | string, signal?: AbortSignal): Promise<boolean>;
}

const cache = new Map<string, Pattern>();

/** The compiled pattern, or PatternError naming what Perl would read differently or cannot be bounded. */
export function compilePattern(source: string): Pattern {
  let p = cache.get(source);
  if (!p) {
    p = new Dfa(source, compile(parse(source)));
    if (cache.size >= 256) cache.clear();
    cache.set(source, p);
  }
  return p;
}

// Byte classes for the assertions: boundary (start or end), newline, word, other.
const EDGE = 0;
const NL = 1;
const WORD = 2;
const CLASS = new Uint8Array(256).map((_, b) => (b === 10 ? NL : /\w/.test(String.fromCharCode(b)) && b < 128 ? WORD : 3));

const MATCHED = -2;
const UNKNOWN = -1;
/** DFA states kept per pattern (1 KiB each, so at most 1 MiB); past it the cache starts over. */
const MAX_STATES = 1000;
/** Uncached steps between two looks at the clock. */
const STEPS_PER_LOOK = 64;
/** Longest stretch of matching before the event loop gets a turn. */
const SLICE_MS = 4;

/**
 * Threads are instruction × flag, the flag tracking Perl's `$` before a final newline: 0 free,
 * 1 "the next byte is the last one and a newline", 2 "must be at the end now".
 */
class Dfa implements Pattern {
  private readonly n: number;
  private readonly mark: Int32Array;
  private generation = 0;
  private keys = new Map<string, number>();
  private threads: Int32Array[] = [];
  private prevs: number[] = [];
  private table: Int32Array[] = [];
  /** Counts the times the cache started over: state numbers from before are void. */
  private epoch = 0;
  private readonly stack: number[] = [];
  /** Where run() stopped. */
  private at = 0;

  constructor(
    readonly source: string,
    private readonly p: Program,
  ) {
    this.n = p.op.length;
    this.mark = new Int32Array(3 * this.n);
  }

  test(subject: Buffer | string): boolean {
    const bytes = toBytes(subject);
    let state = this.initial();
    for (let i = 0; i < bytes.length; ) {
      state = this.run(bytes, i, bytes.length, state);
      if (state === MATCHED) return true;
      i = this.at;
    }
    return this.acceptsAtEnd(state);
  }

  async matches(subject: Buffer | string, signal?: AbortSignal): Promise<boolean> {
    const bytes = toBytes(subject);
    let state = this.initial();
    let since = performance.now();
    for (let i = 0; i < bytes.length; ) {
      state = this.run(bytes, i, bytes.length, state);
      if (state === MATCHED) return true;
      i = this.at;
      if (performance.now() - since > SLICE_MS) {
        const threads = this.threads[state]!;
        const prev = this.prevs[state]!;
        await yieldToLoop();
        if (signal?.aborted) return false;
        state = this.intern(Array.from(threads), prev); // the cache may have started over meanwhile
        since = performance.now();
      }
    }
    return this.acceptsAtEnd(state);
  }

  private initial(): number {
    return this.intern([], EDGE);
  }

  /** Steps from `from` to at most `to`; stops early (this.at) after STEPS_PER_LOOK uncached steps. */
  private run(bytes: Uint8Array, from: number, to: number, start: number): number {
    let state = start;
    let misses = 0;
    let i = from;
    for (; i < to; i++) {
      const b = bytes[i]!;
      let next = this.table[state]![b]!;
      if (next === UNKNOWN) {
        next = this.step(state, b);
        if (++misses >= STEPS_PER_LOOK) {
          this.at = i + 1;
          return next;
        }
      }
      if (next === MATCHED) return MATCHED;
      state = next;
    }
    this.at = i;
    return state;
  }

  private step(state: number, b: number): number {
    const cls = CLASS[b]!;
    const epoch = this.epoch;
    const reached = this.closure(this.threads[state]!, this.prevs[state]!, cls);
    let next: number;
    if (reached === null) next = MATCHED;
    else {
      const out: number[] = [];
      const { op, arg, next: to, sets } = this.p;
      for (const t of reached) {
        const pc = t % this.n;
        const flag = (t - pc) / this.n;
        if (flag === 2) continue; // consuming past where the end had to be
        if (op[pc] === Op.Match) out.push(pc + 2 * this.n); // flag 1: the newline, then the end
        else if (sets[arg[pc]!]![b]) out.push(to[pc]! + (flag === 1 ? 2 * this.n : 0));
      }
      next = this.intern(out, cls);
    }
    if (this.epoch === epoch) this.table[state]![b] = next;
    return next;
  }

  private acceptsAtEnd(state: number): boolean {
    const reached = this.closure(this.threads[state]!, this.prevs[state]!, EDGE);
    if (reached === null) return true;
    return reached.some((t) => this.p.op[t % this.n] === Op.Match);
  }

  /**
   * The threads that wait on a byte (or Match) from `seeds` plus a new start, with the assertions
   * judged between a byte of class `prev` and one of class `next`; null once Match is free.
   */
  private closure(seeds: Int32Array, prev: number, next: number): number[] | null {
    const { op, arg, next: to, alt } = this.p;
    const n = this.n;
    const gen = ++this.generation;
    const stack = this.stack;
    stack.length = 0;
    for (let k = seeds.length - 1; k >= 0; k--) stack.push(seeds[k]!);
    stack.push(this.p.start);
    const out: number[] = [];
    while (stack.length) {
      const t = stack.pop()!;
      if (this.mark[t] === gen) continue;
      this.mark[t] = gen;
      const pc = t % n;
      const base = t - pc;
      switch (op[pc]) {
        case Op.Byte:
          out.push(t);
          break;
        case Op.Match:
          if (base === 0) return null;
          out.push(t);
          break;
        case Op.Split:
          stack.push(alt[pc]! + base, to[pc]! + base);
          break;
        case Op.Assert: {
          const kind = ASSERTIONS[arg[pc]!];
          let ok: boolean;
          let flag = base;
          switch (kind) {
            case 'bos':
              ok = prev === EDGE;
              break;
            case 'eos':
              ok = next === EDGE;
              break;
            case 'eosnl':
              ok = next === EDGE || next === NL;
              if (next === NL && base === 0) flag = n; // only if that newline turns out to be the last byte
              break;
            case 'mbol':
              ok = prev === EDGE || (prev === NL && next !== EDGE);
              break;
            case 'meol':
              ok = next === EDGE || next === NL;
              break;
            case 'word':
              ok = (prev === WORD) !== (next === WORD);
              break;
            default:
              ok = (prev === WORD) === (next === WORD);
          }
          if (ok) stack.push(to[pc]! + flag);
          break;
        }
      }
    }
    return out;
  }

  private intern(threads: number[], prev: number): number {
    const sorted = Int32Array.from(new Set(threads)).sort();
    const key = `${prev}:${sorted.join(',')}`;
    let id = this.keys.get(key);
    if (id !== undefined) return id;
    if (this.threads.length >= MAX_STATES) {
      this.epoch++;
      this.keys = new Map();
      this.threads = [];
      this.prevs = [];
      this.table = [];
    }
    id = this.threads.push(sorted) - 1;
    this.prevs.push(prev);
    this.table.push(new Int32Array(256).fill(UNKNOWN));
    this.keys.set(key, id);
    return id;
  }
}

function toBytes(subject: Buffer | string): Uint8Array {
  return typeof subject === 'string' ? Buffer.from(subject, 'utf8') : subject;
}
