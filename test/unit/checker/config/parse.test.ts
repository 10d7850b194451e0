import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../../src/checker/config/errors';
import { describeVirtual, type VirtualConfig } from '../../../../src/checker/config/model';
import { loadConfig } from '../../../../src/checker/config/parse';
import { FILE, assertError, fakeResolver, only, parse, section } from './helpers';

describe('checker/config: defaults and inheritance', () => {
  it('fills every default of a minimal virtual as ldirectord does (quiescent no, wrr, negotiate, 5/30 s)', () => {
    const v = only(section('real=198.51.100.11:80 gate'));
    const expected: VirtualConfig = {
      where: { file: FILE, line: 1 },
      family: 4,
      protocol: 'tcp',
      address: '198.51.100.100',
      port: 80,
      reals: [{ where: { file: FILE, line: 2 }, family: 4, address: '198.51.100.11', port: 80, forward: 'gate', weight: 1, checkport: 80 }],
      scheduler: 'wrr',
      ops: false,
      checktype: 'negotiate',
      service: 'http',
      checkcommand: '/bin/true',
      checktimeout: 5,
      negotiatetimeout: 30,
      checkcount: 1,
      checkinterval: 10,
      failurecount: 1,
      risecount: 1,
      slowstart: 0,
      request: '/',
      receive: '',
      httpmethod: 'GET',
      login: '',
      passwd: '',
      database: '',
      secret: '',
      quiescent: false,
      cleanstop: true,
      follow: '198.51.100.100',
      email: { to: [], freq: 0, status: ['starting', 'running', 'stopping', 'reloading'] },
    };
    assert.deepEqual(v, expected);
  });

  it('fills the global defaults (log file, no autoreload, no fork, no metrics)', () => {
    assert.deepEqual(parse('').globals, {
      checkinterval: 10,
      autoreload: false,
      logfile: '/var/log/ldirectord.log',
      supervised: false,
      fork: false,
      readdquiescent: false,
      execute: [],
    });
    assert.deepEqual(parse('# nothing but a comment\n\n').virtuals, []);
  });

  it('resolves checktimeout and negotiatetimeout as mutual defaults, virtual before global', () => {
    const t = (globals: string, virtual: string[]) => {
      const v = only(`${globals}\n${section('real=198.51.100.11:80 gate', ...virtual)}`);
      return [v.checktimeout, v.negotiatetimeout];
    };
    assert.deepEqual(t('', []), [5, 30]);
    assert.deepEqual(t('checktimeout=3', []), [3, 3]);
    assert.deepEqual(t('negotiatetimeout=20', []), [20, 20]);
    assert.deepEqual(t('checktimeout=3\nnegotiatetimeout=20', []), [3, 20]);
    assert.deepEqual(t('checktimeout=3', ['negotiatetimeout=7']), [7, 7]);
    assert.deepEqual(t('negotiatetimeout=20', ['checktimeout=2']), [2, 2]);
    assert.deepEqual(t('checktimeout=3\nnegotiatetimeout=20', ['checktimeout=4', 'negotiatetimeout=9']), [4, 9]);
  });

  it('applies global settings written after the sections too', () => {
    const v = only(`${section('real=198.51.100.11:80 gate')}\nquiescent=yes\ncheckinterval=5\nfailurecount=3\n`);
    assert.equal(v.quiescent, true);
    assert.equal(v.checkinterval, 5);
    assert.equal(v.failurecount, 3);
  });

  it('lets a virtual override every inheritable global', () => {
    const globals = [
      'checkinterval=5', 'checkcount=2', 'failurecount=3', 'risecount=2', 'slowstart=30', 'quiescent=yes', 'cleanstop=no',
      'fallback=198.51.100.250:8080 masq', 'fallbackcommand=/usr/local/bin/sorry', 'emailalert="ops@example.net"',
      'emailalertfreq=3600', 'emailalertstatus=running', 'smtp=mail.example.net',
    ];
    const inherited = only(`${globals.join('\n')}\n${section('real=198.51.100.11:80 gate')}`);
    assert.equal(inherited.checkinterval, 5);
    assert.equal(inherited.checkcount, 2);
    assert.equal(inherited.failurecount, 3);
    assert.equal(inherited.risecount, 2);
    assert.equal(inherited.slowstart, 30);
    assert.equal(inherited.quiescent, true);
    assert.equal(inherited.cleanstop, false);
    assert.deepEqual(inherited.fallback, { family: 4, address: '198.51.100.250', port: 8080, forward: 'masq' });
    assert.equal(inherited.fallbackcommand, '/usr/local/bin/sorry');
    assert.deepEqual(inherited.email, { to: ['ops@example.net'], freq: 3600, status: ['running'], smtp: 'mail.example.net' });

    const own = only(
      `${globals.join('\n')}\n${section(
        'real=198.51.100.11:80 gate', 'checkinterval=7', 'checkcount=4', 'failurecount=5', 'risecount=3', 'slowstart=0',
        'quiescent=no', 'cleanstop=yes', 'fallback=198.51.100.251', 'fallbackcommand="/opt/other"', 'emailalert=web@example.net, noc@example.net',
        'emailalertfreq=0', 'emailalertstatus=starting,stopping', 'smtp=198.51.100.25',
      )}`,
    );
    assert.equal(own.checkinterval, 7);
    assert.equal(own.checkcount, 4);
    assert.equal(own.failurecount, 5);
    assert.equal(own.risecount, 3);
    assert.equal(own.slowstart, 0);
    assert.equal(own.quiescent, false);
    assert.equal(own.cleanstop, true);
    assert.deepEqual(own.fallback, { family: 4, address: '198.51.100.251', port: 80, forward: 'gate' });
    assert.equal(own.fallbackcommand, '/opt/other');
    assert.deepEqual(own.email, { to: ['web@example.net', 'noc@example.net'], freq: 0, status: ['starting', 'stopping'], smtp: '198.51.100.25' });
  });

  it('gives the global fallback the virtual\'s port and the IPv6 one to virtual6 only', () => {
    const c = parse(
      [
        'fallback=198.51.100.250',
        'fallback6=[2001:db8::250]:8080 ipip',
        'virtual=198.51.100.100:443',
        '    real=198.51.100.11 gate',
        'virtual6=[2001:db8::100]:80',
        '    real6=[2001:db8::11]:80 gate',
        'virtual=7',
        '    real=198.51.100.11 gate',
        '    checktype=on',
      ].join('\n'),
    );
    assert.deepEqual(c.virtuals.map((v) => v.fallback), [
      { family: 4, address: '198.51.100.250', port: 443, forward: 'gate' },
      { family: 6, address: '2001:db8::250', port: 8080, forward: 'ipip' },
      { family: 4, address: '198.51.100.250', port: 0, forward: 'gate' },
    ]);
  });

  it('defaults the service by the virtual port (ldirectord ld_port_to_service) and to none for fwmarks', () => {
    const ports: Record<number, string> = {
      21: 'ftp', 25: 'smtp', 53: 'dns', 80: 'http', 110: 'pop', 119: 'nntp', 143: 'imap', 389: 'ldap', 443: 'https',
      587: 'submission', 636: 'ldaps', 993: 'imaps', 995: 'pops', 3128: 'http_proxy', 3306: 'mysql', 5060: 'sip', 5432: 'pgsql', 8080: 'none',
    };
    for (const [port, service] of Object.entries(ports)) {
      const v = only(`virtual=198.51.100.100:${port}\n    real=198.51.100.11 gate\n    checktype=connect\n`);
      assert.equal(v.service, service, `port ${port}`);
    }
    assert.equal(only('virtual=3\n    real=198.51.100.11:80 gate\n').service, 'none');
    // oracle and radius ports: allowed when the check does not negotiate, with service none.
    assert.equal(only('virtual=198.51.100.100:1521\n    real=198.51.100.11 gate\n    checktype=connect\n').service, 'none');
    assert.equal(only('virtual=198.51.100.100:1812\n    real=198.51.100.11 gate\n    protocol=udp\n    checktype=ping\n').service, 'none');
  });

  it('defaults the protocol to udp for port 53 or domain, fwm for marks, tcp otherwise', () => {
    assert.equal(only('virtual=198.51.100.53:53\n    real=198.51.100.11 gate\n    receive="198.51.100.1"\n').protocol, 'udp');
    const named = only('virtual=198.51.100.53:domain\n    real=198.51.100.11 gate\n    receive="198.51.100.1"\n');
    assert.equal(named.protocol, 'udp');
    assert.equal(named.port, 53);
    assert.equal(only('virtual=9\n    real=198.51.100.11 gate\n').protocol, 'fwm');
    assert.equal(only(section('real=198.51.100.11 gate')).protocol, 'tcp');
    assert.equal(only(section('real=198.51.100.11 gate', 'protocol=udp')).protocol, 'udp');
    assert.equal(only('virtual=198.51.100.53:53\n    real=198.51.100.11 gate\n    protocol=tcp\n    receive="x"\n').protocol, 'tcp');
    assert.equal(only('virtual=9\n    real=198.51.100.11 gate\n    protocol=fwm\n').protocol, 'fwm');
  });

  it('gives ftp and sip checks ldirectord\'s login and password defaults', () => {
    const ftp = only('virtual=198.51.100.100:21\n    real=198.51.100.11 gate\n');
    assert.deepEqual([ftp.service, ftp.login, ftp.passwd], ['ftp', 'anonymous', 'ldirectord@director1']);
    const sip = only('virtual=198.51.100.100:5060\n    real=198.51.100.11 gate\n    protocol=udp\n');
    assert.deepEqual([sip.service, sip.login, sip.passwd], ['sip', 'ldirectord@director1', '']);
    const own = only('virtual=198.51.100.100:21\n    real=198.51.100.11 gate\n    login="mirror"\n    passwd="s3cret"\n');
    assert.deepEqual([own.login, own.passwd], ['mirror', 's3cret']);
  });

  it('stores the request as each check uses it: "/" added for http(s) and ftp, removed for the others', () => {
    const req = (port: number, extra: string) => only(`virtual=198.51.100.100:${port}\n    real=198.51.100.11 gate\n    ${extra}\n`).request;
    assert.equal(req(80, 'request="index.html"'), '/index.html');
    assert.equal(req(80, 'request="/health?full=1"'), '/health?full=1');
    assert.equal(req(443, 'checktype=connect'), '/');
    assert.equal(req(21, 'request="welcome.msg"'), '/welcome.msg');
    assert.equal(req(389, 'request="dc=example, dc=net"'), 'dc=example, dc=net');
    assert.equal(req(389, 'request="/dc=example"'), 'dc=example');
    assert.equal(req(389, 'checktype=negotiate'), '');
    assert.equal(req(3128, 'request="http://www.example.net/"'), 'http://www.example.net/');
    assert.equal(only('virtual=198.51.100.100:9000\n    real=198.51.100.11 gate\n    service=simpletcp\n    request="PING\\n"\n    receive="PONG"\n').request, 'PING\\n');
  });

  it('resolves each real\'s check port: checkport, else its port, else the service\'s', () => {
    const ports = (lines: string[]) => only(section(...lines)).reals.map((r) => r.checkport);
    assert.deepEqual(ports(['real=198.51.100.11:8080 masq', 'real=198.51.100.12 gate']), [8080, 80]);
    assert.deepEqual(ports(['real=198.51.100.11:8080 masq', 'real=198.51.100.12 gate', 'checkport=8000']), [8000, 8000]);
    assert.deepEqual(only('virtual=4\n    real=198.51.100.11 gate\n    service=https\n').reals.map((r) => r.checkport), [443]);
    assert.deepEqual(only('virtual=4\n    real=198.51.100.11 gate\n    checktype=external\n').reals.map((r) => r.checkport), [undefined]);
  });

  it('describes a virtual for logs', () => {
    const c = parse(
      'virtual=198.51.100.100:80\n    real=198.51.100.11 gate\nvirtual6=[2001:DB8:0::1]:53\n    real6=[2001:db8::11] gate\n    receive="x"\nvirtual=7\n    real=198.51.100.11 gate\nvirtual6=8\n    real6=[2001:db8::11] gate\n',
    );
    assert.deepEqual(c.virtuals.map(describeVirtual), ['198.51.100.100:80 (tcp)', '[2001:db8::1]:53 (udp)', 'fwmark 7 (fwm)', 'fwmark 8 (fwm, IPv6)']);
  });
});

