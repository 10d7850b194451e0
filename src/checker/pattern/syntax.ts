// Perl regular-expression syntax, as ldirectord's `$x =~ /$receive/` reads it, parsed into a tree
// that has only what a linear-time matcher can do: byte sets, sequences, alternatives, repetitions
// and zero-width assertions. Everything is bytes, as in Perl without `use utf8`: the pattern is the
// UTF-8 of the configuration text, `.` is one byte, `\w`, `\d`, `[[:alpha:]]` and `(?i)` are ASCII.
// What Perl means but a linear matcher cannot do (look-around, back-references, atomic groups,
// possessive quantifiers, recursion, code) or what is ambiguous is refused with a reason.

export class PatternError extends Error {}

/** One byte out of a set of 256. */
export interface ByteSet {
  t: 'set';
  bytes: Uint8Array;
}

/** Zero-width assertions. `eosnl` is Perl's `$` (and `\Z`): the end, or before a final newline. */
export type AssertionKind = 'bos' | 'eos' | 'eosnl' | 'mbol' | 'meol' | 'word' | 'nonword';

export type Node =
  | ByteSet
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'rep'; item: Node; min: number; max: number }
  | { t: 'assert'; kind: AssertionKind };

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  /** 0, or 1 for /x, 2 for /xx (blanks in classes ignored too). */
  x: number;
}

const range = (from: number, to: number, into = new Uint8Array(256)): Uint8Array => {
  for (let c = from; c <= to; c++) into[c] = 1;
  return into;
};
const of = (...spans: Array<[number, number]>): Uint8Array => {
  const set = new Uint8Array(256);
  for (const [a, b] of spans) range(a, b, set);
  return set;
};
const invert = (set: Uint8Array): Uint8Array => set.map((v) => 1 - v);

// Perl's classes on byte strings (perl 5.36 checked byte by byte in the unit tests).
const DIGIT = of([0x30, 0x39]);
const WORD = of([0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]);
const SPACE = of([0x09, 0x0d], [0x20, 0x20]);
const HSPACE = of([0x09, 0x09], [0x20, 0x20], [0xa0, 0xa0]);
const VSPACE = of([0x0a, 0x0d], [0x85, 0x85]);
const POSIX: Record<string, Uint8Array> = {
  alpha: of([0x41, 0x5a], [0x61, 0x7a]),
  digit: DIGIT,
  alnum: of([0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]),
  upper: of([0x41, 0x5a]),
  lower: of([0x61, 0x7a]),
  space: SPACE,
  blank: of([0x09, 0x09], [0x20, 0x20]),
  cntrl: of([0x00, 0x1f], [0x7f, 0x7f]),
  graph: of([0x21, 0x7e]),
  print: of([0x20, 0x7e]),
  punct: of([0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]),
  xdigit: of([0x30, 0x39], [0x41, 0x46], [0x61, 0x66]),
  word: WORD,
  ascii: of([0x00, 0x7f]),
};
const CLASS_ESCAPES: Record<string, Uint8Array> = {
  d: DIGIT, D: invert(DIGIT), w: WORD, W: invert(WORD), s: SPACE, S: invert(SPACE),
  h: HSPACE, H: invert(HSPACE), v: VSPACE, V: invert(VSPACE),
};
const SIMPLE_ESCAPES: Record<string, number> = { t: 9, n: 10, r: 13, f: 12, e: 27, a: 7 };

/** ASCII letters in the set also in the other case: Perl's /i on bytes. */
function foldCase(set: Uint8Array): Uint8Array {
  const out = set.slice();
  for (let c = 0x41; c <= 0x5a; c++) if (set[c] || set[c + 32]) out[c] = out[c + 32] = 1;
  return out;
}

