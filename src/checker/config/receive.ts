// receive= is compiled as the file is read: `lvsd -t` refuses a pattern every check would fail on,
// or one that would match differently from ldirectord's Perl, with the line it is on.
import { compilePattern, PatternError } from '../pattern';
import { ValueError } from './errors';

export function receiveValue(text: string): string {
  try {
    compilePattern(text);
  } catch (err) {
    if (err instanceof PatternError) throw new ValueError(`/${text}/: ${err.message}`);
    throw err;
  }
  return text;
}