describe('checker/config: line rules (ldirectord read_config)', () => {
  it('takes lines indented by a tab or at least 4 spaces as section lines', () => {
    const v = only('virtual=198.51.100.100:80\n\treal=198.51.100.11 gate\n    real=198.51.100.12 gate\n  \treal=198.51.100.13 gate\n        scheduler=lc\n');
    assert.deepEqual(v.reals.map((r) => r.address), ['198.51.100.11', '198.51.100.12', '198.51.100.13']);
    assert.equal(v.scheduler, 'lc');
  });

  it('ends a section at a blank or whitespace-only line: what follows indented is an error', () => {
    assertError('virtual=198.51.100.100:80\n    real=198.51.100.11 gate\n\n    scheduler=lc\n', 4, undefined, /indented line outside a virtual section.*blank line ends a section/);
    assertError('virtual=198.51.100.100:80\n    real=198.51.100.11 gate\n   \t  \n    scheduler=lc\n', 4, undefined, /indented line outside a virtual section/);
    // The blank line itself is fine: a file of sections separated by blank lines parses.
    assert.equal(parse(`${section('real=198.51.100.11 gate')}\n\n${section('real=198.51.100.11 gate').replace(':80', ':81')}`).virtuals.length, 2);
  });

  it('ends a section at a line indented by fewer than 4 spaces', () => {
    assertError('virtual=198.51.100.100:80\n    real=198.51.100.11 gate\n   scheduler=lc\n', 3, undefined, /indented line outside a virtual section.*4 spaces or a tab/);
  });

  it('does not end a section at a comment line, even in column 0', () => {
    const v = only('virtual=198.51.100.100:80\n    real=198.51.100.11 gate\n# a comment in column 0\n  # indented comment\n    scheduler=lc\n');
    assert.equal(v.scheduler, 'lc');
  });

  it('cuts "# comments" inside sections but not on global lines', () => {
    const v = only('virtual=198.51.100.100:80\n    real=198.51.100.11 gate   # web1\n    scheduler=lc # least connections\n');
    assert.equal(v.scheduler, 'lc');
    assert.equal(v.reals.length, 1);
    assertError('quiescent=yes # keep them\n', 1, 'quiescent', /expected yes or no, not 'yes # keep them' \(a "#" after a value is only a comment inside a virtual section\)/);
    assertError(section('real=198.51.100.11 gate', 'receive="a#b"'), 3, 'receive', /missing closing quote \(a "#" starts a comment inside a virtual section\)/);
  });

  it('accepts blanks around "=", trailing blanks and CRLF line ends', () => {
    const c = parse('checktimeout = 3 \r\nvirtual = 198.51.100.100:80\r\n    real = 198.51.100.11:80 gate\r\n    quiescent = yes\t\r\n');
    assert.equal(c.virtuals[0]!.checktimeout, 3);
    assert.equal(c.virtuals[0]!.quiescent, true);
  });

  it('warns when a directive is set twice in one scope, and the last one wins', () => {
    const c = parse(section('real=198.51.100.11 gate', 'scheduler=wlc', 'scheduler=rr'));
    assert.equal(c.virtuals[0]!.scheduler, 'rr');
    assert.deepEqual(c.warnings, [`${FILE}:4: scheduler: set again; the value of line 3 is replaced`]);
  });

  it('collects every error of the file, each with file, line and directive', () => {
    try {
      parse('checktimeout=0\nfoo=1\nvirtual=198.51.100.100:80\n    real=198.51.100.11 teleport\n    checktype=sometimes\nquiescent=maybe\n');
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.exitCode, 1);
      assert.deepEqual(
        err.problems.map((p) => [p.line, p.directive]),
        [[1, 'checktimeout'], [2, 'foo'], [4, 'real'], [5, 'checktype'], [6, 'quiescent']],
      );
      assert.equal(err.message.split('\n').length, 5);
      assert.match(err.message, /^\/etc\/ha\.d\/test\.cf:1: checktimeout: 0 is out of range \(1\.\.2147483647\)$/m);
      assert.match(err.message, /^\/etc\/ha\.d\/test\.cf:5: checktype: unknown value 'sometimes' \(expected connect, negotiate, ping, external, external-perl, off, on or a number\)$/m);
    }
  });
});

