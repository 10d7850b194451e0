// `npm run bench -- failover`: the outage a client sees when the director dies (scenario 4 of the
// issue) or loses its link (scenario 6), for lvskit (`lvskit bootstrap --apply`), the stack it
// replaces (IPaddr2 with lvs_support + ldirectord under pacemaker) and keepalived, in one UML lab,
// in the same run, on the seeds' topology (lab/directors.ts). One stack at a time, the order reversed
// every round. Misses are reported, not failed on.
//
// Timestamps come from the lab kernel's own clock and from netlink, so that no polling loads the
// single UML CPU during the failover measured: the fault is the switch port going down (`ip monitor
// link` in the switch namespace), the takeover is the VIP appearing on the new director's eth0 (`ip
// monitor address` there), the client (the lab's load generator, lab/load.ts) logs every request it sends.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, openKernel, type Kernel, type Topology } from '../lab';
import { startCluster } from '../lab/cluster';
import { buildDirectors, buildDirectorTopology, CHECKER_CONFIG, checkerConfig } from '../lab/directors';
import { ECHO_PORT } from '../lab/echo';
import { cutLink, killNode, restoreLink, reviveNode } from '../lab/faults';
import { outage, startLoad, type Load } from '../lab/load';
import { clockOffset, ipvsTable, vipOn, vipOnNic } from '../lab/observe';
import { allOnline, crmMon, pacemakerLog, summary } from '../lab/pacemaker';
import { fmt, loadAverage, machine, table } from './measure';

const root = resolve(__dirname, '..');
const BINARY = join(root, 'dist', 'lvskit');
const DOC = join(root, 'docs', 'bench-failover.md');

// LVSKIT_BENCH_ROUNDS, LVSKIT_BENCH_STACKS (e.g. keepalived,ipaddr2) and LVSKIT_BENCH_SCENARIOS
// (kill,cut) narrow a run, to debug one stack.
const ROUNDS = Number(process.env.LVSKIT_BENCH_ROUNDS ?? 2);
const CLIENT_INTERVAL_MS = 50;
const CLIENT_TIMEOUT_MS = 500;
const BASELINE_MS = 2_000;
/** Failed requests are counted over this long after the fault, the same for every stack. */
const COUNT_WINDOW_MS = 15_000;
/** After the first answer, keep watching this long (the new director's checker filling its table). */
const AFTER_FIRST_OK_MS = 8_000;
const EVENT_CAP_MS = 90_000;
const STEADY_TIMEOUT_MS = 240_000;
// keepalived's defaults, said here because the report quotes them.
const VRRP_ADVERT_S = 1;
const VRRP_PRIORITY = 100;

const STACKS = ['lvskit', 'ipaddr2', 'keepalived'] as const;
type StackKey = (typeof STACKS)[number];
const RUN_STACKS = STACKS.filter((k) => (process.env.LVSKIT_BENCH_STACKS ?? STACKS.join(',')).split(',').includes(k));
const SCENARIOS = ['kill', 'cut'] as const;
type Scenario = (typeof SCENARIOS)[number];
const RUN_SCENARIOS = SCENARIOS.filter((k) => (process.env.LVSKIT_BENCH_SCENARIOS ?? SCENARIOS.join(',')).split(',').includes(k));

const STACK_LABEL: Record<StackKey, string> = {
  lvskit: 'lvskit (lvs promotable + lvsd)',
  ipaddr2: 'IPaddr2 + ldirectord',
  keepalived: 'keepalived',
};
const SCENARIO_LABEL: Record<Scenario, string> = {
  kill: '(4) the director dies',
  cut: "(6) the director's NIC loses link",
};

let started = Date.now();
const say = (line: string) => {
  const s = Math.round((Date.now() - started) / 1000);
  process.stderr.write(`bench failover [${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}]: ${line}\n`);
};

interface Stack {
  key: StackKey;
  topo: Topology;
  /** What keeps this stack from being ready for a fault, beyond the VIP and the IPVS table; undefined when ready. */
  notReady(director: string, standby: string): Promise<string | undefined>;
  /** The killed node boots again and joins as the standby. */
  revive(node: string): Promise<void>;
  /** After a repair: forget the failures the fault left (pacemaker fail counts). */
  afterRepair(): Promise<void>;
  /** Whether the node is the pacemaker DC (undefined: no pacemaker). */
  isDc(node: string): Promise<boolean | undefined>;
  /** Timing parameters of the stack, for the report. */
  facts(): Promise<Record<string, string>>;
  /** What a node's stack says about itself, shown when a takeover did not happen. */
  diagnose(node: string): Promise<string>;
  /** When the survivor's cluster saw the failed node gone, and finished the takeover action (lab clock ms). */
  milestones(failed: string, survivor: string, since: number): Promise<{ lostAt?: number; actionAt?: number }>;
}

// ---- the three stacks ----------------------------------------------------------------------------

/** ldirectord.cf for Debian's ldirectord: the seeds' file without lvsd's slowstart (ldirectord refuses it). */
function ldirectordConfig(topo: Topology): string {
  return checkerConfig(topo).split('\n').filter((l) => !/^slowstart=/.test(l)).join('\n');
}

const IPADDR2_PCS = (vip: string, prefix: number): string[][] => [
  ['pcs', 'property', 'set', 'stonith-enabled=false'],
  ['pcs', 'resource', 'defaults', 'update', 'resource-stickiness=100'],
  ['pcs', 'resource', 'create', 'vip', 'ocf:heartbeat:IPaddr2', `ip=${vip}`, `cidr_netmask=${prefix}`, 'nic=eth0', 'lvs_support=true', 'op', 'monitor', 'interval=10s'],
  ['pcs', 'resource', 'create', 'ldirectord', 'ocf:heartbeat:ldirectord', `configfile=${CHECKER_CONFIG}`,
    // The agent's 15 s start and stop timed out in the lab: Perl starts slowly in UML.
    'op', 'monitor', 'interval=20s', 'timeout=60s', 'start', 'timeout=60s', 'stop', 'timeout=60s', '--disabled'],
  ['pcs', 'constraint', 'colocation', 'add', 'ldirectord', 'with', 'vip', 'INFINITY'],
  ['pcs', 'constraint', 'order', 'vip', 'then', 'ldirectord'],
  ['pcs', 'resource', 'enable', 'ldirectord'],
];

