// The ordered steps that build the director cluster: what each does, its pcs argv in the chosen
// dialect, and how to tell that it is already done (corosync.conf for the token, the CIB for the
// resource steps). The layout is docs/failover.md's: lvsd a clone on every director, lvs promotable,
// promoted only where lvsd runs.
import { sameAddress } from '../net/address';
import { type Cib, cibBoolean, children, hasRole, isInfinity, nvpairs, type XmlElement } from './cib';
import type { CorosyncConf } from './cluster';
import { canUpdateCorosyncOnline, type Dialect, type Vocabulary, vocabulary } from './dialect';
import { CHECKER_OPERATIONS, describeOps, findShortOps, LVS_OPERATIONS, type Operation, opArgs } from './operations';
import { type BootstrapOptions, DEFAULTS } from './options';
import { qdeviceSteps, safetyResourceSteps } from './safety';
import { placementSteps, promotableId, type Vip } from './vips';

export type Phase = 'cluster' | 'resources';

export type Verdict =
  /** `argv`: what to run instead of the step's own command (only the part that is missing). */
  | { kind: 'todo'; argv?: string[] }
  | { kind: 'done'; what: string }
  | { kind: 'conflict'; why: string };

export interface Step {
  phase: Phase;
  /** Short name, e.g. `auth`, `lvs`. */
  id: string;
  description: string;
  /** The full command, starting with `pcs`. */
  argv: string[];
  /** pcs reads the hacluster password on its standard input (never from argv). */
  passwordOnStdin?: true;
  /** The cluster phase's `configured` verdict (corosync.conf in place) makes this step done. */
  doneWhenConfigured?: true;
  /** Cluster phase: what the `already done` line says when `pcs cluster setup` ran in this run (it wrote this). */
  doneBySetup?: string;
  /** Cluster phase, after start: the answer of this node's corosync.conf. */
  checkConf?: (conf: CorosyncConf | undefined) => Verdict;
  /** This pcs cannot run the step: the commands the operator runs instead (printed, never run). */
  manual?: string[];
  /** Resource phase: the CIB's answer. */
  check?: (cib: Cib) => Verdict;
  /** The lvs resource a per-VIP step is about. */
  resource?: string;
}

export const HACLUSTER = 'hacluster';
export const LVS_ID = 'lvs';
export const CHECKER_ID = 'lvsd';
export const CHECKER_CLONE_ID = 'lvsd-clone';
const TODO: Verdict = { kind: 'todo' };

/**
 * The sync interface of this VIP's lvs: the first VIP's only. The sync daemons are one per director
 * and the master syncs every connection of the director, whatever its VIP (docs/bootstrap.md).
 */
function syncInterfaceOf(o: BootstrapOptions, vip: Vip): string | undefined {
  return vip.resource === LVS_ID ? o.syncInterface : undefined;
}

/** The lvs instance attributes bootstrap sets, with the agent's defaults for the unset ones. */
function lvsParams(o: BootstrapOptions, vip: Vip): [string, string][] {
  const p: [string, string][] = [
    ['nic', vip.nic],
    ['vip', vip.address],
  ];
  if (vip.prefix !== undefined) p.push(['vip_prefix', String(vip.prefix)]);
  const sync = syncInterfaceOf(o, vip);
  if (sync !== undefined) p.push(['sync_interface', sync]);
  return p;
}

function hostPrefix(vip: string): number {
  return vip.includes(':') ? 128 : 32;
}

/** Differences between the lvs primitive found and the one bootstrap would create. */
function lvsDifferences(prim: XmlElement, o: BootstrapOptions, vip: Vip): string[] {
  const have = nvpairs(prim, 'instance_attributes');
  const diffs: string[] = [];
  const cmp = (name: string, want: string, got: string, same = want === got) => {
    if (!same) diffs.push(`${name}=${got || '(unset)'} (wanted ${want || '(unset)'})`);
  };
  cmp('vip', vip.address, have.vip ?? '', sameAddress(vip.address, have.vip ?? ''));
  cmp('nic', vip.nic, have.nic ?? DEFAULTS.nic);
  const prefix = String(vip.prefix ?? hostPrefix(vip.address));
  cmp('vip_prefix', prefix, have.vip_prefix ?? String(hostPrefix(vip.address)));
  cmp('sync_interface', syncInterfaceOf(o, vip) ?? '', have.sync_interface ?? '');
  return diffs;
}

