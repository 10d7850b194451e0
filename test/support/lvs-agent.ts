// Driving ocf:heartbeat:lvs inside a lab director the way pacemaker does, and reading back what the
// system really holds (addresses, sysctls, IPVS table, sync daemons), never the agent's own word.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe as describeResult, type ExecResult, type Topology } from '../../lab';
import { BUSY_FACTOR } from './lab';

export const VIP = '198.51.100.100';
export const AGENT = '/usr/lib/ocf/resource.d/heartbeat/lvs';
/** HA_RSCTMP's default (docs/lvs-agent.md, State); directors have a private tmpfs /run. */
export const RSCTMP = '/run/resource-agents';
/** Pacemaker 2.1.5's CRM feature set: crm_attribute --promotion is available. */
export const FEATURE_SET = '3.16.2';

export const OCF = {
  SUCCESS: 0,
  ERR_GENERIC: 1,
  ERR_UNIMPLEMENTED: 3,
  ERR_INSTALLED: 5,
  ERR_CONFIGURED: 6,
  NOT_RUNNING: 7,
  RUNNING_PROMOTED: 8,
  FAILED_PROMOTED: 9,
} as const;

export interface Call {
  /** OCF_RESKEY_* on top of vip and nic; null removes one. */
  params?: Record<string, string | null>;
  /** OCF_RESKEY_CRM_meta_interval in ms; default 10000 for monitor (recurring), 0 otherwise. */
  interval?: number;
  env?: Record<string, string>;
}

export function ocfEnv(action: string, call: Call = {}): Record<string, string> {
  const params: Record<string, string | null> = { vip: VIP, nic: 'eth0', ...call.params };
  const env: Record<string, string> = {
    OCF_ROOT: '/usr/lib/ocf',
    OCF_RESOURCE_INSTANCE: 'lvs',
    OCF_RESOURCE_TYPE: 'lvs',
    OCF_RESOURCE_PROVIDER: 'heartbeat',
    OCF_RA_VERSION_MAJOR: '1',
    OCF_RA_VERSION_MINOR: '1',
    OCF_RESKEY_crm_feature_set: FEATURE_SET,
    OCF_RESKEY_CRM_meta_timeout: '20000',
    OCF_RESKEY_CRM_meta_interval: String(call.interval ?? (action === 'monitor' ? 10_000 : 0)),
  };
  for (const [k, v] of Object.entries(params)) if (v !== null) env[`OCF_RESKEY_${k}`] = v;
  return { ...env, ...call.env };
}

/** One agent call, as pacemaker's executor makes it: the action as sole argument, parameters in env. */
export function lvs(topo: Topology, node: string, action: string, call: Call = {}): Promise<ExecResult> {
  return topo.exec(node, [AGENT, action], { env: ocfEnv(action, call), timeoutMs: 60_000 });
}

export function show(r: ExecResult): string {
  return describeResult(r);
}

