// service=ftp (ldirectord check_ftp, Net::FTP): log in (the config makes login default to
// anonymous), then in passive mode RETR request and match its content against receive. A request
// that names a directory ("/", ldirectord's default) checks the login only. The data connection goes
// to the real's own address whatever PASV names (no FTP bounce, and NAT-proof).
import { brief, connect, endpointOf, expect2xx, fail, goodbye, guarded, LineReader, oneLine, readReply, receivePattern, send, up, type Reply } from './socket';
import type { Check } from './types';

const MAX_FILE = 1024 * 1024;

export const ftpCheck: Check = (target, signal) =>
  guarded(signal, async (scope) => {
    const login = oneLine(target.login || 'anonymous', 'login');
    const passwd = oneLine(target.passwd, 'passwd');
    const file = oneLine(target.request, 'request');
    const pattern = target.receive === '' ? undefined : receivePattern(target.receive);
    const control = await connect(scope, endpointOf(target));
    const reader = new LineReader(control, scope.signal);
    const command = async (line: string, phase: string): Promise<Reply> => {
      scope.step(phase);
      await send(control, `${line}\r\n`);
      return readReply(reader);
    };

    scope.step('waiting for the greeting');
    expect2xx(await readReply(reader), 'greeting');
    let reply = await command(`USER ${login}`, 'logging in');
    if (reply.code === 331) reply = await command(`PASS ${passwd}`, 'logging in');
    if (reply.code !== 230 && reply.code !== 202) fail(`login failed (${reply.code})`);
    if (file === '' || file.endsWith('/')) {
      await goodbye(control, 'QUIT\r\n');
      return up('logged in');
    }

    expect2xx(await command('TYPE I', 'setting binary mode'), 'TYPE I');
    const v6 = target.family === 6;
    const pasv = expect2xx(await command(v6 ? 'EPSV' : 'PASV', 'entering passive mode'), v6 ? 'EPSV' : 'PASV');
    const port = passivePort(pasv, v6);
    const data = await connect(scope, { address: target.address, port, family: target.family });
    const content = new LineReader(data, scope.signal, MAX_FILE);
    reply = await command(`RETR ${file}`, 'starting the download');
    if (reply.code !== 125 && reply.code !== 150) fail(`RETR ${brief(file, 40)}: ${reply.code} ${brief(reply.text, 40)}`.trimEnd());
    scope.step('downloading');
    const got = await content.rest(MAX_FILE);
    data.destroy();
    if (!got.truncated) {
      scope.step('waiting for the end of the transfer');
      expect2xx(await readReply(reader), 'transfer');
    }
    await goodbye(control, 'QUIT\r\n');
    if (!pattern) return up(`downloaded ${brief(file, 40)}`);
    scope.step('matching the file');
    if (await pattern.matches(got.data, scope.signal)) return up(`${brief(file, 40)} matches`);
    fail(`no match for /${brief(target.receive, 40)}/ in ${brief(file, 40)}`);
  });

/** The data port from "227 … (h1,h2,h3,h4,p1,p2)" or "229 … (|||port|)". */
export function passivePort(reply: Reply, extended: boolean): number {
  const m = extended ? /\((.)\1\1(\d+)\1\)/.exec(reply.text) : /(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/.exec(reply.text);
  const port = extended ? Number(m?.[2]) : Number(m?.[5]) * 256 + Number(m?.[6]);
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) fail(`unusable passive reply "${brief(reply.text, 40)}"`);
  return port;
}
