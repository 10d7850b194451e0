// service=smtp, submission (ldirectord check_smtp, Net::SMTP): a 2xx greeting (220), EHLO answered
// 2xx (else HELO, as Net::SMTP falls back), then QUIT.
import { hostname } from 'node:os';
import { connect, endpointOf, expect2xx, goodbye, guarded, LineReader, readReply, send, up } from './socket';
import type { Check } from './types';

export const smtpCheck: Check = (target, signal) =>
  guarded(signal, async (scope) => {
    const socket = await connect(scope, endpointOf(target));
    const reader = new LineReader(socket, scope.signal);
    scope.step('waiting for the greeting');
    const greeting = expect2xx(await readReply(reader), 'greeting');
    const me = hostname() || 'localhost';
    scope.step('waiting for the EHLO reply');
    await send(socket, `EHLO ${me}\r\n`);
    const ehlo = await readReply(reader);
    if (ehlo.code < 200 || ehlo.code > 299) {
      scope.step('waiting for the HELO reply');
      await send(socket, `HELO ${me}\r\n`);
      expect2xx(await readReply(reader), 'EHLO and HELO refused, HELO');
    }
    await goodbye(socket, 'QUIT\r\n');
    return up(`greeting ${greeting.code}`);
  });
