// The LDAP check's messages (RFC 4511) and its verdicts (ldirectord's check_ldap), without sockets:
// the session is fed what a server would send.
import assert from 'node:assert/strict';
import { integer, octetString, sequence, enumerated } from '../../../../src/checker/checks/ber';
import type { Step } from '../../../../src/checker/checks/conversation';
import { baseDn, bindRequest, LdapSession, searchRequest, unbindRequest } from '../../../../src/checker/checks/ldap';

const hex = (b: Buffer | undefined) => b?.toString('hex');
const bytes = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// What a server answers, built from RFC 4511's ASN.1.
const result = (tag: number, code: number, diagnostic = '') =>
  sequence([enumerated(code), octetString(''), octetString(diagnostic)], tag);
const msg = (id: number, op: Buffer) => sequence([integer(id), op]);
const bindResponse = (code: number, diag = '') => msg(1, result(0x61, code, diag));
const entry = (dn: string) => msg(2, sequence([octetString(dn), sequence([])], 0x64));
const done = (code = 0) => msg(2, result(0x65, code));

function session(over: Partial<{ login: string; passwd: string; request: string; receive: string }> = {}) {
  return new LdapSession({ login: '', passwd: '', request: '/dc=example,dc=org', receive: '', ...over });
}

/** Opens, binds successfully, and returns the search request the session sent. */
function searching(s: LdapSession): Step {
  s.open();
  return s.receive(bindResponse(0));
}

describe('checks: LDAP messages', () => {
  it('anonymous bind: 30 0c 02 01 01 60 07 02 01 03 04 00 80 00', () => {
    assert.equal(hex(bindRequest(1, '', '')), hex(bytes('300c 020101 6007 020103 0400 8000')));
  });

  it('simple bind: version 3, the DN as name, the password as [0] simple', () => {
    assert.equal(hex(bindRequest(1, 'cn=a', 'pw')), hex(bytes('3012 020101 600d 020103 0404 636e3d61 8002 7077')));
  });

  it('search: base object, derefFindingBaseObj, no limits, (objectClass=*), attributes 1.1', () => {
    const expected = bytes(
      [
        ['302e', 'LDAPMessage'],
        ['020102', 'messageID 2'],
        ['6329', 'SearchRequest'],
        ['0404 64633d78', 'baseObject "dc=x"'],
        ['0a0100', 'scope baseObject'],
        ['0a0102', 'derefAliases derefFindingBaseObj'],
        ['020100 020100', 'sizeLimit 0, timeLimit 0'],
        ['010100', 'typesOnly FALSE'],
        ['870b 6f626a656374436c617373', 'filter: present "objectClass"'],
        ['3005 0403 312e31', 'attributes: "1.1"'],
      ]
        .map(([b]) => b)
        .join(''),
    );
    assert.equal(hex(searchRequest(2, 'dc=x')), hex(expected));
  });

  it('unbind: [APPLICATION 2] NULL', () => {
    assert.equal(hex(unbindRequest(3)), '3005020103' + '4200');
  });

  it('the base DN is the request without the "/" ldirectord puts before it', () => {
    assert.equal(baseDn('/dc=example,dc=org'), 'dc=example,dc=org');
    assert.equal(baseDn('dc=example,dc=org'), 'dc=example,dc=org');
    assert.equal(baseDn('/'), '');
  });
});

describe('checks: LDAP session', () => {
  it('binds anonymously unless both login and passwd are set, as ldirectord', () => {
    assert.equal(hex(session().open().send?.[0]), hex(bindRequest(1, '', '')));
    assert.equal(hex(session({ login: 'cn=admin' }).open().send?.[0]), hex(bindRequest(1, '', '')));
    assert.equal(hex(session({ passwd: 'pw' }).open().send?.[0]), hex(bindRequest(1, '', '')));
    assert.equal(hex(session({ login: 'cn=admin', passwd: 'pw' }).open().send?.[0]), hex(bindRequest(1, 'cn=admin', 'pw')));
  });

  it('after a successful bind, searches the request as base', () => {
    const step = searching(session());
    assert.equal(hex(step.send?.[0]), hex(searchRequest(2, 'dc=example,dc=org')));
  });

  it('one entry back: up, and it says goodbye with an unbind', () => {
    const s = session();
    searching(s);
    const step = s.receive(Buffer.concat([entry('dc=example,dc=org'), done()]));
    assert.equal(step.done?.up, true);
    assert.match(step.done!.detail, /dc=example,dc=org/);
    assert.equal(hex(step.goodbye), hex(unbindRequest(3)));
  });

  it('a failed bind is down with the result code named, and no search', () => {
    const s = session({ login: 'cn=admin', passwd: 'wrong' });
    s.open();
    const step = s.receive(bindResponse(49, 'bad credentials'));
    assert.equal(step.done?.up, false);
    assert.equal(step.done?.detail, 'bind failed: invalidCredentials (49): bad credentials');
    assert.equal(step.send, undefined);
  });

  it('no entry (noSuchObject) is down', () => {
    const s = session();
    searching(s);
    const step = s.receive(done(32));
    assert.deepEqual(step.done, { up: false, detail: '0 entries: noSuchObject (32)' });
  });

  it('more than one entry is down: ldirectord wants exactly one', () => {
    const s = session();
    searching(s);
    const step = s.receive(Buffer.concat([entry('dc=a'), entry('dc=b'), done()]));
    assert.deepEqual(step.done, { up: false, detail: '2 entries, expected exactly 1' });
  });

  it('receive is a regular expression on the DN', () => {
    const matching = session({ receive: '^dc=example,' });
    searching(matching);
    assert.equal(matching.receive(Buffer.concat([entry('dc=example,dc=org'), done()])).done?.up, true);

    const other = session({ receive: 'ou=people' });
    searching(other);
    const step = other.receive(Buffer.concat([entry('dc=example,dc=org'), done()]));
    assert.deepEqual(step.done, { up: false, detail: 'entry "dc=example,dc=org" does not match receive' });

    const invalid = session({ receive: '(' });
    searching(invalid);
    const bad = invalid.receive(Buffer.concat([entry('dc=example,dc=org'), done()]));
    assert.equal(bad.done?.up, false);
    assert.match(bad.done!.detail, /^receive \/\(\/: missing "\)"$/);
  });

  it('refuses a message above its bound before holding it (a hostile server announcing megabytes)', () => {
    const s = session({});
    searching(s);
    const huge = Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]); // a SEQUENCE announcing 2 GiB
    assert.throws(() => s.receive(huge), /larger than 65536/);
  });

  it('takes the server\'s bytes however they are split', () => {
    const s = session();
    s.open();
    const stream = Buffer.concat([bindResponse(0), entry('dc=example,dc=org'), done()]);
    const steps: Step[] = [];
    for (const b of stream) steps.push(s.receive(Buffer.from([b])));
    assert.equal(steps.filter((st) => st.send?.length).length, 1, 'one search request');
    assert.equal(steps.at(-1)?.done?.up, true);
    assert.ok(steps.slice(0, -1).every((st) => !st.done));
  });

  it('a notice of disconnection ends the check as down', () => {
    const s = session();
    s.open();
    const notice = msg(0, result(0x78, 52, 'shutting down'));
    assert.deepEqual(s.receive(notice).done, { up: false, detail: 'server disconnected: unavailable (52): shutting down' });
  });

  it('throws on a message it did not ask for (protocol error)', () => {
    const s = session();
    s.open();
    assert.throws(() => s.receive(done()), /unexpected message 2/);
  });
});
