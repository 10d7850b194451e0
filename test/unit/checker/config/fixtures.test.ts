import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIRECTIVES } from '../../../../src/checker/config/directives';
import { describeVirtual } from '../../../../src/checker/config/model';
import { parseConfig } from '../../../../src/checker/config/parse';
import { fakeResolver } from './helpers';

const dir = join(__dirname, 'fixtures');
const read = (name: string) => readFileSync(join(dir, name), 'utf8');
const load = (name: string) => parseConfig(read(name), join(dir, name), { resolver: fakeResolver(), hostname: 'director1' });

describe('checker/config: realistic configurations (fixtures/)', () => {
  it('seeds-typical.cf: one lc web service with quiescent reals and 3 s checks', () => {
    const c = load('seeds-typical.cf');
    assert.deepEqual(c.warnings, []);
    assert.equal(c.globals.checkinterval, 5);
    const [v] = c.virtuals;
    assert.equal(c.virtuals.length, 1);
    assert.equal(describeVirtual(v!), '198.51.100.100:80 (tcp)');
    assert.deepEqual(
      {
        scheduler: v!.scheduler, service: v!.service, checktype: v!.checktype, quiescent: v!.quiescent, request: v!.request, receive: v!.receive,
        checktimeout: v!.checktimeout, negotiatetimeout: v!.negotiatetimeout, checkinterval: v!.checkinterval, failurecount: v!.failurecount,
      },
      { scheduler: 'lc', service: 'http', checktype: 'negotiate', quiescent: true, request: '/index.html', receive: 'It works', checktimeout: 3, negotiatetimeout: 3, checkinterval: 5, failurecount: 1 },
    );
    assert.deepEqual(v!.reals.map((r) => [r.address, r.port, r.forward, r.weight, r.checkport, r.where.line]), [
      ['198.51.100.11', 80, 'gate', 1, 80, 7],
      ['198.51.100.12', 80, 'gate', 1, 80, 8],
    ]);
  });

  it('all-directives.cf uses every directive of the table (except the removed ones)', () => {
    const text = read('all-directives.cf');
    for (const d of DIRECTIVES) {
      if (d.name === 'connecttimeout' || d.name === 'timeout') continue;
      const global = new RegExp(`^${d.name}\\s*=`, 'm').test(text);
      const inSection = new RegExp(`^ {4}${d.name}\\s*=`, 'm').test(text);
      if (d.scope !== 'virtual') assert.ok(global, `${d.name} is not set globally in all-directives.cf`);
      if (d.scope !== 'global') assert.ok(inSection, `${d.name} is not set in a section of all-directives.cf`);
    }
  });

  it('all-directives.cf parses to every value it sets', () => {
    const c = load('all-directives.cf');
    const file = join(dir, 'all-directives.cf');
    assert.deepEqual(c.globals, {
      checkinterval: 6,
      autoreload: true,
      callback: '/usr/local/sbin/push-config',
      logfile: 'local3',
      supervised: true,
      fork: true,
      readdquiescent: true,
      maintenancedir: '/var/lib/lvsd/maintenance',
      execute: ['second.cf', 'third.cf'],
      metrics: '198.51.100.10:9101',
    });
    assert.deepEqual(c.warnings, [
      `${file}:5: checkcount: deprecated and slated for removal in ldirectord; see 'failurecount'`,
      `${file}:39: checkcount: deprecated and slated for removal in ldirectord; see 'failurecount'`,
    ]);
    const [https, dns] = c.virtuals;
    assert.deepEqual(https, {
      where: { file, line: 30 },
      family: 4,
      protocol: 'tcp',
      address: '198.51.100.100',
      port: 443,
      reals: [
        {
          where: { file, line: 31 }, family: 4, address: '198.51.100.11', port: 443, forward: 'masq', weight: 3,
          request: '/ready', receive: 'ready', lthreshold: 10, uthreshold: 200, checkhost: '198.51.100.61', checkport: 8443,
        },
        { where: { file, line: 32 }, family: 4, address: '198.51.100.12', port: 443, forward: 'gate', weight: 2, checkport: 8443 },
        { where: { file, line: 32 }, family: 4, address: '198.51.100.13', port: 443, forward: 'gate', weight: 2, checkport: 8443 },
      ],
      scheduler: 'wlc',
      persistent: 600,
      netmask: '255.255.255.0',
      schedflags: 'sh-port,sh-fallback',
      ops: false,
      checktype: { combined: 5 },
      service: 'https',
      checkcommand: '/usr/local/bin/check-web',
      checkport: 8443,
      checktimeout: 2,
      negotiatetimeout: 9,
      checkcount: 3,
      checkinterval: 4,
      failurecount: 2,
      risecount: 4,
      slowstart: 30,
      request: '/status/health',
      receive: '^OK$',
      httpmethod: 'GET',
      virtualhost: 'www.example.net',
      login: 'monitor',
      passwd: 'hunter2',
      database: 'web',
      secret: 's3cret',
      quiescent: false,
      cleanstop: true,
      follow: '198.51.100.100',
      fallback: { family: 4, address: '198.51.100.251', port: 443, forward: 'gate' },
      fallbackcommand: '/usr/local/sbin/sorry-https',
      email: { to: ['web@example.net'], freq: 600, status: ['starting', 'running', 'stopping', 'reloading'], from: '"LVS director" <lvs@example.net>', smtp: '198.51.100.25' },
      monitorfile: '/var/log/lvsd/https.monitor',
      servicename: 'Web shop (https)',
      comment: '"Shop front; call the web team"',
    });
    assert.deepEqual(
      [dns!.family, dns!.protocol, dns!.address, dns!.port, dns!.service, dns!.request, dns!.receive, dns!.scheduler, dns!.persistent, dns!.netmask, dns!.ops],
      [6, 'udp', '2001:db8::100', 53, 'dns', 'www.example.net', '2001:db8::80', 'rr', 60, '64', true],
    );
    // Inherited from the globals: timeouts, counts, e-mail, fallback command, quiescent, cleanstop.
    assert.deepEqual(
      [dns!.checktimeout, dns!.negotiatetimeout, dns!.checkcount, dns!.checkinterval, dns!.failurecount, dns!.risecount, dns!.slowstart, dns!.quiescent, dns!.cleanstop],
      [4, 20, 2, 6, 3, 2, 60, true, false],
    );
    assert.deepEqual(dns!.email, { to: ['ops@example.net', 'noc@example.net'], freq: 3600, status: ['starting', 'running'], from: '"LVS director" <lvs@example.net>', smtp: 'mail.example.net' });
    assert.equal(dns!.fallbackcommand, '/usr/local/sbin/sorry-page');
    assert.deepEqual(dns!.fallback, { family: 6, address: '2001:db8::251', port: 53, forward: 'gate' });
    assert.deepEqual(dns!.reals.map((r) => `[${r.address}]:${r.port}`), ['[2001:db8::11]:53', '[2001:db8::12]:53']);
  });

  it('multi-service.cf: http with health URLs, udp dns, connect-checked masq, external fwmark, mysql', () => {
    const c = load('multi-service.cf');
    const file = join(dir, 'multi-service.cf');
    assert.deepEqual(c.virtuals.map(describeVirtual), [
      '198.51.100.100:80 (tcp)', '198.51.100.101:53 (udp)', '198.51.100.102:587 (tcp)', 'fwmark 42 (fwm)', '198.51.100.103:3306 (tcp)',
    ]);
    assert.deepEqual(c.warnings, [
      `${file}:44: checktype: external-perl: lvsd runs the script as an external command (no embedded Perl), so it must be executable`,
      `${file}:59: checkcount: deprecated and slated for removal in ldirectord; see 'failurecount'`,
    ]);
    const [web, dns, mail, mark, db] = c.virtuals;
    assert.deepEqual(web!.reals.map((r) => [r.address, r.weight, r.checkhost, r.checkport, r.request, r.receive]), [
      ['198.51.100.11', 10, '198.51.100.11', 8081, '/healthz', 'ok'],
      ['198.51.100.12', 10, '198.51.100.12', 8081, '/healthz', 'ok'],
      ['198.51.100.13', 5, undefined, 80, undefined, undefined],
    ]);
    assert.deepEqual([web!.negotiatetimeout, web!.checktimeout, web!.persistent, web!.netmask, web!.virtualhost], [15, 5, 300, '255.255.255.0', 'www.example.net']);
    assert.deepEqual(web!.email.to, ['admin@example.net']);
    assert.deepEqual([dns!.reals.length, dns!.ops, dns!.request, dns!.receive], [3, true, 'www.example.net', '198.51.100.100']);
    assert.deepEqual([mail!.checktype, mail!.quiescent, mail!.failurecount, mail!.service], ['connect', true, 3, 'submission']);
    assert.deepEqual(mail!.reals.map((r) => [r.port, r.forward, r.checkport]), [[587, 'masq', 587], [2587, 'masq', 2587]]);
    assert.deepEqual([mark!.protocol, mark!.fwmark, mark!.port, mark!.checktype, mark!.checkcommand, mark!.service, mark!.schedflags], ['fwm', 42, 0, 'external', '/usr/local/bin/check-mark', 'none', 'sh-port']);
    assert.deepEqual([db!.service, db!.login, db!.database, db!.request, db!.checkcount, db!.reals.map((r) => r.address)], ['mysql', 'monitor', 'health', 'SELECT 1', 2, ['198.51.100.51', '198.51.100.52']]);
  });
});