/** keepalived.conf for one director: VRRP (unicast to the other director), the seeds' two virtual servers. */
function keepalivedConfig(topo: Topology, self: string): string {
  const vip = topo.spec.vip;
  const peers = topo.all('director').filter((d) => d.name !== self);
  const http = [...topo.all('director'), ...topo.all('real')];
  const real = (ip: string, port: number, check: string[]) =>
    [`    real_server ${ip} ${port} {`, '        weight 1', '        inhibit_on_failure', ...check.map((l) => `        ${l}`), '    }'];
  const httpCheck = ['HTTP_GET {', '    url {', '        path /', '        status_code 200', '    }', '    connect_timeout 1', '    retry 0', '    delay_before_retry 1', '}'];
  const tcpCheck = ['TCP_CHECK {', '    connect_timeout 1', '    retry 0', '    delay_before_retry 1', '}'];
  return [
    `# Written by bench/failover.ts for ${self}.`,
    'global_defs {',
    `    router_id ${self}`,
    // The backup sync daemon is what net.ipv4.vs.backup_only keys on (see the report); on lo, so
    // that its multicast never reaches the lab LAN.
    '    lvs_sync_daemon lo VI_1',
    '}',
    'vrrp_instance VI_1 {',
    '    state BACKUP',
    '    interface eth0',
    '    virtual_router_id 51',
    `    priority ${VRRP_PRIORITY}`,
    `    advert_int ${VRRP_ADVERT_S}`,
    '    nopreempt',
    `    unicast_src_ip ${topo.node(self).ip}`,
    '    unicast_peer {',
    ...peers.map((p) => `        ${p.ip}`),
    '    }',
    '    virtual_ipaddress {',
    `        ${vip}/${topo.spec.prefixLength} dev eth0`,
    '    }',
    '}',
    `virtual_server ${vip} 80 {`,
    '    delay_loop 1',
    '    lb_algo lc',
    '    lb_kind DR',
    '    protocol TCP',
    ...http.flatMap((n) => real(n.ip, 80, httpCheck)),
    '}',
    `virtual_server ${vip} ${ECHO_PORT} {`,
    '    delay_loop 1',
    '    lb_algo lc',
    '    lb_kind DR',
    '    protocol TCP',
    ...topo.all('real').flatMap((n) => real(n.ip, ECHO_PORT, tcpCheck)),
    '}',
    '',
  ].join('\n');
}

const directors = (topo: Topology) => topo.all('director').map((n) => n.name);

async function outputs(topo: Topology, node: string, commands: string[][]): Promise<string> {
  const out: string[] = [];
  for (const argv of commands) {
    const r = await topo.exec(node, argv, { timeoutMs: 30_000 });
    out.push(`--- ${node}: ${argv.join(' ')}\n${r.stdout}${r.stderr}`);
  }
  return out.join('\n');
}

/** From the survivor's pacemaker log: the failed node declared lost, the takeover action's result. */
async function pacemakerMilestones(topo: Topology, failed: string, survivor: string, since: number, action: RegExp): Promise<{ lostAt?: number; actionAt?: number }> {
  const lines = await pacemakerLog(topo, survivor, since - 1000);
  return {
    lostAt: lines.find((l) => l.text.includes(`Node ${failed} state is now lost`))?.at,
    actionAt: lines.find((l) => action.test(l.text) && l.text.includes(` on ${survivor}: ok`))?.at,
  };
}

const pacemakerDiagnosis = (topo: Topology, node: string) =>
  outputs(topo, node, [['crm_mon', '-1', '-rf'], ['corosync-quorumtool', '-s'], ['tail', '-n', '80', '/var/log/pacemaker/pacemaker.log']]);

async function realServerUp(topo: Topology, node: string): Promise<void> {
  await topo.run(node, [topo.spec.binary, 'realserver', 'up', '--vip', topo.spec.vip]);
}

/** crm_mon on `from`: every director online, and each expected instance in its role on its node. */
async function pacemakerNotReady(topo: Topology, from: string, expect: { id: string; role: string; node: string }[]): Promise<string | undefined> {
  const view = await crmMon(topo, from);
  if (!view || !allOnline(view, directors(topo))) return `crm_mon on ${from}: ${summary(view)}`;
  if (view.resources.some((r) => r.failed)) return `failed: ${summary(view)}`;
  for (const e of expect) {
    if (!view.resources.some((r) => r.id === e.id && r.role === e.role && r.nodes.includes(e.node))) return `${e.id} not ${e.role} on ${e.node}: ${summary(view)}`;
  }
  return undefined;
}

async function pacemakerCleanup(topo: Topology): Promise<void> {
  for (const d of directors(topo)) {
    const r = await topo.exec(d, ['crm_resource', '--cleanup'], { timeoutMs: 60_000 });
    if (r.code === 0) return;
  }
  throw new Error('crm_resource --cleanup failed on every director');
}

async function isDc(topo: Topology, node: string): Promise<boolean | undefined> {
  const dc = (await crmMon(topo, node))?.dc;
  return dc === undefined ? undefined : dc === node;
}

/** A duration as pacemaker writes it (10s, 10000ms, 1min, 10) in ms. */
function pcmkMs(value: string): number {
  const m = /^(\d+)\s*(ms|msec|s|sec|m|min|h|hr)?$/.exec(value.trim());
  if (!m) return NaN;
  const unit = { ms: 1, msec: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, hr: 3_600_000 }[m[2] ?? 's'] ?? NaN;
  return Number(m[1]) * unit;
}

