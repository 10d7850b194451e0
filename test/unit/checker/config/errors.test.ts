import assert from 'node:assert/strict';
import { ConfigError } from '../../../../src/checker/config/errors';
import { loadConfig } from '../../../../src/checker/config/parse';
import { FILE, assertError, errorLines, parse, section } from './helpers';

// Every way a configuration is refused: [what, config, line, directive, message pattern].
// section(...) puts its lines at 2, 3, … below `virtual=198.51.100.100:80` (line 1).
const R = 'real=198.51.100.11:80 gate';
type Case = [string, string, number, string | undefined, RegExp];

const lineSyntax: Case[] = [
  ['an unknown global directive', 'checkfrequency=3\n', 1, 'checkfrequency', /^unknown directive$/],
  ['a directive in capitals', 'Checktimeout=3\n', 1, 'Checktimeout', /^unknown directive \(directive names are lower case\)$/],
  ['an unknown section directive', section(R, 'weight=3'), 3, 'weight', /^unknown directive$/],
  ['a line that is no directive', 'this is not a directive\n', 1, undefined, /cannot read 'this is not a directive' \(expected directive = value\)/],
  ['a directive without a value', 'autoreload\n', 1, 'autoreload', /expected '= value'/],
  ['an indented line outside a section', '    checktimeout=3\n', 1, undefined, /indented line outside a virtual section/],
  ['a section directive in column 0', 'scheduler=lc\n', 1, 'scheduler', /only valid inside a virtual section/],
  ['a global directive inside a section', section(R, 'autoreload=yes'), 3, 'autoreload', /a global directive: write it in column 0/],
  ['an indented virtual line', section(R, 'virtual=198.51.100.101:80'), 3, 'virtual', /must start in column 0/],
];

const virtuals: Case[] = [
  ['a virtual without port', 'virtual=198.51.100.100\n', 1, 'virtual', /expected ADDRESS:PORT or a firewall mark, not '198.51.100.100'/],
  ['firewall mark 0', 'virtual=0\n', 1, 'virtual', /firewall mark 0 is out of range/],
  ['an IPv6 address in virtual', 'virtual=[2001:db8::1]:80\n', 1, 'virtual', /IPv6 address \[2001:db8::1\] needs virtual6$/],
  ['an IPv4 address in virtual6', 'virtual6=198.51.100.1:80\n', 1, 'virtual6', /IPv4 address 198.51.100.1 needs virtual, not virtual6/],
  ['an IPv6 address without brackets', 'virtual6=2001:db8::1:80\n', 1, 'virtual6', /cannot read '2001:db8::1:80' \(expected HOST:PORT, or \[IPv6\]:PORT\)/],
  ['an invalid IPv6 address', 'virtual6=[2001:db8::g]:80\n', 1, 'virtual6', /invalid IPv6 address '2001:db8::g'/],
  ['an unclosed bracket', 'virtual6=[2001:db8::1:80\n', 1, 'virtual6', /cannot read|missing '\]'/],
  ['an invalid IPv4 address', 'virtual=198.51.100.300:80\n', 1, 'virtual', /invalid IPv4 address '198.51.100.300'/],
  ['an invalid host name', 'virtual=web/1:80\n', 1, 'virtual', /invalid host name 'web\/1'/],
  ['a host name starting with a dash', 'virtual=-s:80\n', 1, 'virtual', /invalid host name '-s'/],
  ['a port above 65535', 'virtual=198.51.100.100:65536\n', 1, 'virtual', /port 65536 is out of range/],
  ['port 0 without persistence', 'virtual=198.51.100.100:0\n    real=198.51.100.11 gate\n', 1, 'virtual', /port 0 needs persistent=/],
  ['a duplicate virtual', `${section(R)}${section(R)}`, 3, 'virtual', /duplicate virtual service \(also at line 1\)/],
  ['a duplicate fwmark', 'virtual=7\n    real=198.51.100.11 gate\nvirtual=7\n    real=198.51.100.12 gate\n', 3, 'virtual', /duplicate virtual service \(also at line 1\)/],
  ['a duplicate after a protocol change', 'virtual=198.51.100.100:53\n    protocol=tcp\n    receive="x"\nvirtual=198.51.100.100:53\n    protocol=tcp\n    receive="x"\n', 4, 'virtual', /duplicate/],
  ['implied oracle with negotiate', 'virtual=198.51.100.100:1521\n    real=198.51.100.11 gate\n', 1, 'virtual', /port 1521 implies service oracle, which lvsd does not support/],
  ['implied radius with a combined check', 'virtual=198.51.100.100:1812\n    real=198.51.100.11 gate\n    checktype=3\n', 1, 'virtual', /port 1812 implies service radius/],
];