export function agentOf(prim: XmlElement): string {
  const { class: cls, provider, type } = prim.attrs;
  return provider ? `${cls}:${provider}:${type}` : `${cls}:${type}`;
}

export function checkerAgent(o: BootstrapOptions): string {
  return o.checker === 'ocf' ? 'ocf:heartbeat:lvsd' : 'systemd:lvsd';
}

function isPromotableWrapper(w: XmlElement): boolean {
  return w.name === 'master' || (w.name === 'clone' && cibBoolean(nvpairs(w, 'meta_attributes').promotable) === true);
}

// ---- the CIB's answers -----------------------------------------------------------------------

function checkLvs(cib: Cib, o: BootstrapOptions, vip: Vip, cloneId: string): Verdict {
  const id = vip.resource;
  const wrapper = cib.resource(cloneId);
  if (!wrapper) {
    const prim = cib.resource(id);
    if (prim) return { kind: 'conflict', why: `resource '${id}' exists but is not in the promotable clone '${cloneId}' (it is a <${prim.el.name}> in <${prim.parent.name} id=${prim.parent.attrs.id ?? ''}>)` };
    return TODO;
  }
  const w = wrapper.el;
  if (!isPromotableWrapper(w)) return { kind: 'conflict', why: `'${cloneId}' exists but is a <${w.name}>, not a promotable clone` };
  const prim = children(w, 'primitive').find((p) => p.attrs.id === id);
  if (!prim) return { kind: 'conflict', why: `the promotable clone '${cloneId}' exists but does not hold a resource '${id}'` };
  if (agentOf(prim) !== 'ocf:heartbeat:lvs') return { kind: 'conflict', why: `resource '${id}' exists as ${agentOf(prim)}, not ocf:heartbeat:lvs` };
  const diffs = lvsDifferences(prim, o, vip);
  if (diffs.length) {
    const order = o.vips.length > 1 && diffs.some((d) => d.startsWith('vip=')) ? ' (the VIPs are lvs, lvs2, … in the order of the --vip options: keep that order and add new VIPs last)' : '';
    return { kind: 'conflict', why: `resource '${id}' exists with ${diffs.join(', ')}${order}; change it with pcs resource update ${id} …, or remove it` };
  }
  return { kind: 'done', what: `promotable clone ${cloneId} of ${id} (ocf:heartbeat:lvs, ${lvsParams(o, vip).map(([k, v]) => `${k}=${v}`).join(' ')})` };
}

/** The primitive `lvsd` wherever it is (the previous layout had it at the top level). */
function checkerPrimitive(cib: Cib): XmlElement | undefined {
  const found = cib.resource(CHECKER_ID);
  return found?.el.name === 'primitive' ? found.el : undefined;
}

