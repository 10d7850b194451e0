import assert from 'node:assert/strict';
import { ramped, rampStepMs } from '../../../src/checker/slowstart';

describe('checker/slowstart: the ramp of a returning real', () => {
  const full = { weight: 100, uthreshold: 0, lthreshold: 0 };

  it('ramps the weight linearly for weight-based schedulers', () => {
    assert.equal(ramped(full, 'wlc', 0, 60, 10).weight, 1);
    assert.equal(ramped(full, 'wlc', 15_000, 60, 10).weight, 25);
    assert.equal(ramped(full, 'wlc', 30_000, 60, 10).weight, 50);
    assert.deepEqual(ramped(full, 'wlc', 60_000, 60, 10), full);
    assert.equal(ramped(full, 'wlc', 30_000, 60, 10).uthreshold, 0, 'a rampable weight leaves the threshold alone');
  });

  it('ramps the upper connection threshold for lc, which ignores weights', () => {
    const r = ramped(full, 'lc', 30_000, 60, 40);
    assert.equal(r.weight, 100);
    assert.equal(r.uthreshold, 20, 'half the ramp: half the mean connections of its peers');
    assert.equal(ramped(full, 'lc', 0, 60, 40).uthreshold, 1, 'never 0, which would mean no limit');
    assert.deepEqual(ramped(full, 'lc', 61_000, 60, 40), full);
  });

  it('ramps the threshold too when the weight is too small to ramp in 5 % steps', () => {
    const r = ramped({ weight: 1, uthreshold: 0, lthreshold: 0 }, 'wlc', 30_000, 60, 10);
    assert.deepEqual([r.weight, r.uthreshold], [1, 5]);
  });

  it('keeps a configured upper threshold as the ceiling and a lower one only while it fits', () => {
    const r = ramped({ weight: 1, uthreshold: 8, lthreshold: 6 }, 'lc', 30_000, 60, 100);
    assert.deepEqual([r.uthreshold, r.lthreshold], [8, 6]);
    const early = ramped({ weight: 1, uthreshold: 8, lthreshold: 6 }, 'lc', 3_000, 60, 100);
    assert.deepEqual([early.uthreshold, early.lthreshold], [5, 0]);
  });

  it('steps about every 5 % of the ramp, at least every second', () => {
    assert.equal(rampStepMs(60), 3000);
    assert.equal(rampStepMs(5), 1000);
  });
});
