// The director cluster in the lab, in each layout the failover tests and benchmarks use, built by
// the same code every time: the topology, an ldirectord.cf on every director, corosync + pacemaker
// (lab/cluster.ts), the resources by the binary under test (`lvskit bootstrap --apply`).
//
//   seeds       directors that are also DR real servers (each serves HTTP with its name), separate
//               real servers r1…, a client: the layout of the seeds' site
//   dedicated   two directors that are not real servers, two real servers, a client: the classic
//               LVS layout (and keepalived's)
//   two-vips    the seeds' layout with a second VIP (.101), added by a second `lvskit bootstrap
//               --apply` with both VIPs and --placement spread (its clone lvs2 promoted on the other
//               director): each director forwards one VIP and is a DR real server for the other
//   dual-stack  the seeds' layout with IPv6 too: every node has 2001:db8::<octet>/64 (lab/ipv6.ts),
//               an IPv6 VIP 2001:db8::100 (lvs2, given to the same bootstrap run with the default
//               placement: both VIPs on one director), and virtual6 services beside the IPv4 ones
//
// `corosyncNetwork: true` gives the directors eth1 on a second bridge (ha0, 203.0.113.0/24) that
// carries corosync's ring, the VIP staying on eth0: cutting eth0 leaves the cluster whole.
// `qdevice: true` adds a quorum device host (qnetd, on the LAN) running corosync-qnetd.
// Addresses: client 198.51.100.10, directors .11…, reals .21…, VIP .100 (and .101); IPv6 the same
// last octet in 2001:db8::/64.
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster } from './cluster';
import { ECHO_PORT, startEcho } from './echo';
import { recordFailover, pacemakerEvents, type Timeline } from './failover';
import { cutLink, isolate, killNode } from './faults';
import { ip6, PREFIX6, VIP6 } from './ipv6';
import { describe as describeResult, type Kernel } from './kernel';
import type { Load } from './load';
import { CRM_MON_POLL_MS, crmMon, nodesIn, promotedNode, summary, type ClusterView } from './pacemaker';
import type { Sampler } from './sampler';
import { defaultSpec, LAN, RING, Topology, type NodeSpec, type TopologySpec } from './topology';

export type Layout = 'seeds' | 'dedicated' | 'two-vips' | 'dual-stack';
export const LAYOUTS: readonly Layout[] = ['seeds', 'dedicated', 'two-vips', 'dual-stack'];

/** Where every director's lvsd reads its configuration (/etc/ha.d is private to each director). */
export const CHECKER_CONFIG = '/etc/ha.d/ldirectord.cf';
/** The quorum device host (DirectorOptions.qdevice). */
export const QNETD_NODE = 'qnetd';
/** The second VIP's lvs clone (two-vips; dual-stack: the IPv6 VIP's). */
export const SECOND_LVS = 'lvs2';

export interface DirectorOptions {
  layout?: Layout;
  /** Directors: 2 or 3 in the seeds' layout, 2 in the others. Default 2. */
  directors?: number;
  /** Separate real servers (r1…). Default: dedicated 2, the others 1. */
  reals?: number;
  /** corosync's ring on eth1 (bridge ha0) instead of eth0. Default false. */
  corosyncNetwork?: boolean;
  /**
   * A quorum device for the two directors: corosync-qnetd on a third host on the LAN (qnetd,
   * LAN.qnetd), corosync-qdevice on each director, given to bootstrap as --qdevice. Default false.
   */
  qdevice?: boolean;
  /** lvs sync_interface (bootstrap --sync-interface), e.g. 'eth0'. Default: none. */
  syncInterface?: string;
  /** lvsd slowstart, seconds. Default 5. */
  slowstart?: number;
  /** lvsd checkinterval, seconds. Default 1 (three directors in the one-CPU guest need less load). */
  checkInterval?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /**
   * corosync's token, ms (bootstrap's --token). Default 3000, corosync's own: UML runs every process
   * ~35 times slower than the host, and with 1000 ms a busy guest lost members it still had
   * (agent actions took 20-60 s then). The benchmark passes 1000, bootstrap's default.
   */
  tokenMs?: number;
  /**
   * Whether the kernel has IPVS. Default true. Without it (the host kernel) lvsd cannot run: bootstrap's
   * lvsd clone is deleted and lvs (and lvs2 in dual stack) get ipvs_cleanup=none, leaving the VIP
   * takeover alone to measure. Seeds and dual-stack layouts only.
   */
  ipvs?: boolean;
  /** Time limit for the cluster to come online and for each promotion. Default 300 s each (a loaded machine). */
  timeoutMs?: number;
  /** two-vips: build with the first VIP only; `Directors.addSecondVip()` adds the second. Default false. */
  secondVipLater?: boolean;
}