/** corosync's runtime token and consensus timeouts, and the monitor intervals of a resource, read from the cluster. */
async function pacemakerFacts(topo: Topology, resources: string[]): Promise<Record<string, string>> {
  const d = directors(topo)[0]!;
  const cmap = async (key: string) => /=\s*(\d+)/.exec(await topo.run(d, ['corosync-cmapctl', '-g', key]))?.[1] ?? '?';
  const facts: Record<string, string> = {
    'corosync token (ms)': await cmap('runtime.config.totem.token'),
    'corosync consensus (ms)': await cmap('runtime.config.totem.consensus'),
  };
  const cib = await topo.run(d, ['cibadmin', '--query', '--scope', 'resources']);
  for (const id of resources) {
    const prim = new RegExp(`<primitive [^>]*\\bid="${id}"[\\s\\S]*?</primitive>`).exec(cib)?.[0] ?? '';
    for (const op of prim.matchAll(/<op [^>]*\bname="monitor"[^>]*>/g)) {
      const interval = /\binterval="([^"]+)"/.exec(op[0])?.[1] ?? '?';
      const role = /\brole="([^"]+)"/.exec(op[0])?.[1];
      facts[`${id} monitor interval${role ? ` (${role})` : ''} (ms)`] = String(pcmkMs(interval));
    }
  }
  return facts;
}

async function lvskitStack(kernel: Kernel): Promise<Stack & { bootstrap: string }> {
  const seeds = await buildDirectors(kernel, { log: (l) => say(`lvskit: ${l}`) });
  const topo = seeds.topo;
  return {
    key: 'lvskit',
    topo,
    bootstrap: seeds.bootstrapOutput,
    notReady: (director, standby) =>
      pacemakerNotReady(topo, director, [
        { id: 'lvs', role: 'Promoted', node: director },
        { id: 'lvs', role: 'Unpromoted', node: standby },
        { id: 'lvsd', role: 'Started', node: director },
      ]),
    revive: (node) => reviveNode(topo, node),
    afterRepair: () => pacemakerCleanup(topo),
    isDc: (node) => isDc(topo, node),
    facts: () => pacemakerFacts(topo, ['lvs', 'lvsd']),
    diagnose: (node) => pacemakerDiagnosis(topo, node),
    milestones: (failed, survivor, since) => pacemakerMilestones(topo, failed, survivor, since, /Result of promote operation for lvs /),
  };
}

