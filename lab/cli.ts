// `npm start` / `npm run lab -- <command>`: bring the lab up on this machine and show it.
//   demo [DIRECTORS]           (npm start) the director cluster built by `lvskit bootstrap --apply`
//                              on real corosync + pacemaker, then the promoted director killed
//                              under the client's load, and the failover's timeline
//   show [DIRECTORS] [REALS]   build the default topology, show it, prove DR works, tear it down
import { defaultSpec, openKernel, Topology } from './index';
import { buildSeeds, formatTimeline, type Sample, SEEDS_CONFIG, startLoad } from './seeds';

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

/** "d1 ×12, d2 ×11, r1 ×12 (2 failed)": who answered these requests. */
function answers(samples: Sample[]): string {
  const by = new Map<string, number>();
  for (const s of samples) if (s.ok) by.set(s.real, (by.get(s.real) ?? 0) + 1);
  const failed = samples.filter((s) => !s.ok).length;
  const list = [...by].sort(([a], [b]) => a.localeCompare(b)).map(([real, n]) => `${real} ×${n}`).join(', ');
  return `${list || 'nobody'}${failed > 0 ? ` (${failed} failed)` : ''}`;
}

const indent = (text: string, by = '    ') => text.trimEnd().split('\n').map((l) => (l.trim() === '' ? '' : by + l)).join('\n');

async function demo(directors: number): Promise<void> {
  const t0 = Date.now();
  const step = (what: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${what}`);
  console.log(`lvskit demo: ${directors} LVS directors that are also DR real servers, one more real server and a client,`);
  console.log('on real corosync + pacemaker; the cluster is built by `lvskit bootstrap --apply`, then the promoted');
  console.log('director is killed while the client sends a request through the VIP every 75 ms.\n');
  const kernel = await openKernel();
  try {
    const info = await kernel.exec({ argv: ['uname', '-r'] });
    step(`lab kernel up: ${kernel.kind} ${info.stdout.trim()}`);
    const seeds = await buildSeeds(kernel, { directors, reals: 1, log: step });
    try {
      const topo = seeds.topo;
      console.log(`\n${indent(topo.describe())}\n`);
      console.log(`  ${SEEDS_CONFIG} on every director (read by lvsd):\n${indent((await topo.run(seeds.directors[0]!, ['cat', SEEDS_CONFIG])).replace(/\t/g, '  '))}\n`);
      console.log(`  lvskit bootstrap --apply --nodes ${seeds.directors.join(',')} --vip ${seeds.vip} … --no-stonith:`);
      console.log(`${indent(seeds.bootstrapOutput.split('\n').filter((l) => /^(running|already done|bootstrap complete)/.test(l)).join('\n'))}\n`);

      const promoted = (await seeds.promoted()) ?? seeds.directors[0]!;
      const load = await startLoad(topo, { intervalMs: 75, timeoutMs: 500 });
      await new Promise((r) => setTimeout(r, 4000));
      step(`lvskit status on ${promoted}, the promoted director:`);
      console.log(`\n${indent(await seeds.status(promoted))}\n`);
      const before = await load.samples();
      step(`client -> http://${seeds.vip}/ answered by: ${answers(before)}`);

      step(`killing ${promoted}: every process SIGKILLed (corosync, pacemaker, lvsd, its HTTP server), its link cut`);
      const t = await seeds.failover(load, 'kill', { node: promoted, timeoutMs: 120_000 });
      step(`failover timeline (seconds from the kill):`);
      console.log(`\n${indent(formatTimeline(t))}\n`);
      const after = (await load.samples()).filter((s) => s.at > (t.outage.firstOkAfter ?? t.faultAt));
      step(`since then the client was answered by: ${answers(after)}`);
      console.log('        (until lvsd has its table the new director answers alone: it holds the VIP and serves HTTP itself)');
      if (t.promoted) {
        step(`lvskit status on ${t.promoted}, the new director:`);
        console.log(`\n${indent(await seeds.status(t.promoted))}\n`);
      }
      await load.stop();
      console.log(`OUTAGE seen by the client when the promoted director died: ${t.outage.ms === undefined ? 'not over (no answer within 120 s)' : `${t.outage.ms} ms`}\n`);
    } finally {
      step('tearing the lab down');
      await seeds.destroy();
    }
  } finally {
    await kernel.close();
  }
  step('done');
}

async function main(argv: string[]): Promise<number> {
  const [command = 'show', ...rest] = argv;
  const count = (s: string | undefined, dflt: number) => (s === undefined ? dflt : Number.parseInt(s, 10));
  switch (command) {
    case 'show':
      await show(count(rest[0], 2), count(rest[1], 2));
      return 0;
    case 'demo':
      await demo(count(rest[0], 2));
      return 0;
    default:
      process.stderr.write(`usage: lab/cli.ts demo [DIRECTORS] | show [DIRECTORS] [REALS]\n`);
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
