// A reload parses the file in a child process (this same binary, `lvskit checker --emit-config`):
// the parser is synchronous and resolves names through getent, so in the daemon a large file or a
// slow DNS server would stop every check, /metrics and signal handling until it is done. The child
// sends the result back v8-serialized (RegExp, Map and the like survive); the daemon only pays for
// reading it back (docs/checker.md, "Reload").
import { spawn } from 'node:child_process';
import { deserialize, serialize } from 'node:v8';
import { selfCommand } from '../process';
import { ConfigError, type ConfigProblem } from './errors';
import type { CheckerConfig } from './model';
import { loadConfig } from './parse';

type Outcome = { config: CheckerConfig } | { problems: ConfigProblem[] } | { failure: string };

/** Parsing (with its name lookups) gets this long; the child is killed after it. */
export const CHILD_PARSE_TIMEOUT_MS = 120_000;

/** The child's side: parse `file` and write the outcome to stdout. Exit 0 whatever the outcome. */
export async function emitConfig(file: string): Promise<number> {
  let outcome: Outcome;
  try {
    outcome = { config: loadConfig(file) };
  } catch (err) {
    outcome = err instanceof ConfigError ? { problems: [...err.problems] } : { failure: (err as Error).message };
  }
  const data = serialize(outcome);
  await new Promise<void>((resolve, reject) => process.stdout.write(data, (err) => (err ? reject(err) : resolve())));
  return 0;
}

/**
 * The daemon's side: the configuration as loadConfig would return it, parsed by a child. Throws the
 * same ConfigError on a bad file, and an Error when the child cannot do its work.
 */
export function loadConfigInChild(
  file: string,
  options: { signal?: AbortSignal; timeoutMs?: number; command?: { file: string; args: string[] } } = {},
): Promise<CheckerConfig> {
  const command = options.command ?? selfCommand(['checker', '--config', file, '--emit-config']);
  const timeoutMs = options.timeoutMs ?? CHILD_PARSE_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new Error('aborted'));
      return;
    }
    const child = spawn(command.file, command.args, { stdio: ['ignore', 'pipe', 'pipe'], argv0: 'lvskit', cwd: '/' });
    const abort = () => child.kill('SIGKILL');
    options.signal?.addEventListener('abort', abort, { once: true });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 4096) err += b.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      reject(new Error(`cannot start the configuration parser: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      if (options.signal?.aborted) {
        reject(new Error('aborted'));
        return;
      }
      let outcome: Outcome;
      try {
        outcome = deserialize(Buffer.concat(out)) as Outcome;
      } catch {
        const how = signal === 'SIGKILL' ? `took longer than ${timeoutMs / 1000} s` : signal ? `ended by ${signal}` : `exited with status ${code}`;
        reject(new Error(`the configuration parser ${how}${err.trim() ? `: ${err.trim().split('\n')[0]}` : ''}`));
        return;
      }
      if ('config' in outcome) resolve(outcome.config);
      else if ('problems' in outcome) reject(new ConfigError(outcome.problems));
      else reject(new Error(outcome.failure));
    });
  });
}
