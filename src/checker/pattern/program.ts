// The parsed pattern as a Thompson NFA: byte-set, split and assertion instructions. Bounded
// repetitions are written out, so the size is capped: past MAX_INSTRUCTIONS the pattern is refused.
import { PatternError, type AssertionKind, type Node } from './syntax';

export const enum Op {
  Byte,
  Split,
  Assert,
  Match,
}

export const MAX_INSTRUCTIONS = 5000;

export interface Program {
  op: Op[];
  /** Byte: index in `sets`; Assert: index in ASSERTIONS. */
  arg: number[];
  next: number[];
  /** Split only: the second way on. */
  alt: number[];
  sets: Uint8Array[];
  start: number;
}

export const ASSERTIONS: AssertionKind[] = ['bos', 'eos', 'eosnl', 'mbol', 'meol', 'word', 'nonword'];

export function compile(tree: Node): Program {
  const p: Program = { op: [], arg: [], next: [], alt: [], sets: [], start: 0 };
  const setIndex = new Map<string, number>();
  const emit = (op: Op, arg: number, next: number, alt = -1): number => {
    if (p.op.length >= MAX_INSTRUCTIONS) {
      throw new PatternError(`too large once its repetitions are written out (more than ${MAX_INSTRUCTIONS} states)`);
    }
    p.op.push(op);
    p.arg.push(arg);
    p.next.push(next);
    p.alt.push(alt);
    return p.op.length - 1;
  };
  // Compiled back to front: each node is given where to go after it.
  const build = (node: Node, next: number): number => {
    switch (node.t) {
      case 'set': {
        const key = Buffer.from(node.bytes).toString('latin1');
        let i = setIndex.get(key);
        if (i === undefined) {
          i = p.sets.push(node.bytes) - 1;
          setIndex.set(key, i);
        }
        return emit(Op.Byte, i, next);
      }
      case 'assert':
        return emit(Op.Assert, ASSERTIONS.indexOf(node.kind), next);
      case 'seq':
        return node.items.reduceRight((to, item) => build(item, to), next);
      case 'alt': {
        let start = build(node.items[node.items.length - 1]!, next);
        for (let k = node.items.length - 2; k >= 0; k--) start = emit(Op.Split, 0, build(node.items[k]!, next), start);
        return start;
      }
      case 'rep': {
        let start = next;
        if (node.max === Infinity) {
          const loop = emit(Op.Split, 0, -1, next);
          p.next[loop] = build(node.item, loop);
          start = loop;
        } else {
          for (let k = node.min; k < node.max; k++) start = emit(Op.Split, 0, build(node.item, start), next);
        }
        for (let k = 0; k < node.min; k++) start = build(node.item, start);
        return start;
      }
    }
  };
  p.start = build(tree, emit(Op.Match, 0, -1));
  return p;
}
