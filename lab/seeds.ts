// The seeds' cluster in the lab: N directors (2 or 3) that are also DR real servers, separate real
// servers, a client; corosync + pacemaker started with lab/cluster.ts and the resources built by the
// binary under test, `lvskit bootstrap --apply`. Plus the tools a failover needs: a client load
// generator, node death and revival, link cuts, the client's ARP entry, the promoted node, a timeline.
//
// Exports (stable: bench/failover.ts builds on them):
//   SEEDS_CONFIG, seedsSpec(directors, reals), seedsConfig(topo, options)  the topology spec and ldirectord.cf
//   buildSeedsTopology(kernel, options)     the namespaces only (HTTP everywhere, echo on the reals; directors' ARP untouched)
//   buildSeeds(kernel, options) → Seeds     topology + cluster + bootstrap, until one node is promoted and lvsd runs
//   Seeds: topo, vip, directors, reals, bootstrapOutput, promoted(), waitPromoted(), waitChecker(),
//          failover(load, 'kill' | 'cut') → Timeline, status(), destroy()
//   startLoad(topo, options) → Load         client requests through the VIP; samples(), stop()
//   startEcho(topo, node), startChat(topo)  an echo server on ECHO_PORT, one long-lived client connection to it
//   outage(samples, atMs)                   the client's gap around an event (last ok before, first ok after)
//   killNode, reviveNode, cutLink, restoreLink, stopHttp, clientArp, vipOn, vipOnNic, ipvsTable, checkerPids,
//   crmResources, promotedNode, clockOffset, recordFailover, pacemakerEvents, formatTimeline
// Times are milliseconds of the lab kernel's clock (the guest's, under UML); `clockOffset` converts.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster } from './cluster';
import { describe as describeResult, type Kernel } from './kernel';
import { defaultSpec, LAN, Topology, type NodeSpec, type TopologySpec } from './topology';

/** Where every director's lvsd reads its configuration (/etc/ha.d is private to each director). */
export const SEEDS_CONFIG = '/etc/ha.d/ldirectord.cf';
/** A second service on the VIP, for long-lived TCP connections: an echo server on the separate reals. */
export const ECHO_PORT = 7000;

export interface SeedsOptions {
  /** Directors, also real servers: 2 or 3. Default 2. */
  directors?: number;
  /** Separate real servers (r1…). Default 1. */
  reals?: number;
  /** lvs sync_interface (bootstrap --sync-interface), e.g. 'eth0'. Default: none. */
  syncInterface?: string;
  /** lvsd slowstart, seconds. Default 5. */
  slowstart?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Time limit for the cluster to come online and for the first promotion. Default 180 s each. */
  timeoutMs?: number;
}

/** Directors d1… (.11…) that serve HTTP with their own name, reals r1… (.21…), the client (.10). */
export function seedsSpec(directors = 2, reals = 1): TopologySpec {
  if (directors < 2 || directors > 3) throw new Error(`the seeds' cluster has 2 or 3 directors, not ${directors}`);
  const spec = defaultSpec(directors, reals);
  const nodes: NodeSpec[] = spec.nodes.map((n) => (n.role === 'director' ? { ...n, http: true } : n));
  return { ...spec, nodes };
}

/**
 * The ldirectord.cf every director's lvsd reads: VIP:80 with lc over every director and real
 * (negotiate HTTP, 1 s interval and timeout, quiescent, slow start), and VIP:ECHO_PORT over the
 * separate reals only (connect check), for connections that must outlive a failover.
 */
export function seedsConfig(topo: Topology, options: { slowstart?: number } = {}): string {
  const servers = [...topo.all('director'), ...topo.all('real')];
  const reals = topo.all('real');
  const vip = topo.spec.vip;
  return [
    'checktimeout=1',
    'checkinterval=1',
    'quiescent=yes',
    `slowstart=${options.slowstart ?? 5}`,
    // Node-private (each director has its own /var/log/pacemaker): who checked what stays apart.
    'logfile="/var/log/pacemaker/lvsd.log"',
    '',
    `virtual=${vip}:80`,
    ...servers.map((s) => `\treal=${s.ip}:80 gate`),
    '\tscheduler=lc',
    '\tprotocol=tcp',
    '\tchecktype=negotiate',
    '\tservice=http',
    '\trequest="/"',
    '',
    `# ${vip}:${ECHO_PORT}: an echo service on the separate reals, for connections that outlive a failover`,
    `virtual=${vip}:${ECHO_PORT}`,
    ...reals.map((s) => `\treal=${s.ip}:${ECHO_PORT} gate`),
    '\tscheduler=lc',
    '\tprotocol=tcp',
    '\tchecktype=connect',
    '',
  ].join('\n');
}

