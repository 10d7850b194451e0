// What pacemaker's scheduler does with the placement constraints bootstrap writes: crm_simulate
// (pacemaker-cli-utils, installed by scripts/setup.sh) runs the real scheduler on CIBs pcs 0.11.5
// wrote from the plan, without a cluster. Every lvs instance gets the agent's promotion score.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCORE } from '../../../src/agents/lvs/actions';
import { children, parseXml } from '../../../src/pcs/cib';
import { fixture } from './helpers';

const ONE = fixture('cib-bootstrapped-pcs-0.11.5.xml');
const TWO = fixture('cib-two-vips-together-pcs-0.11.5.xml');
const FOUR = fixture('cib-four-vips-spread-pcs-0.11.5.xml');
const LVS = ['lvs', 'lvs2', 'lvs3', 'lvs4'];

/** The CIB with the promotion score every started lvs instance sets, on every node. */
function withScores(xml: string): string {
  return xml.replace(/(<instance_attributes id="status-(\d+)">)/g, (_m, open: string, n: string) => open + LVS.map((r) => `<nvpair id="status-${n}-master-${r}" name="master-${r}" value="${SCORE}"/>`).join(''));
}

interface Run {
  xml: string;
  /** Every action of every transition, as crm_simulate's summary lines. */
  actions: string[];
}

/** Runs transitions until the scheduler has nothing left to do; `args` go to the first one (a node failure). */
function converge(xml: string, args: string[] = []): Run {
  const dir = mkdtempSync(join(tmpdir(), 'lvskit-placement-'));
  try {
    let current = xml;
    const actions: string[] = [];
    for (let i = 0; i < 6; i++) {
      writeFileSync(join(dir, 'in.xml'), current);
      const out = execFileSync('crm_simulate', ['-x', join(dir, 'in.xml'), '-S', '-O', join(dir, 'out.xml'), ...(i === 0 ? args : [])], { encoding: 'utf8' });
      const summary = /Transition Summary:\n([\s\S]*?)\n\n/.exec(`${out}\n\n`)?.[1] ?? '';
      const now = summary.split('\n').filter((l) => l.trim().startsWith('*')).map((l) => l.trim());
      current = readFileSync(join(dir, 'out.xml'), 'utf8');
      if (now.length === 0 && i > 0) return { xml: current, actions };
      actions.push(...now);
    }
    throw new Error(`the scheduler did not settle: ${actions.join('; ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The node each lvs clone is promoted on, from crm_mon on the CIB file. */
function promoted(xml: string): Record<string, string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'lvskit-placement-'));
  try {
    writeFileSync(join(dir, 'cib.xml'), xml);
    const out = execFileSync('crm_mon', ['-1', '--output-as=xml'], { encoding: 'utf8', env: { ...process.env, CIB_file: join(dir, 'cib.xml') } });
    const result: Record<string, string[]> = {};
    for (const clone of children(children(parseXml(out), 'resources')[0], 'clone')) {
      const id = clone.attrs.id ?? '';
      if (!/^lvs\d*-clone$/.test(id)) continue;
      result[id] = children(clone, 'resource').filter((r) => r.attrs.role === 'Promoted').flatMap((r) => children(r, 'node').map((n) => n.attrs.name ?? ''));
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A node failure as corosync reports it; with stonith-enabled=false pacemaker takes the node as down. */
function fail(xml: string, node: string): Run {
  return converge(xml, ['--node-fail', node]);
}

describe('pcs/placement: what pacemaker does with --placement (crm_simulate, pacemaker scheduler)', function () {
  this.timeout(60_000);

  before(function () {
    try {
      execFileSync('crm_simulate', ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error('crm_simulate is not installed (pacemaker-cli-utils; scripts/setup.sh installs it)');
    }
  });

  it('together: both VIPs promoted on one director; when it dies both move to the other', () => {
    const start = converge(withScores(TWO));
    const p = promoted(start.xml);
    assert.equal(p['lvs-clone']?.length, 1, JSON.stringify(p));
    assert.deepEqual(p['lvs2-clone'], p['lvs-clone'], `lvs2 with lvs: ${JSON.stringify(p)}`);
    const holder = p['lvs-clone']![0]!;
    const other = holder === 'd1' ? 'd2' : 'd1';
    const after = promoted(fail(start.xml, holder).xml);
    assert.deepEqual(after, { 'lvs-clone': [other], 'lvs2-clone': [other] });
  });

  it('spread: four VIPs alternate over two directors; a lone survivor holds all four', () => {
    const start = converge(withScores(FOUR));
    const p = promoted(start.xml);
    const [a] = p['lvs-clone']!;
    const b = a === 'd1' ? 'd2' : 'd1';
    assert.deepEqual(p, { 'lvs-clone': [a], 'lvs2-clone': [b], 'lvs3-clone': [a], 'lvs4-clone': [b] });
    const after = promoted(fail(start.xml, a!).xml);
    assert.deepEqual(after, { 'lvs-clone': [b], 'lvs2-clone': [b], 'lvs3-clone': [b], 'lvs4-clone': [b] });
  });

  it('spread with -1000, as the lab set it before: the survivor would not hold the second VIP', () => {
    // Why SPREAD_SCORE is small: a colocation the promotion score does not outweigh forbids promotion.
    const start = converge(withScores(FOUR.replace(/score="-5"/g, 'score="-1000"')));
    const a = promoted(start.xml)['lvs-clone']![0]!;
    const after = promoted(fail(start.xml, a).xml);
    assert.deepEqual(after['lvs2-clone'], [], JSON.stringify(after));
  });

  it('adding a VIP to the running cluster: the scheduler acts on the new clone only', () => {
    const running = converge(withScores(ONE)).xml;
    // The configuration pcs left after bootstrap added lvs2, on the running cluster's status.
    const config = (xml: string) => /<configuration>[\s\S]*<\/configuration>/.exec(xml)![0];
    const added = running.replace(config(running), config(TWO));
    const { actions, xml } = converge(added);
    assert.ok(actions.length > 0);
    for (const a of actions) assert.match(a, /\blvs2:\d/, `only lvs2 acts: ${actions.join('; ')}`);
    const p = promoted(xml);
    assert.deepEqual(p['lvs2-clone'], p['lvs-clone'], 'promoted with lvs (together)');
  });
});