async function ipaddr2Stack(kernel: Kernel): Promise<Stack> {
  const topo = await buildDirectorTopology(kernel);
  try {
    const ds = directors(topo);
    say(`ipaddr2: topology ${topo.prefix}`);
    for (const d of ds) {
      await topo.run(d, ['tee', CHECKER_CONFIG], { stdin: ldirectordConfig(topo) });
      // The standby must be a DR real server; IPaddr2 takes the VIP off lo when it starts (lvs_support).
      await realServerUp(topo, d);
    }
    await startCluster(topo, ds, { name: 'ipaddr2', timeoutMs: 180_000 });
    say(`ipaddr2: corosync + pacemaker online on ${ds.join(', ')}`);
    for (const argv of IPADDR2_PCS(topo.spec.vip, topo.spec.prefixLength)) {
      const r = await topo.exec(ds[0]!, argv, { timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`ipaddr2 stack: ${describe(r)}`);
    }
    say('ipaddr2: resources created with pcs');
  } catch (err) {
    await topo.destroy();
    throw err;
  }
  return {
    key: 'ipaddr2',
    topo,
    notReady: (director) =>
      pacemakerNotReady(topo, director, [
        { id: 'vip', role: 'Started', node: director },
        { id: 'ldirectord', role: 'Started', node: director },
      ]),
    revive: async (node) => {
      await reviveNode(topo, node);
      await realServerUp(topo, node);
    },
    afterRepair: () => pacemakerCleanup(topo),
    isDc: (node) => isDc(topo, node),
    facts: () => pacemakerFacts(topo, ['vip', 'ldirectord']),
    diagnose: (node) => pacemakerDiagnosis(topo, node),
    milestones: (failed, survivor, since) => pacemakerMilestones(topo, failed, survivor, since, /Result of start operation for vip /),
  };
}

async function startKeepalived(topo: Topology, node: string): Promise<void> {
  await realServerUp(topo, node);
  // Without it the standby, whose checker keeps the same IPVS table, would balance again the
  // packets the director sends it (a loop between the two).
  await topo.run(node, ['sysctl', '-q', '-w', 'net.ipv4.vs.backup_only=1']);
  await topo.run(node, ['tee', '/etc/keepalived/keepalived.conf'], { stdin: keepalivedConfig(topo, node) });
  const r = await topo.exec(node, ['keepalived', '--dont-fork', '--log-console', '--log-detail', '-f', '/etc/keepalived/keepalived.conf'], {
    detach: true,
    log: join(topo.node(node).dir, 'keepalived.log'),
  });
  if (r.error !== undefined) throw new Error(`cannot start keepalived on ${node}: ${r.error}`);
}

/** A director's reboot (reviveNode without corosync and pacemaker), then keepalived. */
async function rebootKeepalived(topo: Topology, node: string): Promise<void> {
  await reviveNode(topo, node, { cluster: false });
  await startKeepalived(topo, node);
}

async function keepalivedStack(kernel: Kernel): Promise<Stack> {
  const topo = await buildDirectorTopology(kernel);
  try {
    say(`keepalived: topology ${topo.prefix}`);
    for (const d of directors(topo)) await startKeepalived(topo, d);
  } catch (err) {
    await topo.destroy();
    throw err;
  }
  return {
    key: 'keepalived',
    topo,
    notReady: async (director, standby) => {
      // The sync daemons follow the VRRP state (lvs_sync_daemon … VI_1): master on the director, backup on the standby.
      const daemons = async (n: string) => (await topo.exec(n, ['ipvsadm', '-L', '--daemon'])).stdout;
      if (!/master sync daemon/.test(await daemons(director))) return `no master sync daemon on ${director} (VRRP not MASTER)`;
      if (!/backup sync daemon/.test(await daemons(standby))) return `no backup sync daemon on ${standby} (VRRP not BACKUP)`;
      return undefined;
    },
    revive: (node) => rebootKeepalived(topo, node),
    afterRepair: async () => undefined,
    isDc: async () => undefined,
    facts: async () => ({
      'VRRP advert_int (ms)': String(VRRP_ADVERT_S * 1000),
      'VRRP master down interval (ms)': fmt((3 * VRRP_ADVERT_S + (256 - VRRP_PRIORITY) / 256) * 1000, 0),
    }),
    diagnose: (node) => outputs(topo, node, [['tail', '-n', '40', join(topo.node(node).dir, 'keepalived.log')]]),
    // keepalived logs whole seconds only; the VIP's netlink event says when it became MASTER.
    milestones: async () => ({}),
  };
}

// ---- steady state and one fault -----------------------------------------------------------------

/**
 * Waits until the stack is ready for a fault: one director with the VIP on eth0 and the others with
 * it on lo, the director's IPVS table with every real of VIP:80 at full weight, the stack's own
 * conditions. Returns the director.
 */
async function steady(stack: Stack): Promise<{ director: string; standby: string }> {
  const topo = stack.topo;
  const until = Date.now() + STEADY_TIMEOUT_MS;
  const http = [...topo.all('director'), ...topo.all('real')].map((n) => `${n.ip}:80`).sort();
  // A string says why not.
  const probe = async (): Promise<{ director: string; standby: string } | string> => {
    const onNic = await vipOnNic(topo);
    if (onNic.length !== 1) return `VIP on the NIC of ${onNic.length === 0 ? 'no director' : onNic.join(' and ')}`;
    const director = onNic[0]!;
    const standby = directors(topo).find((d) => d !== director)!;
    if ((await vipOn(topo, standby, 'lo')).length === 0) return `VIP not on ${standby}'s lo`;
    const svc = (await ipvsTable(topo, director)).find((s) => s.service === `TCP ${topo.spec.vip}:80`);
    const full = (svc?.reals ?? []).filter((r) => r.weight >= 1 && r.upper === 0).map((r) => r.address).sort();
    if (full.join(' ') !== http.join(' ')) return `IPVS on ${director}: ${full.length} of ${http.length} reals at full weight`;
    return (await stack.notReady(director, standby)) ?? { director, standby };
  };
  for (;;) {
    const r = await probe().catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
    if (typeof r !== 'string') return r;
    if (Date.now() > until) throw new Error(`${stack.key}: not ready for a fault after ${STEADY_TIMEOUT_MS / 1000} s: ${r}`);
    await sleep(1000);
  }
}

interface Monitor {
  pid: number;
  log: string;
}

/** `ip -ts -o monitor WHAT` in a namespace (on the lab kernel), timestamps in UTC. */
async function startMonitor(kernel: Kernel, argvPrefix: string[], what: string, log: string): Promise<Monitor> {
  const r = await kernel.exec({ argv: [...argvPrefix, 'ip', '-ts', '-o', 'monitor', what], env: { TZ: 'UTC' }, detach: true, log });
  if (r.error !== undefined || r.pid === undefined) throw new Error(`cannot start ip monitor ${what}: ${describe(r)}`);
  return { pid: r.pid, log };
}

interface MonitorLine {
  at: number;
  text: string;
}

async function readMonitor(kernel: Kernel, m: Monitor): Promise<MonitorLine[]> {
  const out = await kernel.exec({ argv: ['cat', m.log] });
  return out.stdout.split('\n').flatMap((line) => {
    const ts = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)\]\s*(.*)$/.exec(line);
    return ts ? [{ at: Date.parse(`${ts[1]!.slice(0, 23)}Z`), text: ts[2]! }] : [];
  });
}

interface FaultResult {
  stack: StackKey;
  scenario: Scenario;
  round: number;
  /** The director that failed, the one that took over. */
  failed: string;
  survivor: string;
  failedWasDc: boolean | undefined;
  /** How the fault time was taken: netlink on the switch port, or the command's time (fallback). */
  faultSource: 'netlink' | 'command';
  /** ms after the fault (undefined: not seen in the window). */
  takeoverMs: number | undefined;
  outageMs: number | undefined;
  /** First answer after the fault from a node other than the new director: its IPVS table forwards. */
  forwardingMs: number | undefined;
  /** Scenario 6: when the cut director gave up the VIP on its NIC (undefined: kept it). */
  releasedMs: number | undefined;
  /** Pacemaker stacks: the survivor's pacemaker saw the failed node lost; its promote/start returned. */
  lostMs: number | undefined;
  actionMs: number | undefined;
  failedRequests: number;
  requests: number;
}