describe('checker/config: name resolution', () => {
  it('resolves host names in virtual, real (ranges too) and fallback, and service names as ports', () => {
    const calls: string[] = [];
    const c = parse(
      'fallback=www.example.net:http-alt\nvirtual=www.example.net:http\n    real=web1->web3:http gate\n    real=198.51.100.20:80 gate\nvirtual6=www.example.net:https\n    real6=v6only:443 gate\n',
      calls,
    );
    const [v4, v6] = c.virtuals;
    assert.deepEqual([v4!.address, v4!.port], ['198.51.100.80', 80]);
    assert.deepEqual(v4!.reals.map((r) => `${r.address}:${r.port}`), ['198.51.100.11:80', '198.51.100.12:80', '198.51.100.13:80', '198.51.100.20:80']);
    assert.deepEqual(v4!.fallback, { family: 4, address: '198.51.100.80', port: 8080, forward: 'gate' });
    assert.deepEqual([v6!.address, v6!.port, v6!.reals[0]!.address], ['2001:db8::80', 443, '2001:db8::6']);
    // Literals never reach the resolver; the virtual's port is looked up for its protocol.
    assert.ok(calls.includes('service http/tcp'));
    assert.ok(calls.every((c) => !/\d+\.\d+\.\d+\.\d+/.test(c)), calls.join(', '));
  });

  it('names the line of a host that does not resolve', () => {
    assertError(section('real=nowhere:80 gate'), 2, 'real', /cannot resolve host 'nowhere' to an IPv4 address/);
    assertError('virtual=nowhere:80\n', 1, 'virtual', /cannot resolve host 'nowhere'/);
    assertError('virtual6=web1:80\n', 1, 'virtual6', /cannot resolve host 'web1' to an IPv6 address/);
    assertError('fallback=nowhere\n', 1, 'fallback', /cannot resolve host 'nowhere'/);
    assertError(section('real=198.51.100.11:nosuchservice gate'), 2, 'real', /unknown service name 'nosuchservice'/);
    assertError('virtual=198.51.100.100:nosuchservice\n    real=198.51.100.11 gate\n', 1, 'virtual', /unknown service name 'nosuchservice' for tcp/);
  });
});

describe('checker/config: loadConfig', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvskit-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the file and names it in results and errors', () => {
    const file = join(dir, 'ldirectord.cf');
    writeFileSync(file, 'virtual=198.51.100.100:80\n    real=198.51.100.11 gate\n    checktype=bogus\n');
    assert.throws(() => loadConfig(file, { resolver: fakeResolver() }), (e: Error) => e.message === `${file}:3: checktype: unknown value 'bogus' (expected connect, negotiate, ping, external, external-perl, off, on or a number)`);
    writeFileSync(file, 'virtual=198.51.100.100:80\n    real=198.51.100.11 gate\n');
    const c = loadConfig(file, { resolver: fakeResolver() });
    assert.equal(c.file, file);
    assert.equal(c.virtuals[0]!.where.file, file);
  });

  it('says which file cannot be read', () => {
    const missing = join(dir, 'absent.cf');
    assert.throws(() => loadConfig(missing), (e: Error) => e instanceof ConfigError && e.message.startsWith(`${missing}: cannot read the configuration: ENOENT`));
  });
});