const layoutOf = (o: DirectorOptions): Layout => o.layout ?? 'seeds';
/** Whether the directors serve HTTP, i.e. are DR real servers too. */
const directorsServe = (layout: Layout) => layout !== 'dedicated';

/** The topology of a layout (see the header). */
export function directorSpec(options: DirectorOptions = {}): TopologySpec {
  const layout = layoutOf(options);
  const directors = options.directors ?? 2;
  if (layout === 'seeds' ? directors < 2 || directors > 3 : directors !== 2) {
    throw new Error(`the ${layout} layout has ${layout === 'seeds' ? '2 or 3' : '2'} directors, not ${directors}`);
  }
  if (options.qdevice && directors !== 2) throw new Error(`a quorum device is for two directors, not ${directors}`);
  const spec = defaultSpec(directors, options.reals ?? (layout === 'dedicated' ? 2 : 1));
  let d = 0;
  const nodes: NodeSpec[] = spec.nodes.map((n) => {
    if (n.role !== 'director') return n;
    d++;
    return { ...n, http: directorsServe(layout), ...(options.corosyncNetwork ? { ringIp: RING.host(d) } : {}) };
  });
  if (options.qdevice) nodes.push({ name: QNETD_NODE, role: 'quorum', ip: LAN.qnetd });
  return { ...spec, nodes, ...(layout === 'two-vips' ? { vips: [LAN.vip, LAN.vip2] } : {}), ...(layout === 'dual-stack' ? { vip6: VIP6 } : {}) };
}

/**
 * The ldirectord.cf every director's lvsd reads: per VIP, port 80 with lc over every real server
 * (the directors too where they serve; negotiate HTTP, 1 s interval and timeout, quiescent, slow
 * start), and on the first VIP, ECHO_PORT over the separate reals (connect check), for connections
 * that must outlive a failover; the same as virtual6/real6 for the IPv6 VIP (dual stack).
 */
export function checkerConfig(topo: Topology, options: { slowstart?: number; checkInterval?: number } = {}): string {
  const web = topo.all().filter((n) => n.role !== 'client' && n.http);
  const reals = topo.all('real');
  const vip6 = topo.spec.vip6;
  const virtual = (vip: string) => [
    '',
    `virtual=${vip}:80`,
    ...web.map((s) => `\treal=${s.ip}:80 gate`),
    '\tscheduler=lc',
    '\tprotocol=tcp',
    '\tchecktype=negotiate',
    '\tservice=http',
    '\trequest="/"',
  ];
  return [
    'checktimeout=1',
    `checkinterval=${options.checkInterval ?? 1}`,
    'quiescent=yes',
    `slowstart=${options.slowstart ?? 5}`,
    // Node-private (each director has its own /var/log/pacemaker): who checked what stays apart.
    'logfile="/var/log/pacemaker/lvsd.log"',
    ...topo.vips.flatMap(virtual),
    '',
    `# ${topo.spec.vip}:${ECHO_PORT}: an echo service on the separate reals, for connections that outlive a failover`,
    `virtual=${topo.spec.vip}:${ECHO_PORT}`,
    ...reals.map((s) => `\treal=${s.ip}:${ECHO_PORT} gate`),
    '\tscheduler=lc',
    '\tprotocol=tcp',
    '\tchecktype=connect',
    ...(vip6 === undefined
      ? []
      : [
          '',
          `virtual6=[${vip6}]:80`,
          ...web.map((s) => `\treal6=[${ip6(topo, s.name)}]:80 gate`),
          '\tscheduler=lc',
          '\tprotocol=tcp',
          '\tchecktype=negotiate',
          '\tservice=http',
          '\trequest="/"',
          '',
          `virtual6=[${vip6}]:${ECHO_PORT}`,
          ...reals.map((s) => `\treal6=[${ip6(topo, s.name)}]:${ECHO_PORT} gate`),
          '\tscheduler=lc',
          '\tprotocol=tcp',
          '\tchecktype=connect',
        ]),
    '',
  ].join('\n');
}

/**
 * The topology alone: every HTTP server running, the separate reals with the VIPs on lo (ARP
 * hidden) and an echo server on ECHO_PORT; the directors' ARP and VIPs are left to whatever runs
 * them (lvs, IPaddr2, keepalived).
 */