function checkChecker(cib: Cib, o: BootstrapOptions): Verdict {
  const found = cib.resource(CHECKER_ID);
  const clone = cib.resource(CHECKER_CLONE_ID);
  if (!found && !clone) return TODO;
  if (!found) return { kind: 'conflict', why: `'${CHECKER_CLONE_ID}' exists but does not hold a resource '${CHECKER_ID}'` };
  const { el, parent } = found;
  if (el.name !== 'primitive') return { kind: 'conflict', why: `resource '${CHECKER_ID}' exists but is a <${el.name}>, not a plain resource` };
  if (parent.name !== 'clone' || parent.attrs.id !== CHECKER_CLONE_ID) {
    return { kind: 'conflict', why: `resource '${CHECKER_ID}' exists but is in <${parent.name}${parent.attrs.id ? ` id=${parent.attrs.id}` : ''}>, not in the clone '${CHECKER_CLONE_ID}'` };
  }
  if (isPromotableWrapper(parent)) return { kind: 'conflict', why: `'${CHECKER_CLONE_ID}' is promotable: the checker is a plain clone` };
  const want = checkerAgent(o);
  if (agentOf(el) !== want) return { kind: 'conflict', why: `resource '${CHECKER_ID}' exists as ${agentOf(el)}, not ${want} (--checker ${o.checker})` };
  if (o.checker === 'ocf') {
    const configfile = nvpairs(el, 'instance_attributes').configfile ?? DEFAULTS.config;
    if (configfile !== o.config) {
      return { kind: 'conflict', why: `resource '${CHECKER_ID}' exists with configfile=${configfile} (wanted ${o.config}); change it with pcs resource update ${CHECKER_ID} configfile=…` };
    }
    return { kind: 'done', what: `clone ${CHECKER_CLONE_ID} of ${CHECKER_ID} (${want}, configfile=${configfile})` };
  }
  return { kind: 'done', what: `clone ${CHECKER_CLONE_ID} of ${CHECKER_ID} (${want})` };
}

function checkInterleave(cib: Cib, cloneId: string, argv: string[]): Verdict {
  const clone = cib.resource(cloneId);
  if (!clone) return { kind: 'todo', argv };
  const v = nvpairs(clone.el, 'meta_attributes').interleave;
  return cibBoolean(v) === true ? { kind: 'done', what: `${cloneId} has interleave=${v ?? ''}` } : { kind: 'todo', argv };
}

function checkOps(prim: XmlElement | undefined, what: string, want: Operation[], command: (ops: Operation[], intervals: Map<Operation, number>) => string[]): Verdict {
  if (!prim) return TODO;
  const { short, intervals } = findShortOps(prim, want);
  if (short.length === 0) return { kind: 'done', what: `${what} has operation timeouts of at least ${describeOps(want)}` };
  return { kind: 'todo', argv: command(short, intervals) };
}

/** Colocation: the promoted lvs clone only where the checker clone runs. */
export function isNewColocation(c: XmlElement, cloneId: string): boolean {
  const a = c.attrs;
  const withRole = (a['with-rsc-role'] ?? 'Started').toLowerCase();
  return a.rsc === cloneId && a['with-rsc'] === CHECKER_CLONE_ID && hasRole(a['rsc-role'], 'promoted') && withRole === 'started' && isInfinity(a.score);
}

/** Order start lvsd-clone then promote lvs-clone, of any kind. */
function isCheckerFirstOrder(c: XmlElement, cloneId: string): boolean {
  const a = c.attrs;
  const first = a['first-action'] ?? 'start';
  // then-action defaults to first-action (Pacemaker Explained, ordering constraints).
  const then = a['then-action'] ?? first;
  return a.first === CHECKER_CLONE_ID && a.then === cloneId && first === 'start' && then === 'promote';
}

/** kind=Optional, or the deprecated score 0 that means the same. */
function isOptional(c: XmlElement): boolean {
  const kind = c.attrs.kind;
  if (kind !== undefined) return kind === 'Optional';
  return c.attrs.score !== undefined && c.attrs.score.trim() === '0';
}

/** The previous layout's colocation: lvsd (or its clone) only beside the promoted lvs clone. */
export function isOldColocation(c: XmlElement, cloneId: string): boolean {
  const a = c.attrs;
  return (a.rsc === CHECKER_ID || a.rsc === CHECKER_CLONE_ID) && a['with-rsc'] === cloneId && hasRole(a['with-rsc-role'], 'promoted', '') && (a.score === undefined || Number.parseFloat(a.score) > 0 || isInfinity(a.score));
}

/** The previous layout's order: promote the lvs clone, then start lvsd (or its clone). */
export function isOldOrder(c: XmlElement, cloneId: string): boolean {
  const a = c.attrs;
  const first = a['first-action'] ?? 'start';
  const then = a['then-action'] ?? first;
  return a.first === cloneId && (a.then === CHECKER_ID || a.then === CHECKER_CLONE_ID) && first === 'promote' && then === 'start';
}