/**
 * The topology alone: every HTTP server running, the separate reals with the VIP on lo (ARP
 * hidden) and an echo server on ECHO_PORT; the directors' ARP and VIP are left to the lvs agent.
 */
export async function buildSeedsTopology(kernel: Kernel, options: SeedsOptions = {}): Promise<Topology> {
  const topo = await Topology.create(kernel, seedsSpec(options.directors ?? 2, options.reals ?? 1));
  try {
    for (const r of topo.all('real')) await startEcho(topo, r.name);
  } catch (err) {
    await topo.destroy();
    throw err;
  }
  return topo;
}

export class Seeds {
  constructor(
    readonly topo: Topology,
    /** The output of `lvskit bootstrap --apply` (stdout then stderr). */
    readonly bootstrapOutput: string,
  ) {}

  get vip(): string {
    return this.topo.spec.vip;
  }
  get directors(): string[] {
    return this.topo.all('director').map((n) => n.name);
  }
  get reals(): string[] {
    return this.topo.all('real').map((n) => n.name);
  }

  /** The node crm_mon (run on `from`, default: the first director that answers) shows lvs promoted on. */
  async promoted(from?: string[] | string): Promise<string | undefined> {
    const froms = from === undefined ? this.directors : typeof from === 'string' ? [from] : from;
    for (const n of froms) {
      const r = await crmResources(this.topo, n);
      if (r) return promotedNode(r);
    }
    return undefined;
  }

  /** Waits until crm_mon on `from` shows exactly one promoted lvs instance, not on `not`; returns its node. */
  async waitPromoted(options: { from?: string[]; not?: string; timeoutMs?: number } = {}): Promise<string> {
    const froms = options.from ?? this.directors.filter((d) => d !== options.not);
    const until = Date.now() + (options.timeoutMs ?? 120_000);
    let last = '';
    for (;;) {
      for (const n of froms) {
        const r = await crmResources(this.topo, n);
        if (!r) continue;
        last = JSON.stringify(r);
        const p = r.filter((i) => i.id === 'lvs' && i.role === 'Promoted');
        if (p.length === 1 && p[0]!.node !== undefined && p[0]!.node !== options.not) return p[0]!.node;
        break;
      }
      if (Date.now() > until) throw new Error(`no promoted lvs instance${options.not ? ` other than ${options.not}` : ''} after ${(options.timeoutMs ?? 120_000) / 1000} s; crm_mon: ${last}`);
      await sleep(500);
    }
  }

  /** Waits until crm_mon on `node` shows lvsd Started there. */
  async waitChecker(node: string, timeoutMs = 120_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last: CrmInstance[] | undefined;
    while (Date.now() < until) {
      last = await crmResources(this.topo, node);
      if (last?.some((i) => i.id === 'lvsd' && i.role === 'Started' && i.node === node)) return;
      await sleep(1000);
    }
    throw new Error(`lvsd not started on ${node} after ${timeoutMs / 1000} s; crm_mon: ${JSON.stringify(last)}`);
  }

