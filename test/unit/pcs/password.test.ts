import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { UsageError } from '../../../src/errors';
import { checkPassword, PASSWORD_ENV, promptHidden, takePasswordFromEnv } from '../../../src/pcs/password';

/** A terminal in raw mode: what the user types arrives as data; nothing is echoed by the terminal. */
class FakeTty extends EventEmitter {
  isTTY = true;
  raw: boolean[] = [];
  paused = true;
  setRawMode(raw: boolean) {
    this.raw.push(raw);
  }
  setEncoding() {}
  resume() {
    this.paused = false;
  }
  pause() {
    this.paused = true;
  }
}

describe('pcs/password: the hacluster password', () => {
  it('is taken out of the environment, so that no child process inherits it', () => {
    const env: NodeJS.ProcessEnv = { [PASSWORD_ENV]: 's3cret', PATH: '/bin' };
    assert.equal(takePasswordFromEnv(env), 's3cret');
    assert.deepEqual(env, { PATH: '/bin' });
    assert.equal(takePasswordFromEnv({ [PASSWORD_ENV]: '' }), undefined);
    assert.equal(takePasswordFromEnv({}), undefined);
  });

  it('must be one non-empty line, as pcs reads it', () => {
    assert.equal(checkPassword('a b$c', 'x'), 'a b$c');
    assert.throws(() => checkPassword('a\nb', PASSWORD_ENV), (e) => e instanceof UsageError && /from LVSKIT_HACLUSTER_PASSWORD contains a line break/.test(e.message));
    assert.throws(() => checkPassword('', 'the terminal'), UsageError);
  });

  it('is read on the terminal in raw mode, never echoed, with backspace, and raw mode restored', async () => {
    const tty = new FakeTty();
    let shown = '';
    const p = promptHidden('Password: ', tty, { write: (s: string) => (shown += s) });
    tty.emit('data', 'hun');
    tty.emit('data', 'x\u007fter2\r');
    assert.equal(await p, 'hunter2');
    assert.equal(shown, 'Password: \n', 'only the prompt and the final newline are written');
    assert.deepEqual(tty.raw, [true, false]);
    assert.equal(tty.paused, true);
    assert.equal(tty.listenerCount('data'), 0);
  });

  it('is refused without a terminal, and aborted by Ctrl-C', async () => {
    await assert.rejects(promptHidden('Password: ', { ...new FakeTty(), isTTY: false } as unknown as FakeTty, { write: () => true }), (e) => e instanceof UsageError && /set LVSKIT_HACLUSTER_PASSWORD or run on a terminal/.test(e.message));
    const tty = new FakeTty();
    const p = promptHidden('Password: ', tty, { write: () => true });
    tty.emit('data', 'ab\u0003');
    await assert.rejects(p, /interrupted/);
    assert.deepEqual(tty.raw, [true, false]);
  });
});
