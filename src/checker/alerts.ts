// Side effects ldirectord users rely on: e-mail alerts, fallbackcommand and the monitorfile.
// All of them run beside the checks, never in their way: a slow mail server delays nothing.
import { spawn } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import type { EmailConfig, VirtualConfig } from './config/model';
import type { Logger } from './log';
import { localTime } from './log';

export type DaemonState = 'starting' | 'running' | 'stopping' | 'reloading';

function send(email: EmailConfig, subject: string, log: Logger): void {
  const from = email.from ?? `lvsd@${hostname()}`;
  const message = [`From: ${from}`, `To: ${email.to.join(', ')}`, `Subject: ${subject}`, '', subject, ''].join('\r\n');
  if (email.smtp) void smtpSend(email.smtp, from, email.to, message).catch((err: Error) => log('warning', `e-mail alert via ${email.smtp} failed: ${err.message}`));
  else {
    const child = spawn('/usr/sbin/sendmail', ['-t', '-i'], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', (err) => log('warning', `e-mail alert: cannot run sendmail: ${err.message}`));
    child.on('exit', (code) => code !== 0 && code !== null && log('warning', `e-mail alert: sendmail exited ${code}`));
    child.stdin.on('error', () => undefined);
    child.stdin.end(message.replace(/\r\n/g, '\n'));
  }
}

/** A minimal SMTP client (no auth, no TLS), bounded by 30 s. */
function smtpSend(server: string, from: string, to: string[], message: string): Promise<void> {
  const [host, port] = server.includes(':') && !server.startsWith('[') ? server.split(':') : [server.replace(/^\[|\]$/g, ''), '25'];
  const commands = [`HELO ${hostname()}`, `MAIL FROM:<${from}>`, ...to.map((t) => `RCPT TO:<${t}>`), 'DATA', `${message.replace(/^\./gm, '..')}\r\n.`, 'QUIT'];
  return new Promise((resolve, reject) => {
    const socket = connect({ host: host!, port: Number(port) });
    socket.setTimeout(30_000, () => socket.destroy(new Error('timed out')));
    let buffer = '';
    let step = -1;
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trimEnd();
        buffer = buffer.slice(nl + 1);
        if (/^\d{3}-/.test(line)) continue;
        if (!/^[23]\d\d/.test(line)) return socket.destroy(new Error(`server said: ${line}`));
        step++;
        if (step >= commands.length) return socket.end();
        socket.write(`${commands[step]}\r\n`);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => (step >= commands.length - 1 ? resolve() : reject(new Error('connection closed early'))));
  });
}

export class Alerts {
  state: DaemonState = 'starting';
  private readonly down = new Map<string, { v: VirtualConfig; real: string; since: number; last: number }>();
  private reminder?: NodeJS.Timeout;

  constructor(private readonly log: Logger) {}

  realChanged(v: VirtualConfig, real: string, to: 'up' | 'down', virtualText: string): void {
    const key = `${virtualText} ${real}`;
    if (to === 'down') this.down.set(key, { v, real, since: Date.now(), last: Date.now() });
    else this.down.delete(key);
    const subject = `${to === 'down' ? 'Inaccessible' : 'Restored'} real server: ${real} (${virtualText})`;
    this.mail(v, subject);
    this.armReminders();
  }

  private mail(v: VirtualConfig, subject: string): void {
    if (v.email.to.length === 0 || !v.email.status.includes(this.state)) return;
    send(v.email, subject, this.log);
  }

  /** emailalertfreq: repeat "Inaccessible" every N seconds while a real stays down. */
  private armReminders(): void {
    clearInterval(this.reminder);
    this.reminder = undefined;
    if (![...this.down.values()].some((d) => d.v.email.freq > 0)) return;
    this.reminder = setInterval(() => {
      const now = Date.now();
      for (const d of this.down.values()) {
        if (d.v.email.freq > 0 && now - d.last >= d.v.email.freq * 1000) {
          d.last = now;
          this.mail(d.v, `Inaccessible real server: ${d.real} (still down since ${new Date(d.since).toISOString()})`);
        }
      }
    }, 1000);
    this.reminder.unref();
  }

  close(): void {
    clearInterval(this.reminder);
  }
}

/** fallbackcommand start|stop VIP:VPORT PROTO, as ldirectord runs it. */
export function runFallbackCommand(v: VirtualConfig, active: boolean, log: Logger): void {
  if (!v.fallbackcommand) return;
  const where = v.protocol === 'fwm' ? String(v.fwmark) : `${v.family === 6 ? `[${v.address}]` : v.address}:${v.port}`;
  const args = [active ? 'start' : 'stop', where, v.protocol];
  const child = spawn(v.fallbackcommand, args, { stdio: 'ignore' });
  child.on('error', (err) => log('error', `fallbackcommand ${v.fallbackcommand}: ${err.message}`));
  child.on('exit', (code) => code && log('warning', `fallbackcommand ${v.fallbackcommand} ${args.join(' ')} exited ${code}`));
}

/** One monitorfile line per check result, in ldirectord's shape: [time] [pid] <real id> [up|down] message. */
export function appendMonitorfile(path: string, realId: string, up: boolean, detail: string, log: Logger): void {
  appendFile(path, `[${localTime()}] [${process.pid}] ${realId} [${up ? 'up' : 'down'}] ${detail}\n`).catch((err: Error) =>
    log('error', `cannot write monitorfile ${path}: ${err.message}`),
  );
}
