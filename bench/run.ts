// `npm run bench [-- NAME…]`: runs the named benchmarks, all of them by default. Each prints its
// table and writes docs/bench-NAME.md. A missed target is reported, not failed on: the exit code is
// non-zero only when a benchmark could not run.
import { benchAgent } from './agent';
import { benchChecker } from './checker';
import { benchFailover, benchFailoverHost } from './failover';
import { benchFollow } from './follow';

const BENCHMARKS: Record<string, () => Promise<void>> = {
  agent: benchAgent,
  checker: benchChecker,
  failover: benchFailover,
  'failover-host': benchFailoverHost,
  follow: benchFollow,
};

async function main(names: string[]): Promise<number> {
  const unknown = names.filter((n) => !Object.hasOwn(BENCHMARKS, n));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')} (known: ${Object.keys(BENCHMARKS).join(', ')})\n`);
    return 2;
  }
  let failed = 0;
  for (const name of names.length > 0 ? names : Object.keys(BENCHMARKS)) {
    try {
      await BENCHMARKS[name]!();
    } catch (err) {
      failed++;
      process.stderr.write(`bench ${name}: could not run: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => (process.exitCode = code));