const values: Case[] = [
  ['removed connecttimeout (global)', 'connecttimeout=5\n', 1, 'connecttimeout', /removed from ldirectord in favour of negotiatetimeout/],
  ['removed connecttimeout (virtual)', section(R, 'connecttimeout=5'), 3, 'connecttimeout', /removed from ldirectord/],
  ['removed global timeout', 'timeout=5\n', 1, 'timeout', /in favour of checktimeout and negotiatetimeout/],
  ['a zero timeout', 'checktimeout=0\n', 1, 'checktimeout', /0 is out of range/],
  ['a timeout with a unit', 'negotiatetimeout=5s\n', 1, 'negotiatetimeout', /expected a whole number of at least 1, not '5s'/],
  ['a negative interval', section(R, 'checkinterval=-1'), 3, 'checkinterval', /expected a whole number/],
  ['checkcount 0', 'checkcount=0\n', 1, 'checkcount', /out of range/],
  ['failurecount text', section(R, 'failurecount=three'), 3, 'failurecount', /not 'three'/],
  ['risecount 0', 'risecount=0\n', 1, 'risecount', /out of range/],
  ['slowstart text', section(R, 'slowstart=fast'), 3, 'slowstart', /expected a whole number, not 'fast'/],
  ['yes/no: autoreload', 'autoreload=true\n', 1, 'autoreload', /expected yes or no, not 'true'/],
  ['yes/no: fork', 'fork=1\n', 1, 'fork', /expected yes or no/],
  ['yes/no: quiescent in a section', section(R, 'quiescent=YES'), 3, 'quiescent', /expected yes or no/],
  ['yes/no: readdquiescent', 'readdquiescent=y\n', 1, 'readdquiescent', /expected yes or no/],
  ['yes/no: cleanstop', 'cleanstop=off\n', 1, 'cleanstop', /expected yes or no/],
  ['yes/no: ops', section(R, 'ops=on'), 3, 'ops', /expected yes or no/],
  ['supervised=maybe', 'supervised=maybe\n', 1, 'supervised', /expected yes or no/],
  ['supervised with an empty value', 'supervised=\n', 1, 'supervised', /expected yes or no, not ''/],
  ['an unknown checktype', section(R, 'checktype=foo'), 3, 'checktype', /^unknown value 'foo' \(expected connect, negotiate, ping, external, external-perl, off, on or a number\)$/],
  ['an unknown service', section(R, 'service=gopher'), 3, 'service', /unknown value 'gopher' \(expected dns, ftp, .* or submission\)/],
  ['service oracle', section(R, 'service=oracle'), 3, 'service', /oracle is not supported by lvsd: lvsd has no Oracle client/],
  ['service radius', section(R, 'service=radius', 'checktype=ping'), 3, 'service', /radius is not supported by lvsd: lvsd has no RADIUS client/],
  ['an unquoted request', section(R, 'request=index.html'), 3, 'request', /must be in double quotes/],
  ['an empty request', section(R, 'request=""'), 3, 'request', /must not be empty/],
  ['text after the closing quote', section(R, 'receive="ok" please'), 3, 'receive', /unexpected 'please' after the closing quote/],
  ['an unquoted login', section(R, 'login=admin'), 3, 'login', /double quotes/],
  ['an unquoted passwd', section(R, 'passwd=secret'), 3, 'passwd', /double quotes/],
  ['an unquoted database', section(R, 'database=portal'), 3, 'database', /double quotes/],
  ['an unquoted secret', section(R, 'secret=x'), 3, 'secret', /double quotes/],
  ['a load without a word', section(R, 'load="--"'), 3, 'load', /expected a word/],
  ['an unquoted callback', 'callback=/usr/local/bin/sync\n', 1, 'callback', /double quotes/],
  ['an unquoted logfile', 'logfile=/var/log/lvsd.log\n', 1, 'logfile', /double quotes/],
  ['a relative logfile', 'logfile="lvsd.log"\n', 1, 'logfile', /'lvsd.log' is neither an absolute path nor a syslog facility/],
  ['an empty checkcommand', section(R, 'checkcommand='), 3, 'checkcommand', /must not be empty/],
  ['an empty fallbackcommand', 'fallbackcommand=""\n', 1, 'fallbackcommand', /must not be empty/],
  ['an empty virtualhost', section(R, 'virtualhost='), 3, 'virtualhost', /must not be empty/],
  ['an empty monitorfile', section(R, 'monitorfile=""'), 3, 'monitorfile', /must not be empty/],
  ['an empty maintenancedir', 'maintenancedir=\n', 1, 'maintenancedir', /must not be empty/],
  ['an empty execute', 'execute=\n', 1, 'execute', /must not be empty/],
  ['an empty emailalertfrom', 'emailalertfrom=\n', 1, 'emailalertfrom', /must not be empty/],
  ['emailalert without address', 'emailalert=,\n', 1, 'emailalert', /no e-mail address given/],
  ['emailalertfreq text', 'emailalertfreq=hourly\n', 1, 'emailalertfreq', /expected a whole number/],
  ['emailalertstatus none and more', 'emailalertstatus=none,running\n', 1, 'emailalertstatus', /'none' cannot be combined/],
  ['emailalertstatus unknown', section(R, 'emailalertstatus=running,sleeping'), 3, 'emailalertstatus', /unknown value 'sleeping' \(expected starting, running, stopping or reloading, all or none\)/],
  ['an smtp server with a path', 'smtp=mail/x\n', 1, 'smtp', /expected a host name or IPv4 address/],
  ['an unknown http method', section(R, 'httpmethod=POST'), 3, 'httpmethod', /unknown value 'POST' \(expected GET or HEAD\)/],
  ['checkport 0', section(R, 'checkport=0'), 3, 'checkport', /expected a port number|out of range/],
  ['checkport 70000', section(R, 'checkport=70000'), 3, 'checkport', /70000 is out of range \(1\.\.65535\)/],
  ['a scheduler in capitals', section(R, 'scheduler=WLC'), 3, 'scheduler', /lower-case letters, not 'WLC'/],
  ['persistent 0', section(R, 'persistent=0'), 3, 'persistent', /out of range/],
  ['a prefix netmask on IPv4', section(R, 'netmask=24'), 3, 'netmask', /dotted-quad netmask/],
  ['a netmask octet above 255', section(R, 'netmask=255.255.256.0'), 3, 'netmask', /dotted-quad netmask/],
  ['a dotted netmask on IPv6', 'virtual6=[2001:db8::1]:80\n    real6=[2001:db8::11] gate\n    netmask=255.255.255.0\n', 3, 'netmask', /prefix length between 1 and 128/],
  ['IPv6 netmask 129', 'virtual6=[2001:db8::1]:80\n    real6=[2001:db8::11] gate\n    netmask=129\n', 3, 'netmask', /prefix length between 1 and 128/],
  ['bad schedflags', section(R, 'schedflags=sh port'), 3, 'schedflags', /comma-separated flag names/],
  ['protocol fwm on an address', section(R, 'protocol=fwm'), 3, 'protocol', /must be tcp or udp for an address:port virtual/],
  ['protocol tcp on a fwmark', 'virtual=7\n    real=198.51.100.11 gate\n    protocol=tcp\n', 3, 'protocol', /must be fwm for a fwmark virtual/],
  ['protocol sctp', section(R, 'protocol=sctp'), 3, 'protocol', /must be tcp or udp/],
  ['metrics without port', 'metrics=198.51.100.10\n', 1, 'metrics', /expected HOST:PORT/],
  ['metrics port 0', 'metrics=198.51.100.10:0\n', 1, 'metrics', /out of range/],
  ['metrics bad IPv6', 'metrics=[fe80::1%eth0]:9101\n', 1, 'metrics', /invalid IPv6 address/],
  ['metrics with a bare IPv6', 'metrics=2001:db8::10:9101\n', 1, 'metrics', /expected HOST:PORT/],
];

