import assert from 'node:assert/strict';
import { heartbeatMs, STATUS_STALE_MS } from '../../../src/checker/status';

describe('checker/status: the heartbeat the OCF monitor reads', () => {
  it('rewrites the status file every checkinterval, but at least every 10 s, whatever the checkinterval', () => {
    assert.equal(heartbeatMs(1), 1000);
    assert.equal(heartbeatMs(5), 5000);
    for (const checkinterval of [10, 60, 61, 300, 86_400, 2 ** 31 - 1]) assert.equal(heartbeatMs(checkinterval), 10_000, `checkinterval ${checkinterval}`);
  });

  it('so a running lvsd is never older than the deep monitor allows, with room for missed beats', () => {
    for (const checkinterval of [1, 30, 59, 60, 61, 120, 3600]) {
      assert.ok(heartbeatMs(checkinterval) * 5 <= STATUS_STALE_MS, `checkinterval ${checkinterval}: heartbeat ${heartbeatMs(checkinterval)} ms vs ${STATUS_STALE_MS} ms`);
    }
  });
});
