// `npm start` / `npm run lab -- <command>`: bring the lab up on this machine and show it.
//   show [DIRECTORS] [REALS]   build the default topology, show it, prove DR works, tear it down
import { defaultSpec, openKernel, Topology } from './index';

async function show(directors: number, reals: number): Promise<void> {
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  const kernel = await openKernel();
  try {
    const info = await kernel.exec({ argv: ['uname', '-r'] });
    console.log(`lab kernel: ${kernel.kind} ${info.stdout.trim()} (up after ${since()})`);
    const topo = await Topology.create(kernel, defaultSpec(directors, reals));
    try {
      console.log(`topology ${topo.prefix} (LAN bridge lan0 in ${topo.switchNs}), built after ${since()}:\n`);
      console.log(topo.describe());
      const vip = topo.spec.vip;
      console.log(`\nVIP ${vip}: on lo with ARP hidden on every real server`);
      const d1 = topo.all('director')[0];
      if (d1) {
        // A director with an IPVS service in direct-routing mode, as lvskit will build it.
        await topo.run(d1.name, ['ip', 'addr', 'add', `${vip}/24`, 'dev', 'eth0']);
        await topo.run(d1.name, ['ipvsadm', '-A', '-t', `${vip}:80`, '-s', 'lc']);
        for (const r of topo.all('real')) await topo.run(d1.name, ['ipvsadm', '-a', '-t', `${vip}:80`, '-r', `${r.ip}:80`, '-g', '-w', '1']);
        console.log(`\nIPVS table on ${d1.name}:\n${await topo.run(d1.name, ['ipvsadm', '-Ln'])}`);
        const answers: string[] = [];
        for (let i = 0; i < 2 * topo.all('real').length; i++) {
          answers.push((await topo.run('client', ['curl', '-sS', '--max-time', '5', `http://${vip}/`])).trim());
        }
        console.log(`client -> http://${vip}/ answered by: ${answers.join(' ')}`);
      }
    } finally {
      await topo.destroy();
    }
  } finally {
    await kernel.close();
  }
  console.log(`\nlab torn down after ${since()}`);
}

async function main(argv: string[]): Promise<number> {
  const [command = 'show', ...rest] = argv;
  const count = (s: string | undefined, dflt: number) => (s === undefined ? dflt : Number.parseInt(s, 10));
  switch (command) {
    case 'show':
    case 'demo':
      await show(count(rest[0], 2), count(rest[1], 2));
      return 0;
    default:
      process.stderr.write(`usage: lab/cli.ts show [DIRECTORS] [REALS]\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`lab: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
