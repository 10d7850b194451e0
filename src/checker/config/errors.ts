// Configuration errors name the file, the line and the directive, as `file:line: directive: what`.
import { LvskitError } from '../../errors';

export interface ConfigProblem {
  file: string;
  /** 0 when the problem concerns the whole file (unreadable). */
  line: number;
  /** The directive (or `virtual`, `real`) the problem is about; absent for line syntax. */
  directive?: string;
  message: string;
  /**
   * The cause is this node, not the file's content: the file cannot be read here, or a name does
   * not resolve here. The same file may be fine on another node (OCF: ERR_INSTALLED, not
   * ERR_CONFIGURED).
   */
  local?: boolean;
}

/** A file full of mistakes still gives a readable message: the first ones, then a count. */
export const MAX_PROBLEMS_SHOWN = 50;

export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}` : p.file;
  return p.directive ? `${where}: ${p.directive}: ${p.message}` : `${where}: ${p.message}`;
}

function formatProblems(problems: readonly ConfigProblem[]): string {
  const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).map(formatProblem);
  const more = problems.length - shown.length;
  return (more > 0 ? [...shown, `... and ${more} more problems`] : shown).join('\n');
}

/** Every problem found in one file; the message has one problem per line. */
export class ConfigError extends LvskitError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(formatProblems(problems), 1);
    this.problems = problems;
  }

  /** Every problem is this node's (unreadable file, unresolvable name): another node may do better. */
  get local(): boolean {
    return this.problems.length > 0 && this.problems.every((p) => p.local);
  }
}

/** A value that does not fit its directive; the parser adds file, line and directive. */
export class ValueError extends Error {}

/** A value this node cannot use (a name that does not resolve here); see ConfigProblem.local. */
export class LocalValueError extends ValueError {}
