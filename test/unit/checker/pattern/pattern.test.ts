// receive patterns: Perl's answer is the reference (perl is part of every Debian system), the work is
// bounded whatever the pattern and the answer, and what cannot be matched as Perl does is refused.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { compilePattern, PatternError } from '../../../../src/checker/pattern';
import { MAX_INSTRUCTIONS } from '../../../../src/checker/pattern/program';

/** perl's verdict for each [pattern, subject], both as bytes. */
function perlSays(cases: Array<[string, Buffer | string]>): boolean[] {
  const hex = (b: Buffer | string) => (typeof b === 'string' ? Buffer.from(b, 'utf8') : b).toString('hex') || '-';
  const input = cases.map(([p, s]) => `${hex(p)} ${hex(s)}`).join('\n');
  const script = 'while (<STDIN>) { chomp; my ($p, $s) = map { $_ eq "-" ? "" : pack("H*", $_) } split / /; print(($s =~ /$p/) ? 1 : 0, "\\n") }';
  return execFileSync('perl', ['-e', script], { input, encoding: 'utf8' }).trim().split('\n').map((l) => l === '1');
}

const SUBJECTS = ['', 'OK', 'OK\n', 'OK\n\n', 'ok\r\n', 'status: ok\nmore\n', 'a\n', 'a\n\nb', 'x OK y', 'OKAY', 'Server is healthy', 'HEALTHY\n',
  'a\rc', 'a\nc', 'foo bar', 'foobar', '<html><body>up</body></html>\n', 'abc123', '$5', ']', 'y', 'line1\nline2\nline3', 'Grüße', '\xe9', 'tab\there',
  'x{foo}', 'aaab', 'abab', 'a.b', 'A-Z', '\x00\x01\x7f', 'end\n'];

const PATTERNS = ['healthy', '.*healthy.*', '(?i)healthy', '^OK$', 'OK$', '^OK\\z', 'OK\\Z', '\\AOK', 'ok$', 'ok\\r?$', '(?m)^line2$', '(?m)^$',
  '(?m)^', '(?m)$', '^$', 'a.c', '(?s)a.c', '\\bfoo\\b', '\\Bbar', 'foo|bar', '^(foo|OK)', 'x{3}', 'a{2,}b', 'a{1,2}b', '(ab)+', '(?:ab){2}',
  '[[:alpha:]]+', '[[:digit:]]{3}', '[[:^alpha:]]', '(?x) O K # comment', '(?x) O \\ K', '[]x]', '[^]x]', '^[^]x]$', '\\$5', '[$]5', '[a-c]+\\d',
  '(?i)[a-c]+', '(?i:ok)AY', 'O(?i)kay', '(?i)ok(?-i)AY', '(?^i:OK)', 'Gr\xfc\xdfe', 'Gr.*e', '\\x41|\\x{42}', '\\t', '\\w+\\s\\w+', '\\h', '\\v', '\\N',
  '[\\s\\S]', '[\\d-z]', '[a\\-z]', 'x{foo}', 'a{', '\\e|\\cA|\\0', '(?:)*OK', '(a|b)*c|OK', '(a*)*b', '<body>(up|ok)</body>', '(?#note)OK', 'OK\\K',
  '[[:upper:]]', '(?i)[[:upper:]]+', '[[:punct:]]', '(?xx)[a b]', '\\.', 'a|', '(|x)OK', 'end$\\n', '$\\n', '^\\n', '\\Z\\n?', '(?m)a$\\n^b'];

describe('receive patterns: as Perl matches them', () => {
  it('agrees with perl on every pattern and subject', () => {
    const cases: Array<[string, string]> = [];
    // Subjects as bytes: Perl sees ldirectord's strings as bytes.
    for (const p of PATTERNS) for (const s of SUBJECTS) cases.push([p, s]);
    const toBytes = (s: string) => Buffer.from(s, 'latin1');
    const perl = perlSays(cases.map(([p, s]) => [p, toBytes(s)]));
    const wrong = cases.filter(([p, s], k) => compilePattern(p).test(toBytes(s)) !== perl[k]).map(([p, s]) => `/${p}/ on ${JSON.stringify(s)}: perl ${!compilePattern(p).test(toBytes(s))}`);
    assert.deepEqual(wrong, []);
  });

  it('reads \\s, \\h, \\v, \\w, \\d and the POSIX classes byte by byte as perl does', () => {
    const classes = ['\\s', '\\S', '\\h', '\\v', '\\w', '\\W', '\\d', '\\N', '.', '(?s).', ...['alpha', 'digit', 'alnum', 'upper', 'lower', 'space', 'blank', 'cntrl', 'graph', 'print', 'punct', 'xdigit', 'word', 'ascii'].map((n) => `[[:${n}:]]`), '(?i)[[:lower:]]', '(?i)k', '(?i)\\xe9'];
    const cases: Array<[string, Buffer]> = [];
    for (const c of classes) for (let b = 0; b < 256; b++) cases.push([`^${c}\\z`, Buffer.from([b])]);
    const perl = perlSays(cases);
    const wrong = cases.filter(([p, s], k) => compilePattern(p).test(s) !== perl[k]).map(([p, s]) => `${p} on 0x${s.toString('hex')}`);
    assert.deepEqual(wrong, []);
  });

  it('matches UTF-8 text as its bytes, as Perl without `use utf8` does', () => {
    assert.ok(compilePattern('Grüße').test('Grüße'));
    assert.ok(compilePattern('^Gr..(..)e$').test('Grüße'), 'ü and ß are two bytes each');
  });
});

