// Side effects ldirectord users rely on: e-mail alerts, fallbackcommand and the monitorfile.
// All of them run beside the checks, never in their way: a slow mail server or command delays
// nothing. Children go through src/exec/child.ts: own process group, time limit, stderr logged.
import { accessSync, constants } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { hostname, userInfo } from 'node:os';
import { childFailure, startChild } from '../exec/child';
import { which } from '../exec/run';
import type { EmailConfig, RealConfig, VirtualConfig } from './config/model';
import type { Logger } from './log';
import { localTime } from './log';

export type DaemonState = 'starting' | 'running' | 'stopping' | 'reloading';

/** sendmail, fallbackcommand and callback are stopped (their whole process group) after this. */
export const CHILD_LIMIT_MS = 60_000;
const SMTP_LIMIT_MS = 30_000;

export interface Mail {
  /** Envelope sender (MAIL FROM). */
  sender: string;
  to: string[];
  subject: string;
  /** Headers and body, CRLF line ends. */
  text: string;
}

export interface AlertContext {
  state: DaemonState;
  host: string;
  user: string;
  date: Date;
}

/** A header value as RFC 2047 wants it: as is when ASCII, else one UTF-8 encoded word. */
function headerText(s: string): string {
  return /^[\x20-\x7e]*$/.test(s) ? s : `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
}

/** The mailbox in an emailalertfrom value ("Alerts" <a@b>, a@b), for the envelope. */
function mailbox(from: string): string | undefined {
  return /<([^<>\s]+@[^<>\s]+)>/.exec(from)?.[1] ?? /^([^<>\s"]+@[^<>\s"]+)$/.exec(from)?.[1];
}

/**
 * The alert ldirectord sends (ld_emailalert_send): the subject is the log message, prefixed
 * "[servicename] " when the virtual has one; the body says the host, the log message and the
 * daemon's state, then "Service name:" and "Comment:" when set.
 */
export function alertMail(v: Pick<VirtualConfig, 'email' | 'servicename' | 'comment'>, message: string, ctx: AlertContext): Mail {
  const subject = v.servicename ? `[${v.servicename}] ${message}` : message;
  const own = `${ctx.user}@${ctx.host}`;
  const from = v.email.from ?? own;
  const details = [v.servicename ? `Service name: ${v.servicename}` : '', v.comment ? `Comment: ${v.comment}` : ''].filter(Boolean);
  const lines = [
    `From: ${from}`,
    `To: ${v.email.to.join(', ')}`,
    `Subject: ${headerText(subject)}`,
    `Date: ${ctx.date.toUTCString()}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    `ldirectord host: ${ctx.host}`,
    `Log-Message: ${subject}`,
    `Daemon-Status: ${ctx.state}`,
    ...(details.length > 0 ? ['', ...details] : []),
    '',
  ];
  return { sender: mailbox(from) ?? own, to: v.email.to, subject, text: lines.join('\r\n') };
}

/** A minimal SMTP client (no auth, no TLS, as ldirectord's Net::SMTP use), bounded in time. */
export function smtpSend(server: string, mail: Mail, helo: string, limitMs = SMTP_LIMIT_MS): Promise<void> {
  const [host, port] = server.includes(':') && !server.startsWith('[') ? server.split(':') : [server.replace(/^\[|\]$/g, ''), '25'];
  const body = `${mail.text.replace(/^\./gm, '..')}${mail.text.endsWith('\r\n') ? '' : '\r\n'}.`;
  const commands = [`HELO ${helo}`, `MAIL FROM:<${mail.sender}>`, ...mail.to.map((t) => `RCPT TO:<${t}>`), 'DATA', body, 'QUIT'];
  return new Promise((resolve, reject) => {
    const socket = connect({ host: host!, port: Number(port) });
    socket.setTimeout(limitMs, () => socket.destroy(new Error(`no answer within ${limitMs / 1000} s`)));
    let buffer = '';
    let step = -1;
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      if (buffer.length > 65_536) return socket.destroy(new Error('the server sent a line longer than 64 KiB'));
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trimEnd();
        buffer = buffer.slice(nl + 1);
        if (/^\d{3}-/.test(line)) continue;
        if (!/^[23]\d\d/.test(line)) return socket.destroy(new Error(`the server said: ${line.slice(0, 200)}`));
        step++;
        if (step >= commands.length) return socket.end();
        socket.write(`${commands[step]}\r\n`);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => (step >= commands.length - 1 ? resolve() : reject(new Error('the server closed the connection early'))));
  });
}

async function sendmail(mail: Mail): Promise<void> {
  const path = which('sendmail');
  if (!path) throw new Error('no sendmail (set smtp, or install an MTA)');
  const end = await startChild(path, ['-t', '-i'], { input: mail.text.replace(/\r\n/g, '\n'), timeoutMs: CHILD_LIMIT_MS }).done;
  const failed = childFailure(end, CHILD_LIMIT_MS);
  if (failed) throw new Error(`sendmail: ${failed}`);
}

export interface AlertDeps {
  host?: string;
  user?: string;
  now?: () => Date;
  /** Delivers one mail (tests); default: smtp when set, else sendmail. */
  deliver?: (email: EmailConfig, mail: Mail) => Promise<void>;
}

/** "198.51.100.21:80", "[2001:db8::21]:80": the real as ldirectord's alerts name it. */
export function realText(r: Pick<RealConfig, 'family' | 'address' | 'port'>): string {
  return `${r.family === 6 ? `[${r.address}]` : r.address}:${r.port}`;
}

