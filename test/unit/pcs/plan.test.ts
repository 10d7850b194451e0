// The CIB predicates of the resource steps, on CIBs pacemaker and pcs really wrote (fixtures/).
import assert from 'node:assert/strict';
import { Cib } from '../../../src/pcs/cib';
import type { Dialect } from '../../../src/pcs/dialect';
import { parseOptions, type RawOptions } from '../../../src/pcs/options';
import { buildPlan, type Verdict } from '../../../src/pcs/plan';
import { cibFixture, fixture } from './helpers';

const LAB: RawOptions = { nodes: 'd1,d2', vip: '198.51.100.100', vipPrefix: '24', syncInterface: 'eth0', stonith: false };
const BUILT = 'cib-bootstrapped-pcs-0.11.5.xml';

/** Each resource step's verdict on this CIB, by step id. */
function verdicts(cib: Cib, raw: RawOptions, dialect: Dialect = '0.11'): Record<string, Verdict['kind']> {
  const out: Record<string, Verdict['kind']> = {};
  for (const s of buildPlan(parseOptions(raw), dialect)) if (s.check) out[s.id] = s.check(cib).kind;
  return out;
}

function verdict(cib: Cib, raw: RawOptions, id: string, dialect: Dialect = '0.11'): Verdict {
  const step = buildPlan(parseOptions(raw), dialect).find((s) => s.id === id);
  assert.ok(step?.check, `a step '${id}' with a check`);
  return step.check(cib);
}

const ALL_DONE = { stonith: 'done', stickiness: 'done', lvs: 'done', checker: 'done', colocation: 'done', order: 'done', 'enable-checker': 'done' };
const ALL_TODO = { stonith: 'todo', stickiness: 'todo', lvs: 'todo', checker: 'todo', colocation: 'todo', order: 'todo', 'enable-checker': 'todo' };

