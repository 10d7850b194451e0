// lvsd's side features through the built binary, as an administrator checks them: e-mail alerts
// received by a real SMTP server in the lab, fallbackcommand, monitorfile, maintenancedir (by
// address and by the real's host name), callback and autoreload. The table is read with ipvsadm.
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { defaultSpec, Topology } from '../../lab';
import { BOOT_TIMEOUT_MS, labKernel } from '../support/lab';
import { checkerArgv, DIRECTOR, esc, listener, readStatus, show, Started, stopHttp, table, VIP, waitFor, writeConfig, writeFile } from '../support/lvsd';

const R1 = '198.51.100.21';
const R2 = '198.51.100.22';
const R3 = '198.51.100.23';
const D1 = '198.51.100.11';
const CLIENT = '198.51.100.10';
const SVC = `-t ${VIP}:80`;
const SMTP_SINK = resolve(__dirname, '..', 'support', 'servers', 'smtp-sink.py');
/** Generous bounds for what a check interval of 1 s does in a busy UML lab (correctness, not speed). */
const SOON_MS = 20_000;

function lines(...ls: string[]): string {
  return `${ls.join('\n')}\n`;
}

/** An HTTP virtual on the VIP whose check wants the real's name in the body. */
function httpVirtual(reals: string[], extra: string[] = []): string {
  return lines(
    `virtual=${VIP}:80`,
    ...reals.map((r) => `\t${r}`),
    '\tchecktype=negotiate',
    '\tservice=http',
    '\trequest="/"',
    '\treceive="r[0-9]"',
    '\tscheduler=wrr',
    ...extra.map((l) => `\t${l}`),
  ).trimEnd();
}

interface Received {
  peer: string;
  mailfrom: string;
  rcpttos: string[];
  data: string;
}

function headerOf(m: Received, name: string): string | undefined {
  const head = m.data.replace(/\r\n/g, '\n').split('\n\n')[0]!;
  return head.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
}

function bodyOf(m: Received): string[] {
  return m.data.replace(/\r\n/g, '\n').split('\n\n').slice(1).join('\n\n').split('\n');
}

