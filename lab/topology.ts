// Lab topologies: a LAN bridge in a switch namespace, and hosts (directors, DR real servers,
// a client, a quorum device host), each in its own network, mount and UTS namespaces, with eth0 on the bridge; optionally
// a second bridge, the cluster network, with eth1 on the directors (corosync's ring apart from the
// VIP's NIC). Addresses are TEST-NET-2 (198.51.100.0/24, the LAN) and TEST-NET-3 (203.0.113.0/24,
// the cluster network) only, and exist only inside these namespaces.
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { addIpv6, startServer6 } from './ipv6';
import { check, describe as describeResult, type ExecResult, type ExecSpec, type Kernel } from './kernel';

/** `quorum`: a third host running corosync-qnetd for a two-director cluster. */
export type NodeRole = 'director' | 'real' | 'client' | 'quorum';

export interface NodeSpec {
  name: string;
  role: NodeRole;
  ip: string;
  /** Answer HTTP on port 80 with the node's name. Default: true for real servers. */
  http?: boolean;
  /** Address on the cluster network (eth1, bridge ha0); without it the node has no eth1. */
  ringIp?: string;
}

export interface TopologySpec {
  /** The (first) VIP. */
  vip: string;
  /** Every VIP the real servers carry on lo (default: [vip]). */
  vips?: string[];
  /**
   * An IPv6 VIP (dual stack): every node gets its IPv6 address on eth0 (lab/ipv6.ts), the real
   * servers carry this VIP/128 on lo, and every HTTP node answers on [::]:80 too.
   */
  vip6?: string;
  prefixLength: number;
  nodes: NodeSpec[];
  /** The binary the directors' private OCF directory points at (agents lvs, lvsd). */
  binary: string;
}

export interface LabNode extends NodeSpec {
  /** Network namespace name on the lab kernel. */
  netns: string;
  nic: 'eth0';
  /** eth0's MAC. */
  mac: string;
  /** Pid (on the lab kernel) of the process that holds the node's namespaces. */
  pid: number;
  /** The node's private directory on the lab kernel. */
  dir: string;
}

export type NodeExec = Omit<ExecSpec, 'argv'>;

const repoRoot = resolve(__dirname, '..');
const guest = join(__dirname, 'guest');
export const LAN = { subnet: '198.51.100.0/24', vip: '198.51.100.100', vip2: '198.51.100.101', client: '198.51.100.10', qnetd: '198.51.100.30' };
/** The cluster network (corosync's ring on eth1): directors .11… as on the LAN. */
export const RING = { bridge: 'ha0', subnet: '203.0.113.0/24', prefixLength: 24, host: (i: number) => `203.0.113.${10 + i}` };

/** Every VIP of a spec. */
export function vipsOf(spec: TopologySpec): string[] {
  return spec.vips ?? [spec.vip];
}

/** The default lab: N directors (.11…), M real servers (.21…), one client (.10). */
export function defaultSpec(directors = 2, reals = 2): TopologySpec {
  const nodes: NodeSpec[] = [{ name: 'client', role: 'client', ip: LAN.client }];
  for (let i = 1; i <= directors; i++) nodes.push({ name: `d${i}`, role: 'director', ip: `198.51.100.${10 + i}` });
  for (let i = 1; i <= reals; i++) nodes.push({ name: `r${i}`, role: 'real', ip: `198.51.100.${20 + i}`, http: true });
  return { vip: LAN.vip, prefixLength: 24, nodes, binary: join(repoRoot, 'dist', 'lvskit') };
}

/** How long a server started in a node may take to listen. */
const LISTEN_TIMEOUT_MS = 60_000;

const installed = new WeakMap<Kernel, Map<string, Promise<string>>>();

/** A 0755 copy of `binary` in the kernel's work directory, made once per kernel and binary. */
function installedBinary(kernel: Kernel, binary: string): Promise<string> {
  let perKernel = installed.get(kernel);
  if (!perKernel) installed.set(kernel, (perKernel = new Map()));
  let copy = perKernel.get(binary);
  if (!copy) {
    const dir = join(kernel.workdir, 'bin', String(perKernel.size));
    copy = (async () => {
      await check(kernel, { argv: ['mkdir', '-p', dir] });
      await check(kernel, { argv: ['chmod', '0755', kernel.workdir, join(kernel.workdir, 'bin'), dir] });
      await check(kernel, { argv: ['install', '-m', '0755', binary, join(dir, 'lvskit')] });
      return join(dir, 'lvskit');
    })();
    perKernel.set(binary, copy);
  }
  return copy;
}

