// The ordered steps that build the director cluster: what each does, its pcs argv in the chosen
// dialect, and (resource phase) how to tell from the CIB that it is already done.
import { sameAddress } from '../net/address';
import { type Cib, cibBoolean, children, isInfinity, nvpairs, type XmlElement } from './cib';
import { type Dialect, vocabulary } from './dialect';
import { type BootstrapOptions, DEFAULTS } from './options';

export type Phase = 'cluster' | 'resources';

export type Verdict = { kind: 'todo' } | { kind: 'done'; what: string } | { kind: 'conflict'; why: string };

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
  /** Resource phase: the CIB's answer. */
  check?: (cib: Cib) => Verdict;
}

export const HACLUSTER = 'hacluster';
export const LVS_ID = 'lvs';
export const CHECKER_ID = 'lvsd';
const TODO: Verdict = { kind: 'todo' };

/** The lvs instance attributes bootstrap sets, with the agent's defaults for the unset ones. */
function lvsParams(o: BootstrapOptions): [string, string][] {
  const p: [string, string][] = [
    ['nic', o.nic],
    ['vip', o.vip],
  ];
  if (o.vipPrefix !== undefined) p.push(['vip_prefix', String(o.vipPrefix)]);
  if (o.syncInterface !== undefined) p.push(['sync_interface', o.syncInterface]);
  return p;
}

function hostPrefix(vip: string): number {
  return vip.includes(':') ? 128 : 32;
}

/** Differences between the lvs primitive found and the one bootstrap would create. */
function lvsDifferences(prim: XmlElement, o: BootstrapOptions): string[] {
  const have = nvpairs(prim, 'instance_attributes');
  const diffs: string[] = [];
  const cmp = (name: string, want: string, got: string, same = want === got) => {
    if (!same) diffs.push(`${name}=${got || '(unset)'} (wanted ${want || '(unset)'})`);
  };
  cmp('vip', o.vip, have.vip ?? '', sameAddress(o.vip, have.vip ?? ''));
  cmp('nic', o.nic, have.nic ?? DEFAULTS.nic);
  const prefix = String(o.vipPrefix ?? hostPrefix(o.vip));
  cmp('vip_prefix', prefix, have.vip_prefix ?? String(hostPrefix(o.vip)));
  cmp('sync_interface', o.syncInterface ?? '', have.sync_interface ?? '');
  return diffs;
}

function agentOf(prim: XmlElement): string {
  const { class: cls, provider, type } = prim.attrs;
  return provider ? `${cls}:${provider}:${type}` : `${cls}:${type}`;
}

function checkLvs(cib: Cib, o: BootstrapOptions, cloneId: string): Verdict {
  const wrapper = cib.resource(cloneId);
  if (!wrapper) {
    const prim = cib.resource(LVS_ID);
    if (prim) return { kind: 'conflict', why: `resource '${LVS_ID}' exists but is not in the promotable clone '${cloneId}' (it is a <${prim.el.name}> in <${prim.parent.name} id=${prim.parent.attrs.id ?? ''}>)` };
    return TODO;
  }
  const w = wrapper.el;
  const promotable = w.name === 'master' || (w.name === 'clone' && cibBoolean(nvpairs(w, 'meta_attributes').promotable) === true);
  if (!promotable) return { kind: 'conflict', why: `'${cloneId}' exists but is a <${w.name}>, not a promotable clone` };
  const prim = children(w, 'primitive').find((p) => p.attrs.id === LVS_ID);
  if (!prim) return { kind: 'conflict', why: `the promotable clone '${cloneId}' exists but does not hold a resource '${LVS_ID}'` };
  if (agentOf(prim) !== 'ocf:heartbeat:lvs') return { kind: 'conflict', why: `resource '${LVS_ID}' exists as ${agentOf(prim)}, not ocf:heartbeat:lvs` };
  const diffs = lvsDifferences(prim, o);
  if (diffs.length) {
    return { kind: 'conflict', why: `resource '${LVS_ID}' exists with ${diffs.join(', ')}; change it with pcs resource update ${LVS_ID} …, or remove it` };
  }
  return { kind: 'done', what: `promotable clone ${cloneId} of ${LVS_ID} (ocf:heartbeat:lvs, ${lvsParams(o).map(([k, v]) => `${k}=${v}`).join(' ')})` };
}

function checkChecker(cib: Cib, o: BootstrapOptions): Verdict {
  const found = cib.resource(CHECKER_ID);
  if (!found) return TODO;
  const { el, parent } = found;
  if (el.name !== 'primitive' || parent.name !== 'resources') {
    return { kind: 'conflict', why: `resource '${CHECKER_ID}' exists but is ${el.name === 'primitive' ? `inside <${parent.name}>` : `a <${el.name}>`}, not a plain resource` };
  }
  const want = o.checker === 'ocf' ? 'ocf:heartbeat:lvsd' : 'systemd:lvsd';
  if (agentOf(el) !== want) return { kind: 'conflict', why: `resource '${CHECKER_ID}' exists as ${agentOf(el)}, not ${want}` };
  if (o.checker === 'ocf') {
    const configfile = nvpairs(el, 'instance_attributes').configfile ?? DEFAULTS.config;
    if (configfile !== o.config) {
      return { kind: 'conflict', why: `resource '${CHECKER_ID}' exists with configfile=${configfile} (wanted ${o.config}); change it with pcs resource update ${CHECKER_ID} configfile=…` };
    }
    return { kind: 'done', what: `resource ${CHECKER_ID} (${want}, configfile=${configfile})` };
  }
  return { kind: 'done', what: `resource ${CHECKER_ID} (${want})` };
}