const fallbacks: Case[] = [
  ['a fallback with three words', 'fallback=198.51.100.250:80 gate now\n', 1, 'fallback', /expected HOST\[:PORT\] \[gate\|masq\|ipip\]/],
  ['a fallback forwarding method', 'fallback=198.51.100.250:80 route\n', 1, 'fallback', /unknown value 'route' \(expected gate, masq or ipip as forwarding method\)/],
  ['fallback6 in a virtual section', section(R, 'fallback6=[2001:db8::250]'), 3, 'fallback6', /a virtual section takes fallback, not fallback6/],
  ['fallback in a virtual6 section', 'virtual6=[2001:db8::1]:80\n    real6=[2001:db8::11] gate\n    fallback=198.51.100.250\n', 3, 'fallback', /a virtual6 section takes fallback6/],
  ['an IPv4 global fallback6', 'fallback6=198.51.100.250\n', 1, 'fallback6', /IPv4 address 198.51.100.250 needs fallback, not fallback6/],
  ['an IPv6 global fallback', 'fallback=[2001:db8::250]:80\n', 1, 'fallback', /IPv6 address \[2001:db8::250\] needs fallback6/],
  ['a fallback port name that does not resolve', `fallback=198.51.100.250:nosuch\n${section(R)}`, 1, 'fallback', /unknown service name 'nosuch' for tcp/],
];

