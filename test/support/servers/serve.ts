// Small servers for the health-check lab tests, run inside a lab real server:
//   node --import tsx serve.ts CONFIG.json
// CONFIG lists listeners ({kind, port, ...}); once all listen, the file `ready` (next to CONFIG) is
// written. Each speaks just enough of its protocol to be checked, plus the ways a server goes wrong:
// wrong answers, `silent` (accepts, never answers, never closes) and `trickle` (a byte at a time);
// and hostile ones: HTTP bodies that are huge, pathological for a pattern or endless, and
// `sipflood` (a SIP answer announcing 2 GB, then bytes as fast as the network takes them).
import dgram from 'node:dgram';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { dirname, join } from 'node:path';
import tls from 'node:tls';

export type Listener =
  /** stamps: a file that gets one line (epoch seconds) per request. */
  | { kind: 'http'; port: number; tls?: boolean; stamps?: string }
  | { kind: 'sipflood'; port: number }
  | { kind: 'simpletcp'; port: number; answer: string }
  | { kind: 'smtp'; port: number; greeting: string; noEhlo?: boolean }
  | { kind: 'nntp'; port: number; banner: string }
  | { kind: 'pop'; port: number; tls?: boolean; greeting: string; user: string; pass: string }
  | { kind: 'imap'; port: number; tls?: boolean; user: string; pass: string }
  | { kind: 'ftp'; port: number; address: string; user: string; pass: string; files: Record<string, string> }
  | { kind: 'dns'; port: number }
  | { kind: 'sip'; port: number; status: string; provisional?: boolean }
  | { kind: 'silent'; port: number; udp?: boolean }
  | { kind: 'trickle'; port: number; text: string };

export interface ServeConfig {
  /** PEM files for the TLS listeners. */
  cert?: string;
  key?: string;
  listeners: Listener[];
}

const TRICKLE_MS = 200;

const configPath = process.argv[2];
if (!configPath) throw new Error('usage: serve.ts CONFIG.json');
const config = JSON.parse(readFileSync(configPath, 'utf8')) as ServeConfig;
const tlsOptions = () => ({ cert: readFileSync(config.cert ?? ''), key: readFileSync(config.key ?? '') });

/** Lines from a socket, CRLF or LF. */
function onLines(socket: net.Socket, handle: (line: string) => void): void {
  let buf = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      handle(buf.slice(0, nl).replace(/\r$/, ''));
      buf = buf.slice(nl + 1);
    }
  });
  socket.on('error', () => undefined);
}

function tcp(l: { port: number; tls?: boolean }, onConnection: (s: net.Socket) => void): net.Server {
  return l.tls ? tls.createServer(tlsOptions(), onConnection) : net.createServer(onConnection);
}

/** Bytes of `text`, one per tick, then dots forever: never a whole line. */
function trickle(socket: net.Socket, text: string): void {
  let i = 0;
  const timer = setInterval(() => socket.write(i < text.length ? text[i++]! : '.'), TRICKLE_MS);
  socket.on('close', () => clearInterval(timer));
  socket.on('error', () => undefined);
}

/** Writes `chunk` for ever, as fast as the peer reads, until it goes away. */
function flood(out: NodeJS.WritableStream & { on(e: 'close' | 'drain', f: () => void): unknown }, chunk: Buffer): void {
  let open = true;
  out.on('close', () => (open = false));
  const pump = () => {
    while (open && out.write(chunk));
  };
  out.on('drain', pump);
  pump();
}

const MIB = 1024 * 1024;

function httpHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = req.url ?? '/';
  const text = (status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
    res.end(body);
  };
  if (/^http:\/\//.test(url)) return text(200, `proxied ${url} host=${req.headers.host}\n`);
  switch (url) {
    case '/ok':
      return text(200, 'status: ok\n');
    case '/fail':
      return text(503, 'status: down\n');
    case '/host':
      return text(200, `host=${req.headers.host}\n`);
    case '/old':
      return text(302, '', { Location: '/ok' });
    case '/loop':
      return text(302, '', { Location: '/loop' });
    case '/away':
      return text(302, '', { Location: 'http://203.0.113.9/ok' });
    case '/big':
      // The match is past the first MiB, where the check stops reading.
      return text(200, `${'x'.repeat(2 * 1024 * 1024)}\nstatus: ok\n`);
    case '/huge':
      // 1 MiB without "healthy": a backtracking /.*healthy.*/ needs minutes on it.
      return text(200, 'x'.repeat(MIB));
    case '/xy':
      // 1 MiB that makes /(x|y)*x[xy]{14}z/ visit every one of its 2^15 DFA states.
      return text(200, 'xy'.repeat(MIB / 2));
    case '/flood':
      res.writeHead(200, { 'Content-Type': 'text/plain' }); // chunked, no end
      return flood(res, Buffer.alloc(64 * 1024, 'f'));
    case '/trickle': {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '1000000' });
      const timer = setInterval(() => res.write('.'), TRICKLE_MS);
      res.on('close', () => clearInterval(timer));
      return;
    }
    default:
      return text(404, 'not found\n');
  }
}

function simpletcp(l: Extract<Listener, { kind: 'simpletcp' }>): net.Server {
  return net.createServer((s) => {
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (got += c));
    s.on('end', () => s.end(`you said ${JSON.stringify(got)}\n${l.answer}\n`));
    s.on('error', () => undefined);
  });
}

function smtp(l: Extract<Listener, { kind: 'smtp' }>): net.Server {
  return net.createServer((s) => {
    s.write(`${l.greeting}\r\n`);
    onLines(s, (line) => {
      const verb = line.split(' ')[0]?.toUpperCase();
      if (verb === 'EHLO') s.write(l.noEhlo ? '502 no EHLO here\r\n' : '250-lab.test hello\r\n250-PIPELINING\r\n250 8BITMIME\r\n');
      else if (verb === 'HELO') s.write('250 lab.test\r\n');
      else if (verb === 'QUIT') s.end('221 bye\r\n');
      else s.write('502 what\r\n');
    });
  });
}

function pop(l: Extract<Listener, { kind: 'pop' }>): net.Server {
  return tcp(l, (s) => {
    s.write(`${l.greeting}\r\n`);
    let user = '';
    onLines(s, (line) => {
      const [verb, ...rest] = line.split(' ');
      const arg = rest.join(' ');
      if (verb === 'USER') {
        user = arg;
        s.write('+OK send PASS\r\n');
      } else if (verb === 'PASS') s.write(user === l.user && arg === l.pass ? '+OK in\r\n' : '-ERR invalid login\r\n');
      else if (verb === 'QUIT') s.end('+OK bye\r\n');
      else s.write('-ERR what\r\n');
    });
  });
}

function imap(l: Extract<Listener, { kind: 'imap' }>): net.Server {
  return tcp(l, (s) => {
    s.write('* OK lab IMAP ready\r\n');
    onLines(s, (line) => {
      const m = /^(\S+) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return void s.write('* BAD\r\n');
      const [, tag, verb, args] = m;
      if (verb!.toUpperCase() === 'LOGIN') {
        const q = /^"((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$/.exec(args ?? '');
        const unq = (v: string) => v.replace(/\\(.)/g, '$1');
        const ok = q && unq(q[1]!) === l.user && unq(q[2]!) === l.pass;
        s.write(ok ? `* CAPABILITY IMAP4rev1\r\n${tag} OK logged in\r\n` : `${tag} NO wrong\r\n`);
      } else if (verb!.toUpperCase() === 'LOGOUT') s.end(`* BYE\r\n${tag} OK bye\r\n`);
      else s.write(`${tag} BAD what\r\n`);
    });
  });
}