function checkCheckerEnabled(cib: Cib): Verdict {
  const found = cib.resource(CHECKER_ID);
  if (!found) return TODO;
  const role = nvpairs(found.el, 'meta_attributes')['target-role'];
  if (role !== undefined && role.toLowerCase() === 'stopped') return TODO;
  return { kind: 'done', what: `resource ${CHECKER_ID} is enabled (no target-role=Stopped)` };
}

function checkColocation(cib: Cib, cloneId: string): Verdict {
  const c = cib.constraints('rsc_colocation').find((x) => {
    const a = x.attrs;
    const withRole = (a['with-rsc-role'] ?? '').toLowerCase();
    const rscRole = (a['rsc-role'] ?? 'Started').toLowerCase();
    return a.rsc === CHECKER_ID && a['with-rsc'] === cloneId && (withRole === 'promoted' || withRole === 'master') && rscRole === 'started' && isInfinity(a.score);
  });
  return c ? { kind: 'done', what: `colocation ${c.attrs.id ?? ''}: ${CHECKER_ID} with the promoted ${cloneId}, score INFINITY` } : TODO;
}

function checkOrder(cib: Cib, cloneId: string): Verdict {
  const c = cib.constraints('rsc_order').find((x) => {
    const a = x.attrs;
    const first = a['first-action'] ?? 'start';
    // then-action defaults to first-action (Pacemaker Explained, ordering constraints).
    const then = a['then-action'] ?? first;
    const mandatory = (a.kind ?? 'Mandatory') === 'Mandatory' && (a.score === undefined || a.score.trim() !== '0');
    return a.first === cloneId && a.then === CHECKER_ID && first === 'promote' && then === 'start' && mandatory;
  });
  return c ? { kind: 'done', what: `order ${c.attrs.id ?? ''}: promote ${cloneId} then start ${CHECKER_ID}` } : TODO;
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

export function buildPlan(o: BootstrapOptions, dialect: Dialect): Step[] {
  const v = vocabulary(dialect);
  const clone = v.cloneId;
  const steps: Step[] = [];
  const nodes = o.nodes.join(', ');

  // The cluster phase.
  steps.push({
    phase: 'cluster',
    id: 'auth',
    description: `authenticate pcs to ${nodes} as ${HACLUSTER} (password on standard input)`,
    argv: dialect === '0.9' ? ['pcs', 'cluster', 'auth', ...o.nodes, '-u', HACLUSTER] : ['pcs', 'host', 'auth', ...o.nodes, '-u', HACLUSTER],
    passwordOnStdin: true,
  });
  steps.push({
    phase: 'cluster',
    id: 'setup',
    description: `set up cluster ${o.name} on ${nodes} (writes corosync.conf on every node)`,
    argv: dialect === '0.9' ? ['pcs', 'cluster', 'setup', '--name', o.name, ...o.nodes] : ['pcs', 'cluster', 'setup', o.name, ...o.nodes],
    doneWhenConfigured: true,
  });
  steps.push({ phase: 'cluster', id: 'start', description: 'start corosync and pacemaker on every node', argv: ['pcs', 'cluster', 'start', '--all'] });
  steps.push({ phase: 'cluster', id: 'enable', description: 'start the cluster at boot on every node', argv: ['pcs', 'cluster', 'enable', '--all'] });

  // The resource phase.
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
  steps.push({
    phase: 'resources',
    id: 'lvs',
    description: `create ${LVS_ID} as the promotable clone ${clone}: the promoted director holds the VIP on ${o.nic}`,
    argv: [
      'pcs', 'resource', 'create', LVS_ID, 'ocf:heartbeat:lvs',
      ...lvsParams(o).map(([k, val]) => `${k}=${val}`),
      'op', 'monitor', 'interval=10s', `role=${v.promoted}`,
      'op', 'monitor', 'interval=11s', `role=${v.unpromoted}`,
      ...v.promotableArgs,
    ],
    check: (cib) => checkLvs(cib, o, clone),
  });
  // Created stopped: it must not run anywhere before it is tied to the promoted director.
  steps.push({
    phase: 'resources',
    id: 'checker',
    description:
      o.checker === 'ocf'
        ? `create the health checker ${CHECKER_ID} (ocf:heartbeat:lvsd, ${o.config}), stopped until its constraints exist`
        : `create the health checker ${CHECKER_ID} (systemd unit lvsd.service), stopped until its constraints exist`,
    argv:
      o.checker === 'ocf'
        ? ['pcs', 'resource', 'create', CHECKER_ID, 'ocf:heartbeat:lvsd', `configfile=${o.config}`, '--disabled']
        : ['pcs', 'resource', 'create', CHECKER_ID, 'systemd:lvsd', '--disabled'],
    check: (cib) => checkChecker(cib, o),
  });
  steps.push({
    phase: 'resources',
    id: 'colocation',
    description: `run ${CHECKER_ID} only where ${LVS_ID} is promoted`,
    argv: ['pcs', 'constraint', 'colocation', 'add', CHECKER_ID, 'with', v.promoted, clone, v.colocationScore],
    check: (cib) => checkColocation(cib, clone),
  });
  steps.push({
    phase: 'resources',
    id: 'order',
    description: `start ${CHECKER_ID} after ${LVS_ID} is promoted`,
    argv: ['pcs', 'constraint', 'order', 'promote', clone, 'then', 'start', CHECKER_ID],
    check: (cib) => checkOrder(cib, clone),
  });
  steps.push({
    phase: 'resources',
    id: 'enable-checker',
    description: `let ${CHECKER_ID} start`,
    argv: ['pcs', 'resource', 'enable', CHECKER_ID],
    check: checkCheckerEnabled,
  });
  return steps;
}