describe('receive patterns: bounded work', () => {
  it('keeps the event loop turning while it matches a hostile body, and matches it (the body that froze lvsd)', async () => {
    // Reproduction: JS RegExp /.*healthy.*/ took 22 s on this (quadratic), blocking everything.
    const body = Buffer.alloc(128 * 1024, 'x');
    let gap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      gap = Math.max(gap, now - last);
      last = now;
    }, 5);
    try {
      assert.equal(await compilePattern('.*healthy.*').matches(body), false);
      assert.equal(await compilePattern('.*healthy.*').matches(Buffer.concat([body, Buffer.from('healthy')])), true);
      assert.equal(await compilePattern('(x|y)*x[xy]{14}z').matches(Buffer.alloc(256 * 1024, 'xy')), false, 'a pattern whose DFA would have 2^15 states');
    } finally {
      clearInterval(ticker);
    }
    assert.ok(gap < 1000, `the event loop waited ${gap.toFixed(0)} ms`);
  });

  it('stops when the signal aborts', async () => {
    const abort = new AbortController();
    const pending = compilePattern('(x|y)*x[xy]{14}z').matches(Buffer.alloc(64 * 1024 * 1024, 'xy'), abort.signal);
    setTimeout(() => abort.abort(), 20);
    assert.equal(await pending, false);
  });
});

describe('receive patterns: refused, with the reason', () => {
  const refused: Array<[string, RegExp]> = [
    ['((((', /missing "\)"/],
    ['OK)', /unmatched "\)"/],
    ['OK++', /possessive quantifier "\+\+"/],
    ['a*+', /possessive/],
    ['(?>a+)b', /atomic group/],
    ['(a)\\1', /back-reference/],
    ['(?<n>a)\\k<n>', /back-reference/],
    ['(?=OK)', /look-ahead and look-behind/],
    ['(?<!un)healthy', /look-ahead and look-behind/],
    ['(?(1)a|b)', /conditional/],
    ['(?{ 1 })', /Perl code/],
    ['(?R)', /recursion/],
    ['(*FAIL)', /control verb/],
    ['*OK', /quantifier "\*" follows nothing/],
    ['a{,3}', /\{0,3\}/],
    ['a{3,2}', /maximum is below the minimum/],
    ['[z-a]', /invalid range/],
    ['[[:alpah:]]', /unknown POSIX class/],
    ['[[=a=]]', /reserved/],
    ['\\y', /unknown escape "\\y"/],
    ['\\QOK\\E', /unknown escape "\\Q"/],
    ['\\x{263a}', /above \\xFF/],
    ['\\p{L}', /Unicode/],
    ['\\G', /\\G/],
    ['\\R', /atomic/],
    ['(?u)\\w', /\/u changes/],
    ['(?z)', /unknown modifier "z"/],
    ['OK\\', /ends with a backslash/],
    ['[abc', /unterminated class/],
    ['(?:x{100}){100}', new RegExp(`more than ${MAX_INSTRUCTIONS} states`)],
  ];
  for (const [pattern, why] of refused) {
    it(`refuses /${pattern}/`, () => {
      assert.throws(() => compilePattern(pattern), (e: unknown) => e instanceof PatternError && why.test(e.message));
    });
  }

  it('accepts what JavaScript reads differently but Perl means, and means it', () => {
    assert.ok(compilePattern('(?x) OK').test('OK'), '(?x): blanks ignored');
    assert.ok(compilePattern('[[:alpha:]]+').test('abc') && !compilePattern('[[:alpha:]]+').test(':::'), 'a POSIX class, not "[:alph" and "]+"');
    assert.ok(compilePattern('ok\\Z').test('ok\n'));
  });
});