async function fault(stack: Stack, scenario: Scenario, round: number): Promise<FaultResult> {
  const topo = stack.topo;
  const kernel = topo.kernel;
  const { director, standby } = await steady(stack);
  const failedWasDc = await stack.isDc(director);
  const tag = `${stack.key}-${scenario}-${round}-${Date.now()}`;
  const sw = await startMonitor(kernel, ['ip', 'netns', 'exec', topo.switchNs], 'link', join(kernel.workdir, `bench-${tag}-switch.log`));
  const addr = new Map<string, Monitor>();
  for (const d of [director, standby]) {
    const n = topo.node(d);
    addr.set(d, await startMonitor(kernel, ['nsenter', '-t', String(n.pid), '-n', '-m', '-u', '--'], 'address', join(n.dir, `bench-${tag}-addr.log`)));
  }
  let stopped = false;
  let load: Load | undefined;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await load?.stop();
    for (const pid of [sw.pid, ...[...addr.values()].map((m) => m.pid)]) await kernel.exec({ argv: ['kill', String(pid)] });
  };
  try {
    load = await startLoad(topo, { intervalMs: CLIENT_INTERVAL_MS, timeoutMs: CLIENT_TIMEOUT_MS });
    await sleep(BASELINE_MS);
    let samples = await load.samples();
    const baseline = samples.filter((s) => s.at < samples[samples.length - 1]!.at - CLIENT_TIMEOUT_MS);
    const baselineOk = baseline.filter((s) => s.ok);
    // Not "several reals": lc sends every new connection to a real that just came back (it has
    // the fewest connections) until it catches up, so two seconds may all go to one.
    if (baseline.length < 10 || baselineOk.length < 0.9 * baseline.length) {
      throw new Error(`${stack.key}: the client's requests before the fault: ${baselineOk.length}/${baseline.length} answered`);
    }

    say(`${stack.key} round ${round}: ${scenario === 'kill' ? 'killing' : 'cutting the link of'} ${director}${failedWasDc ? ' (the DC)' : ''}, standby ${standby}`);
    const offset = await clockOffset(kernel);
    const commandAt = (scenario === 'kill' ? await killNode(topo, director) : await cutLink(topo, director)) + offset;

    // Wait for the takeover and the client's first answer, then a little longer; poll files only.
    const downAt = async () =>
      (await readMonitor(kernel, sw)).find((l) => new RegExp(`^\\d+: ${director}@\\S+: <(?![^>]*\\bUP\\b)`).test(l.text))?.at;
    const vipLine = (l: MonitorLine) => l.text.includes(` inet ${topo.spec.vip}/`) && /^(Deleted )?\d+: eth0(@\S+)?\s/.test(l.text);
    const deadline = Date.now() + EVENT_CAP_MS;
    let faultAt = commandAt;
    let source: FaultResult['faultSource'] = 'command';
    for (;;) {
      const down = await downAt();
      if (down !== undefined) [faultAt, source] = [down, 'netlink'];
      samples = await load.samples();
      const o = outage(samples, faultAt);
      const now = Date.now() + offset;
      if (o.firstOkAfter !== undefined && now > o.firstOkAfter + AFTER_FIRST_OK_MS && now > faultAt + COUNT_WINDOW_MS + CLIENT_TIMEOUT_MS) break;
      if (Date.now() > deadline) break;
      await sleep(500);
    }
    samples = await load.samples();
    await stop();
    faultAt = (await downAt()) ?? faultAt;
    await kernel.exec({ argv: ['rm', '-f', sw.log] });
    const survivorLines = await readMonitor(kernel, addr.get(standby)!);
    const takeover = survivorLines.find((l) => l.at >= faultAt && vipLine(l) && !l.text.startsWith('Deleted '));
    const released = scenario === 'cut' ? (await readMonitor(kernel, addr.get(director)!)).find((l) => l.at >= faultAt && vipLine(l) && l.text.startsWith('Deleted ')) : undefined;
    const o = outage(samples, faultAt);
    const pcmk = await stack.milestones(director, standby, faultAt);
    const forwarding = samples.find((s) => s.at > faultAt && s.ok && s.real !== standby && s.real !== director);
    const windowed = samples.filter((s) => s.at >= faultAt && s.at < faultAt + COUNT_WINDOW_MS);
    const rel = (t: number | undefined) => (t === undefined ? undefined : t - faultAt);
    const result: FaultResult = {
      stack: stack.key, scenario, round, failed: director, survivor: standby, failedWasDc, faultSource: source,
      takeoverMs: rel(takeover?.at), outageMs: o.ms, forwardingMs: rel(forwarding ? forwarding.at + forwarding.ms : undefined),
      releasedMs: rel(released?.at), lostMs: rel(pcmk.lostAt), actionMs: rel(pcmk.actionAt), failedRequests: windowed.filter((s) => !s.ok).length, requests: windowed.length,
    };
    if (result.outageMs === undefined || result.takeoverMs === undefined) say(`${stack.key}: no takeover by ${standby}:\n${await stack.diagnose(standby)}`);
    const ms = (v: number | undefined) => (v === undefined ? 'never' : `${fmt(v, 0)} ms`);
    say(`${stack.key} round ${round} ${scenario}: outage ${ms(result.outageMs)}, VIP on ${standby}'s eth0 after ${ms(result.takeoverMs)}, ${result.failedRequests}/${result.requests} requests failed`);
    return result;
  } finally {
    await stop();
  }
}

