// One lab kernel for the whole mocha run (booting UML costs seconds); each test builds its own
// topology on it. Loaded through mocha's `require`, so mochaGlobalTeardown powers it off.
import Mocha from 'mocha';
import { defaultSpec, openKernel, type Kernel, Topology } from '../../lab';

// npm test sets LVSKIT_LAB_BUSY while two lab kernels share the machine (scripts/test.ts): there a
// process start in the guest took up to 15 s, so every mocha time limit, the tests' own included,
// is tripled. Limits are no bounds: the tests assert the latencies they promise apart.
export const LAB_BUSY = !!process.env.LVSKIT_LAB_BUSY;
export const BUSY_FACTOR = LAB_BUSY ? 3 : 1;
if (BUSY_FACTOR > 1) {
  type Timeout = (this: Mocha.Runnable, ms?: string | number) => unknown;
  const timeout = Mocha.Runnable.prototype.timeout as Timeout;
  Mocha.Runnable.prototype.timeout = function (this: Mocha.Runnable, ms?: string | number) {
    if (ms === undefined) return (timeout as (this: Mocha.Runnable) => unknown).call(this);
    return timeout.call(this, typeof ms === 'number' && ms > 0 ? ms * BUSY_FACTOR : ms);
  } as typeof Mocha.Runnable.prototype.timeout;
}

let shared: Promise<Kernel> | undefined;

export function labKernel(): Promise<Kernel> {
  shared ??= openKernel();
  return shared;
}

export async function mochaGlobalTeardown(): Promise<void> {
  if (!shared) return;
  const kernel = await shared.catch(() => undefined);
  await kernel?.close();
}

/** Time budget for a before() that may boot the lab. */
export const BOOT_TIMEOUT_MS = 180_000;

/**
 * A topology for one describe(): built (then `setup`) in before(), destroyed in after(); the
 * returned function gives it to the tests.
 */
export function useTopology(directors: number, reals = 0, setup?: (topo: Topology) => Promise<void>): () => Topology {
  let topo: Topology | undefined;
  before(async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    topo = await Topology.create(await labKernel(), defaultSpec(directors, reals));
    await setup?.(topo);
  });
  after(async function () {
    this.timeout(60_000);
    await topo?.destroy();
  });
  return () => {
    if (!topo) throw new Error('no topology (before() failed)');
    return topo;
  };
}
