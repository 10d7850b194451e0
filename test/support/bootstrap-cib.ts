// Reading a lab cluster's CIB back for the bootstrap lab test, with tools that are not the code under
// test: cibadmin for the CIB, xmllint for XPath.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Topology } from '../../lab';

/** Whether the XPath matches something in this CIB. */
export function inCib(cib: string, xpath: string): boolean {
  const r = spawnSync('xmllint', ['--xpath', `boolean(${xpath})`, '-'], { input: cib, encoding: 'utf8' });
  assert.equal(r.status, 0, `xmllint --xpath ${xpath}: ${r.stderr}`);
  return r.stdout.trim() === 'true';
}

/** The XPaths (named) that this CIB does not match. */
export function missingFromCib(cib: string, expected: [string, string][]): string[] {
  return expected.filter(([, xpath]) => !inCib(cib, xpath)).map(([what, xpath]) => `${what}: ${xpath}`);
}

export async function readCib(topo: Topology, node: string): Promise<string> {
  return topo.run(node, ['cibadmin', '--query']);
}

/** epoch and admin_epoch: a configuration change moves one of them. */
export function cibVersion(cib: string): { epoch: string; admin_epoch: string } {
  const root = /<cib\b[^>]*>/.exec(cib)?.[0] ?? '';
  const attr = (n: string) => new RegExp(`\\b${n}="(\\d+)"`).exec(root)?.[1] ?? '';
  return { epoch: attr('epoch'), admin_epoch: attr('admin_epoch') };
}

/** With LVSKIT_CAPTURE_CIB=DIR, keeps this CIB as DIR/NAME (the unit tests' fixtures come from here). */
export function captureCib(name: string, cib: string): void {
  const dir = process.env.LVSKIT_CAPTURE_CIB;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), cib);
}

export interface OpRecord {
  node: string;
  rsc: string;
  op: string;
  rc: string;
  /** ms the agent ran, and waited in the executor's queue, as pacemaker recorded them. */
  exec: number;
  queue: number;
}

/** The last operation of each kind pacemaker recorded per node and resource (lrm_rsc_op in the status). */
export function opRecords(cib: string): OpRecord[] {
  const out: OpRecord[] = [];
  for (const state of cib.matchAll(/<node_state [^>]*\buname="([^"]+)"[^>]*>([\s\S]*?)<\/node_state>/g)) {
    for (const rsc of state[2]!.matchAll(/<lrm_resource id="([^"]+)"[^>]*>([\s\S]*?)<\/lrm_resource>/g)) {
      for (const op of rsc[2]!.matchAll(/<lrm_rsc_op [^>]*>/g)) {
        const a = (n: string) => new RegExp(`\\b${n}="([^"]*)"`).exec(op[0])?.[1] ?? '';
        out.push({ node: state[1]!, rsc: rsc[1]!, op: a('operation_key'), rc: a('rc-code'), exec: Number(a('exec-time')), queue: Number(a('queue-time')) });
      }
    }
  }
  return out;
}