function checkColocation(cib: Cib, cloneId: string): Verdict {
  const c = cib.constraints('rsc_colocation').find((x) => isNewColocation(x, cloneId));
  return c ? { kind: 'done', what: `colocation ${c.attrs.id ?? ''}: the promoted ${cloneId} only with ${CHECKER_CLONE_ID}, score INFINITY` } : TODO;
}

function checkOrder(cib: Cib, cloneId: string): Verdict {
  const orders = cib.constraints('rsc_order').filter((x) => isCheckerFirstOrder(x, cloneId));
  const strict = orders.find((x) => !isOptional(x));
  if (strict) {
    return {
      kind: 'conflict',
      why: `order ${strict.attrs.id ?? ''} makes promote of ${cloneId} wait for ${CHECKER_CLONE_ID} as a Mandatory order: a checker that cannot start would block every promotion; remove it (pcs constraint remove ${strict.attrs.id ?? 'ID'})`,
    };
  }
  const c = orders[0];
  return c ? { kind: 'done', what: `order ${c.attrs.id ?? ''}: start ${CHECKER_CLONE_ID} then promote ${cloneId} (Optional)` } : TODO;
}

function checkStickiness(cib: Cib, want: string): Verdict {
  const have = cib.resourceDefault('resource-stickiness');
  const same = have !== undefined && (want === 'INFINITY' ? isInfinity(have) : have.trim() === want);
  return same ? { kind: 'done', what: `resource default resource-stickiness=${have}` } : TODO;
}

function checkStonithOff(cib: Cib): Verdict {
  // Pacemaker 3.0.2 calls it fencing-enabled; stonith-enabled stays as its alias.
  for (const name of ['stonith-enabled', 'fencing-enabled']) {
    const v = cib.property(name);
    if (cibBoolean(v) === false) return { kind: 'done', what: `cluster property ${name}=${v}` };
  }
  return TODO;
}

function checkToken(conf: CorosyncConf | undefined, want: number): Verdict {
  if (conf?.token !== want) return TODO;
  const consensus = conf.consensus === undefined ? `consensus ${Math.round(want * 1.2)} ms by default` : `consensus ${conf.consensus} ms as corosync.conf sets it`;
  return { kind: 'done', what: `corosync token ${want} ms (${consensus}) in /etc/corosync/corosync.conf` };
}

// ---- the steps -------------------------------------------------------------------------------

/** What the operator runs where this pcs has no `pcs cluster config update`. */
function manualToken(token: number, v: Vocabulary): string[] {
  const sync = v.syncCorosync.join(' ');
  const reload = 'pcs cluster reload corosync';
  const width = Math.max(sync.length, reload.length) + 2;
  return [
    `On one node, set "token: ${token}" in the totem section of /etc/corosync/corosync.conf, then:`,
    `${sync.padEnd(width)}# copies corosync.conf to every node`,
    `${reload.padEnd(width)}# corosync-cfgtool -R: every node re-reads it; nothing restarts`,
  ];
}

