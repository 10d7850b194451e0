// A real MariaDB (Debian's mariadb-server) in a lab node, for the mysql check's lab tests: a user
// with mysql_native_password (MariaDB's default) allowed to read the database `health`, whose
// table `up` has one row; TLS on, with a self-signed certificate.
import { join } from 'node:path';
import type { Topology } from '../../../lab';
import { pidFrom, selfSignedCert, waitForPort } from './pgsql-server';

export interface MysqlSetup {
  address: string;
  port: number;
  user: string;
  password: string;
}

export interface MysqlServer {
  pid(): number;
}

/** InnoDB reserves address space for an 8 TB buffer pool by default, which a UML guest cannot map. */
const SMALL = ['--innodb-buffer-pool-size=16M', '--innodb-buffer-pool-size-max=16M'];

const sqlString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export async function startMysql(topo: Topology, node: string, setup: MysqlSetup): Promise<MysqlServer> {
  const dir = join(topo.node(node).dir, 'mysql');
  const data = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const pidFile = join(dir, 'mysqld.pid');
  await topo.run(node, ['mkdir', '-p', dir]);
  await topo.run(node, [
    'mariadb-install-db', '--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db',
    ...SMALL,
  ], { timeoutMs: 300_000 }); // minutes in a UML guest, where every write crosses hostfs
  const { cert, key } = await selfSignedCert(topo, node, dir);
  const log = join(dir, 'server.log');
  const started = await topo.exec(
    node,
    [
      'mariadbd', '--no-defaults', `--datadir=${data}`, '--user=root', `--bind-address=${setup.address}`, `--port=${setup.port}`,
      `--socket=${socket}`, `--pid-file=${pidFile}`, '--skip-name-resolve', ...SMALL, `--ssl-cert=${cert}`, `--ssl-key=${key}`,
    ],
    { detach: true, log },
  );
  if (started.error) throw new Error(`cannot start MariaDB: ${started.error}`);
  await waitForPort(topo, node, setup.port, log);
  const user = `${sqlString(setup.user)}@'${setup.address.split('.').slice(0, 3).join('.')}.%'`;
  await topo.run(node, ['mariadb', '--no-defaults', `--socket=${socket}`, '-u', 'root'], {
    stdin: [
      'CREATE DATABASE health;',
      'CREATE TABLE health.up (ok INT);',
      'INSERT INTO health.up VALUES (1);',
      `CREATE USER ${user} IDENTIFIED BY ${sqlString(setup.password)};`,
      `GRANT SELECT ON health.* TO ${user};`,
      '',
    ].join('\n'),
  });
  return { pid: () => pidFrom(pidFile) };
}
