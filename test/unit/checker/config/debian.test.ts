// Debian's ldirectord package, read at test time: its sample configuration (as shipped, and with
// every commented example switched on) and the directives and defaults of its man page.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { DIRECTIVE_BY_NAME } from '../../../../src/checker/config/directives';
import { ConfigError } from '../../../../src/checker/config/errors';
import { describeVirtual, type CheckerConfig, type VirtualConfig } from '../../../../src/checker/config/model';
import { parseConfig } from '../../../../src/checker/config/parse';
import type { Resolver } from '../../../../src/checker/config/resolve';

const SAMPLE = '/usr/share/doc/ldirectord/examples/ldirectord.cf';
const MAN = '/usr/share/man/man8/ldirectord.8.gz';

// The sample's MySQL and PostgreSQL examples name hosts sql01..sql03.
const resolver: Resolver = {
  host: (name, family) => (family === 4 ? ({ sql01: ['198.51.100.1'], sql03: ['198.51.100.3'] } as Record<string, string[]>)[name] ?? [] : []),
  service: () => undefined,
};
const parse = (text: string): CheckerConfig => parseConfig(text, SAMPLE, { resolver, hostname: 'localhost' });

function skipUnless(this: Mocha.Context, file: string): void {
  if (!existsSync(file)) {
    console.log(`      (skipped: ${file} is missing; scripts/setup.sh installs the ldirectord package)`);
    this.skip();
  }
}