function clusterSteps(o: BootstrapOptions, dialect: Dialect, pcsVersion: string): Step[] {
  const v = vocabulary(dialect);
  const nodes = o.nodes.join(', ');
  const update = ['pcs', 'cluster', 'config', 'update', 'totem', `token=${o.token}`];
  return [
    {
      phase: 'cluster',
      id: 'auth',
      description: `authenticate pcs to ${nodes} as ${HACLUSTER} (password on standard input)`,
      argv: dialect === '0.9' ? ['pcs', 'cluster', 'auth', ...o.nodes, '-u', HACLUSTER] : ['pcs', 'host', 'auth', ...o.nodes, '-u', HACLUSTER],
      passwordOnStdin: true,
    },
    {
      phase: 'cluster',
      id: 'setup',
      description: `set up cluster ${o.name} on ${nodes}, corosync token ${o.token} ms (writes corosync.conf on every node)`,
      argv: dialect === '0.9' ? ['pcs', 'cluster', 'setup', '--name', o.name, ...o.nodes, '--token', String(o.token)] : ['pcs', 'cluster', 'setup', o.name, ...o.nodes, 'totem', `token=${o.token}`],
      doneWhenConfigured: true,
    },
    { phase: 'cluster', id: 'start', description: 'start corosync and pacemaker on every node', argv: ['pcs', 'cluster', 'start', '--all'] },
    { phase: 'cluster', id: 'enable', description: 'start the cluster at boot on every node', argv: ['pcs', 'cluster', 'enable', '--all'] },
    {
      phase: 'cluster',
      id: 'token',
      description: `corosync token ${o.token} ms on a cluster that runs with another (corosync reloads corosync.conf on every node; nothing restarts)`,
      argv: update,
      checkConf: (conf) => checkToken(conf, o.token),
      doneBySetup: `corosync token ${o.token} ms: written by pcs cluster setup`,
      ...(canUpdateCorosyncOnline(pcsVersion) ? {} : { manual: manualToken(o.token, v) }),
    },
  ];
}

function timeoutsStep(id: string, rsc: string, ops: Operation[], primitive: (cib: Cib) => XmlElement | undefined, v: Vocabulary): Step {
  const update = (short: Operation[], intervals: Map<Operation, number>) => ['pcs', 'resource', 'update', rsc, ...opArgs(short, v, intervals)];
  return {
    phase: 'resources',
    id,
    description: `operation timeouts of ${rsc} (${describeOps(ops)}), when the CIB has shorter ones: only those are updated (it is created with them)`,
    argv: update(ops, new Map()),
    check: (cib) => checkOps(primitive(cib), rsc, ops, update),
  };
}

export function resourceSteps(o: BootstrapOptions, dialect: Dialect): Step[] {
  const v = vocabulary(dialect);
  const steps: Step[] = [];
  const interleave = (id: string, cloneId: string, why: string): Step => {
    const argv = ['pcs', 'resource', 'meta', cloneId, 'interleave=true'];
    return { phase: 'resources', id, description: `interleave=true on ${cloneId}: ${why}`, argv, check: (cib) => checkInterleave(cib, cloneId, argv) };
  };

  if (!o.stonith) {
    steps.push({
      phase: 'resources',
      id: 'stonith',
      description: 'turn fencing off (--no-stonith)',
      argv: ['pcs', 'property', 'set', 'stonith-enabled=false'],
      check: checkStonithOff,
    });
  }
  steps.push({
    phase: 'resources',
    id: 'stickiness',
    description: `keep resources where they run (resource-stickiness=${o.stickiness})`,
    argv: ['pcs', 'resource', 'defaults', ...v.defaultsArgs, `resource-stickiness=${o.stickiness}`],
    check: (cib) => checkStickiness(cib, o.stickiness),
  });
  // The checker first: it runs on every director and knows every real's health before any VIP moves.
  steps.push({
    phase: 'resources',
    id: 'checker',
    description:
      o.checker === 'ocf'
        ? `create the health checker ${CHECKER_ID} (ocf:heartbeat:lvsd, ${o.config}) as the clone ${CHECKER_CLONE_ID}: it runs on every director`
        : `create the health checker ${CHECKER_ID} (systemd unit lvsd.service) as the clone ${CHECKER_CLONE_ID}: it runs on every director`,
    argv: [
      'pcs', 'resource', 'create', ...v.createFlags, CHECKER_ID, checkerAgent(o),
      ...(o.checker === 'ocf' ? [`configfile=${o.config}`] : []),
      ...opArgs(CHECKER_OPERATIONS, v),
      'clone', ...v.cloneMetaKeyword, 'interleave=true',
    ],
    check: (cib) => checkChecker(cib, o),
  });
  // For constraints that make lvsd-clone the dependent (pacemaker reads the dependent clone's
  // interleave: pcmk_sched_instances.c can_interleave_actions, pcmk_sched_clone.c can_interleave).
  steps.push(interleave('checker-interleave', CHECKER_CLONE_ID, 'when it lacks it (it is created with it)'));
  steps.push(timeoutsStep('checker-ops', CHECKER_ID, CHECKER_OPERATIONS, checkerPrimitive, v));
  // Each VIP's placement right after its clone: a new clone is unplaced for as short a time as can be.
  const placement = placementSteps(o.vips, o.placement, v);
  for (const vip of o.vips) {
    steps.push(...vipSteps(o, vip, v));
    for (const p of placement.filter((x) => x.resource === vip.resource)) steps.push({ phase: 'resources', ...p });
  }
  return steps;
}