export class Alerts {
  state: DaemonState = 'starting';
  /** Reals down with reminders due (emailalertfreq), by "real (virtual)". */
  private readonly down = new Map<string, { v: VirtualConfig; last: number }>();
  private reminder?: NodeJS.Timeout;
  private readonly host: string;
  private readonly user: string;
  private readonly now: () => Date;
  private readonly deliver: (email: EmailConfig, mail: Mail) => Promise<void>;

  constructor(
    private readonly log: Logger,
    deps: AlertDeps = {},
  ) {
    this.host = deps.host ?? hostname();
    this.user = deps.user ?? safeUser();
    this.now = deps.now ?? (() => new Date());
    this.deliver = deps.deliver ?? ((email, mail) => (email.smtp ? smtpSend(email.smtp, mail, this.host) : sendmail(mail)));
  }

  /** A real went up or down: ldirectord's words for what that does to the table. */
  realChanged(v: VirtualConfig, real: RealConfig, to: 'up' | 'down', virtualText: string): void {
    const id = `${realText(real)} (${virtualText})`;
    let message: string;
    if (to === 'down') {
      message = v.quiescent ? `Quiescent real server: ${id} (Weight set to 0)` : `Deleted real server: ${id}`;
      if (v.email.freq > 0) this.down.set(id, { v, last: this.now().getTime() });
    } else {
      message = `${v.quiescent ? 'Restored' : 'Added'} real server: ${id} (Weight set to ${real.weight})`;
      this.down.delete(id);
    }
    this.mail(v, message);
    this.armReminders();
  }

  /** The fallback server went in or out. */
  fallbackChanged(v: VirtualConfig, active: boolean, virtualText: string): void {
    if (!v.fallback) return;
    const id = `${realText(v.fallback)} (${virtualText})`;
    this.mail(v, active ? `Added fallback server: ${id} (Weight set to 1)` : `Deleted fallback server: ${id}`);
  }

  private mail(v: VirtualConfig, message: string): void {
    if (v.email.to.length === 0 || !v.email.status.includes(this.state)) return;
    this.log('info', `emailalert: ${message}`);
    const mail = alertMail(v, message, { state: this.state, host: this.host, user: this.user, date: this.now() });
    const via = v.email.smtp ? `via ${v.email.smtp}` : 'via sendmail';
    this.deliver(v.email, mail).catch((err: Error) => this.log('warning', `e-mail alert to ${v.email.to.join(', ')} ${via} failed: ${err.message}`));
  }

  /** emailalertfreq: "Inaccessible real server" every N seconds while a real stays down. */
  private armReminders(): void {
    clearInterval(this.reminder);
    this.reminder = undefined;
    if (this.down.size === 0) return;
    this.reminder = setInterval(() => this.remind(), 1000);
    this.reminder.unref();
  }

  /** Sends the reminders that are due (called every second while a real is down). */
  remind(): void {
    const now = this.now().getTime();
    for (const [id, d] of this.down) {
      if (now - d.last < d.v.email.freq * 1000) continue;
      d.last = now;
      this.mail(d.v, `Inaccessible real server: ${id}`);
    }
  }

  close(): void {
    clearInterval(this.reminder);
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'root';
  }
}

/**
 * fallbackcommand start|stop VIP:VPORT PROTO, as ldirectord runs it. One at a time per virtual, in
 * order: a stop never overtakes the start before it.
 */
export class FallbackCommands {
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly log: Logger) {}

  run(v: VirtualConfig, active: boolean): Promise<void> {
    const command = v.fallbackcommand;
    if (!command) return Promise.resolve();
    const where = v.protocol === 'fwm' ? String(v.fwmark) : `${v.family === 6 ? `[${v.address}]` : v.address}:${v.port}`;
    const args = [active ? 'start' : 'stop', where, v.protocol];
    const key = `${v.protocol} ${where}`;
    const next = (this.queues.get(key) ?? Promise.resolve()).then(async () => {
      const end = await startChild(command, args, { timeoutMs: CHILD_LIMIT_MS }).done;
      const failed = childFailure(end, CHILD_LIMIT_MS);
      if (failed) this.log(end.error !== undefined ? 'error' : 'warning', `fallbackcommand ${command} ${args.join(' ')}: ${failed}`);
    });
    this.queues.set(key, next);
    void next.finally(() => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    });
    return next;
  }
}

/** callback: run with the configuration file when it changed on disk, if executable (as ldirectord). */
export function runCallback(command: string, configFile: string, log: Logger): Promise<void> {
  try {
    accessSync(command, constants.X_OK);
  } catch {
    log('warning', `callback ${command} is not executable`);
    return Promise.resolve();
  }
  return startChild(command, [configFile], { timeoutMs: CHILD_LIMIT_MS }).done.then((end) => {
    const failed = childFailure(end, CHILD_LIMIT_MS);
    if (failed) log(end.error !== undefined ? 'error' : 'warning', `callback ${command} ${configFile}: ${failed}`);
  });
}

/** One monitorfile line per check result, in ldirectord's shape: [time] [pid] <real id> [up|down] message. */
export function appendMonitorfile(path: string, realId: string, up: boolean, detail: string, log: Logger): void {
  appendFile(path, `[${localTime()}] [${process.pid}] ${realId} [${up ? 'up' : 'down'}] ${detail}\n`).catch((err: Error) =>
    log('error', `cannot write monitorfile ${path}: ${err.message}`),
  );
}