  /**
   * The promoted director fails (`kill`: killNode; `cut`: cutLink) under the client's load; returns,
   * once lvsd runs on the new director (or 90 s passed), the timeline with pacemaker's own times of
   * the promotion and of lvsd's start.
   */
  async failover(load: Load, how: 'kill' | 'cut', options: { node?: string; timeoutMs?: number } = {}): Promise<Timeline> {
    const node = options.node ?? (await this.promoted());
    if (node === undefined) throw new Error('no promoted director to fail');
    const others = this.directors.filter((d) => d !== node);
    return recordFailover(this.topo, load, {
      node,
      fault: how === 'kill' ? 'killed (every process SIGKILLed, switch port down)' : 'lost link (switch port down, processes running)',
      inject: () => (how === 'kill' ? killNode(this.topo, node) : cutLink(this.topo, node)),
      promoted: () => this.promoted(others),
      settle: (promoted) => this.waitChecker(promoted, 90_000),
      details: (promoted, since) => pacemakerEvents(this.topo, promoted, since),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
  }

  /** `lvskit status` on a node. */
  status(node: string): Promise<string> {
    return this.topo.run(node, [this.topo.spec.binary, 'status']);
  }

  destroy(): Promise<void> {
    return this.topo.destroy();
  }
}

/**
 * The seeds' cluster: topology, ldirectord.cf on every director, corosync + pacemaker on the
 * directors, `lvskit bootstrap --apply … --no-stonith` on the first, and one node promoted.
 * On failure everything built so far is torn down.
 */
export async function buildSeeds(kernel: Kernel, options: SeedsOptions = {}): Promise<Seeds> {
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 180_000;
  const topo = await buildSeedsTopology(kernel, options);
  try {
    const directors = topo.all('director').map((n) => n.name);
    log(`topology ${topo.prefix}: ${topo.all().map((n) => n.name).join(', ')}`);
    const config = seedsConfig(topo, options);
    for (const d of directors) await topo.run(d, ['tee', SEEDS_CONFIG], { stdin: config });
    await startCluster(topo, directors, { name: 'seeds', timeoutMs });
    log(`corosync + pacemaker online on ${directors.join(', ')}`);
    const argv = [
      topo.spec.binary, 'bootstrap', '--apply', '--name', 'seeds', '--nodes', directors.join(','),
      '--vip', topo.spec.vip, '--vip-prefix', String(topo.spec.prefixLength), '--nic', 'eth0',
      '--config', SEEDS_CONFIG, '--no-stonith',
      ...(options.syncInterface ? ['--sync-interface', options.syncInterface] : []),
    ];
    const r = await topo.exec(directors[0]!, argv, { timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`lvskit bootstrap failed on ${directors[0]}: ${describeResult(r)}`);
    const seeds = new Seeds(topo, r.stdout + r.stderr);
    log(`lvskit bootstrap --apply done`);
    const p = await seeds.waitPromoted({ from: directors, timeoutMs });
    log(`lvs promoted on ${p}`);
    await seeds.waitChecker(p, timeoutMs);
    log(`lvsd started on ${p}`);
    return seeds;
  } catch (err) {
    await topo.destroy();
    throw err;
  }
}

// ---- pacemaker, read back -------------------------------------------------------------------------

export interface CrmInstance {
  id: string;
  role: string;
  node: string | undefined;
  failed: boolean;
}

/** Resource instances from `crm_mon --output-as=xml` on `from`; undefined when crm_mon does not answer there. */
export async function crmResources(topo: Topology, from: string): Promise<CrmInstance[] | undefined> {
  const r = await topo.exec(from, ['crm_mon', '-1', '--output-as=xml'], { timeoutMs: 20_000 });
  if (r.code !== 0 || !r.stdout.includes('<resources>')) return undefined;
  const out: CrmInstance[] = [];
  for (const m of r.stdout.matchAll(/<resource id="([^"]+)"([^>]*?)(?:\/>|>([\s\S]*?)<\/resource>)/g)) {
    const attrs = m[2] ?? '';
    out.push({
      id: m[1]!,
      role: /\brole="([^"]+)"/.exec(attrs)?.[1] ?? '',
      node: /<node name="([^"]+)"/.exec(m[3] ?? '')?.[1],
      failed: /\bfailed="true"/.test(attrs),
    });
  }
  return out;
}

/** The node of the single promoted instance of `id` (default lvs); undefined when none or several. */
export function promotedNode(instances: CrmInstance[], id = 'lvs'): string | undefined {
  const p = instances.filter((i) => i.id === id && i.role === 'Promoted');
  return p.length === 1 ? p[0]!.node : undefined;
}

// ---- what a node holds ----------------------------------------------------------------------------

/** The prefix lengths with which `vip` sits on a node's device ([] when absent). */
export async function vipOn(topo: Topology, node: string, dev: string, vip = topo.spec.vip): Promise<number[]> {
  const out = await topo.run(node, ['ip', '-j', 'addr', 'show', 'dev', dev]);
  const links = JSON.parse(out) as { addr_info?: { local: string; prefixlen: number }[] }[];
  return links.flatMap((l) => l.addr_info ?? []).filter((a) => a.local === vip).map((a) => a.prefixlen);
}