async function repair(stack: Stack, r: FaultResult): Promise<void> {
  say(`${stack.key}: ${r.scenario === 'kill' ? `reviving ${r.failed}` : `restoring ${r.failed}'s link`}`);
  if (r.scenario === 'kill') await stack.revive(r.failed);
  else await restoreLink(stack.topo, r.failed);
  await stack.afterRepair();
}

// ---- the report ----------------------------------------------------------------------------------

function stats(values: (number | undefined)[]): { min: number; median: number; max: number; n: number; missing: number } | undefined {
  const v = values.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { min: v[0]!, median, max: v[v.length - 1]!, n: v.length, missing: values.length - v.length };
}

const mmm = (values: (number | undefined)[]) => {
  const s = stats(values);
  if (!s) return 'never';
  return `${fmt(s.min, 0)} / ${fmt(s.median, 0)} / ${fmt(s.max, 0)}${s.missing > 0 ? ` (${s.missing} never)` : ''}`;
};

interface Report {
  summary: string;
  phases: string;
  targets: string;
  events: string;
  missed: string[];
}

function report(results: FaultResult[], bound: number | undefined): Report {
  const rows: string[][] = [];
  for (const scenario of SCENARIOS) {
    for (const key of STACKS) {
      const rs = results.filter((r) => r.stack === key && r.scenario === scenario);
      if (rs.length === 0) continue;
      rows.push([
        SCENARIO_LABEL[scenario], STACK_LABEL[key], String(rs.length), mmm(rs.map((r) => r.outageMs)),
        key === 'keepalived' ? '' : mmm(rs.map((r) => r.lostMs)), mmm(rs.map((r) => r.takeoverMs)),
        mmm(rs.map((r) => r.forwardingMs)), `${rs.reduce((a, r) => a + r.failedRequests, 0)} / ${rs.reduce((a, r) => a + r.requests, 0)}`,
        scenario === 'cut' ? mmm(rs.map((r) => r.releasedMs)) : '',
      ]);
    }
  }
  // Where the time goes: medians of the differences between the milestones of each fault.
  const diff = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a - b);
  const median = (values: (number | undefined)[]) => {
    const st = stats(values);
    return st ? fmt(st.median, 0) : '–';
  };
  const phases: string[][] = [];
  for (const scenario of SCENARIOS) {
    for (const key of STACKS) {
      const rs = results.filter((r) => r.stack === key && r.scenario === scenario);
      if (rs.length === 0) continue;
      const pcmk = key !== 'keepalived';
      phases.push([
        SCENARIO_LABEL[scenario], STACK_LABEL[key],
        `${rs.filter((r) => r.failedWasDc).length} of ${rs.length}`.replace(/^0 of \d+$/, pcmk ? 'none' : '–'),
        pcmk ? median(rs.map((r) => r.lostMs)) : '–',
        pcmk ? median(rs.map((r) => diff(r.takeoverMs, r.lostMs))) : median(rs.map((r) => r.takeoverMs)),
        pcmk ? median(rs.map((r) => diff(r.actionMs, r.takeoverMs))) : '–',
        median(rs.map((r) => diff(r.outageMs, r.takeoverMs))),
        median(rs.map((r) => r.outageMs)),
      ]);
    }
  }
  const missed: string[] = [];
  const targets: string[][] = [];
  for (const scenario of SCENARIOS) {
    const of = (key: StackKey) => results.filter((r) => r.stack === key && r.scenario === scenario);
    const lv = of('lvskit');
    if (lv.length === 0) continue;
    const lvOut = stats(lv.map((r) => r.outageMs));
    const unfinished = lv.filter((r) => r.outageMs === undefined).length;
    const others = (['ipaddr2', 'keepalived'] as const).map((k) => ({ k, s: stats(of(k).map((r) => r.outageMs)) })).filter((o) => o.s !== undefined);
    const best = others.sort((a, b) => a.s!.median - b.s!.median)[0];
    if (best && lvOut) {
      const pass = unfinished === 0 && lvOut.median <= best.s!.median;
      if (!pass) missed.push(`${SCENARIO_LABEL[scenario]}: lvskit's median outage ${fmt(lvOut.median, 0)} ms, the best of the others (${STACK_LABEL[best.k]}) ${fmt(best.s!.median, 0)} ms`);
      targets.push([SCENARIO_LABEL[scenario], 'median outage no longer than the best of the others', `lvskit ${fmt(lvOut.median, 0)} ms, ${STACK_LABEL[best.k]} ${fmt(best.s!.median, 0)} ms`, pass ? 'met' : '**MISSED**']);
    }
    if (bound !== undefined) {
      const worst = unfinished > 0 ? undefined : lvOut?.max;
      const pass = worst !== undefined && worst <= bound;
      if (!pass) missed.push(`${SCENARIO_LABEL[scenario]}: lvskit's longest outage ${worst === undefined ? 'never ended' : `${fmt(worst, 0)} ms`}, bound ${fmt(bound, 0)} ms`);
      targets.push([SCENARIO_LABEL[scenario], `every outage within token timeout + one monitor interval (${fmt(bound, 0)} ms)`, worst === undefined ? 'an outage did not end' : `longest ${fmt(worst, 0)} ms`, pass ? 'met' : '**MISSED**']);
    }
  }
  const ms = (v: number | undefined) => (v === undefined ? 'never' : fmt(v, 0));
  const events = results.map((r) => [
    String(r.round), STACK_LABEL[r.stack], SCENARIO_LABEL[r.scenario], `${r.failed}${r.failedWasDc ? ' (DC)' : ''} → ${r.survivor}`,
    ms(r.outageMs), r.stack === 'keepalived' ? '' : ms(r.lostMs), ms(r.takeoverMs), r.stack === 'keepalived' ? '' : ms(r.actionMs), ms(r.forwardingMs), r.scenario === 'cut' ? ms(r.releasedMs) : '', `${r.failedRequests}/${r.requests}`, r.faultSource,
  ]);
  return {
    summary: table(['scenario', 'stack', 'faults', 'outage (ms) min / median / max', 'node seen lost (ms)', 'VIP on the new director (ms)', 'forwarding to other reals (ms)', 'failed requests (15 s)', 'cut director drops the VIP (ms)'], rows),
    phases: table(['scenario', 'stack', 'failed director was the DC', 'fault → node seen lost', 'node seen lost → VIP on the new director (keepalived: fault → VIP)', 'VIP → promote/start returns', 'VIP → end of the outage', 'outage'], phases),
    targets: table(['scenario', 'target (lvskit)', 'measured', 'result'], targets),
    events: table(['round', 'stack', 'scenario', 'director → standby', 'outage (ms)', 'node lost (ms)', 'VIP moved (ms)', 'promote/start done (ms)', 'forwarding (ms)', 'VIP dropped (ms)', 'failed/requests', 'fault time'], events),
    missed,
  };
}

