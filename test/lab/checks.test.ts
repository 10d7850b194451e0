// lvsd's health checks against real servers in lab namespaces, in two parts.
// 1. The check modules, run from source as the engine runs them (test/support/run-check.ts): each
//    check kind up, down on a wrong answer, down at once when refused, and down exactly at its
//    deadline when the real is black-holed, trickles bytes or never answers; nothing (socket, timer,
//    process) outlives a check. No IPVS needed: the host kernel's namespaces are enough (and fast).
// 2. The built binary's lvsd in a director on a real IPVS kernel: every check kind's real up and
//    another down, as lvsd's status file says; and hostile reals (huge, pathological and endless
//    bodies, a trickle, a 2 GB SIP answer, terminal escapes) beside a healthy one, whose check
//    interval, /metrics and SIGTERM must not notice them.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultSpec, Topology, type TopologySpec } from '../../lab';
import { HostKernel } from '../../lab/host';
import type { CheckTarget } from '../../src/checker/checks/types';
import type { ServiceName } from '../../src/checker/config/model';
import { BOOT_TIMEOUT_MS, labKernel } from '../support/lab';
import { DIRECTOR, LAB_BUSY, readStatus, Started, waitFor, waitGone, writeConfig, writeFile, type Status } from '../support/lvsd';
import type { CaseResult, CheckCase } from '../support/run-check';
import type { Listener, ServeConfig } from '../support/servers/serve';

const root = resolve(__dirname, '..', '..');
const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const VIP = '198.51.100.100';
const CLIENT = '198.51.100.10';
/** Serves everything below. */
const REAL = '198.51.100.21';
/** Answers nothing: its way back to the client is a blackhole route. */
const HOLE = '198.51.100.22';
const CLOSED = 9;

/** Deadline of the cases that must run into it. */
const DEADLINE_MS = 2000;
/** A correctness bound, not a benchmark: late by this much means the deadline was not kept. */
const MARGIN_MS = 3000;
/** Deadline of every other case: they must end well before it. */
const LONG_MS = 10_000;

const PORT = {
  http: 80, https: 443, trickle: 7001, silent: 7002, httpTrickle: 7004, silentUdp: 7003, simpletcp: 7010,
  smtp: 25, smtp554: 2525, smtpHelo: 2526, nntp: 119, nntp400: 1119, pop: 110, popBusy: 1110, pops: 995,
  imap: 143, imaps: 993, ftp: 21, dns: 53, sip: 5060, sip503: 5061, sipTrying: 5062,
};

const USER = 'alice';
const PASS = 'se"cr\\et pw';
const FTP_PASS = 'lvsd@lab.test';

