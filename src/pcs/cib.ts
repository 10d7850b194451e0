// The cluster's CIB as `cibadmin --query` prints it, parsed into a small element tree, and the few
// questions bootstrap asks of it (does this resource, constraint, default or property exist?).
import { XMLParser } from 'fast-xml-parser';
import { run, which } from '../exec/run';
import { LvskitError } from '../errors';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
}

type Ordered = Record<string, unknown>;

function toElement(node: Ordered): XmlElement | undefined {
  const name = Object.keys(node).find((k) => k !== ':@');
  if (name === undefined || name.startsWith('#') || name.startsWith('?')) return undefined;
  const attrs = (node[':@'] as Record<string, string> | undefined) ?? {};
  const kids = (node[name] as Ordered[] | undefined) ?? [];
  return { name, attrs: { ...attrs }, children: kids.map(toElement).filter((e): e is XmlElement => e !== undefined) };
}

export function parseXml(text: string): XmlElement {
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    parseTagValue: false,
    processEntities: true,
  });
  let doc: Ordered[];
  try {
    doc = parser.parse(text, true) as Ordered[];
  } catch (err) {
    throw new LvskitError(`the CIB is not well-formed XML: ${(err as Error).message}`);
  }
  const root = doc.map(toElement).find((e) => e !== undefined);
  if (!root) throw new LvskitError('the CIB is empty');
  return root;
}

export function children(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

/** Every element below `el` (depth first), with its parent. */
function* walk(el: XmlElement): Generator<[XmlElement, XmlElement]> {
  for (const c of el.children) {
    yield [c, el];
    yield* walk(c);
  }
}

/** name=value pairs of the nvpairs of every `setName` child without a rule (rule-based sets apply only sometimes). */
export function nvpairs(el: XmlElement | undefined, setName: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const set of children(el, setName)) {
    if (child(set, 'rule')) continue;
    for (const nv of children(set, 'nvpair')) {
      const { name, value } = nv.attrs;
      if (name !== undefined && !(name in out)) out[name] = value ?? '';
    }
  }
  return out;
}

/** Pacemaker's reading of a boolean (crm_is_true / crm_str_to_boolean). */
export function cibBoolean(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (['true', 'on', 'yes', 'y', '1'].includes(v)) return true;
  if (['false', 'off', 'no', 'n', '0'].includes(v)) return false;
  return undefined;
}

/** Scores as pacemaker reads them: INFINITY, +INFINITY and any number from 1000000 up are the same. */
export function isInfinity(score: string | undefined): boolean {
  if (score === undefined) return false;
  const s = score.trim().toUpperCase();
  return s === 'INFINITY' || s === '+INFINITY' || (/^\+?\d+$/.test(s) && Number(s) >= 1_000_000);
}

const ROLE = { promoted: ['promoted', 'master'], unpromoted: ['unpromoted', 'slave'] };

/** A role attribute as pacemaker reads it: the legacy names are the same roles; unset is `fallback`. */
export function hasRole(value: string | undefined, role: keyof typeof ROLE, fallback = 'started'): boolean {
  return ROLE[role].includes((value ?? fallback).toLowerCase());
}

export interface CibVersion {
  epoch: string;
  adminEpoch: string;
  numUpdates: string;
}

export class Cib {
  constructor(readonly root: XmlElement) {
    if (root.name !== 'cib') throw new LvskitError(`not a CIB: the root element is <${root.name}>`);
  }

  static parse(text: string): Cib {
    return new Cib(parseXml(text));
  }

  get version(): CibVersion {
    const a = this.root.attrs;
    return { epoch: a.epoch ?? '', adminEpoch: a.admin_epoch ?? '', numUpdates: a.num_updates ?? '' };
  }

  get configuration(): XmlElement | undefined {
    return child(this.root, 'configuration');
  }

  /** A resource element (primitive, clone, master, group, bundle) by id, with the element holding it. */
  resource(id: string): { el: XmlElement; parent: XmlElement } | undefined {
    const resources = child(this.configuration, 'resources');
    if (!resources) return undefined;
    for (const [el, parent] of walk(resources)) {
      if (el.attrs.id === id && ['primitive', 'clone', 'master', 'group', 'bundle'].includes(el.name)) return { el, parent };
    }
    return undefined;
  }

  /** The value a resource default has (rsc_defaults without rules), if set. */
  resourceDefault(name: string): string | undefined {
    return nvpairs(child(this.configuration, 'rsc_defaults'), 'meta_attributes')[name];
  }

  /** A cluster property (crm_config), if set. */
  property(name: string): string | undefined {
    return nvpairs(child(this.configuration, 'crm_config'), 'cluster_property_set')[name];
  }

  constraints(kind: 'rsc_colocation' | 'rsc_order' | 'rsc_location'): XmlElement[] {
    return children(child(this.configuration, 'constraints'), kind);
  }
}

/** The live CIB of the cluster this node is in. */
export function readCib(): Cib {
  const cibadmin = which('cibadmin');
  if (!cibadmin) throw new LvskitError('cibadmin is not installed (pacemaker-cli-utils): cannot read the CIB');
  const r = run(cibadmin, ['--query'], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new LvskitError(`cibadmin --query failed (${r.error ?? `exit ${r.code}`}): ${(r.stderr || r.stdout).trim()}`);
  return Cib.parse(r.stdout);
}

/** Whether the CIB answers at all (the cluster is up far enough to take pcs commands). */
export function cibAnswers(): boolean {
  const cibadmin = which('cibadmin');
  return cibadmin !== undefined && run(cibadmin, ['--query', '--scope', 'crm_config'], { timeoutMs: 30_000 }).code === 0;
}
