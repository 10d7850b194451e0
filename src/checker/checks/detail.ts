// What a check says about a real ends up in the log, the monitorfile, the status file and on the
// operator's terminal: one printable line, whatever bytes the real sent.

/** C0 and C1 controls, DEL, and the Unicode marks that reorder or hide text on a terminal. */
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]+/g;

/** One line: every run of control characters becomes a space; at most `max` characters. */
export function printable(text: string, max = 200): string {
  const line = text.replace(UNPRINTABLE, ' ').replace(/ {2,}/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
