// One lab kernel for the whole mocha run (booting UML costs seconds); each test builds its own
// topology on it. Loaded through mocha's `require`, so mochaGlobalTeardown powers it off.
import { openKernel, type Kernel } from '../../lab';

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
