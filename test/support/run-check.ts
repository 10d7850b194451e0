// Runs health checks the way the engine does, for the lab tests: reads a JSON list of cases on
// stdin ({id, check, target, deadlineMs}), runs them all at once, each under its own AbortSignal, and
// prints one JSON list of {id, up, detail, ms}. It never calls process.exit: if a check left a socket,
// timer or child behind, this process does not end, and the test sees that.
import { connectCheck } from '../../src/checker/checks/connect';
import { dnsCheck } from '../../src/checker/checks/dns';
import { externalCheck } from '../../src/checker/checks/external';
import { ftpCheck } from '../../src/checker/checks/ftp';
import { httpCheck } from '../../src/checker/checks/http';
import { imapCheck } from '../../src/checker/checks/imap';
import { ldapCheck } from '../../src/checker/checks/ldap';
import { mysqlCheck } from '../../src/checker/checks/mysql';
import { nntpCheck } from '../../src/checker/checks/nntp';
import { pgsqlCheck } from '../../src/checker/checks/pgsql';
import { pingCheck } from '../../src/checker/checks/ping';
import { popCheck } from '../../src/checker/checks/pop';
import { simpletcpCheck } from '../../src/checker/checks/simpletcp';
import { sipCheck } from '../../src/checker/checks/sip';
import { smtpCheck } from '../../src/checker/checks/smtp';
import type { Check, CheckTarget } from '../../src/checker/checks/types';

export const CHECKS: Record<string, Check> = {
  connectCheck, dnsCheck, externalCheck, ftpCheck, httpCheck, imapCheck, ldapCheck, mysqlCheck, nntpCheck, pgsqlCheck, pingCheck, popCheck,
  simpletcpCheck, sipCheck, smtpCheck,
};

export interface CheckCase {
  id: string;
  check: string;
  target: CheckTarget;
  deadlineMs: number;
}

export interface CaseResult {
  id: string;
  up: boolean;
  detail: string;
  /** From the start of the check to its result. */
  ms: number;
  /** Set when the check broke its contract (rejected, or unknown). */
  error?: string;
}

async function runCase(c: CheckCase): Promise<CaseResult> {
  const check = CHECKS[c.check];
  if (!check) return { id: c.id, up: false, detail: '', ms: 0, error: `no check named ${c.check}` };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), c.deadlineMs);
  const start = performance.now();
  try {
    const r = await check(c.target, controller.signal);
    return { id: c.id, up: r.up, detail: r.detail, ms: Math.round(performance.now() - start) };
  } catch (err) {
    return { id: c.id, up: false, detail: '', ms: Math.round(performance.now() - start), error: `rejected: ${String(err)}` };
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const cases = JSON.parse(Buffer.concat(chunks).toString('utf8')) as CheckCase[];
  const results = await Promise.all(cases.map(runCase));
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`run-check: ${String(err)}\n`);
    process.exitCode = 1;
  });
}