/** The directors that hold the VIP on their NIC (eth0). */
export async function vipOnNic(topo: Topology, nodes = topo.all('director').map((n) => n.name)): Promise<string[]> {
  const out: string[] = [];
  for (const n of nodes) if ((await vipOn(topo, n, 'eth0')).length > 0) out.push(n);
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

/** The client's neighbour entry for the VIP (`ip neigh show VIP` in the client), if any. */
export async function clientArp(topo: Topology, client = 'client'): Promise<{ mac: string | undefined; state: string } | undefined> {
  const out = await topo.run(client, ['ip', '-j', 'neigh', 'show', topo.spec.vip]);
  const [e] = JSON.parse(out || '[]') as { lladdr?: string; state?: string[] }[];
  return e ? { mac: e.lladdr, state: (e.state ?? []).join(',') } : undefined;
}

/** The node whose eth0 has this MAC. */
export function nodeByMac(topo: Topology, mac: string | undefined): string | undefined {
  return topo.all().find((n) => n.mac === mac)?.name;
}

// ---- the lab kernel's clock -----------------------------------------------------------------------

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

// ---- faults ---------------------------------------------------------------------------------------

async function setSwitchPort(topo: Topology, node: string, state: 'up' | 'down'): Promise<void> {
  const r = await topo.kernel.exec({ argv: ['ip', '-n', topo.switchNs, 'link', 'set', node, state] });
  if (r.code !== 0) throw new Error(`cannot set ${node}'s switch port ${state}: ${describeResult(r)}`);
}

/** Every process of a node except the holder of its namespaces. */
async function nodePids(topo: Topology, node: string): Promise<number[]> {
  const n = topo.node(node);
  const out = await topo.kernel.exec({ argv: ['ip', 'netns', 'pids', n.netns] });
  return out.stdout.split(/\s+/).filter(Boolean).map(Number).filter((p) => Number.isInteger(p) && p !== n.pid);
}

/**
 * The node dies: its switch port goes down (its eth0 loses carrier, nothing reaches the LAN) and
 * every process of it (corosync, pacemakerd and children, lvsd, HTTP server…) is killed with
 * SIGKILL. The namespaces stay, for reviveNode. Returns when the link was down (this process's clock).
 */
export async function killNode(topo: Topology, node: string): Promise<number> {
  await setSwitchPort(topo, node, 'down');
  const at = Date.now();
  // Twice: a process may fork while the first kill runs (pacemakerd respawning a child).
  for (let i = 0; i < 2; i++) {
    const pids = await nodePids(topo, node);
    if (pids.length > 0) await topo.kernel.exec({ argv: ['kill', '-9', ...pids.map(String)] });
  }
  const left = await nodePids(topo, node);
  if (left.length > 0) throw new Error(`processes of ${node} survived SIGKILL: ${left.join(' ')}`);
  return at;
}

/**
 * The dead node boots again: what a reboot clears is cleared (addresses but its own, the IPVS table
 * and sync daemons, ARP sysctls back to the kernel's defaults, neighbours, /run, /dev/shm), its
 * switch port comes up, corosync and pacemakerd start (directors) and its HTTP server (if it has
 * one). Persistent files (/etc, /var/lib/pacemaker) stay, as on disk. Waits until crm_mon on the
 * node shows it online with a DC (directors).
 */
export async function reviveNode(topo: Topology, node: string, options: { timeoutMs?: number; cluster?: boolean } = {}): Promise<void> {
  const n = topo.node(node);
  const run = (argv: string[]) => topo.run(node, argv);
  await run(['ip', 'addr', 'flush', 'dev', 'eth0']);
  await run(['ip', 'addr', 'add', `${n.ip}/${topo.spec.prefixLength}`, 'dev', 'eth0']);
  for (const p of await vipOn(topo, node, 'lo')) await run(['ip', 'addr', 'del', `${topo.spec.vip}/${p}`, 'dev', 'lo']);
  await run(['ip', 'neigh', 'flush', 'all']);
  await run(['ipvsadm', '-C']);
  for (const role of ['master', 'backup']) await topo.exec(node, ['ipvsadm', '--stop-daemon', role]);
  if (n.role === 'director') {
    await run(['sysctl', '-q', ...['all', 'lo'].flatMap((d) => ['-w', `net.ipv4.conf.${d}.arp_ignore=0`, '-w', `net.ipv4.conf.${d}.arp_announce=0`]), '-w', 'net.ipv4.vs.backup_only=0']);
    // -xdev: only the node's own tmpfs, never a mount below it.
    await run(['find', '/run', '/dev/shm', '-xdev', '-mindepth', '1', '-delete']);
    await run(['mkdir', '-p', '/run/crm', '/run/resource-agents']);
    await run(['chown', 'hacluster:haclient', '/run/crm']);
  } else {
    await topo.makeRealServer(node);
  }
  await setSwitchPort(topo, node, 'up');
  if (n.http) await topo.startHttp(node);
  if (n.role === 'real') await startEcho(topo, node);
  // cluster: false is the same reboot for a director that runs no corosync/pacemaker (keepalived).
  if (n.role !== 'director' || options.cluster === false) return;
  for (const argv of [['corosync', '-f'], ['pacemakerd', '-f']]) {
    const r = await topo.exec(node, argv, { detach: true, log: `${n.dir}/${argv[0]}.log` });
    if (r.error !== undefined) throw new Error(`cannot start ${argv[0]} on ${node}: ${r.error}`);
  }
  const until = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const r = await topo.exec(node, ['crm_mon', '-1', '--output-as=xml'], { timeoutMs: 20_000 });
    const online = new RegExp(`<node name="${node}"[^>]*\\bonline="true"`).test(r.stdout);
    if (online && /<current_dc [^>]*present="true"/.test(r.stdout)) return;
    if (Date.now() > until) throw new Error(`${node} not back online after ${(options.timeoutMs ?? 120_000) / 1000} s:\n${r.stdout}${r.stderr}`);
    await sleep(1000);
  }
}

