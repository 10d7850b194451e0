// The hacluster password: from LVSKIT_HACLUSTER_PASSWORD or typed on the terminal without echo.
// It is handed to pcs on its standard input only (pcs reads a line there when -p is absent and
// stdin is not a terminal: utils.get_terminal_password in pcs 0.9 to 0.12).
import { LvskitError, UsageError } from '../errors';

export const PASSWORD_ENV = 'LVSKIT_HACLUSTER_PASSWORD';

/**
 * Takes the password out of the environment, so that no program started later inherits it.
 * Returns undefined when the variable is unset or empty.
 */
export function takePasswordFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const value = env[PASSWORD_ENV];
  delete env[PASSWORD_ENV];
  return value === undefined || value === '' ? undefined : value;
}

/** pcs reads one line: a password with a line break, or none at all, cannot reach it. */
export function checkPassword(password: string, from: string): string {
  if (password === '') throw new UsageError(`the hacluster password from ${from} is empty`);
  if (/[\r\n]/.test(password)) throw new UsageError(`the hacluster password from ${from} contains a line break, which pcs cannot read`);
  return password;
}

/** What promptHidden needs of a terminal (process.stdin is one when it is a TTY). */
export interface TtyInput {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  on(event: 'data', listener: (chunk: string) => void): unknown;
  removeListener(event: 'data', listener: (chunk: string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** Asks on the terminal with echo off (raw mode); Enter ends, Backspace erases, Ctrl-C or Ctrl-D aborts. */
export function promptHidden(prompt: string, input: TtyInput, output: { write(s: string): unknown }): Promise<string> {
  if (!input.isTTY || !input.setRawMode) {
    return Promise.reject(new UsageError(`the hacluster password is needed to authenticate the nodes: set ${PASSWORD_ENV} or run on a terminal`));
  }
  const setRaw = input.setRawMode.bind(input);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (err?: Error) => {
      input.removeListener('data', onData);
      setRaw(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new LvskitError('interrupted at the password prompt', 130));
        if (ch === '\u0004') return finish(new UsageError('no hacluster password given'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    output.write(prompt);
    setRaw(true);
    input.setEncoding('utf8');
    input.on('data', onData);
    input.resume();
  });
}
