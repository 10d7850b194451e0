// service=imap, imaps (ldirectord check_imap, Net::IMAP::Simple): a "* OK" greeting (or PREAUTH);
// with login set, LOGIN accepted too; then LOGOUT. imaps is the same over TLS from the first byte.
import { brief, connect, endpointOf, fail, goodbye, guarded, LineReader, oneLine, send, up } from './socket';
import type { Check } from './types';

/** An IMAP quoted string. */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export const imapCheck: Check = (target, signal) =>
  guarded(signal, async (scope) => {
    const login = oneLine(target.login, 'login');
    const passwd = oneLine(target.passwd, 'passwd');
    const socket = await connect(scope, endpointOf(target), { tls: target.service === 'imaps' });
    const reader = new LineReader(socket, scope.signal);
    const line = async () => {
      const l = await reader.line();
      if (l === null) fail('connection closed by the server');
      return l;
    };
    scope.step('waiting for the greeting');
    const greeting = await line();
    const preauth = /^\* PREAUTH\b/i.test(greeting);
    if (!/^\* OK\b/i.test(greeting) && !preauth) fail(`greeting "${brief(greeting, 40)}"`);
    if (login !== '' && !preauth) {
      scope.step('logging in');
      await send(socket, `a1 LOGIN ${quoted(login)} ${quoted(passwd)}\r\n`);
      // Untagged lines (capabilities) may come first; the tagged one decides.
      let reply = await line();
      for (let n = 0; !reply.startsWith('a1 '); n++) {
        if (n > 1000) fail('no answer to LOGIN');
        reply = await line();
      }
      if (!/^a1 OK\b/i.test(reply)) fail('login failed (LOGIN refused)');
    }
    await goodbye(socket, 'a2 LOGOUT\r\n');
    return up(login !== '' && !preauth ? 'logged in' : `greeting ${preauth ? 'PREAUTH' : 'OK'}`);
  });
