// Node attributes: this node's (set with crm_attribute) and every node's permanent ones (read from
// the CIB's nodes section, which each partition keeps a full copy of).
import { XMLParser } from 'fast-xml-parser';
import { failure, run, runAsync, which } from '../exec/run';

export type Lifetime = 'reboot' | 'forever';

/** Sets (string) or deletes (undefined) an attribute of this node; returns an error message or undefined. */
export function setNodeAttribute(name: string, value: string | undefined, lifetime: Lifetime, env: NodeJS.ProcessEnv = process.env, timeoutMs = 10_000): string | undefined {
  const program = which('crm_attribute', env);
  if (!program) return 'crm_attribute is not installed';
  const args = ['--name', name, '--lifetime', lifetime, ...(value === undefined ? ['--delete'] : ['--update', value])];
  const r = run(program, args, { timeoutMs, env });
  return r.code === 0 ? undefined : failure(['crm_attribute', ...args], r);
}

const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

interface NvPair {
  name?: string;
  value?: string;
}
interface NodeXml {
  uname?: string;
  instance_attributes?: { nvpair?: NvPair | NvPair[] } | Array<{ nvpair?: NvPair | NvPair[] }>;
}

/** node name -> value of one permanent attribute, from `cibadmin --query --scope nodes` output. */
export function parseNodeAttribute(xml: string, name: string): Map<string, string> {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseAttributeValue: false }).parse(xml) as { nodes?: { node?: NodeXml | NodeXml[] } };
  const out = new Map<string, string>();
  for (const node of asArray(doc.nodes?.node)) {
    for (const set of asArray(node.instance_attributes)) {
      for (const nv of asArray(set.nvpair)) if (nv.name === name && nv.value !== undefined && node.uname) out.set(node.uname, nv.value);
    }
  }
  return out;
}

/** setNodeAttribute without blocking: for the long-lived watcher, whose link events must keep flowing. */
export async function setNodeAttributeAsync(name: string, value: string | undefined, lifetime: Lifetime, env: NodeJS.ProcessEnv = process.env, timeoutMs = 10_000): Promise<string | undefined> {
  const program = which('crm_attribute', env);
  if (!program) return 'crm_attribute is not installed';
  const args = ['--name', name, '--lifetime', lifetime, ...(value === undefined ? ['--delete'] : ['--update', value])];
  const r = await runAsync(program, args, { timeoutMs, env });
  return r.code === 0 ? undefined : failure(['crm_attribute', ...args], r);
}

/** This node's name and every node's value of a permanent attribute, without blocking; undefined when unknown. */
export async function clusterView(name: string, env: NodeJS.ProcessEnv = process.env): Promise<{ me?: string; values?: Map<string, string> }> {
  const crmNode = which('crm_node', env);
  const cibadmin = which('cibadmin', env);
  const [n, c] = await Promise.all([
    crmNode ? runAsync(crmNode, ['-n'], { timeoutMs: 10_000, env }) : undefined,
    cibadmin ? runAsync(cibadmin, ['--query', '--scope', 'nodes'], { timeoutMs: 10_000, env }) : undefined,
  ]);
  const out: { me?: string; values?: Map<string, string> } = {};
  if (n?.code === 0 && n.stdout.trim()) out.me = n.stdout.trim();
  if (c?.code === 0) out.values = parseNodeAttribute(c.stdout, name);
  return out;
}