/** The node's switch port goes down: its eth0 loses carrier while every process keeps running. */
export async function cutLink(topo: Topology, node: string): Promise<number> {
  await setSwitchPort(topo, node, 'down');
  return Date.now();
}

/** The node's switch port comes up again; returns when (this process's clock). */
export async function restoreLink(topo: Topology, node: string): Promise<number> {
  await setSwitchPort(topo, node, 'up');
  return Date.now();
}

/** Stops the node's HTTP server on port 80 (the real server dies, the node does not). */
export async function stopHttp(topo: Topology, node: string): Promise<void> {
  const ss = await topo.run(node, ['ss', '-Hltnp', 'sport = :80']);
  const pids = [...new Set([...ss.matchAll(/pid=(\d+)/g)].map((m) => m[1]!))];
  if (pids.length === 0) throw new Error(`no HTTP server listens on ${node}:80`);
  await topo.run(node, ['kill', ...pids]);
  for (let i = 0; i < 100; i++) {
    if ((await topo.run(node, ['ss', '-Hltn', 'sport = :80'])).trim() === '') return;
    await sleep(50);
  }
  throw new Error(`the HTTP server on ${node} still listens`);
}

// ---- the client's load --------------------------------------------------------------------------

/** One request of the load generator, lab kernel clock. */
export interface Sample {
  /** Start of the request (ms). */
  at: number;
  /** Its duration (ms). */
  ms: number;
  ok: boolean;
  /** HTTP status, or the error's name (timeout, ConnectionRefusedError…). */
  status: string;
  /** The body: the name of the real server that answered (when ok). */
  real: string;
  /** The client's ARP entry for the VIP at the end of the request ('-' when none). */
  mac: string;
}

// Runs inside the client: one new connection per request (so IPVS schedules each), a short
// timeout, one line per request; the ARP entry read from /proc/net/arp, no process started.
const LOAD_PY = String.raw`
import http.client, sys, time
vip, out, interval, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3]) / 1000, float(sys.argv[4]) / 1000
def arp():
    try:
        with open('/proc/net/arp') as f:
            for line in f.read().splitlines()[1:]:
                c = line.split()
                if c and c[0] == vip and c[2] != '0x0':
                    return c[3]
    except OSError:
        pass
    return '-'
with open(out, 'a', buffering=1) as f:
    while True:
        t0 = time.time()
        try:
            c = http.client.HTTPConnection(vip, 80, timeout=timeout)
            c.request('GET', '/')
            r = c.getresponse()
            body = r.read().decode('utf-8', 'replace').strip().split()
            status, real = str(r.status), (body[0] if body else '-')
            c.close()
        except Exception as e:
            status, real = ('timeout' if isinstance(e, TimeoutError) else type(e).__name__), '-'
        t1 = time.time()
        f.write('%d %d %s %s %s\n' % (t0 * 1000, (t1 - t0) * 1000, status, real, arp()))
        time.sleep(max(0.0, interval - (t1 - t0)))
`;

export interface Load {
  /** Every request so far. */
  samples(): Promise<Sample[]>;
  /** Stops the generator (its process, by pid). */
  stop(): Promise<void>;
}

