// Entry point of dist/lvskit: parse nothing here, only hand argv to run() and set the exit code.
import { basename } from 'node:path';
import { run } from './main';

run(basename(process.argv0), process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`lvskit: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
