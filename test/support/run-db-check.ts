// run-check.ts for the database and directory checks (ldap, ldaps, mysql, pgsql): the same input
// (a JSON list of {id, check, target, deadlineMs} on stdin, never on the command line: targets hold
// passwords) and the same output. Like run-check.ts it never calls process.exit, so a check that
// leaves a socket or timer behind keeps this process alive, and the lab test sees that.
// Once run-check.ts's CHECKS lists ldapCheck, mysqlCheck and pgsqlCheck, this file can go.
import { ldapCheck } from '../../src/checker/checks/ldap';
import { mysqlCheck } from '../../src/checker/checks/mysql';
import { pgsqlCheck } from '../../src/checker/checks/pgsql';
import type { Check } from '../../src/checker/checks/types';
import type { CaseResult, CheckCase } from './run-check';

const CHECKS: Record<string, Check> = { ldapCheck, mysqlCheck, pgsqlCheck };

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

main().catch((err: unknown) => {
  process.stderr.write(`run-db-check: ${String(err)}\n`);
  process.exitCode = 1;
});