/** Starts the client's requests to http://VIP/ every `intervalMs` (default 75) with a `timeoutMs` (default 500) limit. */
export async function startLoad(topo: Topology, options: { intervalMs?: number; timeoutMs?: number; client?: string } = {}): Promise<Load> {
  const client = options.client ?? 'client';
  const file = join(topo.node(client).dir, `load-${Date.now()}.log`);
  const r = await topo.exec(client, ['python3', '-c', LOAD_PY, topo.spec.vip, file, String(options.intervalMs ?? 75), String(options.timeoutMs ?? 500)], {
    detach: true,
    log: `${file}.err`,
  });
  if (r.error !== undefined || r.pid === undefined) throw new Error(`cannot start the load generator in ${client}: ${describeResult(r)}`);
  const pid = r.pid;
  const samples = async () => {
    const out = await topo.kernel.exec({ argv: ['cat', file] });
    return out.stdout.split('\n').flatMap((line) => {
      const [at, ms, status, real, mac] = line.split(' ');
      if (mac === undefined) return [];
      return [{ at: Number(at), ms: Number(ms), ok: status === '200', status: status!, real: real!, mac }];
    });
  };
  // The first line proves it runs.
  for (let i = 0; (await samples()).length === 0; i++) {
    if (i > 100) throw new Error(`the load generator in ${client} wrote nothing: ${(await topo.kernel.exec({ argv: ['cat', `${file}.err`] })).stdout}`);
    await sleep(100);
  }
  return {
    samples,
    stop: async () => {
      await topo.kernel.exec({ argv: ['kill', String(pid)] });
    },
  };
}

export interface Outage {
  /** Start of the last successful request before the event (ms, lab clock). */
  lastOkBefore: number | undefined;
  /** End of the first successful request after it. */
  firstOkAfter: number | undefined;
  /** firstOkAfter − lastOkBefore's end: the time the client got no answer. */
  ms: number | undefined;
  failed: number;
}

/**
 * The client's outage around an event at `atMs` (lab clock): from the end of the last successful
 * request that started before it to the end of the first successful one that started after it.
 */
export function outage(samples: Sample[], atMs: number): Outage {
  const before = samples.filter((s) => s.at <= atMs && s.ok).pop();
  const after = samples.find((s) => s.at > atMs && s.ok);
  const from = before ? before.at + before.ms : undefined;
  const to = after ? after.at + after.ms : undefined;
  const failed = samples.filter((s) => !s.ok && s.at >= (before?.at ?? atMs) && (to === undefined || s.at < to)).length;
  return { lastOkBefore: from, firstOkAfter: to, ms: from !== undefined && to !== undefined ? to - from : undefined, failed };
}

// ---- a long-lived connection ----------------------------------------------------------------------

// An echo server for ECHO_PORT on the separate reals: one thread per connection, bytes sent back.
const ECHO_PY = String.raw`
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', int(sys.argv[1])))
s.listen(64)
def serve(c):
    with c:
        while True:
            d = c.recv(4096)
            if not d:
                return
            c.sendall(d)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

/** Starts the echo server on a node's port (default ECHO_PORT); returns once it listens. */
export async function startEcho(topo: Topology, node: string, port = ECHO_PORT): Promise<void> {
  const r = await topo.exec(node, ['python3', '-c', ECHO_PY, String(port)], { detach: true, log: join(topo.node(node).dir, 'echo.log') });
  if (r.error !== undefined) throw new Error(`cannot start the echo server on ${node}: ${describeResult(r)}`);
  for (let i = 0; i < 200; i++) {
    if ((await topo.run(node, ['ss', '-Hltn', `sport = :${port}`])).trim() !== '') return;
    await sleep(50);
  }
  throw new Error(`the echo server on ${node} does not listen on port ${port}`);
}

// One TCP connection to VIP:port, kept for the whole run: a numbered line every interval, its echo
// awaited (TCP retransmits through an outage), one log line per echo; the first error ends it.
const CHAT_PY = String.raw`
import socket, sys, time
vip, port, out, interval = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]) / 1000
with open(out, 'a', buffering=1) as f:
    try:
        s = socket.create_connection((vip, port), timeout=10)
    except Exception as e:
        f.write('%d error %s %s\n' % (time.time() * 1000, type(e).__name__, e))
        sys.exit(1)
    s.settimeout(300)
    f.write('%d connected %d\n' % (time.time() * 1000, s.getsockname()[1]))
    seq, buf = 0, b''
    while True:
        seq += 1
        t0 = time.time()
        try:
            s.sendall(b'%d\n' % seq)
            while b'\n' not in buf:
                d = s.recv(4096)
                if not d:
                    raise EOFError('closed by the peer')
                buf += d
            line, buf = buf.split(b'\n', 1)
            if int(line) != seq:
                raise ValueError('echo %r for %d' % (line, seq))
            f.write('%d echo %d %d\n' % (t0 * 1000, seq, (time.time() - t0) * 1000))
        except Exception as e:
            f.write('%d error %s %s\n' % (time.time() * 1000, type(e).__name__, e))
            sys.exit(1)
        time.sleep(interval)