/** Runs the action and asserts its exit code; returns the result. */
export async function expectRc(topo: Topology, node: string, action: string, rc: number, call: Call = {}): Promise<ExecResult> {
  const r = await lvs(topo, node, action, call);
  const params = Object.entries(call.params ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');
  assert.equal(r.code, rc, `lvs ${action} ${params} on ${node}: expected ${rc}\n${show(r)}`);
  return r;
}

// ---- the system, read back ------------------------------------------------------------------------

interface IpAddr {
  ifname: string;
  flags?: string[];
  addr_info?: { family: string; local: string; prefixlen: number; label?: string }[];
}

export async function addresses(topo: Topology, node: string, dev?: string): Promise<IpAddr[]> {
  const out = await topo.run(node, ['ip', '-j', 'addr', 'show', ...(dev ? ['dev', dev] : [])]);
  return JSON.parse(out) as IpAddr[];
}

/** The prefix lengths with which the VIP sits on a device ([] when it is not there). */
export async function vipOn(topo: Topology, node: string, dev: string, vip = VIP): Promise<number[]> {
  const [link] = await addresses(topo, node, dev);
  return (link?.addr_info ?? []).filter((a) => a.local === vip).map((a) => a.prefixlen);
}

export const ARP_SYSCTLS = [
  'net.ipv4.conf.all.arp_ignore',
  'net.ipv4.conf.all.arp_announce',
  'net.ipv4.conf.lo.arp_ignore',
  'net.ipv4.conf.lo.arp_announce',
] as const;

export const HIDDEN: Record<string, string> = {
  'net.ipv4.conf.all.arp_ignore': '1',
  'net.ipv4.conf.all.arp_announce': '2',
  'net.ipv4.conf.lo.arp_ignore': '1',
  'net.ipv4.conf.lo.arp_announce': '2',
};

/** Reads sysctls from /proc/sys (not through the sysctl tool the agent may use too). */
export async function sysctls(topo: Topology, node: string, keys: readonly string[] = ARP_SYSCTLS): Promise<Record<string, string>> {
  const out = await topo.run(node, ['cat', ...keys.map((k) => `/proc/sys/${k.replaceAll('.', '/')}`)]);
  const values = out.trim().split('\n');
  assert.equal(values.length, keys.length, `cannot read ${keys.join(' ')}: ${out}`);
  return Object.fromEntries(keys.map((k, i) => [k, values[i]!.trim()]));
}

export async function setSysctls(topo: Topology, node: string, values: Record<string, string>): Promise<void> {
  await topo.run(node, ['sysctl', '-q', ...Object.entries(values).flatMap(([k, v]) => ['-w', `${k}=${v}`])]);
}

export async function ipvsSaved(topo: Topology, node: string): Promise<string[]> {
  const out = await topo.run(node, ['ipvsadm', '-S', '-n']);
  return out.split('\n').filter((l) => l.trim() !== '');
}

export async function syncDaemons(topo: Topology, node: string): Promise<string[]> {
  const out = await topo.run(node, ['ipvsadm', '-L', '--daemon']);
  return out.split('\n').filter((l) => l.trim() !== '');
}

export async function stateFiles(topo: Topology, node: string): Promise<string[]> {
  const r = await topo.exec(node, ['ls', '-A', RSCTMP]);
  return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

/** Everything the agent may touch, in a form two snapshots can be compared by. */
export async function snapshot(topo: Topology, node: string): Promise<Record<string, unknown>> {
  const links = await addresses(topo, node);
  const addrs = Object.fromEntries(
    links.map((l) => [l.ifname, (l.addr_info ?? []).map((a) => `${a.family} ${a.local}/${a.prefixlen}${a.label ? ` ${a.label}` : ''}`).sort()]),
  );
  const keys = ['all', 'default', 'lo', 'eth0'].flatMap((d) => [`net.ipv4.conf.${d}.arp_ignore`, `net.ipv4.conf.${d}.arp_announce`]);
  return {
    addrs,
    sysctls: await sysctls(topo, node, [...keys, 'net.ipv4.conf.all.forwarding']),
    ipvs: await ipvsSaved(topo, node),
    daemons: await syncDaemons(topo, node),
    state: await stateFiles(topo, node),
  };
}

/** Waits until promote's gratuitous ARPs are all sent (their sender removes its pid file when done). */
export function announcementDone(topo: Topology, node: string): Promise<void> {
  return waitFor(`the gratuitous ARP sender on ${node} to finish`, async () => !(await stateFiles(topo, node)).some((f) => f.endsWith('.announce.pid')));
}

// ---- lab chores -----------------------------------------------------------------------------------

/** Puts a director back to a plain, stopped state by hand, whatever a failed test left behind. */
export async function reset(topo: Topology, node: string): Promise<void> {
  await setLink(topo, node, 'up');
  for (const dev of ['lo', 'eth0']) {
    for (const p of await vipOn(topo, node, dev)) await topo.run(node, ['ip', 'addr', 'del', `${VIP}/${p}`, 'dev', dev]);
  }
  await setSysctls(topo, node, {
    'net.ipv4.conf.all.arp_ignore': '0',
    'net.ipv4.conf.all.arp_announce': '0',
    'net.ipv4.conf.lo.arp_ignore': '0',
    'net.ipv4.conf.lo.arp_announce': '0',
    'net.ipv4.conf.all.forwarding': '0',
  });
  await topo.run(node, ['ipvsadm', '-C']);
  for (const role of ['master', 'backup']) await topo.exec(node, ['ipvsadm', '--stop-daemon', role]);
  await topo.exec(node, ['find', RSCTMP, '-mindepth', '1', '-maxdepth', '1', '-name', 'lvs-*', '-delete']);
}

/** Sets the switch side of a node's veth up or down, so eth0 in the node gains or loses carrier. */
export async function setLink(topo: Topology, node: string, state: 'up' | 'down'): Promise<void> {
  const r = await topo.kernel.exec({ argv: ['ip', '-n', topo.switchNs, 'link', 'set', node, state] });
  assert.equal(r.code, 0, show(r));
  const want = state === 'up' ? '1' : '0';
  await waitFor(`carrier ${want} on ${node}'s eth0`, async () => {
    const c = await topo.exec(node, ['cat', '/sys/class/net/eth0/carrier']);
    return c.stdout.trim() === want;
  });
}

/** Waits for a state; a wait is no bound, so it is longer when the machine is busy (BUSY_FACTOR). */
export async function waitFor(what: string, probe: () => Promise<boolean>, waitMs = 10_000, stepMs = 100): Promise<void> {
  const timeoutMs = waitMs * BUSY_FACTOR;
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** Writes a file on the lab kernel (no shell: tee reads stdin). */
export async function writeFile(topo: Topology, path: string, content: string, mode = '644'): Promise<void> {
  for (const argv of [['tee', path], ['chmod', mode, path]]) {
    const r = await topo.kernel.exec({ argv, stdin: argv[0] === 'tee' ? content : '' });
    assert.equal(r.code, 0, show(r));
  }
}

/** A call the agent must refuse (or, for stop, accept) without changing anything. */
export interface BadInput {
  what: string;
  action?: string;
  call: Call;
  rc: number;
  /** Words the ocf-exit-reason line must contain (the parameter and its value). */
  reason?: string[];
}

/** One ocf-exit-reason: line in stderr names every word (the parameter and its value). */
export function assertReason(stderr: string, words: string[], context: string): void {
  const lines = stderr.split('\n').filter((l) => l.startsWith('ocf-exit-reason:'));
  assert.ok(
    lines.some((l) => words.every((w) => l.includes(w))),
    `${context}: expected an ocf-exit-reason: line naming ${words.map((w) => `'${w}'`).join(' and ')}; stderr:\n${stderr}`,
  );
}

/** One test per bad call on d1: its exit code, an ocf-exit-reason naming the parameter, and d1 exactly as before. */
export function refusesEach(cases: BadInput[], topo: () => Topology, snap: (t: Topology, node: string) => Promise<unknown> = snapshot): void {
  for (const c of cases) {
    const action = c.action ?? 'start';
    it(`${action} with ${c.what}: ${c.rc}${c.reason ? ' naming the parameter' : ''}, nothing changed`, async function () {
      this.timeout(60_000);
      const t = topo();
      const before = await snap(t, 'd1');
      const r = await expectRc(t, 'd1', action, c.rc, c.call);
      if (c.reason) assertReason(r.stderr, c.reason, `${action} with ${c.what}`);
      assert.deepEqual(await snap(t, 'd1'), before, `${action} with ${c.what} changed the system`);
    });
  }
}
