// One small function per value syntax of ldirectord.cf. Each returns the value or throws a
// ValueError saying what was expected; the caller adds file, line and directive.
import { ValueError } from './errors';

/** Global lines keep a trailing `# …` (ldirectord strips comments inside sections only): say so. */
function hint(value: string): string {
  return value.includes('#') ? ' (a "#" after a value is only a comment inside a virtual section)' : '';
}

export function yesNo(value: string): boolean {
  if (value === 'yes') return true;
  if (value === 'no') return false;
  throw new ValueError(`expected yes or no, not '${value}'${hint(value)}`);
}

function integer(value: string, min: number, max: number, what: string): number {
  if (!/^\d+$/.test(value)) throw new ValueError(`expected ${what}, not '${value}'${hint(value)}`);
  const n = Number(value);
  if (n < min || n > max) throw new ValueError(`${n} is out of range (${min}..${max})`);
  return n;
}

const INT_MAX = 2 ** 31 - 1;

/** Seconds or counts that must be at least 1. */
export function positiveInteger(value: string): number {
  return integer(value, 1, INT_MAX, 'a whole number of at least 1');
}

export function nonNegativeInteger(value: string): number {
  return integer(value, 0, INT_MAX, 'a whole number');
}

export function portNumber(value: string): number {
  return integer(value, 1, 65535, 'a port number (1..65535)');
}

/**
 * A value that must be in double quotes (request, receive, login, …). As ldirectord, the value
 * runs to the last quote on the line; only a comment may follow it. Empty is refused. A secret's
 * errors never quote it (they end up in logs and in the CIB as an OCF exit reason).
 */
export function quoted(value: string, secret = false): string {
  if (!value.startsWith('"')) {
    throw new ValueError(secret ? `the value must be in double quotes (${NOT_SHOWN})` : `the value must be in double quotes, as in "${value}"${hint(value)}`);
  }
  const end = value.lastIndexOf('"');
  if (end === 0) throw new ValueError(`missing closing quote${hint(value)}`);
  const rest = value.slice(end + 1).trim();
  if (rest && !rest.startsWith('#')) throw new ValueError(secret ? `unexpected text after the closing quote (${NOT_SHOWN})` : `unexpected '${rest}' after the closing quote`);
  const inner = value.slice(1, end);
  if (!inner) throw new ValueError('the value must not be empty');
  return inner;
}

/** Said instead of a secret value. */
export const NOT_SHOWN = 'not shown: the value is a secret';

/** A value that ldirectord takes with or without double quotes; empty is refused. */
export function optionallyQuoted(value: string): string {
  if (value.startsWith('"')) return quoted(value);
  if (!value) throw new ValueError('the value must not be empty');
  return value;
}

/** Free text kept exactly as written (quotes included): e-mail header text. */
export function text(value: string): string {
  return value;
}

export function nonEmptyText(value: string): string {
  if (!value) throw new ValueError('the value must not be empty');
  return value;
}

export function oneOf<T extends string>(value: string, allowed: readonly T[], extra = ''): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ValueError(`unknown value '${value}' (expected ${listOr([...allowed])}${extra})${hint(value)}`);
}

/** "a, b or c" */
export function listOr(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
