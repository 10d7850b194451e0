// Which function checks what: check kind (checktype) and, for negotiate checks, the service.
import type { ServiceName } from '../config/model';
import type { CheckKind } from '../health';
import { connectCheck } from './connect';
import { dnsCheck } from './dns';
import { externalCheck } from './external';
import { ftpCheck } from './ftp';
import { httpCheck } from './http';
import { imapCheck } from './imap';
import { ldapCheck } from './ldap';
import { mysqlCheck } from './mysql';
import { nntpCheck } from './nntp';
import { pgsqlCheck } from './pgsql';
import { pingCheck } from './ping';
import { popCheck } from './pop';
import { simpletcpCheck } from './simpletcp';
import { sipCheck } from './sip';
import { smtpCheck } from './smtp';
import { printable } from './detail';
import type { Check } from './types';

export type { Check, CheckResult, CheckTarget } from './types';

const always: Check = () => Promise.resolve({ up: true, detail: 'no check' });

/** Every result leaves here as one printable line: a real's bytes never reach a terminal raw. */
const printed = (check: Check): Check => async (target, signal) => {
  const r = await check(target, signal);
  return { up: r.up, detail: printable(r.detail) };
};

const NEGOTIATE: Record<ServiceName, Check> = {
  dns: dnsCheck,
  ftp: ftpCheck,
  http: httpCheck,
  https: httpCheck,
  http_proxy: httpCheck,
  imap: imapCheck,
  imaps: imapCheck,
  ldap: ldapCheck,
  ldaps: ldapCheck,
  mysql: mysqlCheck,
  nntp: nntpCheck,
  none: always,
  pgsql: pgsqlCheck,
  pop: popCheck,
  pops: popCheck,
  simpletcp: simpletcpCheck,
  sip: sipCheck,
  smtp: smtpCheck,
  submission: smtpCheck,
};

export function checkFor(kind: CheckKind, service: ServiceName): Check {
  return printed(uncleaned(kind, service));
}

function uncleaned(kind: CheckKind, service: ServiceName): Check {
  switch (kind) {
    case 'connect':
      return connectCheck;
    case 'ping':
      return pingCheck;
    case 'external':
      return externalCheck;
    case 'on':
      return always;
    case 'negotiate':
      return NEGOTIATE[service];
  }
}
