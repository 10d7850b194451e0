// Which layout the CIB holds, and how the previous one becomes the current one in a single CIB
// transaction: the commands run with `pcs -f` on a copy of the CIB, which is pushed as one diff.
//
// Previous layout (lvskit before the hot standby): the primitive `lvsd` (ocf:heartbeat:lvsd or
// systemd:lvsd) colocated with the promoted lvs clone and started after promote. Cloning it keeps
// the running instance: pacemaker records an anonymous clone's instances under the primitive's id,
// so the history of `lvsd` on the promoted node becomes that of an instance already started there
// (checked with crm_simulate on pacemaker 2.1.5 and in the lab); the other directors start theirs.
import { sameAddress } from '../net/address';
import { type Cib, children, nvpairs, type XmlElement } from './cib';
import { type Vocabulary, vocabulary, type Dialect } from './dialect';
import type { BootstrapOptions } from './options';
import { agentOf, CHECKER_CLONE_ID, CHECKER_ID, checkerAgent, isOldColocation, isOldOrder, LVS_ID, type Step } from './plan';

export type Layout =
  /** Nothing of lvskit's yet, or (some of) the layout this version builds: steps run one by one. */
  | { kind: 'current' }
  /** The previous layout, whole or in part: converted in one transaction. */
  | { kind: 'previous'; oldConstraints: string[]; checkerPrimitive: boolean; checkerDisabled: boolean }
  /** Something bootstrap must not touch; `why` names it and what to do. */
  | { kind: 'foreign'; why: string };

export const GUIDE = 'docs/operator-guide.md §3.2, stage 2';

function* primitives(el: XmlElement | undefined): Generator<XmlElement> {
  for (const c of el?.children ?? []) {
    if (c.name === 'primitive') yield c;
    else yield* primitives(c);
  }
}

/** Another stack for the same service: ldirectord, or another resource that holds one of the VIPs. */
function foreignStack(cib: Cib, o: BootstrapOptions): string | undefined {
  const resources = children(cib.configuration, 'resources')[0];
  const ours = new Set([LVS_ID, CHECKER_ID, ...o.vips.map((v) => v.resource)]);
  for (const p of primitives(resources)) {
    const id = p.attrs.id ?? '';
    if (p.attrs.type === 'ldirectord') {
      return `resource '${id}' runs ldirectord (${agentOf(p)})`;
    }
    if (ours.has(id)) continue;
    for (const vip of o.vips) {
      const holder = Object.entries(nvpairs(p, 'instance_attributes')).find(([, value]) => sameAddress(value, vip.address));
      if (holder) return `resource '${id}' (${agentOf(p)}) holds the VIP ${vip.address} (${holder[0]}=${holder[1]})`;
    }
  }
  return undefined;
}

export function layoutOf(cib: Cib, o: BootstrapOptions, dialect: Dialect): Layout {
  const foreign = foreignStack(cib, o);
  if (foreign) {
    return {
      kind: 'foreign',
      why:
        `${foreign}: this cluster runs another LVS stack. bootstrap converts only its own previous layout; ` +
        `replace that stack as ${GUIDE} says (maintenance mode, the old resources deleted without stopping them, ` +
        'then this bootstrap, then pcs resource refresh). Nothing was changed',
    };
  }
  const cloneId = vocabulary(dialect).cloneId;
  const oldConstraints = [
    ...cib.constraints('rsc_colocation').filter((c) => isOldColocation(c, cloneId)),
    ...cib.constraints('rsc_order').filter((c) => isOldOrder(c, cloneId)),
  ].map((c) => c.attrs.id ?? '');
  const found = cib.resource(CHECKER_ID);
  const checkerPrimitive = found?.el.name === 'primitive' && found.parent.name === 'resources';
  if (!checkerPrimitive && oldConstraints.length === 0) return { kind: 'current' };
  if (oldConstraints.includes('')) return { kind: 'foreign', why: 'a constraint of the previous layout has no id, which pcs cannot remove; nothing was changed' };
  if (checkerPrimitive && agentOf(found.el) !== checkerAgent(o)) {
    return { kind: 'foreign', why: `resource '${CHECKER_ID}' exists as ${agentOf(found.el)}, not ${checkerAgent(o)} (--checker ${o.checker}); nothing was changed` };
  }
  const role = checkerPrimitive ? nvpairs(found.el, 'meta_attributes')['target-role'] : undefined;
  return { kind: 'previous', oldConstraints, checkerPrimitive, checkerDisabled: role?.toLowerCase() === 'stopped' };
}

/** The conversion's own commands (without `-f`), in order: before them nothing else may touch lvsd. */
export function conversionSteps(layout: Extract<Layout, { kind: 'previous' }>, dialect: Dialect): Step[] {
  const v: Vocabulary = vocabulary(dialect);
  const steps: Step[] = [];
  if (layout.oldConstraints.length > 0) {
    // First: `pcs resource clone` would otherwise move them onto the clone.
    steps.push({
      phase: 'resources',
      id: 'remove-old-constraints',
      description: `remove the constraints that tie ${CHECKER_ID} to the promoted ${v.cloneId}`,
      argv: ['pcs', 'constraint', 'remove', ...layout.oldConstraints],
    });
  }
  if (layout.checkerDisabled) {
    steps.push({ phase: 'resources', id: 'enable-checker', description: `drop ${CHECKER_ID}'s target-role=Stopped`, argv: ['pcs', 'resource', 'enable', CHECKER_ID] });
  }
  if (layout.checkerPrimitive) {
    steps.push({
      phase: 'resources',
      id: 'clone-checker',
      description: `make ${CHECKER_ID} the clone ${CHECKER_CLONE_ID}: the running instance stays, the other directors start theirs`,
      argv: ['pcs', 'resource', 'clone', CHECKER_ID, ...v.cloneCommandMetaKeyword, 'interleave=true'],
    });
  }
  return steps;
}

/**
 * The previous layout as the dry run assumes it: pcs's own constraint ids, and the resource steps
 * that layout lacks (fencing off, stickiness and lvs itself were already there).
 */
export function typicalPreviousLayout(dialect: Dialect): Extract<Layout, { kind: 'previous' }> & { todo: string[] } {
  const clone = vocabulary(dialect).cloneId;
  return {
    kind: 'previous',
    oldConstraints: [`colocation-${CHECKER_ID}-${clone}-INFINITY`, `order-${clone}-${CHECKER_ID}-mandatory`],
    checkerPrimitive: true,
    checkerDisabled: false,
    // An earlier lvskit set no no-quorum-policy and created no fence device (safety.ts).
    todo: ['no-quorum-policy', 'fence', 'checker-ops', 'lvs-ops', 'colocation', 'order'],
  };
}

/** `pcs …` as `pcs -f FILE …`. */
export function onFile(argv: string[], file: string): string[] {
  return [argv[0]!, '-f', file, ...argv.slice(1)];
}