function ftp(l: Extract<Listener, { kind: 'ftp' }>): net.Server {
  return net.createServer((s) => {
    s.write('220 lab FTP ready\r\n');
    let user = '';
    let loggedIn = false;
    let data: Promise<net.Socket> | undefined;
    const passive = (reply: (port: number) => string) => {
      const server = net.createServer();
      // A checker may reset the data connection: unhandled, that reset killed every server here.
      data = new Promise((resolve) => server.once('connection', (c) => (c.on('error', () => undefined), server.close(), resolve(c))));
      server.on('error', () => undefined);
      server.listen(0, () => s.write(reply((server.address() as net.AddressInfo).port)));
    };
    onLines(s, (line) => {
      const [verb, ...rest] = line.split(' ');
      const arg = rest.join(' ');
      switch (verb?.toUpperCase()) {
        case 'USER':
          user = arg;
          return void s.write('331 password please\r\n');
        case 'PASS':
          loggedIn = user === l.user && arg === l.pass;
          return void s.write(loggedIn ? '230 in\r\n' : '530 wrong\r\n');
        case 'TYPE':
          return void s.write('200 ok\r\n');
        case 'PASV':
          return passive((p) => `227 Entering Passive Mode (${l.address.replace(/\./g, ',')},${p >> 8},${p & 255})\r\n`);
        case 'EPSV':
          return passive((p) => `229 Entering Extended Passive Mode (|||${p}|)\r\n`);
        case 'RETR': {
          const content = l.files[arg];
          if (!loggedIn || content === undefined || !data) return void s.write('550 no such file\r\n');
          s.write('150 here it comes\r\n');
          void data.then((c) => c.end(content, () => s.write('226 done\r\n')));
          data = undefined;
          return;
        }
        case 'QUIT':
          return void s.end('221 bye\r\n');
        default:
          return void s.write('502 what\r\n');
      }
    });
  });
}

// DNS: www.example.test A 203.0.113.5 (and 203.0.113.6), its PTR; big.example.test is truncated
// over UDP (answered over TCP); anything else NXDOMAIN. Built byte by byte here, apart from the
// encoder under test.
const A: Record<string, string[]> = { 'www.example.test': ['203.0.113.5', '203.0.113.6'], 'big.example.test': ['203.0.113.7'] };
const PTR: Record<string, string> = { '5.113.0.203.in-addr.arpa': 'www.example.test' };

function dnsAnswer(query: Buffer, udp: boolean): Buffer | undefined {
  if (query.length < 17) return undefined;
  const labels: string[] = [];
  let o = 12;
  while (query[o]) {
    labels.push(query.subarray(o + 1, o + 1 + query[o]!).toString('ascii'));
    o += query[o]! + 1;
  }
  const qtype = query.readUInt16BE(o + 1);
  const question = query.subarray(12, o + 5);
  const name = labels.join('.').toLowerCase();
  const answers: Buffer[] = [];
  let rcode = 0;
  let tc = false;
  const rr = (type: number, rdata: Buffer) => {
    const head = Buffer.from([0xc0, 12, 0, type, 0, 1, 0, 0, 0, 60, rdata.length >> 8, rdata.length & 255]);
    answers.push(head, rdata);
  };
  if (qtype === 1 && A[name]) {
    if (udp && name === 'big.example.test') tc = true;
    else for (const ip of A[name]!) rr(1, Buffer.from(ip.split('.').map(Number)));
  } else if (qtype === 12 && PTR[name]) {
    rr(12, Buffer.concat([...PTR[name]!.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]));
  } else rcode = 3;
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  header.writeUInt16BE(0x8180 | (tc ? 0x0200 : 0) | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length / 2, 6);
  return Buffer.concat([header, question, ...answers]);
}

