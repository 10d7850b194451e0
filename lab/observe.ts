// What a lab node holds, read back from the system (ip, ipvsadm, /proc), never from lvskit's word:
// where a VIP sits, the IPVS table, the client's ARP entry, which processes run; and the lab
// kernel's clock, which every lab time is on.
import type { Kernel } from './kernel';
import type { Topology } from './topology';

/** Lab kernel clock minus this process's clock, in ms (0 on the host; a few ms either way under UML). */
export async function clockOffset(kernel: Kernel): Promise<number> {
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    const r = await kernel.exec({ argv: ['date', '+%s%3N'] });
    const t1 = Date.now();
    const guest = Number(r.stdout.trim());
    if (r.code === 0 && Number.isFinite(guest) && t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: guest - (t0 + t1) / 2 };
  }
  return Math.round(best.offset);
}

/** The lab kernel's clock now, ms. */
export async function labNow(kernel: Kernel): Promise<number> {
  return Date.now() + (await clockOffset(kernel));
}

/** Every process of a node except the holder of its namespaces. */
export async function nodePids(topo: Topology, node: string): Promise<number[]> {
  const n = topo.node(node);
  const out = await topo.kernel.exec({ argv: ['ip', 'netns', 'pids', n.netns] });
  return out.stdout.split(/\s+/).filter(Boolean).map(Number).filter((p) => Number.isInteger(p) && p !== n.pid);
}

/** The prefix lengths with which `vip` sits on a node's device ([] when absent). */
export async function vipOn(topo: Topology, node: string, dev: string, vip = topo.spec.vip): Promise<number[]> {
  const out = await topo.run(node, ['ip', '-j', 'addr', 'show', 'dev', dev]);
  const links = JSON.parse(out) as { addr_info?: { local: string; prefixlen: number }[] }[];
  return links.flatMap((l) => l.addr_info ?? []).filter((a) => a.local === vip).map((a) => a.prefixlen);
}

/** The directors that hold the VIP on their NIC (eth0). */
export async function vipOnNic(topo: Topology, nodes = topo.all('director').map((n) => n.name), vip = topo.spec.vip): Promise<string[]> {
  const out: string[] = [];
  for (const n of nodes) if ((await vipOn(topo, n, 'eth0', vip)).length > 0) out.push(n);
  return out;
}

export interface IpvsReal {
  address: string;
  forward: string;
  weight: number;
  upper: number;
  lower: number;
  active: number;
  inactive: number;
}
export interface IpvsService {
  /** 'TCP 198.51.100.100:80' */
  service: string;
  scheduler: string;
  reals: IpvsReal[];
}

/** The node's IPVS table: `ipvsadm -Ln` (forwarding, weight, connections) and `-Ln --thresholds`. */
export async function ipvsTable(topo: Topology, node: string): Promise<IpvsService[]> {
  const thr = await topo.run(node, ['ipvsadm', '-Ln', '--thresholds']);
  const cnt = await topo.run(node, ['ipvsadm', '-Ln']);
  const parse = (text: string) => {
    const services: { service: string; scheduler: string; rows: string[][] }[] = [];
    for (const line of text.split('\n')) {
      const svc = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\S+)/.exec(line);
      if (svc) services.push({ service: `${svc[1]} ${svc[2]}`, scheduler: svc[3]!, rows: [] });
      const real = /^\s+->\s+(.*)$/.exec(line);
      if (real && services.length > 0) services[services.length - 1]!.rows.push(real[1]!.trim().split(/\s+/));
    }
    return services;
  };
  // -Ln: RemoteAddress:Port Forward Weight ActiveConn InActConn; --thresholds: … Uthreshold Lthreshold ActiveConn InActConn
  const thresholds = new Map(parse(thr).flatMap((s) => s.rows.map((r) => [`${s.service} ${r[0]}`, r] as const)));
  return parse(cnt).map((s) => ({
    service: s.service,
    scheduler: s.scheduler,
    reals: s.rows.map((r) => {
      const t = thresholds.get(`${s.service} ${r[0]}`);
      return {
        address: r[0]!,
        forward: r[1]!,
        weight: Number(r[2]),
        upper: Number(t?.[1] ?? 0),
        lower: Number(t?.[2] ?? 0),
        active: Number(r[3]),
        inactive: Number(r[4]),
      };
    }),
  }));
}

/** The node's IPVS services for a VIP ('TCP VIP:80', 'TCP [IPv6 VIP]:80', …). */
export async function servicesFor(topo: Topology, node: string, vip = topo.spec.vip): Promise<string[]> {
  const prefix = vip.includes(':') ? `[${vip}]:` : `${vip}:`;
  return (await ipvsTable(topo, node)).map((s) => s.service).filter((s) => s.split(' ')[1]?.startsWith(prefix));
}

/** IPVS connection entries of a node (`ipvsadm -Lnc`): client, virtual and real address:port. */
export async function ipvsConnections(topo: Topology, node: string): Promise<{ client: string; virtual: string; real: string; state: string }[]> {
  const out = await topo.run(node, ['ipvsadm', '-Lnc']);
  return out.split('\n').flatMap((line) => {
    // pro expire state source virtual destination
    const c = line.trim().split(/\s+/);
    return c.length >= 6 && /^(TCP|UDP|SCTP)$/.test(c[0]!) ? [{ state: c[2]!, client: c[3]!, virtual: c[4]!, real: c[5]! }] : [];
  });
}

/** The client's neighbour entry for the VIP (`ip neigh show VIP` in the client), if any. */
export async function clientArp(topo: Topology, client = 'client', vip = topo.spec.vip): Promise<{ mac: string | undefined; state: string } | undefined> {
  const out = await topo.run(client, ['ip', '-j', 'neigh', 'show', vip]);
  const [e] = JSON.parse(out || '[]') as { lladdr?: string; state?: string[] }[];
  return e ? { mac: e.lladdr, state: (e.state ?? []).join(',') } : undefined;
}

/** The node whose eth0 has this MAC. */
export function nodeByMac(topo: Topology, mac: string | undefined): string | undefined {
  return topo.all().find((n) => n.mac === mac)?.name;
}

/** Pids of lvsd (`lvskit checker … --config FILE`) running in a node, from /proc, not lvsd's word. */
export async function checkerPids(topo: Topology, node: string, config: string): Promise<number[]> {
  const out: number[] = [];
  for (const pid of await nodePids(topo, node)) {
    const r = await topo.kernel.exec({ argv: ['cat', `/proc/${pid}/cmdline`] });
    const argv = r.stdout.split('\0');
    if (r.code === 0 && argv.includes('checker') && argv.includes(config)) out.push(pid);
  }
  return out;
}
