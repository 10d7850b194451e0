// `npm start` / `npm run lab -- <command>`: bring the lab up on this machine and show it.
//   demo [DIRECTORS] [LAYOUT]  (npm start) the director cluster built by `lvskit bootstrap --apply`
//                              on real corosync + pacemaker (layout seeds by default, or dedicated,
//                              two-vips), then the promoted director killed under the client's
//                              load, and the failover's timeline
//   show [DIRECTORS] [REALS]   build the default topology, show it, prove DR works, tear it down
import { buildDirectors, CHECKER_CONFIG, LAYOUTS, type Layout } from './directors';
import { formatTimeline } from './failover';
import { defaultSpec, openKernel, Topology } from './index';
import { startLoad, type Sample } from './load';
import { startSampler } from './sampler';

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

const LAYOUT_TEXT: Record<Layout, string> = {
  seeds: 'LVS directors that are also DR real servers, one more real server and a client',
  dedicated: 'LVS directors that are not real servers, two real servers and a client',
  'two-vips': 'LVS directors, each promoted for one of two VIPs and a DR real server for the other, one more real server and a client',
  'dual-stack': 'LVS directors that are also DR real servers, for an IPv4 and an IPv6 VIP, one more real server and a client',
};

async function demo(directors: number, layout: Layout): Promise<void> {
  const t0 = Date.now();
  const step = (what: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${what}`);
  console.log(`lvskit demo: ${directors} ${LAYOUT_TEXT[layout]},`);
  console.log('on real corosync + pacemaker; the cluster is built by `lvskit bootstrap --apply`, then the promoted');
  console.log('director is killed while the client sends a request through the VIP every 50 ms.\n');
  const kernel = await openKernel();
  try {
    const info = await kernel.exec({ argv: ['uname', '-r'] });
    step(`lab kernel up: ${kernel.kind} ${info.stdout.trim()}`);
    const cluster = await buildDirectors(kernel, { layout, directors, log: step });
    try {
      const topo = cluster.topo;
      console.log(`\n${indent(topo.describe())}\n`);
      console.log(`  ${CHECKER_CONFIG} on every director (read by lvsd):\n${indent((await topo.run(cluster.directors[0]!, ['cat', CHECKER_CONFIG])).replace(/\t/g, '  '))}\n`);
      console.log(`  lvskit bootstrap --apply --nodes ${cluster.directors.join(',')} --vip ${cluster.vip} … --no-stonith:`);
      console.log(`${indent(cluster.bootstrapOutput.split('\n').filter((l) => /^(running|already done|bootstrap complete)/.test(l)).join('\n'))}\n`);

      const promoted = await cluster.waitPromoted();
      const sampler = await startSampler(topo);
      const load = await startLoad(topo);
      await new Promise((r) => setTimeout(r, 4000));
      step(`lvskit status on ${promoted}, the promoted director:`);
      console.log(`\n${indent(await cluster.status(promoted))}\n`);
      const before = await load.samples();
      step(`client -> http://${cluster.vip}/ answered by: ${answers(before)}`);

      step(`killing ${promoted}: every process SIGKILLed (corosync, pacemaker, lvsd, its HTTP server), its link cut`);
      const t = await cluster.failover(load, 'kill', { node: promoted, sampler });
      step(`failover timeline (seconds from the kill):`);
      console.log(`\n${indent(formatTimeline(t))}\n`);
      const after = (await load.samples()).filter((s) => s.at > (t.outage.firstOkAfter ?? t.faultAt));
      step(`since then the client was answered by: ${answers(after)}`);
      if (t.promoted) {
        step(`lvskit status on ${t.promoted}, the new director:`);
        console.log(`\n${indent(await cluster.status(t.promoted))}\n`);
      }
      await load.stop();
      await sampler.stop();
      console.log(`OUTAGE seen by the client when the promoted director died: ${t.outage.ms === undefined ? 'not over' : `${Math.round(t.outage.ms)} ms`}\n`);
    } finally {
      step('tearing the lab down');
      await cluster.destroy();
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
    case 'demo': {
      const layout = (rest[1] ?? 'seeds') as Layout;
      if (!LAYOUTS.includes(layout)) break;
      await demo(count(rest[0], 2), layout);
      return 0;
    }
  }
  process.stderr.write(`usage: lab/cli.ts demo [DIRECTORS] [${LAYOUTS.join('|')}] | show [DIRECTORS] [REALS]\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`lab: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