const reals: Case[] = [
  ['real6 in a virtual section', section('real6=[2001:db8::11]:80 gate'), 2, 'real6', /a virtual section takes real, not real6/],
  ['real in a virtual6 section', 'virtual6=[2001:db8::1]:80\n    real=198.51.100.11:80 gate\n', 2, 'real', /a virtual6 section takes real6/],
  ['an IPv6 real in an IPv4 virtual', section('real=[2001:db8::11]:80 gate'), 2, 'real', /IPv6 address \[2001:db8::11\] needs real6 in a virtual6 section/],
  ['an IPv4 real6', 'virtual6=[2001:db8::1]:80\n    real6=198.51.100.11:80 gate\n', 2, 'real6', /IPv4 address 198.51.100.11 needs real, not real6/],
  ['a real without forwarding method', section('real=198.51.100.11:80'), 2, 'real', /missing forwarding method/],
  ['an unknown forwarding method', section('real=198.51.100.11:80 route'), 2, 'real', /unknown value 'route' \(expected gate, masq or ipip as forwarding method\)/],
  ['a weight above 65535', section('real=198.51.100.11:80 gate 70000'), 2, 'real', /weight 70000 is out of range/],
  ['a request without receive', section('real=198.51.100.11:80 gate 1 "/health"'), 2, 'real', /needs both strings: "REQUEST", "RECEIVE"/],
  ['a stray word', section('real=198.51.100.11:80 gate 1 fast'), 2, 'real', /unexpected 'fast'/],
  ['quoted thresholds (the man page form)', section('real=198.51.100.11:80 gate 1 "<l:1>" "<u:5>"'), 2, 'real', /write thresholds bare, as in l:1 u:5; "<l:1>", "<u:5>" reads as a request\/receive pair/],
  ['a threshold twice', section('real=198.51.100.11:80 gate u:5 u:6'), 2, 'real', /u: given twice/],
  ['a threshold too large', section('real=198.51.100.11:80 gate u:3000000000'), 2, 'real', /u:3000000000 is out of range/],
  ['l without u', section('real=198.51.100.11:80 gate 1 l:10'), 2, 'real', /l:10 needs u:N as well/],
  ['l above u', section('real=198.51.100.11:80 gate 1 l:100 u:10'), 2, 'real', /l:100 is above u:10/],
  ['a backwards range', section('real=198.51.100.20->198.51.100.10:80 gate'), 2, 'real', /range 198.51.100.20->198.51.100.10 runs backwards/],
  ['a huge range', section('real=198.18.0.0->198.19.255.255:80 gate'), 2, 'real', /has 131072 addresses \(at most 65536\)/],
  ['a three-part range', section('real=198.51.100.1->198.51.100.2->198.51.100.3:80 gate'), 2, 'real', /cannot read range/],
  ['an IPv6 range', 'virtual6=[2001:db8::1]:80\n    real6=[2001:db8::11]->[2001:db8::12]:80 gate\n', 2, 'real6', /address ranges are not supported for IPv6/],
  ['ldirectord sample typo HOST::PORT', section('real=198.51.100.11::5060 gate'), 2, 'real', /cannot read '198.51.100.11::5060'/],
  ['a port above 65535', section('real=198.51.100.11:70000 gate'), 2, 'real', /port 70000 is out of range/],
  ['a duplicate real', section(R, 'real=198.51.100.10->198.51.100.12:80 gate'), 3, 'real', /198.51.100.11:80 is already a real server of this virtual \(line 2\)/],
  ['a fwmark connect check with nothing to connect to', 'virtual=7\n    real=198.51.100.11 gate\n    checktype=connect\n', 2, 'real', /198.51.100.11: no port to check \(give the real a port, or set checkport=\)/],
  ['a per-real URL that is no URL', section('real=198.51.100.11:80 gate "http://[x", "ok"'), 2, 'real', /invalid URL 'http:\/\/\[x' in the per-real request/],
];

const checks: Case[] = [
  ['http_proxy without an absolute URL', 'virtual=198.51.100.100:3128\n    real=198.51.100.11 gate\n    request="index.html"\n', 3, 'request', /http_proxy needs an absolute URL/],
  ['mysql without login', 'virtual=198.51.100.100:3306\n    real=198.51.100.11 gate\n    request="SELECT 1"\n    service=mysql\n', 4, 'service', /mysql checks need login= and request=/],
  ['pgsql without request', 'virtual=198.51.100.100:5432\n    real=198.51.100.11 gate\n    login="check"\n', 1, 'service', /pgsql checks need login= and request=/],
  ['dns without receive', 'virtual=198.51.100.100:53\n    real=198.51.100.11 gate\n    request="www.example.net"\n', 1, 'service', /dns checks need receive=/],
];

