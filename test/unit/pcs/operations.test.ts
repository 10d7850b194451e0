import assert from 'node:assert/strict';
import { durationMs } from '../../../src/pcs/operations';

describe('pcs/operations: pacemaker durations', () => {
  it('reads the spellings pacemaker takes, plain numbers as seconds', () => {
    const seen: [string, number][] = [['60', 60_000], ['60s', 60_000], ['60sec', 60_000], ['1min', 60_000], ['1m', 60_000], ['1500ms', 1_500], ['2h', 7_200_000], [' 30s ', 30_000]];
    for (const [text, ms] of seen) assert.equal(durationMs(text), ms, text);
  });

  it('gives undefined for what it cannot read (the step then updates the operation)', () => {
    for (const text of [undefined, '', 'PT1M', '1.5s', 'soon']) assert.equal(durationMs(text), undefined, String(text));
  });
});