/** The sample with its commented examples switched on: `#virtual…` and `#<tab>…` lose their `#`. */
function uncommented(): string {
  return readFileSync(SAMPLE, 'utf8')
    .split('\n')
    .map((l) => l.replace(/^#(?=virtual|\t)/, ''))
    .join('\n');
}

describe('checker/config: Debian\'s sample ldirectord.cf', function () {
  before(function () {
    skipUnless.call(this, SAMPLE);
  });

  it('parses as shipped: one http virtual with three DR reals and a per-virtual fallback', () => {
    const c = parse(readFileSync(SAMPLE, 'utf8'));
    assert.deepEqual(c.warnings, []);
    assert.deepEqual([c.globals.checkinterval, c.globals.autoreload], [1, true]);
    assert.equal(c.virtuals.length, 1);
    const v = c.virtuals[0]!;
    assert.equal(describeVirtual(v), '192.168.6.240:80 (tcp)');
    assert.deepEqual(v.reals.map((r) => `${r.address}:${r.port} ${r.forward} ${r.weight}`), ['192.168.6.2:80 gate 1', '192.168.6.3:80 gate 1', '192.168.6.6:80 gate 1']);
    assert.deepEqual(
      [v.service, v.scheduler, v.checktype, v.checkport, v.request, v.receive, v.virtualhost, v.quiescent, v.checktimeout, v.negotiatetimeout, v.checkinterval],
      ['http', 'rr', 'negotiate', 80, '/index.html', 'Test Page', 'www.x.y.z', false, 3, 3, 1],
    );
    assert.deepEqual(v.fallback, { family: 4, address: '127.0.0.1', port: 80, forward: 'gate' });
    assert.deepEqual([v.servicename, v.comment], ['Web Site', 'Test load balanced web site']);
  });

  it('with every example switched on: exactly the errors an lvsd user must fix', () => {
    let problems: string[] = [];
    try {
      parse(uncommented());
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      problems = err.problems.map((p) => `${p.line} ${p.directive}: ${p.message}`);
    }
    const lines = uncommented().split('\n');
    const lineOf = (text: string) => lines.indexOf(text) + 1;
    const range = lines.indexOf('virtual=192.168.6.240:80', lineOf('virtual=192.168.6.240:80')) + 1;
    assert.deepEqual(problems, [
      `${range} virtual: duplicate virtual service (also at line ${lineOf('virtual=192.168.6.240:80')})`,
      `${lineOf('\tservice=oracle')} service: oracle is not supported by lvsd: lvsd has no Oracle client; use checktype=connect or an external check`,
      `${lineOf('\tservice=radius')} service: radius is not supported by lvsd: lvsd has no RADIUS client; use checktype=ping, connect or an external check`,
      // The sample's SIP example has a typo (two colons) that ldirectord misreads silently.
      `${lineOf('\treal=192.168.6.2::5060 gate')} real: cannot read '192.168.6.2::5060' (expected HOST:PORT, or [IPv6]:PORT)`,
      `${lineOf('\treal=192.168.6.3::5060 gate')} real: cannot read '192.168.6.3::5060' (expected HOST:PORT, or [IPv6]:PORT)`,
      `${lineOf('\treal=192.168.6.6::5060 gate')} real: cannot read '192.168.6.6::5060' (expected HOST:PORT, or [IPv6]:PORT)`,
    ]);
  });

  it('with every example switched on: each example block parses to what it describes', () => {
    const text = uncommented();
    const globals = text.split('\n').filter((l) => /^[a-z]+=/.test(l) && !l.startsWith('virtual')).join('\n');
    const blocks = text.split(/\n\s*\n/).filter((b) => /^virtual/m.test(b));
    const results = blocks.map((b) => {
      try {
        return parse(`${globals}\n${b}\n`).virtuals[0]!;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return err.problems.map((p) => `${p.directive}: ${p.message}`).join(' | ');
      }
    });
    const ok = (r: VirtualConfig | string): VirtualConfig => {
      assert.ok(typeof r !== 'string', r as string);
      return r;
    };
    const summary = results.map((r) => (typeof r === 'string' ? r : `${describeVirtual(r)} ${r.service} ${r.checktype === 'negotiate' ? '' : JSON.stringify(r.checktype)} ${r.reals.length}`.replace(/ +/g, ' ')));
    assert.deepEqual(summary, [
      '192.168.6.240:80 (tcp) http 3',
      'fwmark 1 (fwm) http 3',
      '192.168.6.240:80 (tcp) http 7',
      '192.168.6.240:443 (tcp) https 2',
      '192.168.6.240:21 (tcp) ftp 2',
      '192.168.6.240:25 (tcp) smtp 2',
      '192.168.6.240:587 (tcp) submission 2',
      '192.168.6.240:110 (tcp) pop 2',
      '192.168.6.240:143 (tcp) imap 3',
      '192.168.84.5:389 (tcp) ldap 2',
      '192.168.84.5:119 (tcp) nntp 2',
      '192.168.84.5:53 (udp) dns 2',
      '192.168.10.74:3306 (tcp) mysql 3',
      '192.168.10.74:5432 (tcp) pgsql 3',
      'service: oracle is not supported by lvsd: lvsd has no Oracle client; use checktype=connect or an external check',
      '192.168.6.240:23 (tcp) none "on" 2',
      '192.168.6.240:53 (udp) dns "ping" 3',
      'service: radius is not supported by lvsd: lvsd has no RADIUS client; use checktype=ping, connect or an external check',
      ['2', '3', '6'].map((n) => `real: cannot read '192.168.6.${n}::5060' (expected HOST:PORT, or [IPv6]:PORT)`).join(' | '),
      '[2001:db8::5]:119 (tcp) nntp 2',
    ]);
    const [, fwm, range, https, ftp, , , , , ldap, , dns, mysql, , , , ping, , , v6] = results;
    assert.deepEqual(ok(fwm!).reals.map((r) => [r.port, r.checkport]), [[0, 80], [0, 80], [0, 80]]);
    assert.deepEqual(ok(range!).reals.map((r) => r.address), ['192.168.6.2', '192.168.6.3', '192.168.6.4', '192.168.6.5', '192.168.6.6', '192.168.6.7', '192.168.6.32']);
    assert.deepEqual([ok(https!).reals[0]!.forward, ok(https!).fallback], ['masq', { family: 4, address: '127.0.0.1', port: 443, forward: 'gate' }]);
    assert.deepEqual([ok(ftp!).scheduler, ok(ftp!).login, ok(ftp!).passwd, ok(ftp!).request, ok(ftp!).receive], ['rr', 'anonymous', 'ldirectord@localhost', '/welcome.msg', 'test']);
    assert.equal(ok(ldap!).request, 'dc=upmc, dc=fr');
    assert.deepEqual([ok(dns!).request, ok(dns!).receive], ['x.y.z', '127.0.0.1']);
    assert.deepEqual(ok(mysql!).reals.map((r) => `${r.address}:${r.port} ${r.weight}`), ['198.51.100.1:3306 10', '198.51.100.2:3306 10', '198.51.100.3:3306 10']);
    assert.deepEqual([ok(mysql!).login, ok(mysql!).database, ok(mysql!).request], ['readuser', 'portal', 'SELECT * FROM link']);
    assert.deepEqual([ok(ping!).failurecount, ok(ping!).checktimeout], [3, 3]);
    assert.deepEqual([ok(v6!).fallback, ok(v6!).reals.map((r) => r.address)], [{ family: 6, address: '::1', port: 119, forward: 'gate' }, ['2001:db8:0:1::4', '2001:db8:0:1::6']]);
  });
});

/** Text of the man page, roff escapes removed. */
function manText(): string {
  return execFileSync('zcat', [MAN], { encoding: 'utf8' });
}
const plain = (roff: string) =>
  roff.replace(/\\f[BIRP]/g, '').replace(/\\s-?\d/g, '').replace(/\\\*\([LR]"/g, '"').replace(/\\&/g, '').replace(/\\-/g, '-').replace(/\\e/g, '\\').trim();

describe('checker/config: the directives of Debian\'s ldirectord(8)', function () {
  let man = '';
  before(function () {
    skipUnless.call(this, MAN);
    man = manText();
  });

  /** Directive name → whether the man page lists it in the virtual section. */
  function documented(): Map<string, boolean> {
    const found = new Map<string, boolean>();
    const virtualAt = man.indexOf('.SS "Section virtual"');
    assert.ok(virtualAt > 0, 'no "Section virtual" in the man page');
    for (const m of man.matchAll(/^\\&\\fB([a-z0-9]+) ?=/gm)) found.set(m[1]!, m.index! > virtualAt);
    const six = /Directives for IPv6 are ([a-z0-9, ]+)\./.exec(man);
    assert.ok(six, 'no IPv6 directive list in the man page');
    for (const name of six[1]!.split(/,\s*/)) found.set(name, name !== 'virtual6');
    return found;
  }

  it('every directive the man page documents is accepted where it documents it', () => {
    const found = documented();
    assert.ok(found.size >= 45, `only ${found.size} directives found in the man page`);
    for (const [name, inSection] of found) {
      const d = DIRECTIVE_BY_NAME.get(name);
      assert.ok(d, `${name} (man page) is not in the directive table`);
      if (inSection) assert.notEqual(d.scope, 'global', `${name} is documented in the virtual section`);
      else assert.notEqual(d.scope, 'virtual', `${name} is documented as global`);
    }
  });

  it('has the man page\'s defaults, except quiescent, where ldirectord\'s code says no', () => {
    const v = parse('virtual=198.51.100.100:8080\n    real=198.51.100.11 gate\n    checktype=connect\n').virtuals[0]!;
    const g = parse('').globals;
    const ours: Record<string, string> = {
      checktimeout: `${v.checktimeout} seconds`,
      negotiatetimeout: `${v.negotiatetimeout} seconds`,
      checkinterval: `${g.checkinterval} seconds`,
      checkcount: `${v.checkcount}`,
      failurecount: `${v.failurecount}`,
      autoreload: g.autoreload ? 'yes' : 'no',
      emailalertfreq: `${v.email.freq}`,
      emailalertstatus: v.email.status.length === 4 ? 'all' : v.email.status.join(','),
      supervised: g.supervised ? 'yes' : 'no',
      fork: g.fork ? 'yes' : 'no',
      cleanstop: v.cleanstop ? 'yes' : 'no',
      maintenancedir: g.maintenancedir ?? 'disabled',
      checkcommand: v.checkcommand,
      scheduler: `"${v.scheduler}"`,
      httpmethod: v.httpmethod,
      secret: v.secret === '' ? 'empty string' : v.secret,
    };
    const blocks = man.split(/^(?=\\&\\fB[a-z0-9]+ ?=)/m);
    const manDefault = (name: string) => {
      const block = blocks.find((b) => new RegExp(`^\\\\&\\\\fB${name} ?=`).test(b));
      const m = block && /^Default: (.+)$/m.exec(block);
      return m ? plain(m[1]!) : undefined;
    };
    for (const [name, value] of Object.entries(ours)) assert.equal(manDefault(name), value, name);
    assert.equal(manDefault('quiescent'), 'yes');
    assert.equal(v.quiescent, false);
  });
});