export async function buildDirectorTopology(kernel: Kernel, options: DirectorOptions = {}): Promise<Topology> {
  const topo = await Topology.create(kernel, directorSpec(options));
  try {
    for (const r of topo.all('real')) await startEcho(topo, r.name);
  } catch (err) {
    await topo.destroy();
    throw err;
  }
  return topo;
}

const FAULTS = {
  kill: 'killed (every process SIGKILLed, links down)',
  cut: 'lost link on eth0 (switch port down, processes running)',
  isolate: 'partitioned (switch ports off the bridges, carrier up, processes running)',
} as const;

export class Directors {
  constructor(
    readonly topo: Topology,
    readonly layout: Layout,
    /** The output of `lvskit bootstrap --apply` (stdout then stderr). */
    readonly bootstrapOutput: string,
    /** lvsd runs on every director (bootstrap's hot-standby layout), not only beside the promoted lvs. */
    readonly hotStandby: boolean,
    /** The `lvskit bootstrap --apply` command line that built it. */
    private readonly bootstrapArgv: readonly string[],
  ) {}

  get vip(): string {
    return this.topo.spec.vip;
  }
  /** Every VIP: the IPv4 ones, then the IPv6 one (dual stack). */
  get vips(): string[] {
    return this.topo.allVips;
  }
  get directors(): string[] {
    return this.topo.all('director').map((n) => n.name);
  }
  get reals(): string[] {
    return this.topo.all('real').map((n) => n.name);
  }
  /** The lvs resource of each VIP: lvs, and lvs2 for the second. */
  lvsOf(vip: string): string {
    return vip === this.vip ? 'lvs' : SECOND_LVS;
  }

  /**
   * two-vips: adds the second VIP to the running cluster as an operator would, running the same
   * `lvskit bootstrap --apply` again with it and --placement spread; waits until its clone is
   * promoted on a director other than lvs's, and returns that director.
   */
  async addSecondVip(timeoutMs = 300_000): Promise<string> {
    const vip2 = this.vips[1];
    if (this.layout !== 'two-vips' || vip2 === undefined) throw new Error(`the ${this.layout} layout has no second VIP to add`);
    const first = await this.waitPromoted({ timeoutMs });
    const r = await this.topo.exec(this.directors[0]!, [...this.bootstrapArgv, '--vip', vip2, '--placement', 'spread'], { timeoutMs: BOOTSTRAP_LIMIT_MS });
    if (r.code !== 0) throw new Error(`lvskit bootstrap adding ${vip2} failed on ${this.directors[0]}: ${describeResult(r)}`);
    return this.waitPromoted({ id: SECOND_LVS, not: first, timeoutMs });
  }

  /** crm_mon from the first of `from` (default: every director) that answers. */
  async view(from: string[] | string = this.directors): Promise<ClusterView | undefined> {
    for (const n of typeof from === 'string' ? [from] : from) {
      const v = await crmMon(this.topo, n);
      if (v) return v;
    }
    return undefined;
  }

  /** The node crm_mon (on `from`) shows `id` (default lvs) promoted on. */
  async promoted(from?: string[] | string, id = 'lvs'): Promise<string | undefined> {
    const v = await this.view(from);
    return v ? promotedNode(v, id) : undefined;
  }

  /** Polls crm_mon on `from` until `test` gives a value; on timeout the error names `what`, the last view and the history. */
  async waitView<T>(from: string[] | string, what: string, timeoutMs: number, test: (v: ClusterView) => T | undefined): Promise<T> {
    const until = Date.now() + timeoutMs;
    let last: ClusterView | undefined;
    for (;;) {
      last = await this.view(from);
      const got = last ? test(last) : undefined;
      if (got !== undefined) return got;
      if (Date.now() > until) throw new Error(`${what} after ${timeoutMs / 1000} s; ${summary(last)}\n${await this.history()}`);
      await sleep(CRM_MON_POLL_MS);
    }
  }

  /** Waits until crm_mon on `from` shows exactly one promoted instance of `id` (default lvs), not on `not`; returns its node. */
  async waitPromoted(options: { from?: string[]; not?: string; id?: string; timeoutMs?: number } = {}): Promise<string> {
    const id = options.id ?? 'lvs';
    return this.waitView(options.from ?? this.directors.filter((d) => d !== options.not), `no promoted ${id} instance${options.not ? ` other than ${options.not}` : ''}`, options.timeoutMs ?? 180_000, (v) => {
      const p = promotedNode(v, id);
      return p !== undefined && p !== options.not ? p : undefined;
    });
  }

