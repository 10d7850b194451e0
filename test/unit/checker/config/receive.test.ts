// receive= is compiled when the file is read: what every check would fail on, or what would match
// differently from ldirectord's Perl, is an error naming file:line and the directive.
import assert from 'node:assert/strict';
import { assertError, only, section } from './helpers';

describe('config: receive compiled at parse time', () => {
  it('refuses the patterns `checker -t` used to call "syntax is ok", each on its own line', () => {
    const text = section('real=198.51.100.21:80 gate 1 "/", "OK++"', 'service=http', 'receive="(((("');
    assertError(text, 2, 'real', /^\/OK\+\+\/: possessive quantifier "\+\+"/);
    assertError(text, 4, 'receive', /^\/\(\(\(\(\/: missing "\)"/);
    assertError(section('service=http', 'receive="(?=OK)"'), 3, 'receive', /look-ahead and look-behind cannot be matched in linear time/);
    assertError(section('service=http', 'receive="\\QOK"'), 3, 'receive', /unknown escape "\\Q"/);
  });

  it('accepts what Perl means and keeps the text as written', () => {
    for (const p of ['(?x) OK', '[[:alpha:]]+', 'OK$', '(?i)healthy', '^HTTP/1\\.[01] 200']) {
      assert.equal(only(section('service=http', `receive="${p}"`)).receive, p);
    }
  });
});
