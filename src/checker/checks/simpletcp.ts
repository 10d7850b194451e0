// service=simpletcp (ldirectord check_simpletcp): send request (its `\n` escapes made newlines),
// close our side, and read lines until one matches receive. A line is matched with its newline, as
// Perl's `<$sock>` gives it (so `^OK$` and `OK\r?$` mean what they mean to ldirectord).
import { brief, connect, endpointOf, fail, guarded, LineReader, receivePattern, send, up } from './socket';
import type { Check } from './types';

export const simpletcpCheck: Check = (target, signal) =>
  guarded(signal, async (scope) => {
    const pattern = receivePattern(target.receive);
    const socket = await connect(scope, endpointOf(target));
    const reader = new LineReader(socket, scope.signal);
    // The config parser already dropped the '/' ldirectord puts in front of request.
    const request = target.request.replace(/\\n/g, '\n');
    scope.step('sending the request');
    await send(socket, request);
    socket.end();
    scope.step('waiting for a matching line');
    let lines = 0;
    for (let line = await reader.rawLine(); line !== null; line = await reader.rawLine()) {
      lines++;
      if (await pattern.matches(line, scope.signal)) return up(`line ${lines} matches`);
    }
    fail(lines ? `no match for /${brief(target.receive, 40)}/ in ${lines} line${lines > 1 ? 's' : ''}` : 'connection closed without an answer');
  });