function listeners(): Listener[] {
  return [
    { kind: 'http', port: PORT.http },
    { kind: 'http', port: PORT.https, tls: true },
    { kind: 'trickle', port: PORT.trickle, text: '220 almost a line' },
    { kind: 'trickle', port: PORT.httpTrickle, text: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Slow: yes' },
    { kind: 'silent', port: PORT.silent },
    { kind: 'silent', port: PORT.silentUdp, udp: true },
    { kind: 'simpletcp', port: PORT.simpletcp, answer: 'status=ok' },
    { kind: 'smtp', port: PORT.smtp, greeting: '220 lab.test ESMTP' },
    { kind: 'smtp', port: PORT.smtp554, greeting: '554 go away' },
    { kind: 'smtp', port: PORT.smtpHelo, greeting: '220 old.lab.test SMTP', noEhlo: true },
    { kind: 'nntp', port: PORT.nntp, banner: '200 lab news ready' },
    { kind: 'nntp', port: PORT.nntp400, banner: '400 service temporarily unavailable' },
    { kind: 'pop', port: PORT.pop, greeting: '+OK lab POP3', user: USER, pass: PASS },
    { kind: 'pop', port: PORT.popBusy, greeting: '-ERR busy', user: USER, pass: PASS },
    { kind: 'pop', port: PORT.pops, tls: true, greeting: '+OK lab POP3S', user: USER, pass: PASS },
    { kind: 'imap', port: PORT.imap, user: USER, pass: PASS },
    { kind: 'imap', port: PORT.imaps, tls: true, user: USER, pass: PASS },
    { kind: 'ftp', port: PORT.ftp, address: REAL, user: 'anonymous', pass: FTP_PASS, files: { '/index.html': 'ftp status: ok\n' } },
    { kind: 'dns', port: PORT.dns },
    { kind: 'sip', port: PORT.sip, status: '200 OK' },
    { kind: 'sip', port: PORT.sip503, status: '503 Service Unavailable' },
    { kind: 'sip', port: PORT.sipTrying, status: '200 OK', provisional: true },
  ];
}

function target(service: ServiceName, port: number, over: Partial<CheckTarget> = {}): CheckTarget {
  return {
    family: 4, address: REAL, port, protocol: 'tcp', service, request: '', receive: '', httpmethod: 'GET',
    login: '', passwd: '', database: '', secret: '', checkcount: 1, checkcommand: '/bin/true',
    virtual: { protocol: 'tcp', address: VIP, port }, realPort: port, ...over,
  };
}

type Expect =
  | { up: true; detail?: RegExp }
  | { up: false; detail: RegExp }
  /** Down, and long before the deadline: it did not wait for it. */
  | 'refused'
  /** Down at the deadline: not before, and not (much) after. */
  | 'deadline';

interface Case {
  title: string;
  check: string;
  target: CheckTarget;
  expect: Expect;
}

const cases = new Map<string, Case[]>();
function kind(name: string, list: Case[]): void {
  cases.set(name, list);
}

const up = (detail?: RegExp): Expect => ({ up: true, ...(detail ? { detail } : {}) });
const down = (detail: RegExp): Expect => ({ up: false, detail });
const hole = (t: CheckTarget): CheckTarget => ({ ...t, address: HOLE });

kind('connect', [
  { title: 'up when the port accepts', check: 'connectCheck', target: target('none', PORT.http), expect: up(/connected/) },
  { title: 'down at once when refused', check: 'connectCheck', target: target('none', CLOSED), expect: 'refused' },
  { title: 'down at the deadline when black-holed', check: 'connectCheck', target: hole(target('none', PORT.http)), expect: 'deadline' },
]);

kind('ping', [
  { title: 'up on an echo reply', check: 'pingCheck', target: target('none', 0, { timeout: 2 }), expect: up(/echo reply/) },
  { title: 'up with checkcount 3 spread over the deadline', check: 'pingCheck', target: target('none', 0, { timeout: 3, checkcount: 3 }), expect: up() },
  { title: 'up without a known timeout (probes each second)', check: 'pingCheck', target: target('none', 0), expect: up(/echo reply/) },
  { title: 'down at the deadline when black-holed', check: 'pingCheck', target: hole(target('none', 0, { timeout: DEADLINE_MS / 1000 })), expect: 'deadline' },
  { title: 'down at the deadline when black-holed, without a known timeout', check: 'pingCheck', target: hole(target('none', 0)), expect: 'deadline' },
]);

// External check scripts, written into the lab at set-up; $LVSKIT_CHECK_DIR is where they report.
const SCRIPTS: Record<string, string> = {
  'up.sh': '#!/bin/sh\necho "$@" > "$LVSKIT_CHECK_DIR/args.$4"\nexit 0\n',
  'down.sh': '#!/bin/sh\necho "backend says no" >&2\nexit 1\n',
  // Ignores TERM, and so does its child: only the SIGKILL that follows can end them.
  'hang.sh': '#!/bin/sh\ntrap "" TERM\nsleep 600 &\necho "$$ $!" > "$LVSKIT_CHECK_DIR/hang.pids"\nwait\nwait\n',
};
let scriptDir = '';
const script = (name: string) => join(scriptDir, name);

kind('external', [
  { title: 'up when the command exits 0, with VIP VPORT RIP RPORT as arguments', check: 'externalCheck', target: target('none', 8080, { checkcommand: 'up.sh', realPort: 8080 }), expect: up(/exit 0/) },
  { title: 'gets the fwmark in place of the VIP', check: 'externalCheck', target: target('none', 8081, { checkcommand: 'up.sh', realPort: 8081, virtual: { protocol: 'fwm', fwmark: 7, port: 0 } }), expect: up() },
  { title: 'down when the command exits 1, with what it said', check: 'externalCheck', target: target('none', 80, { checkcommand: 'down.sh' }), expect: down(/exit 1: backend says no/) },
  { title: 'down when the command does not exist', check: 'externalCheck', target: target('none', 80, { checkcommand: '/nonexistent/check' }), expect: down(/not found/) },
  { title: 'down at the deadline when the command hangs (and ignores TERM)', check: 'externalCheck', target: target('none', 80, { checkcommand: 'hang.sh' }), expect: 'deadline' },
]);

kind('http', [
  { title: 'up on 200 with a matching body', check: 'httpCheck', target: target('http', PORT.http, { request: '/ok', receive: 'status: ok' }), expect: up(/HTTP 200/) },
  { title: 'receive reads as in Perl: (?i)STATUS: OK$ matches "status: ok\\n"', check: 'httpCheck', target: target('http', PORT.http, { request: '/ok', receive: '(?i)STATUS: OK$' }), expect: up(/HTTP 200/) },
  { title: 'up on 200 with no receive', check: 'httpCheck', target: target('http', PORT.http, { request: '/ok' }), expect: up(/HTTP 200/) },
  { title: 'down on 503', check: 'httpCheck', target: target('http', PORT.http, { request: '/fail' }), expect: down(/^HTTP 503$/) },
  { title: 'down on 404', check: 'httpCheck', target: target('http', PORT.http, { request: '/missing' }), expect: down(/^HTTP 404$/) },
  { title: 'down when the body does not match', check: 'httpCheck', target: target('http', PORT.http, { request: '/ok', receive: 'status: great' }), expect: down(/no match for \/status: great\//) },
  { title: 'sends the real\'s address as Host without virtualhost', check: 'httpCheck', target: target('http', PORT.http, { request: '/host', receive: `host=${REAL}\n` }), expect: up() },
  { title: 'sends virtualhost as Host', check: 'httpCheck', target: target('http', PORT.http, { request: '/host', receive: 'host=www\\.example\\.test\n', virtualhost: 'www.example.test' }), expect: up() },
  { title: 'HEAD: up on 200', check: 'httpCheck', target: target('http', PORT.http, { request: '/ok', httpmethod: 'HEAD' }), expect: up(/HTTP 200/) },
  { title: 'HEAD: down on 503', check: 'httpCheck', target: target('http', PORT.http, { request: '/fail', httpmethod: 'HEAD' }), expect: down(/HTTP 503/) },
  { title: 'follows a redirect on the same real', check: 'httpCheck', target: target('http', PORT.http, { request: '/old', receive: 'status: ok' }), expect: up() },
  { title: 'down after 7 redirects', check: 'httpCheck', target: target('http', PORT.http, { request: '/loop' }), expect: down(/HTTP 302/) },
  { title: 'does not follow a redirect to another host', check: 'httpCheck', target: target('http', PORT.http, { request: '/away' }), expect: down(/redirect off this real, to 203\.0\.113\.9/) },
  { title: 'matches within the first MiB of the body only', check: 'httpCheck', target: target('http', PORT.http, { request: '/big', receive: 'status: ok' }), expect: down(/no match/) },
  { title: 'down at once when refused', check: 'httpCheck', target: target('http', CLOSED, { request: '/ok' }), expect: 'refused' },
  { title: 'down at the deadline when black-holed', check: 'httpCheck', target: hole(target('http', PORT.http, { request: '/ok' })), expect: 'deadline' },
  { title: 'down at the deadline when the headers trickle', check: 'httpCheck', target: target('http', PORT.httpTrickle, { request: '/ok' }), expect: 'deadline' },
  { title: 'down at the deadline when the body trickles', check: 'httpCheck', target: target('http', PORT.http, { request: '/trickle', receive: 'never' }), expect: 'deadline' },
  { title: 'down at the deadline when the server never answers', check: 'httpCheck', target: target('http', PORT.silent, { request: '/ok' }), expect: 'deadline' },
  { title: 'https: up with a self-signed certificate', check: 'httpCheck', target: target('https', PORT.https, { request: '/ok', receive: 'status: ok' }), expect: up(/HTTP 200/) },
  { title: 'https: virtualhost as Host', check: 'httpCheck', target: target('https', PORT.https, { request: '/host', receive: 'host=www\\.example\\.test', virtualhost: 'www.example.test' }), expect: up() },
  { title: 'https: down at once on a plain HTTP port', check: 'httpCheck', target: target('https', PORT.http, { request: '/ok' }), expect: down(/TLS|SSL|reset|closed|socket/i) },
  { title: 'https: down at the deadline when the handshake never ends', check: 'httpCheck', target: target('https', PORT.silent, { request: '/ok' }), expect: 'deadline' },
  { title: 'http_proxy: fetches the URL through the real', check: 'httpCheck', target: target('http_proxy', PORT.http, { request: 'http://www.example.test/', receive: 'proxied http://www\\.example\\.test/ host=www\\.example\\.test' }), expect: up() },
  { title: 'http_proxy: down without an absolute URL', check: 'httpCheck', target: target('http_proxy', PORT.http, { request: '/' }), expect: down(/absolute http:\/\/ URL/) },
]);

kind('simpletcp', [
  { title: 'up when a line matches; \\n in request becomes a newline', check: 'simpletcpCheck', target: target('simpletcp', PORT.simpletcp, { request: 'HELLO\\nWORLD', receive: '^you said "HELLO\\\\nWORLD"$' }), expect: up(/line 1 matches/) },
  { title: 'up on a later line', check: 'simpletcpCheck', target: target('simpletcp', PORT.simpletcp, { request: 'PING', receive: '^status=ok$' }), expect: up(/line 2 matches/) },
  { title: 'down when no line matches', check: 'simpletcpCheck', target: target('simpletcp', PORT.simpletcp, { request: 'PING', receive: 'status=bad' }), expect: down(/no match for \/status=bad\/ in 2 lines/) },
  { title: 'down, not a crash, on an invalid receive pattern', check: 'simpletcpCheck', target: target('simpletcp', PORT.simpletcp, { request: 'PING', receive: '(' }), expect: down(/^receive \/\(\/: missing "\)"$/) },
  { title: 'down at once when refused', check: 'simpletcpCheck', target: target('simpletcp', CLOSED, { request: 'PING', receive: 'ok' }), expect: 'refused' },
  { title: 'down at the deadline when black-holed', check: 'simpletcpCheck', target: hole(target('simpletcp', PORT.simpletcp, { request: 'PING', receive: 'ok' })), expect: 'deadline' },
  { title: 'down at the deadline when the server never answers nor closes', check: 'simpletcpCheck', target: target('simpletcp', PORT.silent, { request: 'PING', receive: 'ok' }), expect: 'deadline' },
  { title: 'down at the deadline when the answer trickles', check: 'simpletcpCheck', target: target('simpletcp', PORT.trickle, { request: 'PING', receive: 'almost' }), expect: 'deadline' },
]);

kind('smtp', [
  { title: 'up on 220 and EHLO', check: 'smtpCheck', target: target('smtp', PORT.smtp), expect: up(/greeting 220/) },
  { title: 'submission: the same check', check: 'smtpCheck', target: target('submission', PORT.smtp), expect: up(/greeting 220/) },
  { title: 'up through HELO when EHLO is refused', check: 'smtpCheck', target: target('smtp', PORT.smtpHelo), expect: up(/greeting 220/) },
  { title: 'down on a 554 greeting', check: 'smtpCheck', target: target('smtp', PORT.smtp554), expect: down(/greeting: 554 go away/) },
  { title: 'down at once when refused', check: 'smtpCheck', target: target('smtp', CLOSED), expect: 'refused' },
  { title: 'down at the deadline when black-holed', check: 'smtpCheck', target: hole(target('smtp', PORT.smtp)), expect: 'deadline' },
  { title: 'down at the deadline when the greeting trickles', check: 'smtpCheck', target: target('smtp', PORT.trickle), expect: 'deadline' },
]);

kind('nntp', [
  { title: 'up on a 200 banner', check: 'nntpCheck', target: target('nntp', PORT.nntp), expect: up(/banner 200/) },
  { title: 'down on a 400 banner', check: 'nntpCheck', target: target('nntp', PORT.nntp400), expect: down(/banner "400/) },
  { title: 'down at once when refused', check: 'nntpCheck', target: target('nntp', CLOSED), expect: 'refused' },
  { title: 'down at the deadline when black-holed', check: 'nntpCheck', target: hole(target('nntp', PORT.nntp)), expect: 'deadline' },
  { title: 'down at the deadline when the banner never comes', check: 'nntpCheck', target: target('nntp', PORT.silent), expect: 'deadline' },
  { title: 'down at the deadline when the banner trickles', check: 'nntpCheck', target: target('nntp', PORT.trickle), expect: 'deadline' },
]);

kind('pop', [
  { title: 'up on +OK without login', check: 'popCheck', target: target('pop', PORT.pop), expect: up(/greeting \+OK/) },
  { title: 'up with login and the right password', check: 'popCheck', target: target('pop', PORT.pop, { login: USER, passwd: PASS }), expect: up(/logged in/) },
  { title: 'down with a wrong password, which the detail does not show', check: 'popCheck', target: target('pop', PORT.pop, { login: USER, passwd: 'wrong-pw' }), expect: down(/^login failed \(PASS refused\)$/) },
  { title: 'down on a -ERR greeting', check: 'popCheck', target: target('pop', PORT.popBusy), expect: down(/greeting "-ERR busy"/) },
  { title: 'pops: up with login over TLS', check: 'popCheck', target: target('pops', PORT.pops, { login: USER, passwd: PASS }), expect: up(/logged in/) },
  { title: 'down at once when refused', check: 'popCheck', target: target('pop', CLOSED), expect: 'refused' },
  { title: 'down at the deadline when black-holed', check: 'popCheck', target: hole(target('pop', PORT.pop)), expect: 'deadline' },
  { title: 'down at the deadline when the greeting trickles', check: 'popCheck', target: target('pop', PORT.trickle), expect: 'deadline' },
]);

kind('imap', [
  { title: 'up on * OK without login', check: 'imapCheck', target: target('imap', PORT.imap), expect: up(/greeting OK/) },
  { title: 'up with login (quotes and backslashes quoted)', check: 'imapCheck', target: target('imap', PORT.imap, { login: USER, passwd: PASS }), expect: up(/logged in/) },
  { title: 'down with a wrong password', check: 'imapCheck', target: target('imap', PORT.imap, { login: USER, passwd: 'wrong-pw' }), expect: down(/^login failed/) },
  { title: 'imaps: up with login over TLS', check: 'imapCheck', target: target('imaps', PORT.imaps, { login: USER, passwd: PASS }), expect: up(/logged in/) },
  { title: 'down at once when refused', check: 'imapCheck', target: target('imap', CLOSED), expect: 'refused' },
  { title: 'down at the deadline when black-holed', check: 'imapCheck', target: hole(target('imap', PORT.imap)), expect: 'deadline' },
  { title: 'down at the deadline when the greeting trickles', check: 'imapCheck', target: target('imap', PORT.trickle), expect: 'deadline' },
  { title: 'imaps: down at the deadline when the handshake never ends', check: 'imapCheck', target: target('imaps', PORT.silent), expect: 'deadline' },
]);

const ftp = (over: Partial<CheckTarget>) => target('ftp', PORT.ftp, { login: 'anonymous', passwd: FTP_PASS, request: '/index.html', ...over });
kind('ftp', [
  { title: 'up when the file matches', check: 'ftpCheck', target: ftp({ receive: 'status: ok' }), expect: up(/index\.html matches/) },
  { title: 'up on login alone when request is a directory', check: 'ftpCheck', target: ftp({ request: '/' }), expect: up(/logged in/) },
  { title: 'down when the file does not match', check: 'ftpCheck', target: ftp({ receive: 'status: bad' }), expect: down(/no match/) },
  { title: 'down when the file is missing', check: 'ftpCheck', target: ftp({ request: '/missing.html' }), expect: down(/RETR \/missing\.html: 550/) },
  { title: 'down with a wrong password', check: 'ftpCheck', target: ftp({ passwd: 'wrong-pw' }), expect: down(/login failed \(530\)/) },
  { title: 'down at once when refused', check: 'ftpCheck', target: ftp({ port: CLOSED }), expect: 'refused' },
  { title: 'down at the deadline when black-holed', check: 'ftpCheck', target: hole(ftp({})), expect: 'deadline' },
  { title: 'down at the deadline when the greeting trickles', check: 'ftpCheck', target: ftp({ port: PORT.trickle }), expect: 'deadline' },
]);

const dns = (over: Partial<CheckTarget>) => target('dns', PORT.dns, { protocol: 'udp', request: 'www.example.test', receive: '203.0.113.5', ...over });
kind('dns', [
  { title: 'up when an A record is receive', check: 'dnsCheck', target: dns({}), expect: up(/answer 203\.0\.113\.5/) },
  { title: 'up when any of the A records is receive', check: 'dnsCheck', target: dns({ receive: '203.0.113.6' }), expect: up(/answer 203\.0\.113\.6/) },
  { title: 'up on a PTR query for an address', check: 'dnsCheck', target: dns({ request: '203.0.113.5', receive: 'www.example.test' }), expect: up(/answer www\.example\.test/) },
  { title: 'up over TCP when the virtual is tcp', check: 'dnsCheck', target: dns({ protocol: 'tcp' }), expect: up() },
  { title: 'up over TCP after a truncated UDP answer', check: 'dnsCheck', target: dns({ request: 'big.example.test', receive: '203.0.113.7' }), expect: up() },
  { title: 'compares with eq as ldirectord does: a pattern-like receive is no pattern', check: 'dnsCheck', target: dns({ receive: '203.0.113.[56]' }), expect: down(/^"203\.0\.113\.\[56\]" not among 203\.0\.113\.5 203\.0\.113\.6$/) },
  { title: 'down on NXDOMAIN', check: 'dnsCheck', target: dns({ request: 'nope.example.test' }), expect: down(/NXDOMAIN/) },
  { title: 'down with an empty receive, as in ldirectord', check: 'dnsCheck', target: dns({ receive: '' }), expect: down(/receive is empty/) },
  { title: 'down at once when the UDP port is closed', check: 'dnsCheck', target: dns({ port: CLOSED }), expect: 'refused' },
  { title: 'down at the deadline when black-holed', check: 'dnsCheck', target: hole(dns({})), expect: 'deadline' },
  { title: 'down at the deadline when the server never answers', check: 'dnsCheck', target: dns({ port: PORT.silentUdp }), expect: 'deadline' },
  { title: 'down at the deadline when the TCP answer trickles', check: 'dnsCheck', target: dns({ protocol: 'tcp', port: PORT.trickle }), expect: 'deadline' },
]);

const sip = (over: Partial<CheckTarget>) => target('sip', PORT.sip, { protocol: 'udp', login: 'lvsd@lab.test', ...over });
kind('sip', [
  { title: 'up on 200 OK over UDP', check: 'sipCheck', target: sip({}), expect: up(/SIP\/2\.0 200 OK/) },
  { title: 'up on 200 OK over TCP', check: 'sipCheck', target: sip({ protocol: 'tcp' }), expect: up(/SIP\/2\.0 200 OK/) },
  { title: 'up after a 100 Trying, over UDP', check: 'sipCheck', target: sip({ port: PORT.sipTrying }), expect: up(/200 OK/) },
  { title: 'up after a 100 Trying, over TCP', check: 'sipCheck', target: sip({ port: PORT.sipTrying, protocol: 'tcp' }), expect: up(/200 OK/) },
  { title: 'down on 503', check: 'sipCheck', target: sip({ port: PORT.sip503 }), expect: down(/SIP\/2\.0 503/) },
  { title: 'down at once when the UDP port is closed', check: 'sipCheck', target: sip({ port: CLOSED }), expect: 'refused' },
  { title: 'down at the deadline when black-holed', check: 'sipCheck', target: hole(sip({})), expect: 'deadline' },
  { title: 'down at the deadline when the TCP answer trickles', check: 'sipCheck', target: sip({ protocol: 'tcp', port: PORT.trickle }), expect: 'deadline' },
]);

describe('lab: health checks', function () {
  let kernel: HostKernel;
  let topo: Topology;
  let results = new Map<string, CaseResult>();
  let clientLeftovers = '';

  before(async function () {
    this.timeout(180_000);
    kernel = new HostKernel();
    const spec: TopologySpec = {
      vip: VIP,
      prefixLength: 24,
      nodes: [
        { name: 'client', role: 'client', ip: CLIENT },
        { name: 'r1', role: 'client', ip: REAL },
        { name: 'r2', role: 'client', ip: HOLE },
      ],
      // No director here: the binary is never run, any file will do.
      binary: '/bin/true',
    };
    topo = await Topology.create(kernel, spec);

    // r2 answers nothing: SYN-ACKs, echo replies and ICMP errors to the client all fall into a
    // blackhole. The client knows r2's MAC, so nothing hinges on ARP.
    await topo.run('r2', ['ip', 'route', 'add', 'blackhole', `${CLIENT}/32`]);
    await topo.run('client', ['ip', 'neigh', 'replace', HOLE, 'lladdr', topo.node('r2').mac, 'dev', 'eth0', 'nud', 'permanent']);

    // r1 serves every protocol, with a throw-away self-signed certificate for TLS.
    const r1 = topo.node('r1');
    const serveDir = join(r1.dir, 'serve');
    mkdirSync(serveDir, { recursive: true });
    await topo.run('r1', [
      'openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=www.example.test', '-keyout', join(serveDir, 'key.pem'), '-out', join(serveDir, 'cert.pem'),
    ]);
    const config: ServeConfig = { cert: join(serveDir, 'cert.pem'), key: join(serveDir, 'key.pem'), listeners: listeners() };
    writeFileSync(join(serveDir, 'config.json'), JSON.stringify(config));
    const log = join(serveDir, 'serve.log');
    const started = await topo.exec('r1', [process.execPath, '--import', tsx, join(root, 'test', 'support', 'servers', 'serve.ts'), join(serveDir, 'config.json')], { detach: true, log });
    assert.equal(started.error, undefined, started.error);
    for (let i = 0; !existsSync(join(serveDir, 'ready')); i++) {
      if (i > 300) throw new Error(`servers on r1 did not start:\n${readFileSync(log, 'utf8')}`);
      await sleep(50);
    }

    // The external check scripts, and where they report.
    scriptDir = join(topo.node('client').dir, 'external');
    mkdirSync(scriptDir, { recursive: true });
    for (const [name, text] of Object.entries(SCRIPTS)) writeFileSync(join(scriptDir, name), text, { mode: 0o755 });

    // Every case at once, as the engine runs them, in one process in the client's namespaces.
    const all: CheckCase[] = [];
    for (const [k, list] of cases) {
      list.forEach((c, i) => {
        const t = c.check === 'externalCheck' && !c.target.checkcommand.startsWith('/') ? { ...c.target, checkcommand: script(c.target.checkcommand) } : c.target;
        all.push({ id: `${k}#${i}`, check: c.check, target: t, deadlineMs: c.expect === 'deadline' ? DEADLINE_MS : LONG_MS });
      });
    }
    const r = await topo.exec('client', [process.execPath, '--import', tsx, join(root, 'test', 'support', 'run-check.ts')], {
      stdin: JSON.stringify(all),
      env: { LVSKIT_CHECK_DIR: scriptDir },
      timeoutMs: LONG_MS + 30_000,
    });
    assert.ok(!r.timedOut, `the check runner did not end by itself: a check left a socket, timer or process behind\n${r.stderr}`);
    assert.equal(r.code, 0, `check runner failed:\n${r.stderr}`);
    results = new Map((JSON.parse(r.stdout) as CaseResult[]).map((x) => [x.id, x]));
    // What is left in the client's namespaces besides the node's holder process.
    const inClient = await kernel.exec({ argv: ['ip', 'netns', 'pids', topo.node('client').netns] });
    const pids = inClient.stdout.split(/\s+/).filter((p) => p && p !== String(topo.node('client').pid));
    // Zombies are dead already, only waiting for init to reap them.
    const ps = pids.length ? (await kernel.exec({ argv: ['ps', '-o', 'pid=,stat=,args=', '-p', pids.join(',')] })).stdout : '';
    clientLeftovers = ps.split('\n').filter((l) => l.trim() && !/^\s*\d+\s+Z/.test(l)).join('\n');
  });

  after(async function () {
    this.timeout(60_000);
    await topo?.destroy();
    await kernel?.close();
  });

  for (const [k, list] of cases) {
    describe(k, () => {
      list.forEach((c, i) => {
        it(c.title, () => {
          const r = results.get(`${k}#${i}`);
          assert.ok(r, 'no result');
          assert.equal(r.error, undefined, r.error);
          const shown = `${r.up ? 'up' : 'down'} "${r.detail}" after ${r.ms} ms`;
          if (c.expect === 'deadline') {
            assert.equal(r.up, false, shown);
            assert.ok(r.ms >= DEADLINE_MS - 100, `ended before the ${DEADLINE_MS} ms deadline: ${shown}`);
            assert.ok(r.ms <= DEADLINE_MS + MARGIN_MS, `ended long after the ${DEADLINE_MS} ms deadline: ${shown}`);
            assert.match(r.detail, c.check === 'pingCheck' ? /timed out|no echo reply/ : /^timed out/, shown);
          } else if (c.expect === 'refused') {
            assert.equal(r.up, false, shown);
            assert.match(r.detail, /refused/, shown);
            assert.ok(r.ms < LONG_MS / 2, `waited for the deadline: ${shown}`);
          } else {
            assert.equal(r.up, c.expect.up, shown);
            if (c.expect.detail) assert.match(r.detail, c.expect.detail, shown);
            assert.ok(r.ms < LONG_MS / 2, `a clear answer must not wait for the deadline: ${shown}`);
          }
        });
      });
    });
  }

  describe('external (what the command saw, what it left)', () => {
    it('gets VIP VPORT RIP RPORT, or the fwmark for a fwmark virtual', () => {
      assert.equal(readFileSync(join(scriptDir, 'args.8080'), 'utf8'), `${VIP} 8080 ${REAL} 8080\n`);
      assert.match(readFileSync(join(scriptDir, 'args.8081'), 'utf8'), new RegExp(`^7 0 ${REAL.replace(/\./g, '\\.')} 8081\n$`));
    });

    it('a hanging command and its child are killed: nothing is left in the client', async () => {
      const pids = readFileSync(join(scriptDir, 'hang.pids'), 'utf8').trim().split(' ');
      assert.equal(pids.length, 2);
      for (const pid of pids) assert.equal(existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')), false, `process ${pid} of hang.sh still runs`);
      assert.equal(clientLeftovers, '', `processes left in the client after the checks:\n${clientLeftovers}`);
    });
  });

});

// ---- 2. through the built binary --------------------------------------------------------------

const D1 = '198.51.100.11';
/** No such host: pings to it go unanswered. */
const GHOST = '198.51.100.29';
/** Ports of the hostile servers on r2. */
const HOSTILE = { http: 9001, sip: 5070, smtp: 2525 };
const HEALTHY_PORT = 8090;

interface KindCase {
  kind: string;
  port: number;
  lines: string[];
  /** The real port written in real= when not the virtual's. */
  realPort?: number;
  /** The real that must be down (r2 by default: nothing listens there). */
  down?: string;
  /** Both reals up: checktype=on, service=none. */
  bothUp?: boolean;
}

const KINDS: KindCase[] = [
  { kind: 'connect', port: 8080, lines: ['checktype=connect'] },
  { kind: 'ping', port: 8082, lines: ['checktype=ping'], down: GHOST },
  { kind: 'external', port: 8081, lines: ['checktype=external', 'checkcommand="EXTERNAL"'] },
  { kind: 'on', port: 8083, lines: ['checktype=on'], bothUp: true },
  { kind: 'combined (checktype=2: connects between negotiates)', port: 8084, realPort: 80, lines: ['checktype=2', 'service=http', 'request="/ok"', 'receive="status: ok"'] },
  { kind: 'negotiate, service=none', port: 8085, lines: ['checktype=negotiate', 'service=none'], bothUp: true },
  { kind: 'http', port: 80, lines: ['service=http', 'request="/ok"', 'receive="^status: ok$"'] },
  { kind: 'https', port: 443, lines: ['service=https', 'request="/ok"', 'receive="(?i)STATUS: OK"'] },
  { kind: 'http_proxy', port: 3128, lines: ['service=http_proxy', 'request="http://www.example.test/"', 'receive="^proxied http://www\\.example\\.test/"'] },
  { kind: 'simpletcp', port: PORT.simpletcp, lines: ['service=simpletcp', 'request="PING"', 'receive="^status=ok$"'] },
  { kind: 'smtp', port: 25, lines: ['service=smtp'] },
  { kind: 'submission', port: 587, lines: ['service=submission'] },
  { kind: 'nntp', port: 119, lines: ['service=nntp'] },
  { kind: 'pop', port: 110, lines: ['service=pop'] },
  { kind: 'pops', port: 995, lines: ['service=pops'] },
  { kind: 'imap', port: 143, lines: ['service=imap'] },
  { kind: 'imaps', port: 993, lines: ['service=imaps'] },
  { kind: 'ftp', port: 21, lines: ['service=ftp', 'request="/index.html"', 'receive="status: ok"', `passwd="${FTP_PASS}"`] },
  { kind: 'dns', port: 53, lines: ['service=dns', 'request="www.example.test"', 'receive="203.0.113.5"'] },
  { kind: 'sip', port: 5060, lines: ['service=sip', 'login="lvsd@lab.test"'] },
];

function virtualSection(port: number, reals: string[], lines: string[]): string {
  return [`virtual=${VIP}:${port}`, ...reals.map((r) => `\treal=${r} gate 1`), ...lines.map((l) => `\t${l}`)].join('\n');
}

/** The status file's reals of VIP:port, by address. */
function realsOf(status: Status, port: number): Map<string, Status['virtuals'][number]['reals'][number]> {
  const v = status.virtuals.find((x) => x.virtual.includes(`${VIP}:${port}`));
  return new Map((v?.reals ?? []).map((r) => [r.real.replace(/:\d+$/, ''), r]));
}

const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

// Runs in the client: GET /metrics every 100 ms for DURATION s; prints {n, fails, p50, max} in ms.
const METRICS_PROBE = String.raw`
import json, sys, time, urllib.request
url, duration = sys.argv[1], float(sys.argv[2])
lat, fails, end = [], 0, time.time() + duration
while time.time() < end:
    t = time.time()
    try:
        urllib.request.urlopen(url, timeout=5).read()
        lat.append((time.time() - t) * 1000)
    except Exception:
        fails += 1
    time.sleep(0.1)
lat.sort()
print(json.dumps({"n": len(lat), "fails": fails, "p50": lat[len(lat) // 2] if lat else None, "max": lat[-1] if lat else None}))
`;

// Sends SIGTERM to a pid and prints the milliseconds until it is gone (or a zombie); exit 1 after the limit.
const TERM_PROBE = String.raw`
import os, signal, sys, time
pid, limit = int(sys.argv[1]), float(sys.argv[2])
def gone():
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        # Gone between open and read: /proc answers ESRCH.
        return True
t = time.monotonic()
os.kill(pid, signal.SIGTERM)
while not gone():
    if time.monotonic() - t > limit:
        sys.exit(1)
    time.sleep(0.01)
print(int((time.monotonic() - t) * 1000))
`;

describe("lab: every check kind, and hostile reals, through the built binary's lvsd on IPVS", function () {
  let topo: Topology | undefined;
  const t = (): Topology => {
    if (!topo) throw new Error('no topology (before() failed)');
    return topo;
  };
  /** lvsd, per test; the servers live as long as the topology. */
  const started = new Started(t);
  const servers = new Started(t);
  let stamps = '';

  /** serve.ts with these listeners in a node; resolves once they all listen. */
  async function serve(node: string, list: Listener[]): Promise<void> {
    const tp = t();
    const dir = join(tp.node(node).dir, 'serve');
    // Files go through the lab kernel both ways: UML's hostfs does not show one side's writes to the
    // other at once.
    await tp.run(node, ['mkdir', '-p', dir]);
    await tp.run(node, ['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=www.example.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
    const config: ServeConfig = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), listeners: list };
    await writeFile(tp, join(dir, 'config.json'), JSON.stringify(config));
    const log = join(dir, 'serve.log');
    await servers.start(node, [process.execPath, '--import', tsx, join(root, 'test', 'support', 'servers', 'serve.ts'), join(dir, 'config.json')], log);
    await waitFor(`the servers on ${node}`, async () => (await tp.exec(node, ['test', '-e', join(dir, 'ready')])).code === 0, 60_000).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${(await tp.exec(node, ['cat', log])).stdout}`);
    });
  }

  before(async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    const base = defaultSpec(1, 2);
    topo = await Topology.create(await labKernel(), { ...base, nodes: base.nodes.map((n) => ({ ...n, http: false })) });
    stamps = join(t().node('r1').dir, 'healthy.stamps');
    await serve('r1', [
      ...listeners().filter((l) => !['trickle', 'silent'].includes(l.kind) && l.port !== PORT.smtp554 && l.port !== PORT.smtpHelo && l.port !== PORT.nntp400 && l.port !== PORT.popBusy && l.port !== PORT.sip503 && l.port !== PORT.sipTrying),
      { kind: 'http', port: 8080 },
      { kind: 'http', port: 3128 },
      { kind: 'smtp', port: 587, greeting: '220 lab.test ESMTP' },
      { kind: 'http', port: HEALTHY_PORT, stamps },
    ]);
    await serve('r2', [
      { kind: 'http', port: HOSTILE.http },
      { kind: 'sipflood', port: HOSTILE.sip },
      { kind: 'smtp', port: HOSTILE.smtp, greeting: '554 \x1b[2J\x1b]0;owned\x07\x1b[31mgo\rway\x9b1m\u202eevil' },
    ]);
  });

  afterEach(async function () {
    this.timeout(60_000);
    await started.killAll();
    await t().run(DIRECTOR, ['ipvsadm', '-C']);
  });

  after(async function () {
    this.timeout(60_000);
    await started.killAll();
    await servers.killAll();
    await topo?.destroy();
  });

  /** The tails of lvsd's and the servers' logs, for a failure message. */
  async function diagnose(config: string): Promise<string> {
    const tp = t();
    const tail = async (node: string, file: string) => `--- ${file}\n${(await tp.exec(node, ['tail', '-n', '30', file])).stdout}`;
    return [
      await tail(DIRECTOR, join(tp.node(DIRECTOR).dir, `${config}.log`)),
      await tail('r1', join(tp.node('r1').dir, 'serve', 'serve.log')),
      await tail('r2', join(tp.node('r2').dir, 'serve', 'serve.log')),
    ].join('\n');
  }

  async function startLvsd(name: string, text: string): Promise<{ pid: number; config: string }> {
    const tp = t();
    const config = await writeConfig(tp, name, text);
    const check = await tp.exec(DIRECTOR, [tp.spec.binary, 'checker', '--test-config', '--config', config]);
    assert.equal(check.code, 0, `${check.stdout}${check.stderr}`);
    const pid = await started.start(DIRECTOR, [tp.spec.binary, 'checker', '-d', '--config', config], join(tp.node(DIRECTOR).dir, `${name}.log`));
    return { pid, config };
  }

  it('each check kind: the serving real up, the other down, in the status file of the running binary', async function () {
    this.timeout(150_000);
    const tp = t();
    const external = join(tp.node(DIRECTOR).dir, 'external.sh');
    await writeFile(tp, external, `#!/bin/sh\n# VIP VPORT RIP RPORT: up for r1 only\n[ "$3" = "${REAL}" ]\n`, '755');
    const sections = KINDS.map((k) => {
      const rp = k.realPort ?? k.port;
      const lines = k.lines.map((l) => l.replace('EXTERNAL', external));
      return virtualSection(k.port, [`${REAL}:${rp}`, `${k.down ?? HOLE}:${rp}`], lines);
    });
    // Generous deadlines: UML runs every node on one CPU of a busy machine; GHOST's ping waits out checktimeout.
    // 40 checks, some of them processes (external, ping): every 2 s they saturated a busy guest, whose
    // commands from the test then timed out; the kinds' verdicts need no particular interval.
    const { config } = await startLvsd('kinds.cf', `checkinterval=${LAB_BUSY ? 6 : 2}\nchecktimeout=5\nnegotiatetimeout=10\n${sections.join('\n')}\n`);
    let status: Status | undefined;
    // Checked: a last check in the status file (checktype=on has none: it is never checked).
    await waitFor('every real checked', async () => {
      status = await readStatus(tp, config).catch(() => undefined);
      return !!status && KINDS.every((k) => [...realsOf(status!, k.port).values()].length === 2 && [...realsOf(status!, k.port).values()].every((r) => r.lastCheck !== undefined || k.kind === 'on'));
    }, 90_000).catch(async (err: Error) => assert.fail(`${err.message}\n${JSON.stringify(status, null, 1)}\n${await diagnose('kinds.cf')}`));
    const wrong: string[] = [];
    for (const k of KINDS) {
      const reals = realsOf(status!, k.port);
      const want: Array<[string, string]> = [[REAL, 'up'], [k.down ?? HOLE, k.bothUp ? 'up' : 'down']];
      for (const [ip, health] of want) {
        const r = reals.get(ip);
        if (r?.health !== health) wrong.push(`${k.kind}: ${ip} is ${r?.health} (${r?.lastCheck?.detail ?? 'no check'}), not ${health}`);
      }
    }
    assert.deepEqual(wrong, [], await diagnose('kinds.cf'));
  });

  it('hostile reals beside a healthy one: its checks keep their interval, /metrics answers, SIGTERM is prompt, memory stays small', async function () {
    this.timeout(180_000);
    const tp = t();
    const WINDOW_S = 20;
    const hostile = [
      virtualSection(9101, [`${HOLE}:${HOSTILE.http}`], ['service=http', 'request="/huge"', 'receive=".*healthy.*"']),
      virtualSection(9102, [`${HOLE}:${HOSTILE.http}`], ['service=http', 'request="/xy"', 'receive="(x|y)*x[xy]{14}z"']),
      virtualSection(9103, [`${HOLE}:${HOSTILE.http}`], ['service=http', 'request="/flood"', 'receive="never"']),
      virtualSection(9104, [`${HOLE}:${HOSTILE.http}`], ['service=http', 'request="/trickle"', 'receive="never"']),
      virtualSection(9105, [`${HOLE}:${HOSTILE.sip}`], ['service=sip', 'login="lvsd@lab.test"']),
      virtualSection(9106, [`${HOLE}:${HOSTILE.smtp}`], ['service=smtp']),
    ];
    // The healthy real's server shares UML's one CPU with the hostile ones and lvsd: a generous deadline.
    const healthy = virtualSection(HEALTHY_PORT, [`${REAL}:${HEALTHY_PORT}`], ['service=http', 'request="/ok"', 'receive="status: ok"', 'negotiatetimeout=10']);
    const { pid, config } = await startLvsd('hostile.cf', `checkinterval=1\nchecktimeout=3\nnegotiatetimeout=3\nmetrics = ${D1}:9100\n${healthy}\n${hostile.join('\n')}\n`);
    let first: Status | undefined;
    await waitFor('the healthy real up', async () => {
      first = await readStatus(tp, config).catch(() => undefined);
      return !!first && realsOf(first, HEALTHY_PORT).get(REAL)?.health === 'up';
    }, 60_000).catch(async (err: Error) => assert.fail(`${err.message}\n${JSON.stringify(first, null, 1)}\n${await diagnose('hostile.cf')}`));

    const from = Date.now() / 1000;
    const probe = await tp.exec('client', ['python3', '-c', METRICS_PROBE, `http://${D1}:9100/metrics`, String(WINDOW_S)], { timeoutMs: (WINDOW_S + 30) * 1000 });
    const to = Date.now() / 1000;
    assert.equal(probe.code, 0, probe.stderr);
    const metrics = JSON.parse(probe.stdout) as { n: number; fails: number; p50: number; max: number };

    const times = (await tp.run('r1', ['cat', stamps])).trim().split('\n').map(Number).filter((x) => x >= from && x <= to);
    const gaps = times.slice(1).map((x, i) => x - times[i]!);
    const maxGap = Math.max(...gaps);
    const memory = await tp.kernel.exec({ argv: ['grep', '-E', '^Vm(HWM|RSS)', `/proc/${pid}/status`] });
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(memory.stdout)?.[1]);

    const status = await readStatus(tp, config);
    const shown = await tp.exec(DIRECTOR, [tp.spec.binary, 'status']);
    // Signal and watch from one process in the guest: a kill and polls spawned from the host would
    // add the guest's process start-up (seconds when it is busy) to what lvsd took.
    const term = await tp.exec(DIRECTOR, ['python3', '-c', TERM_PROBE, String(pid), '30'], { timeoutMs: 60_000 });
    assert.equal(term.code, 0, `lvsd did not exit within 30 s of SIGTERM: ${term.stdout}${term.stderr}\n${await diagnose('hostile.cf')}`);
    const termMs = Number(term.stdout.trim());
    await waitGone(tp, pid, 30_000);

    const details = [9101, 9102, 9103, 9104, 9105, 9106].map((p) => `${p}: ${realsOf(status, p).get(HOLE)?.health} "${realsOf(status, p).get(HOLE)?.lastCheck?.detail}"`);
    // eslint-disable-next-line no-console
    console.log(`      healthy real: ${times.length} checks in ${(to - from).toFixed(1)} s, interval max ${maxGap.toFixed(2)} s (checkinterval 1 s); ` +
      `/metrics: ${metrics.n} answers, p50 ${metrics.p50?.toFixed(0)} ms, max ${metrics.max?.toFixed(0)} ms, ${metrics.fails} failed; ` +
      `lvsd peak RSS ${(peakKb / 1024).toFixed(0)} MiB; SIGTERM to exit ${termMs} ms\n      hostile reals: ${details.join('; ')}`);

    // Bounds for correctness on a busy UML lab, not benchmarks.
    assert.ok(times.length >= WINDOW_S / 2, `the healthy real was checked ${times.length} times in ${WINDOW_S} s`);
    // With two lab kernels on the machine (LVSKIT_LAB_BUSY) every process in the guest runs slower:
    // there /metrics answered in p50 188 ms with spikes to 6 s (the probe's own 20 s took 32 s); the
    // freeze this test guards against lasted minutes.
    assert.ok(maxGap < (LAB_BUSY ? 6 : 3), `the healthy real's checks were ${maxGap.toFixed(2)} s apart (checkinterval 1 s)`);
    assert.equal(metrics.fails, 0, 'every /metrics request answered');
    assert.ok(metrics.max < (LAB_BUSY ? 10_000 : 1000), `/metrics took up to ${metrics.max} ms`);
    assert.ok(termMs < 5000, `SIGTERM took ${termMs} ms`);
    assert.ok(peakKb < 200 * 1024, `lvsd's peak RSS was ${peakKb} kB`);
    for (const p of [9101, 9102, 9103, 9104, 9105, 9106]) assert.equal(realsOf(status, p).get(HOLE)?.health, 'down', details.join('\n'));
    const said = realsOf(status, 9106).get(HOLE)?.lastCheck?.detail ?? '';
    assert.match(said, /^greeting: 554 .*go way/, 'the SMTP greeting, its control characters gone');
    for (const r of status.virtuals.flatMap((v) => v.reals)) assert.doesNotMatch(r.lastCheck?.detail ?? '', CONTROL, `${r.real}: ${JSON.stringify(r.lastCheck?.detail)}`);
    // The status command reads the checker later than `status` above: its last SMTP check may have
    // timed out on a busy machine since, so the line, not the greeting, is what it must show.
    assert.match(shown.stdout, new RegExp(`${HOLE.replaceAll('.', '\\.')}:9106\\s+DOWN`), `lvskit status shows the checker:\n${shown.stdout}${shown.stderr}`);
    assert.doesNotMatch(shown.stdout.replace(/\n/g, ''), CONTROL, 'lvskit status prints no control character');
  });
});