export class Topology {
  private readonly nodes = new Map<string, LabNode>();

  private constructor(
    readonly kernel: Kernel,
    readonly spec: TopologySpec,
    /** Prefix of every namespace of this topology, unique per topology. */
    readonly prefix: string,
  ) {}

  static async create(kernel: Kernel, spec: TopologySpec = defaultSpec()): Promise<Topology> {
    // Agents are run as user nobody too (ocf-tester): point them at a world-readable copy,
    // whatever the permissions above the checkout are.
    const binary = await installedBinary(kernel, spec.binary);
    const topo = new Topology(kernel, { ...spec, binary }, `lvk${randomBytes(3).toString('hex')}`);
    try {
      await topo.build();
    } catch (err) {
      await topo.destroy();
      throw err;
    }
    return topo;
  }

  get switchNs(): string {
    return `${this.prefix}-sw`;
  }

  /** Every IPv4 VIP of this topology. */
  get vips(): string[] {
    return vipsOf(this.spec);
  }

  /** Every VIP of both families: the IPv4 ones, then the IPv6 one (dual stack). */
  get allVips(): string[] {
    return [...this.vips, ...(this.spec.vip6 === undefined ? [] : [this.spec.vip6])];
  }

  /** The switch-side end of a node's eth0 (on lan0) or eth1 (on ha0): taking it down cuts that link. */
  switchPort(name: string, dev: 'eth0' | 'eth1' = 'eth0'): string {
    const n = this.node(name);
    if (dev === 'eth1' && n.ringIp === undefined) throw new Error(`lab node ${name} has no eth1`);
    return dev === 'eth0' ? name : `${name}-ha`;
  }