function doc(info: Record<string, string>, facts: Record<StackKey, Record<string, string>>, r: Report, configs: { keepalived: string; ldirectord: string; bootstrap: string; pcs: string[][] }, bound: string): string {
  const monitor = Number(facts.lvskit?.['lvs monitor interval (Promoted) (ms)']);
  const monitorEvery = Number.isFinite(monitor) ? ` (every ${monitor / 1000} s)` : '';
  const factRows = STACKS.flatMap((k) => Object.entries(facts[k] ?? {}).map(([name, v]) => [STACK_LABEL[k], name, v]));
  return `# Benchmark: failover outage, lvskit against IPaddr2 + ldirectord and keepalived

Written by \`npm run bench -- failover\` (bench/failover.ts); do not edit by hand, run it again.

${Object.entries(info).map(([k, v]) => `- ${k}: ${v}`).join('\n')}

## Results

Times in ms after the fault. The outage is what the client saw: the longest run of failed requests
around the fault, from the answer before it to the answer after it (lab/load.ts \`outage()\`, the
same function the failover tests use).

${r.summary}

- **node seen lost** (pacemaker stacks): the survivor's pacemaker declares the failed node lost
  (its detail log, \`Node … state is now lost\`): corosync's detection, token plus consensus.
- **VIP on the new director**: the VIP appears on the standby's eth0 (netlink), i.e. lvs promoted,
  IPaddr2 started, keepalived MASTER.
- **forwarding to other reals**: the first answer after the fault from a node other than the new
  director, i.e. its IPVS table forwards again (until then it answers the VIP itself, as a real
  server: lvsd or ldirectord has not filled its table yet; keepalived's standby has it all along).
- **failed requests**: over the ${COUNT_WINDOW_MS / 1000} s after the fault, summed over the faults: the outage itself plus the
  requests the new director sent to the dead real before its checker took it out.
- **cut director drops the VIP** (scenario 6): when the director that lost its link took the VIP off
  its NIC, on its own (it cannot hear the others); "never" means it kept it until the link came back.

## Where the time goes

Medians, in ms, of the differences between the milestones of each fault.

${r.phases}

- keepalived's takeover is VRRP's master-down timer (3 × advert_int + skew): nothing to detect
  through a membership protocol, nothing to schedule or start; the running daemon adds the VIP and
  sends its gratuitous ARPs at once, and its IPVS table on the standby is full all along.
- The pacemaker stacks first wait for corosync to declare the node lost (token, then consensus),
  then for the scheduler and the agent's action. When the failed director was also the DC (third
  column), the survivor first has to elect itself; the director that survived scenario 4 is
  usually the DC too, so scenario 6 usually cuts the DC.
- lvs promote puts the VIP on the NIC, takes it off lo, restores the ARP sysctls, moves the sync
  daemons, sets the promotion score (\`crm_attribute\`) and only then sends its gratuitous ARPs:
  until then the client's ARP entry still names the dead director, which is why lvskit's outage ends
  with the promote rather than when the VIP lands. IPaddr2 starts its ARPs right after the address.
- Scenario 6: keepalived watches its interface and drops the VIP the moment eth0 loses carrier;
  lvs notices at its next promoted monitor${monitorEvery} (no link: 9) and pacemaker takes the
  role from it; IPaddr2 4.12 does not look at the link, so the cut director keeps the VIP until the
  link comes back and both directors hold it.

## Targets

lvskit's outage no longer than the best of the others (medians compared), and every lvskit outage
within ${bound}.
A missed target is reported here, it does not fail the build.

${r.targets}

## Every fault

${r.events}

## Timing parameters, read from the running stacks

${table(['stack', 'parameter', 'value'], factRows)}

## Method

- One User-Mode Linux lab kernel (\`openKernel('uml')\`, one virtual CPU, on a 2-CPU machine that
  others share: see the load averages), the seeds' layout of lab/directors.ts for every stack: two
  directors d1, d2 (198.51.100.11, .12) that are also DR real servers with HTTP on port 80, one
  separate real server r1 (.21), a client (.10), the VIP 198.51.100.100/24 (lab/directors.ts builds
  on the lab's TEST-NET-2 topology; its addresses are fixed there). All on one bridge.
- The stacks, one at a time, each on a topology built for it and removed after it; ${ROUNDS} rounds, the order
  of the stacks reversed every round; in each round every stack takes one fault of each scenario
  (director killed, then, once all is steady again, the link of the new director cut).
- Before a fault the stack must be steady: one director with the VIP on eth0, the other with it on
  lo (a real server), all three reals of VIP:80 at full weight in the director's IPVS table, the
  stack's own state (pacemaker: both nodes online, the resources where they belong, no failure;
  keepalived: the master sync daemon on the director, the backup one on the standby), and ${BASELINE_MS / 1000} s of
  client requests at least 90 % answered.
- The client (the lab's load generator, lab/load.ts, in the client's namespace; the failover tests
  use the same) sends a new HTTP request through the VIP every ${CLIENT_INTERVAL_MS} ms on a fixed schedule, each with
  its own ${CLIENT_TIMEOUT_MS} ms time limit, so that one hanging request neither delays the next nor gets rescued by
  TCP's SYN retransmission (1 s) after the path came back.
- Scenario 4: lab/faults.ts \`killNode\`: the director's switch port goes down and every process of
  the node is killed with SIGKILL. Repair: \`reviveNode\` (what a reboot clears is cleared, the
  link comes back, corosync and pacemaker start); the IPaddr2 stack then runs \`lvskit realserver
  up\` as a boot script would; keepalived's node gets the same reboot without the cluster, then
  \`lvskit realserver up\` and keepalived.
- Scenario 6: \`cutLink\`: the director's switch port goes down, its processes keep running.
  Repair: \`restoreLink\`. After every repair the pacemaker stacks run \`crm_resource --cleanup\`.
- The fault's time is the switch port's link-down event (\`ip -ts monitor link\` in the switch's
  namespace), the takeover the VIP's address event on the new director's eth0 (\`ip -ts monitor
  address\`): both from the lab kernel's clock, like the client's times, and none of it polls
  anything during the failover (the benchmark only reads log files, every 500 ms).
- No fencing in any stack (\`stonith-enabled=false\`): in scenario 6 the cut director keeps running.

### lvskit

lab/directors.ts \`buildDirectors\`: corosync + pacemaker started by lab/cluster.ts (token 1000 ms, two_node),
then \`lvskit bootstrap --apply --name lab --nodes d1,d2 --vip 198.51.100.100 --vip-prefix 24 --nic eth0
--config ${CHECKER_CONFIG} --no-stonith\`, which ran:

\`\`\`
${configs.bootstrap.split('\n').filter((l) => /^(running|already done):/.test(l)).join('\n')}
\`\`\`

### IPaddr2 + ldirectord

The same cluster start, then on d1 (both directors first made real servers with \`lvskit realserver
up --vip 198.51.100.100\`: ARP hidden, the VIP on lo; IPaddr2's \`lvs_support\` takes it off lo when it
starts there and puts it back when it stops):

\`\`\`sh
${configs.pcs.map((a) => a.join(' ')).join('\n')}
\`\`\`

ldirectord's start and stop get 60 s instead of the agent's 15 s, which the start exceeded in the
lab (the agent runs \`ldirectord\` for status, start and status again, and Perl starts slowly in UML).
The same ldirectord.cf as lvsd's, without lvsd's \`slowstart\` (ldirectord refuses it):

\`\`\`
${configs.ldirectord}\`\`\`

### keepalived

\`lvskit realserver up --vip 198.51.100.100\` and \`sysctl net.ipv4.vs.backup_only=1\` on both directors,
then \`keepalived --dont-fork --log-console --log-detail -f /etc/keepalived/keepalived.conf\`. keepalived's
checker keeps the IPVS table on the standby too; without \`backup_only\` the standby would balance
again the packets the director forwards to it. That sysctl acts only while a backup sync daemon runs,
which \`lvs_sync_daemon … VI_1\` starts in BACKUP state; it runs on \`lo\` so that its multicast stays
off the lab LAN (the benchmark's connections are new ones: connection sync would not change them).
VRRP adverts go by unicast to the other director (only TEST-NET addresses on the LAN). Equal
priorities and \`nopreempt\`: no preemption, as with lvskit. The file on d1:

\`\`\`
${configs.keepalived}\`\`\`
`;
}