describe('lvsd side features through the built binary (alerts, fallbackcommand, monitorfile, maintenancedir, callback, autoreload)', function () {
  let topo: Topology | undefined;
  const t = (): Topology => {
    if (!topo) throw new Error('no topology (before() failed)');
    return topo;
  };
  const started = new Started(t);
  const dir = () => t().node(DIRECTOR).dir;
  const inDir = (name: string) => join(dir(), name);
  const cat = async (path: string) => (await t().kernel.exec({ argv: ['cat', path] })).stdout;
  const inTable = async (real: string, weight?: number) => new RegExp(`^-a ${esc(SVC)} -r ${esc(real)}:80 -[gmi] -w ${weight ?? '\\d+'}$`, 'm').test((await table(t())).join('\n'));
  const startLvsd = (cfg: string, log: string) => started.start(DIRECTOR, checkerArgv(t(), cfg), inDir(log));
  /** A command for lvsd to run that appends its arguments, one call per line, to a file. */
  const recorder = async (name: string) => {
    const calls = inDir(`${name}.calls`);
    const script = inDir(`${name}.sh`);
    await t().kernel.exec({ argv: ['rm', '-f', calls] });
    await writeFile(t(), script, `#!/bin/sh\necho "$@" >>${calls}\n`, '755');
    return { script, calls: async () => cat(calls) };
  };

  before(async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    topo = await Topology.create(await labKernel(), defaultSpec(1, 3));
  });

  // The director holds the VIP, as a promoted one does: lvsd forwards only held VIPs (followvip).
  beforeEach(async function () {
    await t().run(DIRECTOR, ['ip', 'addr', 'replace', `${VIP}/32`, 'dev', 'eth0']);
  });

  afterEach(async function () {
    this.timeout(60_000);
    const tp = t();
    await started.killAll();
    await tp.run(DIRECTOR, ['ipvsadm', '-C']);
    for (const name of ['r1', 'r2', 'r3']) if ((await listener(tp, name)) === undefined) await tp.startHttp(name);
  });

  after(async function () {
    this.timeout(60_000);
    await topo?.destroy();
  });

  it('emailalert: a real SMTP server receives ldirectord\'s alert, [servicename] in the subject, service name and comment in the body, reminders, no password', async function () {
    this.timeout(120_000);
    const tp = t();
    const inbox = join(tp.node('client').dir, 'inbox.jsonl');
    await tp.kernel.exec({ argv: ['rm', '-f', inbox] });
    await started.start('client', ['python3', '-W', 'ignore::DeprecationWarning', SMTP_SINK, CLIENT, '25', inbox], join(tp.node('client').dir, 'smtp.log'));
    await waitFor('the SMTP server to listen', async () => (await listener(tp, 'client', 25)) !== undefined);
    const cfg = await writeConfig(tp, 'alerts.cf', lines(
      'checkinterval=1',
      'checktimeout=1',
      'emailalert="ops@example.org, oncall@example.org"',
      'emailalertfrom="LVS Alerts" <lvs@example.org>',
      `smtp=${CLIENT}`,
      httpVirtual([`real=${R1}:80 gate 1`, `real=${R2}:80 gate 2`], [
        'login="monitor"',
        'passwd="S3cretPw!"',
        'servicename=web-frontend',
        'comment=call the web team on 555-0100',
        'emailalertfreq=2',
      ]),
    ));
    const log = 'alerts.log';
    await startLvsd(cfg, log);
    // The first lvsd of a fresh lab reads the whole binary through UML's hostfs: give its start longer.
    await waitFor('r1 and r2 in the table', async () => (await inTable(R1, 1)) && (await inTable(R2, 2)), 3 * SOON_MS);
    await stopHttp(tp, 'r1');

    const mails = async (): Promise<Received[]> => (await cat(inbox)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Received);
    /** The latest mail with this subject (a busy lab may have sent one at start, for a first check that timed out). */
    const find = async (subject: string) => (await mails()).filter((m) => headerOf(m, 'Subject') === subject).at(-1);
    const id = `${R1}:80 (${VIP}:80 tcp)`;
    const deleted = `[web-frontend] Deleted real server: ${id}`;
    await waitFor(`the mail '${deleted}' sent once lvsd runs`, async () => (await find(deleted))?.data.includes('Daemon-Status: running') === true, SOON_MS, 250);
    const m = (await find(deleted))!;
    assert.equal(m.peer, D1, 'sent by the director');
    assert.equal(m.mailfrom, 'lvs@example.org', 'envelope sender: the address of emailalertfrom');
    assert.deepEqual([...m.rcpttos].sort(), ['oncall@example.org', 'ops@example.org']);
    assert.equal(headerOf(m, 'From'), '"LVS Alerts" <lvs@example.org>');
    assert.equal(headerOf(m, 'To'), 'ops@example.org, oncall@example.org');
    assert.ok(!Number.isNaN(Date.parse(headerOf(m, 'Date') ?? '')), `a Date header: ${m.data}`);
    assert.deepEqual(bodyOf(m).filter((l, i, all) => l !== '' || i < all.length - 1), [
      'ldirectord host: d1',
      `Log-Message: ${deleted}`,
      'Daemon-Status: running',
      '',
      'Service name: web-frontend',
      'Comment: call the web team on 555-0100',
    ]);

    const reminder = `[web-frontend] Inaccessible real server: ${id}`;
    await waitFor(`the reminder '${reminder}' (emailalertfreq=2)`, async () => (await find(reminder)) !== undefined, SOON_MS, 250);
    await tp.startHttp('r1');
    const added = `[web-frontend] Added real server: ${id} (Weight set to 1)`;
    await waitFor(`the mail '${added}'`, async () => (await find(added)) !== undefined, SOON_MS, 250);

    const all = await mails();
    assert.ok(all.every((x) => !x.data.includes('S3cretPw')), 'no mail carries the check password');
    assert.ok(!(await cat(inDir(log))).includes('S3cretPw'), 'nor does the log');
    assert.match(await cat(inDir(log)), new RegExp(`emailalert: ${esc(`Deleted real server: ${id}`)}`));
  });

  it('fallbackcommand: run as `start VIP:PORT tcp` when the last real goes, `stop VIP:PORT tcp` when one returns, once each, with the fallback server in between', async function () {
    this.timeout(120_000);
    const tp = t();
    const { script, calls } = await recorder('fallback');
    const cfg = await writeConfig(tp, 'fallback.cf', lines(
      'checkinterval=1',
      'checktimeout=1',
      httpVirtual([`real=${R1}:80 gate 1`, `real=${R2}:80 gate 1`], [`fallback=${R3}:80 gate`, `fallbackcommand="${script}"`]),
    ));
    await startLvsd(cfg, 'fallback.log');
    await waitFor('r1 and r2 in the table', async () => (await inTable(R1)) && (await inTable(R2)), SOON_MS);
    // A first check that timed out on a busy lab may have run start and stop already: let any such
    // pair finish, then count from here.
    const count = (text: string, word: string) => text.split('\n').filter((l) => l.startsWith(`${word} `)).length;
    await waitFor('fallbackcommand calls to pair up', async () => {
      const c = await calls();
      return count(c, 'start') === count(c, 'stop');
    }, SOON_MS);
    const early = await calls();
    if (early !== '') {
      // Only for a reason: both reals failed a check.
      const log = await cat(inDir('fallback.log'));
      for (const r of [R1, R2]) assert.match(log, new RegExp(`Real server down: ${esc(r)}:80 `), `fallbackcommand ran at start (${early}) though ${r} never failed:\n${log}`);
    }
    await tp.kernel.exec({ argv: ['rm', '-f', inDir('fallback.calls')] });
    await stopHttp(tp, 'r1');
    await stopHttp(tp, 'r2');
    await waitFor('the fallback server in and fallbackcommand start', async () => (await inTable(R3, 1)) && (await calls()) !== '', SOON_MS);
    assert.equal(await calls(), `start ${VIP}:80 tcp\n`, await cat(inDir('fallback.log')));
    await tp.startHttp('r1');
    await waitFor('r1 back, the fallback out, fallbackcommand stop', async () => (await inTable(R1)) && !(await inTable(R3)) && (await calls()).includes('stop'), SOON_MS);
    assert.equal(await calls(), `start ${VIP}:80 tcp\nstop ${VIP}:80 tcp\n`, await cat(inDir('fallback.log')));
  });

  it('monitorfile: one line per check, [time] [pid] real virtual kind [up|down] detail', async function () {
    this.timeout(60_000);
    const tp = t();
    const monitor = inDir('monitor.log');
    await tp.kernel.exec({ argv: ['rm', '-f', monitor] });
    await stopHttp(tp, 'r2');
    const cfg = await writeConfig(tp, 'monitor.cf', lines(
      'checkinterval=1',
      'checktimeout=1',
      httpVirtual([`real=${R1}:80 gate 1`, `real=${R2}:80 gate 1`], [`monitorfile="${monitor}"`]),
    ));
    const pid = await startLvsd(cfg, 'monitor.log.d');
    const parsed = async () =>
      (await cat(monitor))
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const m = /^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\] \[(\d+)\] (\S+) (\S+ \S+) (\S+) \[(up|down)\] (.*)$/.exec(l);
          assert.ok(m, `a monitorfile line in ldirectord's shape: '${l}'`);
          return { pid: Number(m[2]), real: m[3]!, virtual: m[4]!, kind: m[5]!, state: m[6]!, detail: m[7]! };
        });
    await waitFor('three checks of each real in the monitorfile', async () => {
      const ls = await parsed();
      return ls.filter((l) => l.real.startsWith(R1)).length >= 3 && ls.filter((l) => l.real.startsWith(R2)).length >= 3;
    }, SOON_MS);
    const ls = await parsed();
    assert.ok(ls.every((l) => l.pid === pid && l.virtual === `${VIP}:80 tcp` && l.kind === 'negotiate'), JSON.stringify(ls));
    assert.ok(ls.filter((l) => l.real.startsWith(`${R1}:80`)).every((l) => l.state === 'up'), JSON.stringify(ls));
    const r2 = ls.filter((l) => l.real.startsWith(`${R2}:80`));
    assert.ok(r2.every((l) => l.state === 'down' && /refused/i.test(l.detail)), JSON.stringify(r2));
  });

  it('maintenancedir: a file IP:PORT or IP takes the real out; so does its host name (FQDN, FQDN:PORT, SHORT) from /etc/hosts; removing it brings the real back', async function () {
    this.timeout(180_000);
    const tp = t();
    const maint = inDir('maintenance');
    await tp.kernel.exec({ argv: ['rm', '-rf', maint] });
    await tp.kernel.exec({ argv: ['mkdir', maint] });
    // r2's name, seen only by the director's processes (its own mount namespace).
    const hosts = inDir('hosts');
    await writeFile(tp, hosts, lines('127.0.0.1 localhost', `${R2} r2.example.org r2`));
    const mount = await tp.exec(DIRECTOR, ['mount', '--bind', hosts, '/etc/hosts']);
    assert.equal(mount.code, 0, show(mount));
    try {
      const cfg = await writeConfig(tp, 'maint.cf', lines(
        'checkinterval=1',
        'checktimeout=1',
        `maintenancedir=${maint}`,
        httpVirtual([`real=${R1}:80 gate 1`, `real=${R2}:80 gate 1`]),
      ));
      const log = 'maint.log';
      await startLvsd(cfg, log);
      await waitFor('r1 and r2 in the table', async () => (await inTable(R1)) && (await inTable(R2)), SOON_MS);

      for (const [file, real, other] of [
        [`${R1}:80`, R1, R2],
        [R1, R1, R2],
        ['r2.example.org:80', R2, R1],
        ['r2.example.org', R2, R1],
        ['r2', R2, R1],
        ['r2:80', R2, R1],
      ] as const) {
        await tp.kernel.exec({ argv: ['touch', join(maint, file)] });
        await waitFor(`${real} out of the table for the file ${file}`, async () => !(await inTable(real)), SOON_MS);
        assert.ok(await inTable(other), `${other} stays in while ${real} is in maintenance`);
        // What `lvskit status` shows: the status file, written within a second of a change.
        await waitFor(`${real} shown down 'Server in maintenance'`, async () => {
          const status = await readStatus(tp, cfg);
          const shown = status.virtuals.flatMap((v) => v.reals).find((r) => r.real.startsWith(`${real}:80`));
          return shown?.health === 'down' && shown.lastCheck?.detail === 'Server in maintenance';
        }, SOON_MS);
        await tp.kernel.exec({ argv: ['rm', '-f', join(maint, file)] });
        await waitFor(`${real} back once ${file} is gone`, async () => inTable(real), SOON_MS);
      }

      // A name that is not a real's, and a port that is not its port, take nothing out.
      for (const file of ['r9.example.org', 'r2:8080', `${R1}:8080`]) await tp.kernel.exec({ argv: ['touch', join(maint, file)] });
      await new Promise((r) => setTimeout(r, 4000));
      assert.ok((await inTable(R1)) && (await inTable(R2)), `no real out for unrelated files\n${(await table(tp)).join('\n')}`);
    } finally {
      await tp.exec(DIRECTOR, ['umount', '/etc/hosts']);
    }
  });

  it('callback runs with the configuration file whenever it changes; autoreload=yes applies the change, autoreload=no does not', async function () {
    this.timeout(120_000);
    const tp = t();
    const recorded = await recorder('callback');
    const script = recorded.script;
    const version = (autoreload: 'yes' | 'no', reals: string[]) =>
      lines('checkinterval=1', 'checktimeout=1', `autoreload=${autoreload}`, `callback="${script}"`, httpVirtual(reals.map((r) => `real=${r}:80 gate 1`)));
    const cfg = await writeConfig(tp, 'reload.cf', version('yes', [R1]));
    await startLvsd(cfg, 'reload.log');
    await waitFor('r1 in the table', async () => inTable(R1), SOON_MS);
    assert.ok(!(await inTable(R2)));
    const callbacks = async () => (await recorded.calls()).split('\n').filter(Boolean);

    await writeConfig(tp, 'reload.cf', version('yes', [R1, R2]));
    await waitFor('autoreload to add r2, and the callback', async () => (await inTable(R2)) && (await callbacks()).length === 1, SOON_MS);
    assert.deepEqual(await callbacks(), [cfg], 'the callback gets the configuration file');

    // Applied: the running configuration still says autoreload=yes.
    await writeConfig(tp, 'reload.cf', version('no', [R1]));
    await waitFor('autoreload to remove r2, and the callback', async () => !(await inTable(R2)) && (await callbacks()).length === 2, SOON_MS);

    // Now autoreload=no: the callback runs, the table stays.
    await writeConfig(tp, 'reload.cf', version('no', [R1, R2]));
    await waitFor('the callback for the third change', async () => (await callbacks()).length === 3, SOON_MS);
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(!(await inTable(R2)), 'autoreload=no: the changed file is not applied');
    assert.ok(await inTable(R1));
    assert.deepEqual(await callbacks(), [cfg, cfg, cfg]);
  });
});