describe('checker/config: warnings', () => {
  const warnings = (text: string) => parseConfig(text, 'w.cf', { resolver: fakeResolver() }).warnings;

  it('warns about a bare supervised, ops on tcp, netmask without persistent and HEAD with receive', () => {
    assert.deepEqual(warnings('supervised\n'), ['w.cf:1: supervised: a bare supervised means supervised = yes; write it so']);
    assert.deepEqual(parseConfig('supervised\n', 'w.cf', { resolver: fakeResolver() }).globals.supervised, true);
    assert.deepEqual(warnings('virtual=198.51.100.100:80\n    real=198.51.100.11 gate\n    ops=yes\n    netmask=255.255.255.0\n    httpmethod=head\n    receive="x"\n'), [
      'w.cf:3: ops: ignored: one-packet scheduling applies to UDP virtual services only',
      'w.cf:4: netmask: ignored without persistent=',
      'w.cf:5: httpmethod: HEAD answers have no body, so the receive string can never match',
    ]);
    const v = parseConfig('virtual=198.51.100.100:80\n    real=198.51.100.11 gate\n    ops=yes\n    netmask=255.255.255.0\n', 'w.cf', { resolver: fakeResolver() }).virtuals[0]!;
    assert.deepEqual([v.ops, v.netmask], [false, undefined]);
  });

  it('does not warn about a per-virtual checkinterval without fork (lvsd honours it)', () => {
    assert.deepEqual(warnings('virtual=198.51.100.100:80\n    real=198.51.100.11 gate\n    checkinterval=2\n'), []);
  });
});
