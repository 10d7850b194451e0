// A real PostgreSQL (Debian's postgresql package) in a lab node, for the pgsql check's lab tests:
// TLS on, one role per authentication method, a database `health`. Also the helpers the other
// database servers share: waiting for a listener, a self-signed certificate.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Topology } from '../../../lab';
import { writeFile } from '../lvs-agent';

/** Waits until something in `node` listens on TCP `port`; throws with the server's log otherwise. */
export async function waitForPort(topo: Topology, node: string, port: number, log: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const ss = await topo.exec(node, ['ss', '-Hltn', `sport = :${port}`]);
    if (ss.stdout.trim() !== '') return;
    await sleep(50);
  }
  const text = (await topo.kernel.exec({ argv: ['tail', '-c', '2000', log] })).stdout;
  throw new Error(`nothing listens on port ${port} in lab node ${node}; log ${log}:\n${text}`);
}

/** A self-signed certificate and key (PEM) in `dir`, for servers nobody verifies. */
export async function selfSignedCert(topo: Topology, node: string, dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await topo.run(node, ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${node}`, '-keyout', key, '-out', cert]);
  return { cert, key };
}

/** The pid in the first line of a pid file. */
export function pidFrom(file: string): number {
  const pid = Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid in ${file}`);
  return pid;
}

export interface PgsqlSetup {
  address: string;
  port: number;
  /** Passwords of the roles lvs_scram (SCRAM-SHA-256, TLS only), lvs_md5 (md5) and lvs_clear (password). */
  passwords: { scram: string; md5: string; clear: string };
}

export interface PgsqlServer {
  /** The postmaster's pid, on the lab kernel. */
  pid(): number;
}

function binDir(): string {
  const versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('no PostgreSQL server in /usr/lib/postgresql (Debian package postgresql)');
  return join('/usr/lib/postgresql', versions[0], 'bin');
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

export async function startPgsql(topo: Topology, node: string, setup: PgsqlSetup): Promise<PgsqlServer> {
  const bin = binDir();
  const dir = join(topo.node(node).dir, 'pgsql');
  const data = join(dir, 'data');
  await topo.run(node, ['mkdir', '-p', dir]);
  const { cert, key } = await selfSignedCert(topo, node, dir);
  await topo.run(node, ['chown', '-R', 'postgres:', dir]);
  await topo.run(node, ['chmod', '0600', key]);
  await topo.run(node, ['runuser', '-u', 'postgres', '--', join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], {
    timeoutMs: 300_000, // minutes in a busy UML guest, where every write crosses hostfs
  });

  // Through the lab kernel: a UML guest may not see what the host writes under it.
  await writeFile(
    topo,
    join(data, 'pg_hba.conf'),
    [
      'local all postgres trust',
      `hostssl all lvs_scram ${setup.address}/24 scram-sha-256`,
      `host all lvs_md5 ${setup.address}/24 md5`,
      `host all lvs_clear ${setup.address}/24 password`,
      '',
    ].join('\n'),
  );
  const { scram, md5, clear } = setup.passwords;
  // Single-user mode: one statement per line, no listener yet.
  await topo.run(node, ['runuser', '-u', 'postgres', '--', join(bin, 'postgres'), '--single', '-D', data, 'postgres'], {
    stdin: [
      `CREATE ROLE lvs_scram LOGIN PASSWORD ${sqlString(scram)};`,
      "SET password_encryption = 'md5';",
      `CREATE ROLE lvs_md5 LOGIN PASSWORD ${sqlString(md5)};`,
      `CREATE ROLE lvs_clear LOGIN PASSWORD ${sqlString(clear)};`,
      'CREATE DATABASE health;',
      '',
    ].join('\n'),
  });

  const log = join(dir, 'server.log');
  const started = await topo.exec(
    node,
    [
      'runuser', '-u', 'postgres', '--', join(bin, 'postgres'), '-D', data,
      '-c', `listen_addresses=${setup.address}`, '-c', `port=${setup.port}`, '-c', `unix_socket_directories=${dir}`,
      '-c', 'ssl=on', '-c', `ssl_cert_file=${cert}`, '-c', `ssl_key_file=${key}`, '-c', 'fsync=off',
    ],
    { detach: true, log },
  );
  if (started.error) throw new Error(`cannot start PostgreSQL: ${started.error}`);
  await waitForPort(topo, node, setup.port, log);
  return { pid: () => pidFrom(join(data, 'postmaster.pid')) };
}
