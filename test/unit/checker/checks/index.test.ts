// Every check's result leaves the dispatcher as one printable line, whatever the real (or here an
// external command) wrote.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFor } from '../../../../src/checker/checks';
import type { CheckTarget } from '../../../../src/checker/checks/types';

describe('checks: the dispatcher', () => {
  it('strips control characters, C1 controls and bidi marks from every detail', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvskit-dispatch-'));
    try {
      const script = join(dir, 'says.sh');
      writeFileSync(script, "#!/bin/sh\nprintf 'no\\033[2J\\033]0;owned\\007\\r\\nway \\302\\233 \\342\\200\\256evil' >&2\nexit 1\n", { mode: 0o755 });
      const target = {
        family: 4, address: '198.51.100.21', port: 80, protocol: 'tcp', service: 'none', request: '', receive: '', httpmethod: 'GET',
        login: '', passwd: '', database: '', secret: '', checkcount: 1, checkcommand: script,
        virtual: { protocol: 'tcp', address: '198.51.100.100', port: 80 }, realPort: 80,
      } satisfies CheckTarget;
      const r = await checkFor('external', 'none')(target, AbortSignal.timeout(10_000));
      assert.equal(r.up, false);
      assert.equal(r.detail, 'exit 1: no [2J ]0;owned way evil');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
