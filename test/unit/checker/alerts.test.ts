// E-mail alerts as ldirectord words them, reminders, and fallbackcommand's order. Mail delivery is
// replaced by a recorder here; the lab delivers to a real SMTP server (test/lab/lvsd-features.test.ts).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertMail, Alerts, FallbackCommands, type Mail } from '../../../src/checker/alerts';
import type { EmailConfig } from '../../../src/checker/config/model';
import { real, virtual } from '../../support/checker-config';

const ALL = ['starting', 'running', 'stopping', 'reloading'] as Array<'starting' | 'running' | 'stopping' | 'reloading'>;
const EMAIL: EmailConfig = { to: ['ops@example.org', 'oncall@example.org'], freq: 0, status: ALL };
const CTX = { state: 'running' as const, host: 'd1', user: 'root', date: new Date(Date.UTC(2026, 10, 21, 7, 0, 0)) };

function body(m: Mail): string[] {
  return m.text.split('\r\n\r\n').slice(1).join('\r\n\r\n').split('\r\n');
}
function header(m: Mail, name: string): string | undefined {
  return m.text.split('\r\n\r\n')[0]!.split('\r\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
}

describe('checker/alerts', () => {
  describe('the message', () => {
    it('is ldirectord\'s: [servicename] before the subject, host, log message, state, then service name and comment', () => {
      const v = virtual({ email: EMAIL, servicename: 'web', comment: 'call the web team' });
      const m = alertMail(v, 'Deleted real server: 198.51.100.21:80 (198.51.100.100:80 tcp)', CTX);
      assert.equal(m.subject, '[web] Deleted real server: 198.51.100.21:80 (198.51.100.100:80 tcp)');
      assert.equal(header(m, 'Subject'), m.subject);
      assert.equal(header(m, 'To'), 'ops@example.org, oncall@example.org');
      assert.equal(header(m, 'From'), 'root@d1');
      assert.equal(header(m, 'Date'), 'Sat, 21 Nov 2026 07:00:00 GMT');
      assert.deepEqual(body(m), [
        'ldirectord host: d1',
        `Log-Message: ${m.subject}`,
        'Daemon-Status: running',
        '',
        'Service name: web',
        'Comment: call the web team',
        '',
      ]);
      assert.deepEqual([m.sender, m.to], ['root@d1', EMAIL.to]);
    });

    it('has no details part without servicename and comment, and the subject as logged', () => {
      const m = alertMail(virtual({ email: EMAIL }), 'Added real server: x', CTX);
      assert.equal(m.subject, 'Added real server: x');
      assert.deepEqual(body(m), ['ldirectord host: d1', 'Log-Message: Added real server: x', 'Daemon-Status: running', '']);
    });

    it('takes From from emailalertfrom as written, and the envelope sender from its address', () => {
      const m = alertMail(virtual({ email: { ...EMAIL, from: '"LVS Alerts" <lvs@example.org>' } }), 's', CTX);
      assert.equal(header(m, 'From'), '"LVS Alerts" <lvs@example.org>');
      assert.equal(m.sender, 'lvs@example.org');
      assert.equal(alertMail(virtual({ email: { ...EMAIL, from: 'lvs@example.org' } }), 's', CTX).sender, 'lvs@example.org');
      assert.equal(alertMail(virtual({ email: { ...EMAIL, from: 'LVS' } }), 's', CTX).sender, 'root@d1');
    });

    it('encodes a subject that is not ASCII (RFC 2047) and keeps the body in UTF-8', () => {
      const m = alertMail(virtual({ email: EMAIL, servicename: 'Kasse Süd' }), 'Deleted real server: x', CTX);
      assert.equal(header(m, 'Subject'), `=?UTF-8?B?${Buffer.from('[Kasse Süd] Deleted real server: x').toString('base64')}?=`);
      assert.ok(body(m).includes('Service name: Kasse Süd'));
      assert.equal(header(m, 'Content-Type'), 'text/plain; charset=UTF-8');
    });
  });

  describe('when and what', () => {
    let sent: Array<{ email: EmailConfig; mail: Mail }>;
    let clock: number;
    const logs: string[] = [];
    const alerts = () =>
      new Alerts((l, m) => logs.push(`${l}: ${m}`), {
        host: 'd1',
        user: 'root',
        now: () => new Date(clock),
        deliver: async (email, mail) => {
          sent.push({ email, mail });
        },
      });
    beforeEach(() => {
      sent = [];
      clock = 1_000_000;
      logs.length = 0;
    });

    it('words a change as ldirectord\'s table change: Deleted/Added, or Quiescent/Restored with quiescent=yes', () => {
      const a = alerts();
      a.state = 'running';
      const r = real('198.51.100.21', { weight: 5 });
      a.realChanged(virtual({ email: EMAIL }), r, 'down', 'V');
      a.realChanged(virtual({ email: EMAIL }), r, 'up', 'V');
      a.realChanged(virtual({ email: EMAIL, quiescent: true }), r, 'down', 'V');
      a.realChanged(virtual({ email: EMAIL, quiescent: true }), r, 'up', 'V');
      a.realChanged(virtual({ email: EMAIL }), real('2001:db8::21', { family: 6, port: 443 }), 'down', 'V6');
      assert.deepEqual(
        sent.map((s) => s.mail.subject),
        [
          'Deleted real server: 198.51.100.21:80 (V)',
          'Added real server: 198.51.100.21:80 (V) (Weight set to 5)',
          'Quiescent real server: 198.51.100.21:80 (V) (Weight set to 0)',
          'Restored real server: 198.51.100.21:80 (V) (Weight set to 5)',
          'Deleted real server: [2001:db8::21]:443 (V6)',
        ],
      );
      assert.ok(logs.includes('info: emailalert: Deleted real server: 198.51.100.21:80 (V)'));
      a.close();
    });

    it('sends nothing without emailalert, nor in a daemon state emailalertstatus leaves out', () => {
      const a = alerts();
      a.realChanged(virtual(), real('198.51.100.21'), 'down', 'V');
      const onlyRunning = virtual({ email: { ...EMAIL, status: ['running'] } });
      a.state = 'starting';
      a.realChanged(onlyRunning, real('198.51.100.21'), 'down', 'V');
      a.state = 'running';
      a.realChanged(onlyRunning, real('198.51.100.22'), 'down', 'V');
      assert.deepEqual(sent.map((s) => s.mail.subject), ['Deleted real server: 198.51.100.22:80 (V)']);
      assert.equal(sent[0]!.mail.text.includes('Daemon-Status: running'), true);
      a.close();
    });

    it('repeats "Inaccessible real server" every emailalertfreq seconds while down, and stops when it is back', () => {
      const a = alerts();
      a.state = 'running';
      const v = virtual({ email: { ...EMAIL, freq: 60 }, servicename: 'web' });
      const r = real('198.51.100.21');
      a.realChanged(v, r, 'down', 'V');
      clock += 59_000;
      a.remind();
      clock += 1_000;
      a.remind();
      clock += 30_000;
      a.remind();
      clock += 30_000;
      a.remind();
      a.realChanged(v, r, 'up', 'V');
      clock += 600_000;
      a.remind();
      assert.deepEqual(
        sent.map((s) => s.mail.subject),
        [
          '[web] Deleted real server: 198.51.100.21:80 (V)',
          '[web] Inaccessible real server: 198.51.100.21:80 (V)',
          '[web] Inaccessible real server: 198.51.100.21:80 (V)',
          '[web] Added real server: 198.51.100.21:80 (V) (Weight set to 1)',
        ],
      );
      a.close();
    });

    it('mails the fallback server going in and out', () => {
      const a = alerts();
      a.state = 'running';
      const v = virtual({ email: EMAIL, fallback: { family: 4, address: '198.51.100.30', port: 80, forward: 'gate' } });
      a.fallbackChanged(v, true, 'V');
      a.fallbackChanged(v, false, 'V');
      a.fallbackChanged(virtual({ email: EMAIL }), true, 'V');
      assert.deepEqual(
        sent.map((s) => s.mail.subject),
        ['Added fallback server: 198.51.100.30:80 (V) (Weight set to 1)', 'Deleted fallback server: 198.51.100.30:80 (V)'],
      );
      a.close();
    });

    it('never puts a check password in a mail', () => {
      const a = alerts();
      a.state = 'running';
      a.realChanged(virtual({ email: EMAIL, login: 'monitor', passwd: 'S3cr3t-pw', secret: 'radius-secret', servicename: 's', comment: 'c' }), real('198.51.100.21'), 'down', 'V');
      assert.equal(sent.length, 1);
      assert.ok(!sent[0]!.mail.text.includes('S3cr3t-pw') && !sent[0]!.mail.text.includes('radius-secret'));
      a.close();
    });

    it('logs a delivery that failed, naming the way it went', async () => {
      const a = new Alerts((l, m) => logs.push(`${l}: ${m}`), { host: 'd1', user: 'root', deliver: async () => Promise.reject(new Error('connection refused')) });
      a.state = 'running';
      a.realChanged(virtual({ email: { ...EMAIL, smtp: 'mail.example.org' } }), real('198.51.100.21'), 'down', 'V');
      await new Promise((r) => setImmediate(r));
      assert.ok(logs.includes('warning: e-mail alert to ops@example.org, oncall@example.org via mail.example.org failed: connection refused'), logs.join('\n'));
      a.close();
    });
  });

  describe('fallbackcommand', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'lvsd-fallback-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('runs COMMAND start|stop VIP:PORT PROTO one at a time per virtual, in order, and logs a failure', async () => {
      const out = join(dir, 'calls');
      const cmd = join(dir, 'fallback');
      // start is slow: stop must still come after it.
      writeFileSync(cmd, `#!/bin/sh\n[ "$1" = start ] && sleep 0.3\necho "$@" >>'${out}'\n[ "$1" = stop ] && exit 3\nexit 0\n`);
      chmodSync(cmd, 0o755);
      const logs: string[] = [];
      const f = new FallbackCommands((l, m) => logs.push(`${l}: ${m}`));
      const v = virtual({ fallbackcommand: cmd });
      const v6 = virtual({ fallbackcommand: cmd, family: 6, address: '2001:db8::100', protocol: 'udp', port: 53 });
      await Promise.all([f.run(v, true), f.run(v, false), f.run(v6, false), f.run(virtual({ protocol: 'fwm', address: undefined, port: 0, fwmark: 7, fallbackcommand: cmd }), false)]);
      const lines = readFileSync(out, 'utf8').trim().split('\n');
      assert.deepEqual(lines.filter((l) => l.includes('198.51.100.100')), ['start 198.51.100.100:80 tcp', 'stop 198.51.100.100:80 tcp']);
      assert.ok(lines.includes('stop [2001:db8::100]:53 udp'));
      assert.ok(lines.includes('stop 7 fwm'));
      assert.ok(logs.includes(`warning: fallbackcommand ${cmd} stop 198.51.100.100:80 tcp: exit 3`), logs.join('\n'));
    });

    it('says so when the command cannot run', async () => {
      const logs: string[] = [];
      await new FallbackCommands((l, m) => logs.push(`${l}: ${m}`)).run(virtual({ fallbackcommand: join(dir, 'absent') }), true);
      assert.deepEqual(logs, [`error: fallbackcommand ${join(dir, 'absent')} start 198.51.100.100:80 tcp: cannot run it: not found`]);
    });
  });
});
