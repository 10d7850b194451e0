// service=pop, pops (ldirectord check_pop, Mail::POP3Client): a +OK greeting; with login set, USER
// and PASS accepted too; then QUIT. pops is the same over TLS from the first byte.
import { brief, connect, endpointOf, fail, goodbye, guarded, LineReader, oneLine, send, up } from './socket';
import type { Check } from './types';

export const popCheck: Check = (target, signal) =>
  guarded(signal, async (scope) => {
    const login = oneLine(target.login, 'login');
    const passwd = oneLine(target.passwd, 'passwd');
    const socket = await connect(scope, endpointOf(target), { tls: target.service === 'pops' });
    const reader = new LineReader(socket, scope.signal);
    const answer = async () => {
      const line = await reader.line();
      if (line === null) fail('connection closed by the server');
      return line;
    };
    scope.step('waiting for the greeting');
    const greeting = await answer();
    if (!greeting.startsWith('+OK')) fail(`greeting "${brief(greeting, 40)}"`);
    if (login !== '') {
      scope.step('logging in');
      await send(socket, `USER ${login}\r\n`);
      const user = await answer();
      if (!user.startsWith('+OK')) fail(`USER refused: ${brief(user, 40)}`);
      await send(socket, `PASS ${passwd}\r\n`);
      // The server's words are left out: some echo what they were sent.
      if (!(await answer()).startsWith('+OK')) fail('login failed (PASS refused)');
    }
    await goodbye(socket, 'QUIT\r\n');
    return up(login !== '' ? 'logged in' : 'greeting +OK');
  });