  node(name: string): LabNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no lab node '${name}' (have: ${[...this.nodes.keys()].join(', ')})`);
    return n;
  }

  all(role?: NodeRole): LabNode[] {
    return [...this.nodes.values()].filter((n) => role === undefined || n.role === role);
  }

  /** Runs a command inside a node's namespaces. */
  exec(name: string, argv: string[], options: NodeExec = {}): Promise<ExecResult> {
    const n = this.node(name);
    return this.kernel.exec({ ...options, argv: ['nsenter', '-t', String(n.pid), '-n', '-m', '-u', '--', ...argv] });
  }

  /** Like exec, but throws with the command's output unless it exits 0; returns stdout. */
  async run(name: string, argv: string[], options: NodeExec = {}): Promise<string> {
    const r = await this.exec(name, argv, options);
    if (r.code !== 0) throw new Error(`on lab node ${name}: ${describeResult(r)}`);
    return r.stdout;
  }

  private async build(): Promise<void> {
    const k = this.kernel;
    const { nodes } = this.spec;
    const nsOf = (name: string) => `${this.prefix}-${name}`;
    await check(k, {
      argv: ['ip', '-batch', '-'],
      stdin: [this.switchNs, ...nodes.map((n) => nsOf(n.name))].map((ns) => `netns add ${ns}\n`).join(''),
    });
    // The LAN: a bridge in the switch namespace, one veth per node (eth0 inside the node); the
    // cluster network the same way (eth1), when a node has an address on it.
    const sw = ['link set lo up', 'link add lan0 type bridge', 'link set lan0 up'];
    for (const n of nodes) {
      sw.push(`link add ${n.name} type veth peer name eth0 netns ${nsOf(n.name)}`);
      sw.push(`link set ${n.name} master lan0 up`);
    }
    if (nodes.some((n) => n.ringIp !== undefined)) sw.push(`link add ${RING.bridge} type bridge`, `link set ${RING.bridge} up`);
    for (const n of nodes.filter((x) => x.ringIp !== undefined)) {
      sw.push(`link add ${n.name}-ha type veth peer name eth1 netns ${nsOf(n.name)}`);
      sw.push(`link set ${n.name}-ha master ${RING.bridge} up`);
    }
    await check(k, { argv: ['ip', '-n', this.switchNs, '-batch', '-'], stdin: sw.map((l) => `${l}\n`).join('') });

    for (const n of nodes) {
      const netns = nsOf(n.name);
      const dir = join(k.workdir, netns);
      const out = await check(k, {
        argv: ['ip', 'netns', 'exec', netns, 'unshare', '-m', '-u', 'bash', join(guest, 'node.sh'), n.name, n.role, dir, this.spec.binary],
      });
      const pid = Number.parseInt(out.trim().split('\n').pop() ?? '', 10);
      if (!Number.isInteger(pid)) throw new Error(`node.sh for ${n.name} printed no holder pid: ${out}`);
      const ring = n.ringIp === undefined ? '' : `addr add ${n.ringIp}/${RING.prefixLength} dev eth1\nlink set eth1 up\n`;
      await check(k, {
        argv: ['ip', '-n', netns, '-batch', '-'],
        stdin: `addr add ${n.ip}/${this.spec.prefixLength} dev eth0\nlink set eth0 up\n${ring}`,
      });
      const link = await check(k, { argv: ['ip', '-n', netns, '-br', 'link', 'show', 'eth0'] });
      const mac = /([0-9a-f]{2}(?::[0-9a-f]{2}){5})/.exec(link)?.[1] ?? '';
      this.nodes.set(n.name, { ...n, netns, nic: 'eth0', mac, pid, dir });
    }

    if (this.spec.vip6 !== undefined) await addIpv6(this);
    for (const n of this.all('real')) await this.makeRealServer(n.name);
    for (const n of this.all()) if (n.http) await this.startHttp(n.name);
  }

  /** A DR real server: ARP hidden first, then every VIP on lo (the order a real server needs). */
  async makeRealServer(name: string): Promise<void> {
    await this.run(name, [
      'sysctl', '-q',
      '-w', 'net.ipv4.conf.all.arp_ignore=1', '-w', 'net.ipv4.conf.all.arp_announce=2',
      '-w', 'net.ipv4.conf.lo.arp_ignore=1', '-w', 'net.ipv4.conf.lo.arp_announce=2',
    ]);
    for (const vip of this.vips) await this.run(name, ['ip', 'addr', 'add', `${vip}/32`, 'dev', 'lo']);
    // IPv6 has no ARP: a VIP/128 on lo is never advertised on eth0.
    if (this.spec.vip6 !== undefined) await this.run(name, ['ip', '-6', 'addr', 'add', `${this.spec.vip6}/128`, 'dev', 'lo']);
  }

  /** HTTP on port 80 answering the node's name; returns once it listens. */
  async startHttp(name: string): Promise<void> {
    const n = this.node(name);
    const r = await this.exec(name, ['python3', '-m', 'http.server', '80', '--bind', '0.0.0.0', '--directory', join(n.dir, 'www')], {
      detach: true,
      log: join(n.dir, 'http.log'),
    });
    if (r.error !== undefined || r.pid === undefined) throw new Error(`cannot start HTTP on ${name}: ${describeResult(r)}`);
    await this.waitListening(name, 80, 'HTTP server');
    if (this.spec.vip6 !== undefined) await startServer6(this, name, 'http', 80);
  }

  /**
   * Waits until something listens on a TCP port of a node. Generous: a Python server starts in about
   * a second in UML, many more on a machine busy with other work.
   */
  async waitListening(name: string, port: number, what: string, timeoutMs = LISTEN_TIMEOUT_MS, family?: 'ipv4' | 'ipv6'): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const ss = await this.exec(name, ['ss', family === 'ipv6' ? '-Hltn6' : family === 'ipv4' ? '-Hltn4' : '-Hltn', `sport = :${port}`]);
      if (ss.stdout.trim() !== '') return;
      await sleep(100);
    }
    throw new Error(`the ${what} on ${name} does not listen on port ${port} after ${timeoutMs / 1000} s`);
  }

  /** One line per node: name, role, address, cluster network address, MAC, namespace. */
  describe(): string {
    const rows = this.all().map((n) => [n.name, n.role, `${n.ip}/${this.spec.prefixLength}`, n.ringIp ? `${n.ringIp}/${RING.prefixLength}` : '', n.mac, n.netns, n.http ? 'http:80' : '']);
    const header = ['node', 'role', 'address', 'eth1 (cluster)', 'mac', 'netns', 'serves'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    return [line(header), ...rows.map(line)].join('\n');
  }

  /** Kills every process of this topology and removes its namespaces and files. */
  async destroy(): Promise<void> {
    await check(this.kernel, { argv: ['bash', join(guest, 'teardown.sh'), this.prefix] });
    await this.kernel.exec({ argv: ['rm', '-rf', ...[this.switchNs, ...this.spec.nodes.map((n) => `${this.prefix}-${n.name}`)].map((ns) => join(this.kernel.workdir, ns))] });
    this.nodes.clear();
  }
}