describe('checker/config: every error names file, line and directive', () => {
  for (const [group, cases] of Object.entries({ lineSyntax, virtuals, values, fallbacks, reals, checks })) {
    describe(group, () => {
      for (const [what, text, line, directive, pattern] of cases) {
        it(what, () => assertError(text, line, directive, pattern));
      }
    });
  }

  it('reports each problem once, with the file name first', () => {
    const lines = errorLines(`fallback=198.51.100.250:nosuch\n${section(R)}${section(R).replace(':80', ':81')}`);
    assert.deepEqual(lines, [`${FILE}:1: fallback: unknown service name 'nosuch' for tcp (not in /etc/services)`]);
  });

  it('does not add follow-up errors about a virtual whose header is wrong', () => {
    const lines = errorLines('virtual=198.51.100.999:1521\n    real=198.51.100.11 gate\n    scheduler=Bad\n');
    assert.deepEqual(lines, [`${FILE}:1: virtual: invalid IPv4 address '198.51.100.999'`, `${FILE}:3: scheduler: expected a scheduler name of lower-case letters, not 'Bad'`]);
  });
});

describe('checker/config: a password or secret is never shown', () => {
  // Each line is the wrong way to write one; what the parser says goes to logs, and through
  // `lvsd validate-all` into the CIB as an ocf-exit-reason.
  const wrong: Array<[string, string]> = [
    ['unquoted', 'passwd=TopS3cret'],
    ['unquoted with blanks', 'passwd = TopS3cret now'],
    ['missing closing quote', 'passwd="TopS3cret'],
    ['text after the closing quote', 'passwd="Top"S3cret'],
    ['a word after the quoted value', 'passwd="TopS3cret" TopS3cret'],
    ['no equals sign', 'passwd TopS3cret'],
    ['a colon instead of equals', 'passwd:TopS3cret'],
    ['a "#" inside the value', 'passwd="Top#S3cret"'],
    ['secret unquoted', 'secret=TopS3cret'],
    ['secret after the closing quote', 'secret="Top" S3cret'],
    ['secret without equals sign', 'secret  TopS3cret'],
  ];
  for (const [what, line] of wrong) {
    it(`${what}: ${line.replace(/TopS3cret|Top|S3cret/g, '…')}`, () => {
      const text = section(R, 'service=mysql', 'login="check"', 'request="SELECT 1"', line);
      const lines = errorLines(text);
      assert.ok(lines.some((l) => l.startsWith(`${FILE}:6: `)), `the problem names its line:\n${lines.join('\n')}`);
      for (const l of lines) assert.doesNotMatch(l, /Top|S3cret/, 'the secret is shown');
    });
  }

  it('in the global scope, where it is not allowed, and when set twice', () => {
    assert.ok(errorLines('passwd="TopS3cret"\n').every((l) => !/Top|S3cret/.test(l)));
    const c = parse(section(R, 'passwd="TopS3cret"', 'passwd="Top2"'));
    assert.equal(c.virtuals[0]!.passwd, 'Top2');
    assert.ok(c.warnings.every((w) => !/Top|S3cret/.test(w)), c.warnings.join('\n'));
  });
});

describe("checker/config: this node's problems and the file's", () => {
  function error(text: string): ConfigError {
    try {
      parse(text);
    } catch (err) {
      if (err instanceof ConfigError) return err;
      throw err;
    }
    assert.fail('expected a ConfigError');
  }

  it('a name or service that does not resolve here is this node\'s problem (it may resolve on another node)', () => {
    assert.equal(error(`virtual=nosuchhost:80\n    ${R}\n`).local, true);
    assert.equal(error(section('real=nosuchhost:80 gate')).local, true);
    assert.equal(error(`virtual=198.51.100.100:nosuchservice\n    ${R}\n`).local, true);
  });

  it('any other problem makes it the file\'s, even beside a name that does not resolve', () => {
    assert.equal(error(section('real=nosuchhost:80 gate', 'scheduler=WLC')).local, false);
    assert.equal(error(section('scheduler=WLC')).local, false);
  });

  it('a file that cannot be read is this node\'s problem', () => {
    assert.throws(() => loadConfig('/nonexistent/lvsd.cf'), (e) => e instanceof ConfigError && e.local && /cannot read the configuration/.test(e.message));
  });
});