/** The step that creates a VIP's lvs clone. */
export function isCreateVip(s: Step): boolean {
  return s.resource !== undefined && s.id === s.resource;
}

/** Past the end of the steps about the resource of the step at `i` (a VIP's follow its create step). */
export function groupEnd(steps: Step[], i: number): number {
  let end = i + 1;
  while (steps[i]!.resource !== undefined && steps[end]?.resource === steps[i]!.resource) end++;
  return end;
}

/** The id of the timeouts step of the resource a step is about. */
export function timeoutsOf(s: Step): string {
  return `${s.resource ?? ''}-ops`;
}

/** The steps of one VIP's lvs clone; the first VIP's keep the ids they had with one VIP. */
function vipSteps(o: BootstrapOptions, vip: Vip, v: Vocabulary): Step[] {
  const rsc = vip.resource;
  const clone = promotableId(rsc, v);
  const first = rsc === LVS_ID;
  const id = (step: string) => (first ? step : `${rsc}-${step}`);
  const where = o.vips.length > 1 ? `${vip.address} on ${vip.nic}` : `the VIP on ${vip.nic}`;
  return [
    {
      phase: 'resources',
      id: rsc,
      resource: rsc,
      description: `create ${rsc} as the promotable clone ${clone}: the promoted director holds ${where}`,
      argv: [
        'pcs', 'resource', 'create', rsc, 'ocf:heartbeat:lvs',
        ...lvsParams(o, vip).map(([k, val]) => `${k}=${val}`),
        ...opArgs(LVS_OPERATIONS, v),
        ...v.promotableArgs,
      ],
      check: (cib) => checkLvs(cib, o, vip, clone),
    },
    {
      ...timeoutsStep(`${rsc}-ops`, rsc, LVS_OPERATIONS, (cib) => children(cib.resource(clone)?.el, 'primitive').find((p) => p.attrs.id === rsc), v),
      resource: rsc,
    },
    {
      phase: 'resources',
      id: id('colocation'),
      resource: rsc,
      description: `promote ${rsc} only where ${CHECKER_ID} runs`,
      argv: ['pcs', 'constraint', 'colocation', 'add', v.promoted, clone, 'with', CHECKER_CLONE_ID, v.colocationScore],
      check: (cib) => checkColocation(cib, clone),
    },
    {
      phase: 'resources',
      id: id('order'),
      resource: rsc,
      description: `when both start together, start ${CHECKER_ID} before promoting ${rsc} (Optional: a checker that cannot start never blocks a promotion)`,
      argv: ['pcs', 'constraint', 'order', 'start', CHECKER_CLONE_ID, 'then', 'promote', clone, 'kind=Optional'],
      check: (cib) => checkOrder(cib, clone),
    },
  ];
}

export function buildPlan(o: BootstrapOptions, dialect: Dialect, pcsVersion: string = dialect): Step[] {
  const resources = resourceSteps(o, dialect);
  // The quorum device, no-quorum-policy and the fence device (safety.ts): the latter two after the
  // fencing step of --no-stonith, before the first resource.
  const at = resources.findIndex((s) => s.id === 'stonith') + 1;
  resources.splice(at, 0, ...safetyResourceSteps(o.fence, dialect));
  return [...clusterSteps(o, dialect, pcsVersion), ...qdeviceSteps(o.qdevice, dialect, pcsVersion), ...resources];
}
