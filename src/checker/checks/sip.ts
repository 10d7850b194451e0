// service=sip (ldirectord check_sip): an OPTIONS request over the virtual's protocol; up when the
// final answer is "SIP/2.0 200" (ldirectord wants the reason phrase "OK" too; RFC 3261 leaves it
// free). Provisional 1xx answers are skipped. Over UDP the request is resent as the answer tarries.
import { randomBytes } from 'node:crypto';
import { brief, connect, endpointOf, fail, guarded, hostLiteral, LineReader, oneLine, send, udpExchange, up } from './socket';
import type { Check } from './types';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

function options(user: string, transport: 'UDP' | 'TCP', local: { address: string; port: number }): Buffer {
  return Buffer.from(
    `OPTIONS sip:${user} SIP/2.0\r\n` +
      `Via: SIP/2.0/${transport} ${hostLiteral(local.address)}:${local.port};branch=z9hG4bK${hex(8)}\r\n` +
      'Max-Forwards: 70\r\n' +
      `To: <sip:${user}>\r\n` +
      `From: <sip:${user}>;tag=${hex(4)}\r\n` +
      `Call-ID: ${hex(8)}\r\n` +
      'CSeq: 1 OPTIONS\r\n' +
      `Contact: <sip:${user}>\r\n` +
      'Accept: application/sdp\r\n' +
      'Content-Length: 0\r\n\r\n',
  );
}

const firstLine = (message: Buffer) => message.toString('utf8').split(/\r?\n/, 1)[0] ?? '';
const isFinal = (status: string) => /^SIP\/2\.0 [2-6]\d\d\b/.test(status);

/**
 * The most body a provisional answer may carry (they normally carry none). More is refused at once:
 * skipping a hostile Content-Length of 2 GB read a flood until the timeout, every interval.
 */
export const MAX_PROVISIONAL_BODY = 64 * 1024;

/** The status line of the first final answer on a stream, skipping whole 1xx messages. */
export async function finalStatus(reader: LineReader): Promise<string> {
  for (let answers = 0; answers < 100; answers++) {
    const status = await reader.line();
    if (status === null) fail('connection closed without an answer');
    if (isFinal(status) || !/^SIP\/2\.0 1\d\d\b/.test(status)) return status;
    let body = 0;
    for (let header = await reader.line(); header !== null && header !== ''; header = await reader.line()) {
      const m = /^(?:content-length|l)\s*:\s*(\d+)/i.exec(header);
      if (m) body = Number(m[1]);
    }
    if (body > MAX_PROVISIONAL_BODY) fail(`a provisional answer announces a body of ${body} bytes (at most ${MAX_PROVISIONAL_BODY})`);
    // Skipped, never held.
    if (body > 0 && !(await reader.skip(body))) fail('connection closed in the middle of an answer');
  }
  fail('no final answer after 100 provisional ones');
}

export const sipCheck: Check = (target, signal) =>
  guarded(signal, async (scope) => {
    // The config makes login default to ldirectord@<hostname>; without one, ask the real's address.
    const user = oneLine(target.login, 'login') || hostLiteral(target.address);
    let status: string;
    if (target.protocol === 'udp') {
      const raw = await udpExchange(scope, endpointOf(target), (local) => options(user, 'UDP', local), (m) => isFinal(firstLine(m)));
      status = firstLine(raw);
    } else {
      const socket = await connect(scope, endpointOf(target));
      const reader = new LineReader(socket, scope.signal);
      scope.step('waiting for the answer');
      await send(socket, options(user, 'TCP', { address: socket.localAddress ?? '', port: socket.localPort ?? 0 }));
      status = await finalStatus(reader);
      socket.destroy();
    }
    if (!/^SIP\/2\.0 200\b/.test(status)) fail(`answer "${brief(status, 40)}"`);
    return up(brief(status, 40));
  });
