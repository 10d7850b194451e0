// Configuration errors name the file, the line and the directive, as `file:line: directive: what`.
import { LvskitError } from '../../errors';

export interface ConfigProblem {
  file: string;
  /** 0 when the problem concerns the whole file (unreadable). */
  line: number;
  /** The directive (or `virtual`, `real`) the problem is about; absent for line syntax. */
  directive?: string;
  message: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}` : p.file;
  return p.directive ? `${where}: ${p.directive}: ${p.message}` : `${where}: ${p.message}`;
}

/** Every problem found in one file; the message has one problem per line. */
export class ConfigError extends LvskitError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'), 1);
    this.problems = problems;
  }
}

/** A value that does not fit its directive; the parser adds file, line and directive. */
export class ValueError extends Error {}