function dns(l: Extract<Listener, { kind: 'dns' }>): Array<net.Server | dgram.Socket> {
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, from) => {
    const answer = dnsAnswer(msg, true);
    if (answer) udp.send(answer, from.port, from.address);
  });
  const stream = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const answer = dnsAnswer(buf.subarray(2, 2 + buf.readUInt16BE(0)), false);
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        if (answer) s.write(Buffer.concat([Buffer.from([answer.length >> 8, answer.length & 255]), answer]));
      }
    });
    s.on('error', () => undefined);
  });
  udp.bind(l.port);
  return [udp, stream];
}

function sipAnswer(request: string, l: Extract<Listener, { kind: 'sip' }>): string[] {
  const headers = request.split('\r\n').filter((h) => /^(Via|From|To|Call-ID|CSeq):/i.test(h));
  const msg = (status: string) => `SIP/2.0 ${status}\r\n${headers.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
  return [...(l.provisional ? [msg('100 Trying')] : []), msg(l.status)];
}

function sip(l: Extract<Listener, { kind: 'sip' }>): Array<net.Server | dgram.Socket> {
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, from) => {
    if (!msg.toString().startsWith('OPTIONS ')) return;
    for (const m of sipAnswer(msg.toString(), l)) udp.send(m, from.port, from.address);
  });
  const stream = net.createServer((s) => {
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => {
      buf += c;
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        for (const m of sipAnswer(buf.slice(0, end), l)) s.write(m);
        buf = buf.slice(end + 4);
      }
    });
    s.on('error', () => undefined);
  });
  udp.bind(l.port);
  return [udp, stream];
}

function serversFor(l: Listener): Array<net.Server | dgram.Socket> {
  switch (l.kind) {
    case 'http': {
      const handler = l.stamps === undefined ? httpHandler : (req: http.IncomingMessage, res: http.ServerResponse) => {
        try {
          appendFileSync(l.stamps!, `${Date.now() / 1000}\n`);
        } catch (err) {
          process.stderr.write(`serve: cannot stamp ${l.stamps}: ${String(err)}\n`);
        }
        httpHandler(req, res);
      };
      return [l.tls ? https.createServer(tlsOptions(), handler) : http.createServer(handler)];
    }
    case 'sipflood':
      return [net.createServer((s) => {
        s.on('error', () => undefined);
        s.once('data', () => {
          s.write('SIP/2.0 100 Trying\r\nContent-Length: 2000000000\r\n\r\n');
          flood(s, Buffer.alloc(64 * 1024, 's'));
        });
      })];
    case 'simpletcp':
      return [simpletcp(l)];
    case 'smtp':
      return [smtp(l)];
    case 'nntp':
      return [net.createServer((s) => (s.on('error', () => undefined), s.write(`${l.banner}\r\n`)))];
    case 'pop':
      return [pop(l)];
    case 'imap':
      return [imap(l)];
    case 'ftp':
      return [ftp(l)];
    case 'dns':
      return dns(l);
    case 'sip':
      return sip(l);
    case 'silent':
      if (l.udp) {
        const u = dgram.createSocket('udp4');
        u.on('message', () => undefined);
        u.bind(l.port);
        return [u];
      }
      return [net.createServer((s) => s.on('error', () => undefined))];
    case 'trickle':
      return [net.createServer((s) => trickle(s, l.text))];
  }
}

// A test server must outlive one bad connection: say what went wrong and keep serving.
process.on('uncaughtException', (err) => process.stderr.write(`serve: ${err.stack ?? String(err)}\n`));

async function main(): Promise<void> {
  const listening: Array<Promise<void>> = [];
  for (const l of config.listeners) {
    for (const server of serversFor(l)) {
      listening.push(
        new Promise((resolve, reject) => {
          server.once('error', reject);
          if (server instanceof dgram.Socket) server.once('listening', () => resolve());
          else server.listen(l.port, () => resolve());
        }),
      );
    }
  }
  await Promise.all(listening);
  writeFileSync(join(dirname(configPath!), 'ready'), `${process.pid}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`serve: ${String(err)}\n`);
  process.exit(1);
});
