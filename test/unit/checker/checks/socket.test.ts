// The checks' shared plumbing, without the network: the deadline guard, the line reader, replies.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { passivePort } from '../../../../src/checker/checks/ftp';
import { finalStatus, MAX_PROVISIONAL_BODY } from '../../../../src/checker/checks/sip';
import { describeError, Down, fail, guarded, LineReader, readReply, receivePattern, up } from '../../../../src/checker/checks/socket';

describe('checks: deadline guard', () => {
  it('resolves "timed out <phase>" the moment the signal aborts, and destroys what the check owned', async () => {
    const controller = new AbortController();
    let destroyed = 0;
    const pending = guarded(controller.signal, async (scope) => {
      scope.own({ destroy: () => destroyed++ });
      scope.step('waiting for the greeting');
      return new Promise(() => undefined); // a server that never answers
    });
    await sleep(20);
    controller.abort();
    assert.deepEqual(await pending, { up: false, detail: 'timed out waiting for the greeting' });
    assert.equal(destroyed, 1);
  });

  it('turns a thrown reason into down, and a socket error code into words; never rejects', async () => {
    const signal = new AbortController().signal;
    assert.deepEqual(await guarded(signal, async () => fail('HTTP 503')), { up: false, detail: 'HTTP 503' });
    const refused = Object.assign(new Error('connect ECONNREFUSED 198.51.100.21:80'), { code: 'ECONNREFUSED' });
    assert.deepEqual(await guarded(signal, async () => Promise.reject(refused)), { up: false, detail: 'connection refused' });
    assert.deepEqual(await guarded(signal, () => { throw new Error('sync'); }), { up: false, detail: 'sync' });
    assert.deepEqual(await guarded(signal, async () => up('fine')), { up: true, detail: 'fine' });
  });

  it('does not start a check whose deadline has passed', async () => {
    let ran = false;
    const r = await guarded(AbortSignal.abort(), async () => ((ran = true), up('x')));
    assert.equal(r.up, false);
    assert.equal(ran, false);
  });

  it('words OpenSSL errors by their reason', () => {
    const e = new Error('write EPROTO 80AC:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:ssl3_record.c:355:');
    assert.equal(describeError(e), 'TLS: wrong version number');
  });

  it('reports a receive pattern that cannot be used as a down reason, not an exception', () => {
    assert.throws(() => receivePattern('(unclosed'), (e: unknown) => e instanceof Down && /^receive \/\(unclosed\/: missing "\)"/.test(e.message));
    assert.ok(receivePattern('^ok$').test('ok'));
  });
});

describe('checks: line reader', () => {
  it('gives LF and CRLF lines as they arrive, split across chunks, and a last line without LF', async () => {
    const s = new PassThrough();
    const r = new LineReader(s);
    s.write('220 hel');
    s.write('lo\r\n250-a\n250 b');
    s.end();
    assert.equal(await r.line(), '220 hello');
    assert.equal(await r.line(), '250-a');
    assert.equal(await r.line(), '250 b');
    assert.equal(await r.line(), null);
  });

  it('waits for a line, and wakes with "timed out" when the signal aborts', async () => {
    const s = new PassThrough();
    const controller = new AbortController();
    const r = new LineReader(s, controller.signal);
    s.write('no newline yet');
    const pending = r.line();
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(pending, (e: unknown) => e instanceof Down && e.message === 'timed out');
  });

  it('fails on a line longer than its limit instead of buffering forever', async () => {
    const s = new PassThrough();
    const r = new LineReader(s, undefined, 16);
    s.write('x'.repeat(40));
    await assert.rejects(r.line(), /longer than 16 bytes/);
  });

  it('gives the lines that came before an error, then the error', async () => {
    const s = new PassThrough();
    const r = new LineReader(s);
    s.write('one\n');
    await sleep(1);
    s.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    assert.equal(await r.line(), 'one');
    await assert.rejects(r.line(), /ECONNRESET/);
  });

  it('reads exact byte counts and the rest of the stream, capped', async () => {
    const s = new PassThrough();
    const r = new LineReader(s, undefined, 8);
    s.write(Buffer.from([0, 3, 97, 98]));
    s.write('c');
    assert.deepEqual(await r.bytes(2), Buffer.from([0, 3]));
    assert.equal((await r.bytes(3))?.toString(), 'abc');
    s.end('0123456789abcdef');
    assert.deepEqual(await r.rest(10), { data: Buffer.from('0123456789'), truncated: true });
    assert.deepEqual(await r.rest(100), { data: Buffer.from('abcdef'), truncated: false });
    assert.equal(await r.bytes(1), null);
  });
});

describe('checks: SMTP/FTP replies', () => {
  const reader = (text: string) => {
    const s = new PassThrough();
    s.end(text);
    return new LineReader(s);
  };

  it('reads a multi-line reply up to its last "NNN " line', async () => {
    const r = reader('250-lab.test hello\r\n250-PIPELINING\r\n250 8BITMIME\r\n220 next\r\n');
    assert.deepEqual(await readReply(r), { code: 250, text: 'lab.test hello' });
    assert.deepEqual(await readReply(r), { code: 220, text: 'next' });
  });

  it('fails on a line that is no reply, and on a reply cut short', async () => {
    await assert.rejects(readReply(reader('HTTP/1.1 200 OK\r\n')), /unexpected reply/);
    await assert.rejects(readReply(reader('250-one\r\n')), /middle of a reply/);
    await assert.rejects(readReply(reader('')), /closed/);
  });

  it('finds the data port in PASV and EPSV replies', () => {
    assert.equal(passivePort({ code: 227, text: 'Entering Passive Mode (198,51,100,21,195,80)' }, false), 195 * 256 + 80);
    assert.equal(passivePort({ code: 229, text: 'Entering Extended Passive Mode (|||50000|)' }, true), 50000);
    assert.throws(() => passivePort({ code: 227, text: 'no numbers' }, false), /unusable passive reply/);
  });
});

describe('checks: bounded buffers', () => {
  it('gives lines with their newline as Perl reads them, and stays linear on one-byte chunks', async () => {
    const s = new PassThrough();
    const r = new LineReader(s);
    for (const b of Buffer.from('OK\r\nlast')) s.write(Buffer.from([b]));
    s.end();
    assert.deepEqual(await r.rawLine(), Buffer.from('OK\r\n'));
    assert.deepEqual(await r.rawLine(), Buffer.from('last'));
    assert.equal(await r.rawLine(), null);
  });

  it('skips an announced body without holding it, and refuses to hold more than its limit', async () => {
    const s = new PassThrough();
    const r = new LineReader(s, undefined, 1024);
    const writing = (async () => {
      for (let k = 0; k < 64; k++) if (!s.write(Buffer.alloc(4096, 'b'))) await new Promise((ok) => s.once('drain', ok));
      s.end('after\n');
    })();
    assert.equal(await r.skip(64 * 4096), true);
    await writing;
    assert.equal(await r.line(), 'after');
    await assert.rejects(r.bytes(2_000_000_000), /a message of 2000000000 bytes \(at most 1024\)/);
  });
});

describe('checks: SIP answers on a stream', () => {
  const trying = (length: number) => `SIP/2.0 100 Trying\r\nCSeq: 1 OPTIONS\r\nContent-Length: ${length}\r\n\r\n`;

  it('skips provisional answers, their bodies included, to the final one', async () => {
    const s = new PassThrough();
    s.end(`${trying(5)}hello${trying(0)}SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n`);
    assert.equal(await finalStatus(new LineReader(s)), 'SIP/2.0 200 OK');
  });

  it('refuses a provisional answer that announces a huge body at once, without reading it', async () => {
    const s = new PassThrough();
    s.write(trying(2_000_000_000));
    s.write(Buffer.alloc(64 * 1024, 's')); // the flood has begun; the check must not wait for more
    const r = await guarded(new AbortController().signal, () => finalStatus(new LineReader(s)).then(up));
    assert.deepEqual(r, { up: false, detail: `a provisional answer announces a body of 2000000000 bytes (at most ${MAX_PROVISIONAL_BODY})` });
  });
});
