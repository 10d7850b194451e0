// Large and hostile files: parse time grows linearly, the number of reals is bounded before any
// range is expanded, and a file full of mistakes gives a readable error.
import assert from 'node:assert/strict';
import { MAX_PROBLEMS_SHOWN } from '../../../../src/checker/config/errors';
import { MAX_REALS } from '../../../../src/checker/config/real';
import { FILE, errorLines, parse } from './helpers';

/** A virtual with `n` real= lines, one address each, from 198.18.0.0 (benchmark addresses). */
function manyReals(n: number): string {
  const lines = ['virtual=198.51.100.100:80', '    checktype=connect'];
  for (let i = 0; i < n; i++) lines.push(`    real=198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}:80 gate`);
  return `${lines.join('\n')}\n`;
}

describe('checker/config: large files', function () {
  // Generous: linear parsing takes well under a second here; the quadratic parser took 98 s for 40k lines.
  this.timeout(30_000);

  it('parses 40 000 real= lines in seconds, not minutes (linear in the number of lines)', () => {
    const started = Date.now();
    const c = parse(manyReals(40_000));
    const ms = Date.now() - started;
    assert.equal(c.virtuals[0]!.reals.length, 40_000);
    assert.equal(c.virtuals[0]!.reals[39_999]!.address, '198.18.156.63');
    assert.ok(ms < 15_000, `40 000 reals took ${ms} ms`);
  });

  it(`accepts exactly ${MAX_REALS} reals, ranges counted one per address`, () => {
    const c = parse('virtual=198.51.100.100:80\n    checktype=on\n    real=198.18.0.0->198.18.255.255:80 gate\n    real=198.19.0.0->198.19.134.159:80 gate\n');
    assert.equal(c.virtuals[0]!.reals.length, MAX_REALS);
  });

  it('refuses the real that goes beyond the bound, naming its line and the bound, without expanding the rest', () => {
    // 16 virtuals with one 65 536-address range each would be over a million reals (650 MB before
    // the bound): the second one crosses the bound (line 6), the others are not even expanded.
    const text = Array.from({ length: 16 }, (_, i) => `virtual=198.51.100.${100 + i}:80\n    checktype=on\n    real=198.18.0.0->198.18.255.255:80 gate\n`).join('');
    const before = process.memoryUsage().heapUsed;
    const lines = errorLines(text);
    const grown = process.memoryUsage().heapUsed - before;
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, new RegExp(`^${FILE}:6: real: .*131072 real servers.*bound of ${MAX_REALS}`));
    assert.ok(grown < 300e6, `heap grew by ${Math.round(grown / 1e6)} MB`);
  });

  it('counts the reals of every virtual together', () => {
    const half = (vip: string, net: string) => `virtual=${vip}:80\n    checktype=on\n    real=${net}.0.0->${net}.255.255:80 gate\n`;
    const lines = errorLines(half('198.51.100.100', '198.18') + half('198.51.100.101', '198.19'));
    assert.ok(lines.some((l) => l.startsWith(`${FILE}:6: real: `) && l.includes(`bound of ${MAX_REALS}`)), lines.join('\n'));
  });

  it(`shows the first ${MAX_PROBLEMS_SHOWN} problems of a file full of mistakes, and how many more there are`, () => {
    const lines = errorLines(Array.from({ length: 5000 }, (_, i) => `nosuch${i}=1`).join('\n'));
    assert.equal(lines.length, MAX_PROBLEMS_SHOWN + 1);
    assert.equal(lines[0], `${FILE}:1: nosuch0: unknown directive`);
    assert.equal(lines[MAX_PROBLEMS_SHOWN], `... and ${5000 - MAX_PROBLEMS_SHOWN} more problems`);
  });
});

describe('checker/config: long lines', () => {
  it('quotes at most 300 characters of what was written', () => {
    const lines = errorLines(`${'x'.repeat(1_000_000)} y\nchecktimeout=${'9'.repeat(5000)}x\n`);
    assert.equal(lines.length, 2);
    for (const l of lines) assert.ok(l.length < 400, `${l.length} characters`);
    assert.match(lines[0]!, new RegExp(`^${FILE}:1: cannot read 'x{200,}…$`));
    assert.match(lines[1]!, new RegExp(`^${FILE}:2: checktimeout: expected a whole number of at least 1, not '9+…$`));
  });
});
