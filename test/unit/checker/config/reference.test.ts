import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIRECTIVES } from '../../../../src/checker/config/directives';
import { BEGIN_MARK, END_MARK, renderReference } from '../../../../src/checker/config/reference';

const DOC = join(__dirname, '..', '..', '..', '..', 'docs', 'checker-config.md');

describe('checker/config: docs/checker-config.md', () => {
  it('carries the directive reference generated from the directive table', () => {
    let doc = readFileSync(DOC, 'utf8');
    const begin = doc.indexOf(BEGIN_MARK);
    const end = doc.indexOf(END_MARK);
    assert.ok(begin >= 0 && end > begin, `markers missing in ${DOC}`);
    const current = doc.slice(begin, end + END_MARK.length);
    if (process.env.UPDATE_DOCS) {
      doc = doc.slice(0, begin) + renderReference() + doc.slice(end + END_MARK.length);
      writeFileSync(DOC, doc);
      return;
    }
    assert.equal(current, renderReference(), 'the reference is stale: UPDATE_DOCS=1 npx mocha test/unit/checker/config/reference.test.ts');
  });

  it('lists every directive with its scope and default', () => {
    const ref = renderReference();
    for (const d of DIRECTIVES) {
      assert.match(ref, new RegExp(`^\\| \`${d.name}\`( \\(lvsd\\))? \\| (global|virtual|global, virtual) \\| `, 'm'), d.name);
    }
  });
});