`;

export interface ChatLine {
  /** Lab clock, ms: the line was sent (echo), the connection made, or the error seen. */
  at: number;
  kind: 'connected' | 'echo' | 'error';
  /** echo: sequence number; connected: the client's local port. */
  n: number;
  /** echo: round trip in ms; error: its description. */
  detail: string;
}

export interface Chat {
  lines(): Promise<ChatLine[]>;
  stop(): Promise<void>;
}

/** Opens the client's long-lived connection to VIP:port (default ECHO_PORT); returns once connected. */
export async function startChat(topo: Topology, options: { port?: number; intervalMs?: number; client?: string } = {}): Promise<Chat> {
  const client = options.client ?? 'client';
  const file = join(topo.node(client).dir, `chat-${Date.now()}.log`);
  const r = await topo.exec(client, ['python3', '-c', CHAT_PY, topo.spec.vip, String(options.port ?? ECHO_PORT), file, String(options.intervalMs ?? 200)], {
    detach: true,
    log: `${file}.err`,
  });
  if (r.error !== undefined || r.pid === undefined) throw new Error(`cannot start the chat client in ${client}: ${describeResult(r)}`);
  const pid = r.pid;
  const lines = async (): Promise<ChatLine[]> => {
    const out = await topo.kernel.exec({ argv: ['cat', file] });
    return out.stdout.split('\n').flatMap((line) => {
      const m = /^(\d+) (connected|echo|error) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return [];
      const kind = m[2] as ChatLine['kind'];
      return [{ at: Number(m[1]), kind, n: kind === 'error' ? 0 : Number(m[3]), detail: kind === 'error' ? `${m[3]} ${m[4] ?? ''}`.trim() : (m[4] ?? '') }];
    });
  };
  for (let i = 0; ; i++) {
    const l = await lines();
    if (l.some((x) => x.kind === 'echo')) break;
    const err = l.find((x) => x.kind === 'error');
    if (err || i > 150) throw new Error(`the chat client in ${client} got no echo: ${err?.detail ?? 'nothing after 15 s'}`);
    await sleep(100);
  }
  return { lines, stop: async () => void (await topo.kernel.exec({ argv: ['kill', String(pid)] })) };
}

/** Pids of lvsd (`lvskit checker … --config FILE`) running in a node, from /proc, not lvsd's word. */
export async function checkerPids(topo: Topology, node: string, config = SEEDS_CONFIG): Promise<number[]> {
  const out: number[] = [];
  for (const pid of await nodePids(topo, node)) {
    const r = await topo.kernel.exec({ argv: ['cat', `/proc/${pid}/cmdline`] });
    const argv = r.stdout.split('\0');
    if (r.code === 0 && argv.includes('checker') && argv.includes(config)) out.push(pid);
  }
  return out;
}

// ---- a failover, timed ---------------------------------------------------------------------------

export interface TimelineEvent {
  /** Lab-clock ms; undefined: did not happen (in time). */
  at: number | undefined;
  what: string;
}

export interface Timeline {
  /** The node that failed and how. */
  node: string;
  fault: string;
  /** Lab-clock ms of the fault (the link was down by then). */
  faultAt: number;
  /** The node seen taking over, and when it was first seen so (polling: an upper bound). */
  promoted: string | undefined;
  promotedAt: number | undefined;
  /** Start of the first request after which the client's ARP entry for the VIP named another MAC. */
  arpMovedAt: number | undefined;
  outage: Outage;
  /** Every event, in time order (the above, and what `details` found). */
  events: TimelineEvent[];
}

/**
 * Injects a fault (`inject()` returns when it was done, this process's clock), then polls
 * `promoted()` (the node now acting as director, or undefined) until another node takes over, then
 * waits for the client's first successful request, then for `settle(promoted)`;
 * `details(promoted, faultAt)` may add events (e.g. pacemakerEvents). Returns the timeline.
 */
export async function recordFailover(
  topo: Topology,
  load: Load,
  spec: {
    node: string;
    fault: string;
    inject: () => Promise<number>;
    promoted: () => Promise<string | undefined>;
    /** After the client's first answer: wait for the new director to settle (e.g. its checker). */
    settle?: (promoted: string) => Promise<void>;
    details?: (promoted: string, since: number) => Promise<TimelineEvent[]>;
    timeoutMs?: number;
  },
): Promise<Timeline> {
  const offset = await clockOffset(topo.kernel);
  const deadline = Date.now() + (spec.timeoutMs ?? 120_000);
  const faultAt = (await spec.inject()) + offset;
  let promoted: string | undefined;
  let promotedAt: number | undefined;
  while (Date.now() < deadline) {
    const p = await spec.promoted().catch(() => undefined);
    if (p !== undefined && p !== spec.node) {
      promoted = p;
      promotedAt = Date.now() + offset;
      break;
    }
    await sleep(250);
  }
  let samples: Sample[] = [];
  while (Date.now() < deadline) {
    samples = await load.samples();
    if (outage(samples, faultAt).firstOkAfter !== undefined) break;
    await sleep(250);
  }
  const failedMac = topo.node(spec.node).mac;
  const moved = samples.find((s) => s.at > faultAt && s.mac !== '-' && s.mac !== failedMac);
  const o = outage(samples, faultAt);
  if (promoted && spec.settle) await spec.settle(promoted).catch(() => undefined);
  const extra = promoted && spec.details ? await spec.details(promoted, faultAt).catch(() => []) : [];
  const events: TimelineEvent[] = [
    { at: o.lastOkBefore, what: 'last answer before the fault' },
    { at: faultAt, what: `${spec.node} ${spec.fault}` },
    ...extra,
    { at: promotedAt, what: `${promoted ?? 'no node'} seen acting as director (polling)` },
    { at: moved?.at, what: `the client's ARP entry for the VIP names ${nodeByMac(topo, moved?.mac) ?? 'another node'}` },
    { at: o.firstOkAfter, what: 'first answer after the fault' },
  ];
  events.sort((a, b) => (a.at ?? Infinity) - (b.at ?? Infinity));
  return { node: spec.node, fault: spec.fault, faultAt, promotedAt, promoted, arpMovedAt: moved?.at, outage: o, events };
}