  /** Waits until crm_mon (on any director) shows `id` Unpromoted on every one of `nodes`. */
  async waitUnpromoted(id: string, nodes: string[], timeoutMs = 180_000): Promise<void> {
    await this.waitView(this.directors, `${id} not Unpromoted on ${nodes.join(', ')}`, timeoutMs, (v) => (nodes.every((d) => nodesIn(v, id, 'Unpromoted').includes(d)) ? true : undefined));
  }

  /** Waits until crm_mon on `node` shows lvsd Started there. */
  async waitChecker(node: string, timeoutMs = 180_000): Promise<void> {
    await this.waitView(node, `lvsd not started on ${node}`, timeoutMs, (v) => (nodesIn(v, 'lvsd', 'Started').includes(node) ? true : undefined));
  }

  /**
   * The promoted director of `vip` fails (`kill`: killNode; `cut`: cutLink of eth0; `isolate`: its
   * switch ports leave the bridges, a partition) under the client's load; returns, once lvsd runs beside the new one (or 180 s passed), the timeline with
   * pacemaker's own times and, given a sampler, what it saw of the VIP.
   */
  async failover(load: Load, how: 'kill' | 'cut' | 'isolate', options: { node?: string; vip?: string; sampler?: Sampler; timeoutMs?: number } = {}): Promise<Timeline> {
    const vip = options.vip ?? this.vip;
    const id = this.lvsOf(vip);
    const node = options.node ?? (await this.promoted(undefined, id));
    if (node === undefined) throw new Error(`no promoted director of ${vip} to fail`);
    const others = this.directors.filter((d) => d !== node);
    return recordFailover(this.topo, load, {
      node,
      fault: FAULTS[how],
      inject: () => (how === 'kill' ? killNode(this.topo, node) : how === 'cut' ? cutLink(this.topo, node) : isolate(this.topo, node)),
      promoted: () => this.promoted(others, id),
      settle: (promoted) => this.waitChecker(promoted, 180_000),
      details: async (promoted, since) => [
        ...(await pacemakerEvents(this.topo, promoted, since)),
        // A cut or isolated node keeps running: what its own pacemaker did (demote, stop).
        ...(how !== 'kill' ? await pacemakerEvents(this.topo, node, since).catch(() => []) : []),
      ],
      vip,
      ...(options.sampler ? { sampler: options.sampler } : {}),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
  }

  /**
   * What pacemaker did with lvs and lvsd on every director that answers, for error messages: each
   * agent action's result and how long it ran, failures, node losses (lab clock, UTC).
   */
  async history(sinceMs = 0): Promise<string> {
    const out: string[] = [];
    for (const d of this.directors) {
      const events = await pacemakerEvents(this.topo, d, sinceMs, { every: true }).catch((err: Error) => [{ at: undefined, what: `(${err.message})` }]);
      out.push(`pacemaker on ${d}:`, ...events.map((e) => `  ${e.at === undefined ? '?' : new Date(e.at).toISOString().slice(11, 23)}  ${e.what}`));
    }
    return out.join('\n');
  }

  /** `lvskit status` on a node. */
  status(node: string): Promise<string> {
    return this.topo.run(node, [this.topo.spec.binary, 'status']);
  }

  destroy(): Promise<void> {
    return this.topo.destroy();
  }
}

/** Whether the CIB has lvsd in a clone (bootstrap's hot-standby layout). */
async function lvsdIsClone(topo: Topology, from: string): Promise<boolean> {
  const r = await topo.exec(from, ['cibadmin', '--query', '--scope', 'resources'], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`cannot read the CIB on ${from}: ${describeResult(r)}`);
  return /<clone\b[^>]*>(?:(?!<\/clone>)[\s\S])*<primitive\b[^>]*\bid="lvsd"/.test(r.stdout);
}

/**
 * The director cluster of a layout: topology, ldirectord.cf on every director, corosync +
 * pacemaker on the directors, `lvskit bootstrap --apply … --no-stonith` on the first (run again
 * with the second VIP for two VIPs: a VIP added to a running cluster), until every VIP is promoted
 * and lvsd runs beside it. On failure everything built so far is torn down.
 */
/**
 * `lvskit bootstrap --apply` runs one pcs process per step; a pcs start costs tens of seconds of the
 * one-CPU UML guest, and over a minute when the host is busy (6 steps took 600 s once).
 */
const BOOTSTRAP_LIMIT_MS = 1_200_000;

export async function buildDirectors(kernel: Kernel, options: DirectorOptions = {}): Promise<Directors> {
  const layout = layoutOf(options);
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 300_000;
  const topo = await buildDirectorTopology(kernel, options);
  try {
    const directors = topo.all('director').map((n) => n.name);
    log(`topology ${topo.prefix} (${layout}${options.corosyncNetwork ? ', corosync on eth1' : ''}${options.qdevice ? ', quorum device' : ''}): ${topo.all().map((n) => n.name).join(', ')}`);
    const config = checkerConfig(topo, options);
    for (const d of directors) await topo.run(d, ['tee', CHECKER_CONFIG], { stdin: config });
    const tokenMs = options.tokenMs ?? 3000;
    await startCluster(topo, directors, { name: 'lab', timeoutMs, tokenMs, ...(options.qdevice ? { qdevice: QNETD_NODE } : {}) });
    log(`corosync + pacemaker online on ${directors.join(', ')}`);
    const argv = [
      topo.spec.binary, 'bootstrap', '--apply', '--name', 'lab', '--nodes', directors.join(','),
      '--vip', topo.spec.vip, '--vip-prefix', String(topo.spec.prefixLength), '--nic', 'eth0',
      // Dual stack: the IPv6 VIP in the same run, with its own prefix (--vip-prefix is the IPv4 one's).
      ...(topo.spec.vip6 === undefined ? [] : ['--vip', `${topo.spec.vip6}/${PREFIX6}`]),
      '--config', CHECKER_CONFIG, '--no-stonith', '--token', String(tokenMs),
      ...(options.syncInterface ? ['--sync-interface', options.syncInterface] : []),
      // corosync.conf has the device already (the lab has no pcsd): bootstrap finds it done.
      ...(options.qdevice ? ['--qdevice', LAN.qnetd] : []),
    ];
    const r = await topo.exec(directors[0]!, argv, { timeoutMs: BOOTSTRAP_LIMIT_MS });
    if (r.code !== 0) throw new Error(`lvskit bootstrap failed on ${directors[0]}: ${describeResult(r)}`);
    log('lvskit bootstrap --apply done');
    if (options.ipvs === false) {
      if (layout !== 'seeds' && layout !== 'dual-stack') throw new Error(`the ${layout} layout needs IPVS`);
      // lvsd and lvs's IPVS clean-up fail without IPVS; deleting lvsd takes its constraints with it.
      const agents = layout === 'dual-stack' ? ['lvs', SECOND_LVS] : ['lvs'];
      const cmds = [['pcs', 'resource', 'delete', 'lvsd'], ...agents.map((id) => ['pcs', 'resource', 'update', id, 'ipvs_cleanup=none']), ['crm_resource', '--cleanup']];
      for (const cmd of cmds) {
        const c = await topo.exec(directors[0]!, cmd, { timeoutMs: BOOTSTRAP_LIMIT_MS });
        if (c.code !== 0) throw new Error(`without IPVS, ${cmd.join(' ')} failed on ${directors[0]}: ${describeResult(c)}`);
      }
      log(`no IPVS in this kernel: lvsd deleted, ${agents.join(' and ')} ipvs_cleanup=none`);
    }
    const hot = options.ipvs !== false && (await lvsdIsClone(topo, directors[0]!));
    const cluster = new Directors(topo, layout, r.stdout + r.stderr, hot, argv);
    const p = await cluster.waitPromoted({ from: directors, timeoutMs });
    log(`lvs promoted on ${p}`);
    if (layout === 'two-vips') {
      if (!hot) throw new Error('two VIPs on different directors need lvsd on every director (bootstrap\'s hot-standby layout, lvsd-clone); this bootstrap colocates one lvsd with the promoted lvs');
      if (!options.secondVipLater) log(`${SECOND_LVS} promoted on ${await cluster.addSecondVip(timeoutMs)}`);
    }
    if (layout === 'dual-stack') {
      const p6 = await cluster.waitPromoted({ from: directors, id: SECOND_LVS, timeoutMs });
      // Built means every instance runs: the other director a real server for both VIPs.
      const others = directors.filter((d) => d !== p6);
      await cluster.waitUnpromoted(SECOND_LVS, others, timeoutMs);
      log(`${SECOND_LVS} (${VIP6}) promoted on ${p6}, unpromoted on ${others.join(', ')}`);
    }
    if (options.ipvs !== false) {
      for (const d of hot ? directors : [p]) await cluster.waitChecker(d, timeoutMs);
      log(`lvsd started on ${hot ? directors.join(', ') : p}`);
    }
    return cluster;
  } catch (err) {
    await topo.destroy();
    throw err;
  }
}
