import assert from 'node:assert/strict';
import { stats } from '../../../bench/measure';

describe('bench stats', () => {
  it('has nothing to say about no measurements', () => {
    assert.equal(stats([]), undefined);
  });

  it('gives the middle value as the median of an odd count, whatever the order', () => {
    const s = stats([9, 1, 5])!;
    assert.deepEqual({ n: s.n, min: s.min, median: s.median, max: s.max, mean: s.mean }, { n: 3, min: 1, median: 5, max: 9, mean: 5 });
  });

  it('averages the two middle values of an even count', () => {
    assert.equal(stats([4, 1, 10, 2])!.median, 3);
  });

  it('uses the sample standard deviation (n − 1), and 0 for one value', () => {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum to 32, 32 / 7.
    assert.equal(stats([2, 4, 4, 4, 5, 5, 7, 9])!.stddev, Math.sqrt(32 / 7));
    assert.equal(stats([42])!.stddev, 0);
  });

  it('leaves its input in place', () => {
    const v = [3, 1, 2];
    stats(v);
    assert.deepEqual(v, [3, 1, 2]);
  });
});
