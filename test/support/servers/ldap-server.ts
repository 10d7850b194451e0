// A real OpenLDAP slapd (Debian's slapd) in a lab node, for the ldap/ldaps checks' lab tests:
// suffix dc=example,dc=org with ou=people under it, anonymous read (slapd's default access),
// rootdn cn=admin,dc=example,dc=org, and ldaps with a self-signed certificate.
import { join } from 'node:path';
import type { Topology } from '../../../lab';
import { writeFile } from '../lvs-agent';
import { pidFrom, selfSignedCert, waitForPort } from './pgsql-server';

export interface LdapSetup {
  address: string;
  port: number;
  tlsPort: number;
  /** The rootdn's password. */
  password: string;
}

export interface LdapServer {
  pid(): number;
}

export const SUFFIX = 'dc=example,dc=org';
export const ROOTDN = `cn=admin,${SUFFIX}`;

export async function startLdap(topo: Topology, node: string, setup: LdapSetup): Promise<LdapServer> {
  const dir = join(topo.node(node).dir, 'ldap');
  const db = join(dir, 'db');
  await topo.run(node, ['mkdir', '-p', db]);
  const { cert, key } = await selfSignedCert(topo, node, dir);
  const conf = join(dir, 'slapd.conf');
  const pidFile = join(dir, 'slapd.pid');
  // Through the lab kernel: a UML guest may not see what the host writes under it.
  await writeFile(
    topo,
    conf,
    [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      `pidfile ${pidFile}`,
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      `TLSCertificateFile ${cert}`,
      `TLSCertificateKeyFile ${key}`,
      'database mdb',
      'maxsize 10485760',
      `suffix "${SUFFIX}"`,
      `rootdn "${ROOTDN}"`,
      `rootpw ${setup.password}`,
      `directory ${db}`,
      '',
    ].join('\n'),
    '600',
  );
  const ldif = join(dir, 'base.ldif');
  await writeFile(
    topo,
    ldif,
    [
      `dn: ${SUFFIX}`, 'objectClass: dcObject', 'objectClass: organization', 'dc: example', 'o: Example', '',
      `dn: ou=people,${SUFFIX}`, 'objectClass: organizationalUnit', 'ou: people', '',
    ].join('\n'),
  );
  await topo.run(node, ['slapadd', '-f', conf, '-l', ldif]);
  const log = join(dir, 'server.log');
  const urls = `ldap://${setup.address}:${setup.port}/ ldaps://${setup.address}:${setup.tlsPort}/`;
  // -d keeps slapd in the foreground (the lab's detach owns it); level 0 logs nothing routine.
  const started = await topo.exec(node, ['slapd', '-f', conf, '-h', urls, '-d', '0'], { detach: true, log });
  if (started.error) throw new Error(`cannot start slapd: ${started.error}`);
  await waitForPort(topo, node, setup.port, log);
  await waitForPort(topo, node, setup.tlsPort, log);
  return { pid: () => pidFrom(pidFile) };
}