// ---- the run -------------------------------------------------------------------------------------

export async function benchFailover(): Promise<void> {
  const t0 = Date.now();
  started = t0;
  const info = machine(BINARY, root);
  for (const pkg of ['pacemaker', 'corosync', 'pcs', 'ldirectord', 'keepalived']) {
    const v = spawnSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' });
    info[pkg] = v.status === 0 ? v.stdout.trim() : 'unknown';
  }
  delete info.hyperfine;
  let kernel: Kernel | undefined;
  let current: Stack | undefined;
  const cleanup = async () => {
    await current?.topo.destroy().catch((err: unknown) => say(`cleanup: ${String(err)}`));
    current = undefined;
    await kernel?.close();
    kernel = undefined;
  };
  const onSignal = (sig: NodeJS.Signals) => void cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);

  const results: FaultResult[] = [];
  const facts = {} as Record<StackKey, Record<string, string>>;
  const configs = { keepalived: '', ldirectord: '', bootstrap: '', pcs: [] as string[][] };
  try {
    kernel = await openKernel('uml');
    info['lab kernel'] = `uml ${(await kernel.exec({ argv: ['uname', '-r'] })).stdout.trim()}`;
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? [...RUN_STACKS] : [...RUN_STACKS].reverse();
      for (const key of order) {
        const built = Date.now();
        say(`round ${round}/${ROUNDS}: building ${STACK_LABEL[key]}`);
        if (key === 'lvskit') {
          const s = await lvskitStack(kernel);
          configs.bootstrap = s.bootstrap;
          current = s;
        } else {
          current = key === 'ipaddr2' ? await ipaddr2Stack(kernel) : await keepalivedStack(kernel);
        }
        const stack = current;
        for (const scenario of RUN_SCENARIOS) {
          const r = await fault(stack, scenario, round);
          results.push(r);
          await repair(stack, r);
        }
        facts[key] ??= await stack.facts();
        if (key === 'keepalived') configs.keepalived = keepalivedConfig(stack.topo, 'd1');
        if (key === 'ipaddr2') {
          configs.ldirectord = ldirectordConfig(stack.topo);
          configs.pcs = IPADDR2_PCS(stack.topo.spec.vip, stack.topo.spec.prefixLength);
        }
        await stack.topo.destroy();
        current = undefined;
        say(`${key}: done in ${fmt((Date.now() - built) / 1000, 0)} s`);
      }
    }
  } catch (err) {
    if (results.length > 0) console.log(`${report(results, undefined).events}\n`);
    throw err;
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }

  info['load average at end'] = loadAverage();
  info['duration'] = `${fmt((Date.now() - t0) / 60_000, 1)} min`;
  const lv = facts.lvskit ?? {};
  const token = Number(lv['corosync token (ms)']);
  const monitor = Number(lv['lvs monitor interval (Promoted) (ms)']);
  const bound = Number.isFinite(token) && Number.isFinite(monitor) ? token + monitor : undefined;
  const boundText = bound === undefined ? 'token timeout + one monitor interval (not read)' : `token timeout + one monitor interval of the promoted instance (${token} + ${monitor} = ${bound} ms)`;
  const r = report(results, bound);
  writeFileSync(DOC, doc(info, facts, r, configs, boundText));
  console.log(`${Object.entries(info).map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${r.summary}\n\n${r.targets}\n\n${r.events}\n`);
  console.log(r.missed.length === 0 ? 'failover: every target met' : `failover: TARGET MISSED (not a failure of the build):\n  ${r.missed.join('\n  ')}`);
  console.log(`failover: written to ${DOC}`);
}