/**
 * Pacemaker's own times on `node` since `sinceMs` (lab clock), from its log (millisecond stamps,
 * converted by date(1) on that node): the promotion of lvs and the start of lvsd.
 */
export async function pacemakerEvents(topo: Topology, node: string, sinceMs: number): Promise<TimelineEvent[]> {
  const r = await topo.exec(node, ['cat', '/var/log/pacemaker/pacemaker.log']);
  const wanted: [RegExp, string][] = [
    [/Requesting local execution of promote operation for lvs on (\S+)/, 'pacemaker: promote of lvs begins on $1'],
    [/Result of promote operation for lvs on (\S+): ok/, 'pacemaker: lvs promoted on $1 (VIP on its NIC, gratuitous ARP going out)'],
    [/Result of start operation for lvsd on (\S+): ok/, 'pacemaker: lvsd started on $1 (its IPVS table in place)'],
  ];
  const found: { stamp: string; what: string }[] = [];
  for (const line of r.stdout.split('\n')) {
    const stamp = /^(\w{3} +\d+ \d\d:\d\d:\d\d\.\d{3}) /.exec(line)?.[1];
    if (!stamp) continue;
    for (const [re, what] of wanted) {
      const m = re.exec(line);
      if (m) found.push({ stamp, what: what.replace('$1', m[1]!) });
    }
  }
  if (found.length === 0) return [];
  const times = await topo.run(node, ['date', '-f', '-', '+%s%3N'], { stdin: found.map((f) => `${f.stamp}\n`).join('') });
  const ms = times.trim().split('\n').map(Number);
  // The last occurrence of each kind after the fault.
  const out = new Map<string, TimelineEvent>();
  found.forEach((f, i) => {
    const at = ms[i];
    if (at !== undefined && at >= sinceMs) out.set(f.what, { at, what: f.what });
  });
  return [...out.values()];
}

/** The timeline for a terminal: one line per event, seconds relative to the fault, then the outage. */
export function formatTimeline(t: Timeline): string {
  const rel = (ms: number | undefined) => (ms === undefined ? '     never' : `${((ms - t.faultAt) / 1000).toFixed(2).padStart(8)} s`);
  const lines = t.events.map((e) => `${rel(e.at)}  ${e.what}`);
  lines.push(`outage seen by the client: ${t.outage.ms === undefined ? 'not over' : `${t.outage.ms} ms`} (${t.outage.failed} failed requests)`);
  return lines.join('\n');
}

export { LAN };