const isHex = (c: string | undefined) => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** Parses `source` (text from the configuration file) into a tree over its UTF-8 bytes. */
export function parse(source: string): Node {
  return new Parser(Buffer.from(source, 'utf8').toString('latin1')).parse();
}

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parse(): Node {
    const node = this.alternation({ i: false, m: false, s: false, x: 0 });
    if (this.pos < this.src.length) this.fail(`unmatched ")" at offset ${this.pos}`);
    return node;
  }

  private fail(why: string): never {
    throw new PatternError(why);
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  /** Branches up to ")" or the end. Inline flags `(?i)` last to the end of the group, across "|". */
  private alternation(outer: Flags): Node {
    const flags = { ...outer };
    const branches: Node[] = [this.sequence(flags)];
    while (this.peek() === '|') {
      this.pos++;
      branches.push(this.sequence(flags));
    }
    return branches.length === 1 ? branches[0]! : { t: 'alt', items: branches };
  }

  private sequence(flags: Flags): Node {
    const items: Node[] = [];
    for (;;) {
      this.skipExtended(flags);
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') break;
      const atom = this.atom(flags);
      if (atom === undefined) continue; // an inline flag group or a comment
      items.push(this.quantified(atom, flags));
    }
    return items.length === 1 ? items[0]! : { t: 'seq', items };
  }

  /** Under /x: blanks and # comments between tokens. */
  private skipExtended(flags: Flags): void {
    if (!flags.x) return;
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') this.pos++;
      else if (c === '#') {
        while (this.pos < this.src.length && this.peek() !== '\n') this.pos++;
      } else return;
    }
  }

  private quantified(atom: Node, flags: Flags): Node {
    let node = atom;
    for (;;) {
      this.skipExtended(flags);
      const start = this.pos;
      const c = this.peek();
      let min: number;
      let max: number;
      if (c === '*') [min, max] = [0, Infinity];
      else if (c === '+') [min, max] = [1, Infinity];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{') {
        const m = /^\{(\d*)(,?)(\d*)\}/.exec(this.src.slice(this.pos));
        if (!m || (m[1] === '' && m[2] === '')) return node; // a literal "{", as Perl takes it
        if (m[1] === '') this.fail(`"${m[0]}": Perl before 5.34 reads this as text, later as {0,${m[3]}}; write {0,${m[3]}} or \\{`);
        min = Number(m[1]);
        max = m[2] === '' ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (min > 65534 || (max !== Infinity && max > 65534)) this.fail(`quantifier "${m[0]}" above Perl's limit of 65534`);
        if (max < min) this.fail(`quantifier "${m[0]}": the maximum is below the minimum`);
        this.pos += m[0].length - 1;
      } else return node;
      this.pos++;
      if (this.peek() === '+') this.fail(`possessive quantifier "${this.src.slice(start, this.pos + 1)}" (no backtracking into it) cannot be matched in linear time`);
      if (this.peek() === '?') this.pos++; // lazy: the same strings match
      node = { t: 'rep', item: node, min, max };
    }
  }

  private atom(flags: Flags): Node | undefined {
    const c = this.src[this.pos++]!;
    switch (c) {
      case '(':
        return this.group(flags);
      case '[':
        return this.charClass(flags);
      case '.':
        return this.set(flags.s ? range(0, 255) : invert(of([10, 10])), false);
      case '^':
        return { t: 'assert', kind: flags.m ? 'mbol' : 'bos' };
      case '$':
        return { t: 'assert', kind: flags.m ? 'meol' : 'eosnl' };
      case '\\':
        return this.escape(flags);
      case '*':
      case '+':
      case '?':
        return this.fail(`quantifier "${c}" follows nothing`);
      default:
        return this.set(of([c.charCodeAt(0), c.charCodeAt(0)]), flags.i);
    }
  }

  private set(bytes: Uint8Array, fold: boolean): ByteSet {
    return { t: 'set', bytes: fold ? foldCase(bytes) : bytes };
  }

  private group(flags: Flags): Node | undefined {
    let inner = { ...flags };
    if (this.peek() === '?' || this.peek() === '*') {
      const rest = this.src.slice(this.pos);
      if (rest.startsWith('?#')) {
        const end = this.src.indexOf(')', this.pos);
        if (end < 0) this.fail('unterminated (?# comment');
        this.pos = end + 1;
        return undefined;
      }
      const refused: Array<[RegExp, string]> = [
        [/^\?(=|!|<=|<!)|^\*(pla|plb|nla|nlb|positive_look|negative_look)/, 'look-ahead and look-behind'],
        [/^\?>|^\*atomic/, 'an atomic group (?>…)'],
        [/^\?P=|^\?P>|^\?&|^\?R\)|^\?[-+]?\d/, 'back-references and recursion'],
        [/^\?\(/, 'a conditional (?(…)…)'],
        [/^\??\?\{/, 'Perl code'],
        [/^\*/, 'a backtracking control verb (*…)'],
      ];
      for (const [re, what] of refused) if (re.test(rest)) this.fail(`${what} cannot be matched in linear time`);
      const named = /^\?(?:P?<[A-Za-z_]\w*>|'[A-Za-z_]\w*')/.exec(rest);
      if (named) this.pos += named[0].length;
      else if (rest.startsWith('?|')) this.pos += 2; // branch reset: numbering only
      else {
        const m = /^\?(\^?)([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest);
        if (!m) this.fail(`unknown group syntax "(${rest.slice(0, 4)}"`);
        inner = this.modifiers(flags, m[1] === '^', m[2]!, m[3] ?? '', `(${m[0]}`);
        this.pos += m[0].length;
        if (m[4] === ')') {
          Object.assign(flags, inner); // (?i): to the end of the enclosing group
          return undefined;
        }
      }
    }
    const node = this.alternation(inner);
    if (this.peek() !== ')') this.fail('missing ")"');
    this.pos++;
    return node;
  }

  private modifiers(flags: Flags, caret: boolean, on: string, off: string, text: string): Flags {
    const out: Flags = caret ? { i: false, m: false, s: false, x: 0 } : { ...flags };
    const apply = (letters: string, value: boolean) => {
      for (let k = 0; k < letters.length; k++) {
        const l = letters[k]!;
        if (l === 'i' || l === 'm' || l === 's') out[l] = value;
        else if (l === 'x') out.x = value ? (letters[k + 1] === 'x' ? (k++, 2) : 1) : 0;
        else if (l === 'n' || l === 'p' || l === 'a' || l === 'd') continue; // no change to what matches bytes
        else if (l === 'u' || l === 'l') this.fail(`"${text}": /${l} changes what \\w, \\s and case-insensitive matching mean beyond ASCII; ldirectord's patterns match bytes`);
        else this.fail(`"${text}": unknown modifier "${l}"`);
      }
    };
    apply(on, true);
    apply(off, false);
    return out;
  }

  /** After a backslash, outside a class. */
  private escape(flags: Flags): Node | undefined {
    const c = this.src[this.pos];
    if (c === undefined) this.fail('the pattern ends with a backslash');
    switch (c) {
      case 'A':
        this.pos++;
        return { t: 'assert', kind: 'bos' };
      case 'z':
        this.pos++;
        return { t: 'assert', kind: 'eos' };
      case 'Z':
        this.pos++;
        return { t: 'assert', kind: 'eosnl' };
      case 'b':
      case 'B':
        this.pos++;
        if (this.peek() === '{') this.fail(`"\\${c}{…}" (Unicode boundaries) is not supported`);
        return { t: 'assert', kind: c === 'b' ? 'word' : 'nonword' };
      case 'K':
        this.pos++;
        return undefined; // only moves where the reported match starts
      case 'G':
        return this.fail('"\\G" (where the previous match ended) means nothing here');
      case 'N':
        if (this.src[this.pos + 1] === '{') this.fail('"\\N{…}" (named characters) is not supported');
        this.pos++;
        return this.set(invert(of([10, 10])), false);
      case 'R':
        return this.fail('"\\R" is an atomic group; write (?:\\r\\n|[\\n\\x0B\\f\\r\\x85])');
      case 'X':
      case 'C':
      case 'p':
      case 'P':
        return this.fail(`"\\${c}" (Unicode properties and clusters) does not apply to ldirectord's byte strings`);
      default:
        if (CLASS_ESCAPES[c]) {
          this.pos++;
          return this.set(CLASS_ESCAPES[c], false);
        }
        if (/[1-9gk]/.test(c)) this.fail(`back-reference "\\${this.src.slice(this.pos, this.pos + 3)}…" cannot be matched in linear time`);
        const code = this.literalEscape();
        return this.set(of([code, code]), flags.i);
    }
  }

  /** A character escape (after the backslash, shared with classes): its byte value. */
  private literalEscape(): number {
    const c = this.src[this.pos++]!;
    let code: number;
    if (SIMPLE_ESCAPES[c] !== undefined) code = SIMPLE_ESCAPES[c]!;
    else if (c === 'x') {
      if (this.peek() === '{') {
        const end = this.src.indexOf('}', this.pos);
        const hex = end < 0 ? '' : this.src.slice(this.pos + 1, end).trim();
        if (!/^[0-9a-fA-F]+$/.test(hex)) this.fail('bad "\\x{…}"');
        code = parseInt(hex, 16);
        this.pos = end + 1;
      } else {
        let hex = '';
        while (hex.length < 2 && isHex(this.peek())) hex += this.src[this.pos++];
        code = hex === '' ? 0 : parseInt(hex, 16);
      }
    } else if (c === 'o') {
      const m = /^\{([0-7]+)\}/.exec(this.src.slice(this.pos));
      if (!m) this.fail('bad "\\o{…}"');
      code = parseInt(m[1]!, 8);
      this.pos += m[0].length;
    } else if (c === '0') {
      let oct = '';
      while (oct.length < 2 && /[0-7]/.test(this.peek() ?? '')) oct += this.src[this.pos++];
      code = parseInt(`0${oct}`, 8);
    } else if (c === 'c') {
      const x = this.src[this.pos++];
      if (x === undefined) this.fail('"\\c" at the end of the pattern');
      code = x.toUpperCase().charCodeAt(0) ^ 64;
    } else if (/[A-Za-z0-9]/.test(c)) {
      this.fail(`unknown escape "\\${c}" (Perl reads it as a plain "${c}" with a warning; write ${c})`);
    } else code = c.charCodeAt(0);
    if (code > 0xff) this.fail(`character \\x{${code.toString(16)}} is above \\xFF: ldirectord matches bytes (write its UTF-8 bytes)`);
    return code;
  }

  private charClass(flags: Flags): ByteSet {
    const start = this.pos - 1;
    const set = new Uint8Array(256);
    const negated = this.peek() === '^';
    if (negated) this.pos++;
    let first = true;
    let prev: number | undefined; // the last single byte, a possible range start
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail(`unterminated class "${this.src.slice(start, start + 20)}"`);
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (flags.x === 2 && (c === ' ' || c === '\t')) {
        this.pos++;
        continue;
      }
      if (c === '[') {
        const posix = /^\[([:=.])(\^?)([a-z]*)\1\]/.exec(this.src.slice(this.pos));
        if (posix) {
          if (posix[1] !== ':') this.fail(`"${posix[0]}" is reserved by Perl`);
          const named = POSIX[posix[3]!];
          if (!named) this.fail(`unknown POSIX class "${posix[0]}"`);
          let members = flags.i && (posix[3] === 'upper' || posix[3] === 'lower') ? POSIX.alpha! : named;
          if (posix[2]) members = invert(members);
          members.forEach((v, i) => v && (set[i] = 1));
          this.pos += posix[0].length;
          prev = undefined;
          continue;
        }
      }
      let code: number;
      this.pos++;
      if (c === '\\') {
        const e = this.peek();
        if (e === undefined) this.fail('the pattern ends with a backslash');
        if (CLASS_ESCAPES[e]) {
          this.pos++;
          CLASS_ESCAPES[e].forEach((v, i) => v && (set[i] = 1));
          prev = undefined;
          continue;
        }
        if (e === 'b') {
          this.pos++;
          code = 8;
        } else if (e === 'N' || e === 'p' || e === 'P' || e === 'R' || e === 'X') {
          this.fail(`"\\${e}" inside a class is not supported`);
        } else code = this.literalEscape();
      } else code = c.charCodeAt(0);
      // A range "a-z"; a "-" first, last or next to a class escape is a plain "-".
      if (prev !== undefined && code === 0x2d && c === '-' && this.peek() !== ']' && this.peek() !== undefined) {
        const from = prev;
        const save = this.pos;
        const t = this.src[this.pos++]!;
        let to: number | undefined;
        if (t === '\\') {
          const e = this.peek();
          if (e !== undefined && !CLASS_ESCAPES[e]) to = e === 'b' ? (this.pos++, 8) : this.literalEscape();
        } else if (t !== '[') to = t.charCodeAt(0);
        if (to === undefined) {
          this.pos = save; // "a-\d": the "-" is literal, as Perl (with a warning) takes it
          set[0x2d] = 1;
          prev = undefined;
          continue;
        }
        if (to < from) this.fail(`invalid range "${String.fromCharCode(from)}-${String.fromCharCode(to)}" in a class`);
        range(from, to, set);
        prev = undefined;
        continue;
      }
      set[code] = 1;
      prev = code;
    }
    const members = flags.i ? foldCase(set) : set;
    return { t: 'set', bytes: negated ? invert(members) : members };
  }
}
