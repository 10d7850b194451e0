// ldap and ldaps checks, as ldirectord's check_ldap: bind (simple with login/passwd when both are
// set, else anonymous), search base=request scope=base filter=(objectClass=*); up when exactly one
// entry comes back and its DN matches receive (when set). ldaps is the same over TLS, unverified.
import { boolean, children, enumerated, integer, octetString, readInteger, readTlv, sequence, type Tlv } from './ber';
import { converse, type Session, type Step } from './conversation';
import type { Pattern } from '../pattern';
import { down, receivePattern, up } from './socket';
import type { Check, CheckResult, CheckTarget } from './types';

/** RFC 4511 protocolOp tags ([APPLICATION n], constructed unless noted). */
export const OP = {
  bindRequest: 0x60,
  bindResponse: 0x61,
  unbindRequest: 0x42, // primitive NULL
  searchRequest: 0x63,
  searchResultEntry: 0x64,
  searchResultDone: 0x65,
  searchResultReference: 0x73,
  extendedResponse: 0x78,
} as const;

const RESULT_NAMES: Record<number, string> = {
  0: 'success', 1: 'operationsError', 2: 'protocolError', 3: 'timeLimitExceeded', 4: 'sizeLimitExceeded',
  7: 'authMethodNotSupported', 8: 'strongerAuthRequired', 10: 'referral', 11: 'adminLimitExceeded',
  13: 'confidentialityRequired', 32: 'noSuchObject', 34: 'invalidDNSyntax', 48: 'inappropriateAuthentication',
  49: 'invalidCredentials', 50: 'insufficientAccessRights', 51: 'busy', 52: 'unavailable', 53: 'unwillingToPerform',
  80: 'other',
};

function message(id: number, op: Buffer): Buffer {
  return sequence([integer(id), op]);
}

/** LDAPv3 simple bind; an empty name and password is the anonymous bind. */
export function bindRequest(id: number, name: string, password: string): Buffer {
  return message(id, sequence([integer(3), octetString(name), octetString(password, 0x80)], OP.bindRequest));
}

/** The entry at `base` itself: scope baseObject, derefFindingBaseObj (Net::LDAP's default), (objectClass=*). */
export function searchRequest(id: number, base: string): Buffer {
  return message(
    id,
    sequence(
      [
        octetString(base),
        enumerated(0), // scope: baseObject
        enumerated(2), // derefAliases: derefFindingBaseObj
        integer(0), // sizeLimit
        integer(0), // timeLimit
        boolean(false), // typesOnly
        octetString('objectClass', 0x87), // filter: present
        sequence([octetString('1.1')]), // no attributes: only the DN matters
      ],
      OP.searchRequest,
    ),
  );
}

export function unbindRequest(id: number): Buffer {
  return message(id, Buffer.from([OP.unbindRequest, 0x00]));
}

export interface LdapResult {
  code: number;
  matchedDN: string;
  diagnostic: string;
}

export interface LdapMessage {
  id: number;
  op: number;
  /** The protocolOp element. */
  body: Tlv;
}

export function parseMessage(t: Tlv): LdapMessage {
  const [id, body] = children(t.value);
  if (t.tag !== 0x30 || !id || !body || id.tag !== 0x02) throw new Error('LDAP: malformed message');
  return { id: readInteger(id.value), op: body.tag, body };
}

export function parseResult(body: Tlv): LdapResult {
  const [code, matched, diag] = children(body.value);
  if (!code || code.tag !== 0x0a || !matched || !diag) throw new Error('LDAP: malformed result');
  return { code: readInteger(code.value), matchedDN: matched.value.toString('utf8'), diagnostic: diag.value.toString('utf8') };
}

/** The DN of a SearchResultEntry. */
export function entryDn(body: Tlv): string {
  const [dn] = children(body.value);
  if (!dn || dn.tag !== 0x04) throw new Error('LDAP: malformed entry');
  return dn.value.toString('utf8');
}

export function describeResult(r: LdapResult): string {
  const name = RESULT_NAMES[r.code] ?? 'result';
  return `${name} (${r.code})${r.diagnostic ? `: ${r.diagnostic}` : ''}`;
}

/** ldirectord prepends "/" to every request; the base DN is what follows it. */
export function baseDn(request: string): string {
  return request.startsWith('/') ? request.slice(1) : request;
}

/** The entries asked for carry no attributes ("1.1"): a DN, a referral or a result is far below this. */
export const MAX_MESSAGE = 64 * 1024;

const BIND = 1;
const SEARCH = 2;

export class LdapSession implements Session {
  phase = 'waiting for the bind result';
  private buf = Buffer.alloc(0);
  private entries = 0;
  private firstDn = '';
  private searching = false;

  constructor(private readonly target: Pick<CheckTarget, 'login' | 'passwd' | 'request' | 'receive'>) {}

  open(): Step {
    const { login, passwd } = this.target;
    return { send: [login && passwd ? bindRequest(BIND, login, passwd) : bindRequest(BIND, '', '')] };
  }

  receive(data: Buffer): Step {
    this.buf = Buffer.concat([this.buf, data]);
    const send: Buffer[] = [];
    for (;;) {
      const t = readTlv(this.buf, 0, MAX_MESSAGE);
      if (!t) return { send };
      this.buf = this.buf.subarray(t.size);
      const step = this.handle(parseMessage(t));
      if (step?.done) return step;
      if (step?.send) send.push(...step.send);
    }
  }

  private finish(result: CheckResult): Step {
    return { done: result, goodbye: unbindRequest(SEARCH + 1) };
  }

  private handle(m: LdapMessage): Step | undefined {
    if (m.id === 0 && m.op === OP.extendedResponse) {
      // Notice of Disconnection (RFC 4511 §4.4.1): the server is going away.
      return { done: down(`server disconnected: ${describeResult(parseResult(m.body))}`) };
    }
    if (m.id === BIND && m.op === OP.bindResponse && !this.searching) {
      const r = parseResult(m.body);
      if (r.code !== 0) return this.finish(down(`bind failed: ${describeResult(r)}`));
      this.phase = 'waiting for the search result';
      this.searching = true;
      return { send: [searchRequest(SEARCH, baseDn(this.target.request))] };
    }
    if (m.id === SEARCH && this.searching) {
      if (m.op === OP.searchResultEntry) {
        const dn = entryDn(m.body);
        if (this.entries++ === 0) this.firstDn = dn;
        return undefined;
      }
      if (m.op === OP.searchResultReference) return undefined;
      if (m.op === OP.searchResultDone) return this.finish(this.verdict(parseResult(m.body)));
    }
    throw new Error(`LDAP: unexpected message ${m.id} with operation 0x${m.op.toString(16)}`);
  }

  private verdict(done: LdapResult): CheckResult {
    const n = this.entries;
    const dn = this.firstDn;
    if (n === 0) return down(`0 entries${done.code !== 0 ? `: ${describeResult(done)}` : ''}`);
    if (n > 1) return down(`${n} entries, expected exactly 1`);
    const { receive } = this.target;
    if (receive === '') return up(`entry "${dn}"`);
    let re: Pattern;
    try {
      re = receivePattern(receive);
    } catch (err) {
      return down((err as Error).message);
    }
    // Bounded by MAX_MESSAGE, so matched at once.
    return re.test(dn) ? up(`entry "${dn}" matches receive`) : down(`entry "${dn}" does not match receive`);
  }
}

export const ldapCheck: Check = (target, signal) =>
  converse(target, signal, new LdapSession(target), { tls: target.service === 'ldaps' });