describe('pcs/plan: is a step already done? (CIB predicates)', () => {
  it('finds nothing done in a fresh cluster', () => {
    assert.deepEqual(verdicts(cibFixture('cib-fresh-pacemaker-2.1.5.xml'), LAB), ALL_TODO);
  });

  it('finds every step done in the CIB pcs 0.11.5 built from the plan', () => {
    assert.deepEqual(verdicts(cibFixture(BUILT), LAB), ALL_DONE);
    assert.deepEqual(verdicts(cibFixture(BUILT), LAB, '0.12'), ALL_DONE);
  });

  it('finds every step done in a pcs 0.9 <master> CIB with roles Master/Slave', () => {
    const raw = { ...LAB, syncInterface: 'eth1', config: '/etc/ha.d/lvs.cf', stickiness: '200' };
    assert.deepEqual(verdicts(cibFixture('cib-bootstrapped-pcs-0.9.xml'), raw, '0.9'), ALL_DONE);
    // The 0.10 plan looks for lvs-clone, which a 0.9 CIB does not have.
    assert.equal(verdict(cibFixture('cib-bootstrapped-pcs-0.9.xml'), raw, 'lvs', '0.10').kind, 'conflict');
  });

  it('accepts the legacy role Master and +INFINITY as the same colocation (pcs 0.10 on pacemaker 2.0)', () => {
    const xml = fixture(BUILT).replace('with-rsc-role="Promoted"', 'with-rsc-role="Master"').replace('score="INFINITY"', 'score="+INFINITY"');
    assert.equal(verdict(Cib.parse(xml), LAB, 'colocation', '0.10').kind, 'done');
  });

  it('does not take a constraint of another meaning for the one wanted', () => {
    const cases: [string, string, string][] = [
      ['colocation', 'with-rsc-role="Promoted"', 'with-rsc-role="Unpromoted"'],
      ['colocation', 'score="INFINITY"', 'score="500"'],
      ['colocation', 'rsc-role="Started"', 'rsc-role="Stopped"'],
      ['order', 'first-action="promote"', 'first-action="start"'],
      ['order', ' then-action="start"', ''], // then-action defaults to first-action: promote
      ['order', 'then="lvsd"', 'then="other"'],
    ];
    for (const [id, from, to] of cases) {
      const xml = fixture(BUILT).replace(from, to);
      assert.notEqual(xml, fixture(BUILT), `${from} is in the fixture`);
      assert.equal(verdict(Cib.parse(xml), LAB, id).kind, 'todo', `${id} with ${to || `no ${from}`}`);
    }
  });

  it('redoes the stickiness and fencing steps when their values differ', () => {
    assert.equal(verdict(cibFixture(BUILT), { ...LAB, stickiness: '200' }, 'stickiness').kind, 'todo');
    assert.equal(verdict(cibFixture(BUILT), { ...LAB, stickiness: 'INFINITY' }, 'stickiness').kind, 'todo');
    const inf = Cib.parse(fixture(BUILT).replace('name="resource-stickiness" value="100"', 'name="resource-stickiness" value="+INFINITY"'));
    assert.equal(verdict(inf, { ...LAB, stickiness: 'INFINITY' }, 'stickiness').kind, 'done');
    const on = Cib.parse(fixture(BUILT).replace('name="stonith-enabled" value="false"', 'name="stonith-enabled" value="true"'));
    assert.equal(verdict(on, LAB, 'stonith').kind, 'todo');
    const renamed = Cib.parse(fixture(BUILT).replace('name="stonith-enabled" value="false"', 'name="fencing-enabled" value="no"'));
    assert.equal(verdict(renamed, LAB, 'stonith').kind, 'done', 'pacemaker 3.0.2 name, pacemaker boolean spelling');
  });

  it('ignores values in rule-based default sets, which apply only sometimes', () => {
    const xml = fixture(BUILT).replace(
      '<meta_attributes id="rsc_defaults-meta_attributes">',
      '<meta_attributes id="rsc_defaults-meta_attributes"><rule id="r" boolean-op="and" score="INFINITY"><rsc_expression id="e" class="ocf"/></rule>',
    );
    assert.equal(verdict(Cib.parse(xml), LAB, 'stickiness').kind, 'todo');
  });

  it('sees a disabled checker as not yet enabled', () => {
    const xml = fixture(BUILT).replace('<meta_attributes id="lvsd-meta_attributes"/>', '<meta_attributes id="lvsd-meta_attributes"><nvpair id="t" name="target-role" value="Stopped"/></meta_attributes>');
    assert.equal(verdict(Cib.parse(xml), LAB, 'enable-checker').kind, 'todo');
  });

  it('reports a resource that exists with other settings as a conflict naming the difference', () => {
    const why = (xml: string, raw: RawOptions, id: string) => {
      const v = verdict(Cib.parse(xml), raw, id);
      assert.equal(v.kind, 'conflict', `${id}: ${JSON.stringify(v)}`);
      return (v as { why: string }).why;
    };
    assert.match(why(fixture(BUILT), { ...LAB, vip: '198.51.100.101' }, 'lvs'), /resource 'lvs' exists with vip=198\.51\.100\.100 \(wanted 198\.51\.100\.101\)/);
    assert.match(why(fixture(BUILT), { ...LAB, vipPrefix: undefined }, 'lvs'), /vip_prefix=24 \(wanted 32\)/);
    assert.match(why(fixture(BUILT), { ...LAB, syncInterface: undefined }, 'lvs'), /sync_interface=eth0 \(wanted \(unset\)\)/);
    assert.match(why(fixture(BUILT), { ...LAB, checker: 'systemd' }, 'checker'), /resource 'lvsd' exists as ocf:heartbeat:lvsd, not systemd:lvsd/);
    assert.match(why(fixture(BUILT), { ...LAB, config: '/etc/ha.d/other.cf' }, 'checker'), /configfile=\/etc\/ha\.d\/ldirectord\.cf \(wanted \/etc\/ha\.d\/other\.cf\)/);
    const unwrapped = fixture(BUILT).replace('<clone id="lvs-clone">', '<group id="g">').replace('</clone>', '</group>');
    assert.match(why(unwrapped, LAB, 'lvs'), /resource 'lvs' exists but is not in the promotable clone 'lvs-clone'/);
    const notPromotable = fixture(BUILT).replace('name="promotable" value="true"', 'name="promotable" value="false"');
    assert.match(why(notPromotable, LAB, 'lvs'), /'lvs-clone' exists but is a <clone>, not a promotable clone/);
  });

  it('compares IPv6 VIPs as addresses, not as text', () => {
    const xml = fixture(BUILT).replace('value="198.51.100.100"', 'value="2001:db8:0:0::10"').replace('name="vip_prefix" value="24"', 'name="vip_prefix" value="64"');
    assert.equal(verdict(Cib.parse(xml), { ...LAB, vip: '2001:db8::10', vipPrefix: '64' }, 'lvs').kind, 'done');
  });
});

describe('pcs/cib: reading cibadmin --query', () => {
  it('reads the version attributes and refuses what is not a CIB', () => {
    assert.deepEqual(cibFixture(BUILT).version, { epoch: '12', adminEpoch: '0', numUpdates: '4' });
    assert.throws(() => Cib.parse('<status/>'), /not a CIB: the root element is <status>/);
    assert.throws(() => Cib.parse(''), /the CIB is empty|not well-formed/);
  });
});
