// The promotion score of this resource instance on this node (node attribute master-<instance>).
// crm_attribute --promotion from pacemaker 2.1 (CRM feature set 3.10.0) on, crm_master before.
import { failure, run, which } from '../exec/run';

function featureSetAtLeast(have: string | undefined, want: number[]): boolean {
  if (!have) return true; // no feature set: not run by an old pacemaker, prefer the current tool
  const parts = have.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < want.length; i++) {
    const a = parts[i] ?? 0;
    const b = want[i]!;
    if (a !== b) return a > b;
  }
  return true;
}

function command(env: NodeJS.ProcessEnv, args: string[]): string[] {
  const modern = featureSetAtLeast(env.OCF_RESKEY_crm_feature_set, [3, 10, 0]);
  if (modern || !which('crm_master', env)) return ['crm_attribute', '--promotion', ...args];
  return ['crm_master', '-l', 'reboot', ...args];
}

/** Sets (a number) or deletes (undefined) the score; returns an error message, or undefined. */
export function setPromotionScore(score: number | undefined, env: NodeJS.ProcessEnv = process.env, timeoutMs = 10_000): string | undefined {
  const argv = command(env, score === undefined ? ['-D'] : ['-v', String(score)]);
  const program = which(argv[0]!, env);
  if (!program) return `${argv[0]} is not installed`;
  const r = run(program, argv.slice(1), { timeoutMs, env });
  return r.code === 0 ? undefined : failure(argv, r);
}
