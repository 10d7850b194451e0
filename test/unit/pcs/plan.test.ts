// The CIB predicates of the resource steps, on CIBs pacemaker and pcs really wrote (fixtures/).
import assert from 'node:assert/strict';
import { Cib } from '../../../src/pcs/cib';
import type { Dialect } from '../../../src/pcs/dialect';
import { parseOptions, type RawOptions } from '../../../src/pcs/options';
import { buildPlan, type Verdict } from '../../../src/pcs/plan';
import { cibFixture, fixture, withProperty } from './helpers';

const LAB: RawOptions = { nodes: 'd1,d2', vip: '198.51.100.100', vipPrefix: '24', syncInterface: 'eth0', stonith: false };
const BUILT = 'cib-bootstrapped-pcs-0.11.5.xml';
/** The CIB pcs 0.11.5 built, with the no-quorum-policy bootstrap now sets (safety.test.ts judges the fixture without it). */
const builtNow = () => Cib.parse(withProperty(fixture(BUILT), 'no-quorum-policy', 'demote'));

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

const STEPS = ['stonith', 'no-quorum-policy', 'stickiness', 'checker', 'checker-interleave', 'checker-ops', 'lvs', 'lvs-ops', 'colocation', 'order'];
const all = (kind: Verdict['kind']) => Object.fromEntries(STEPS.map((s) => [s, kind]));

describe('pcs/plan: is a step already done? (CIB predicates)', () => {
  it('finds nothing done in a fresh cluster', () => {
    assert.deepEqual(verdicts(cibFixture('cib-fresh-pacemaker-2.1.5.xml'), LAB), all('todo'));
  });

  it('finds every step done in the CIB pcs 0.11.5 built from the plan', () => {
    assert.deepEqual(verdicts(builtNow(), LAB), all('done'));
    assert.deepEqual(verdicts(builtNow(), LAB, '0.12'), all('done'));
  });

  it('finds every step done in a pcs 0.9 <master> CIB with roles Master/Slave and no with-rsc-role', () => {
    const raw = { ...LAB, syncInterface: 'eth1', config: '/etc/ha.d/lvs.cf', stickiness: '200' };
    const cib09 = Cib.parse(withProperty(fixture('cib-bootstrapped-pcs-0.9.xml'), 'no-quorum-policy', 'stop'));
    assert.deepEqual(verdicts(cib09, raw, '0.9'), all('done'));
    // The 0.10 plan looks for lvs-clone, which a 0.9 CIB does not have.
    assert.equal(verdict(cibFixture('cib-bootstrapped-pcs-0.9.xml'), raw, 'lvs', '0.10').kind, 'conflict');
  });

  it('accepts the legacy role Master and +INFINITY as the same colocation (pcs 0.10 on pacemaker 2.0)', () => {
    const xml = fixture(BUILT).replace('rsc-role="Promoted"', 'rsc-role="Master"').replace('score="INFINITY" rsc-role', 'score="+INFINITY" rsc-role');
    assert.notEqual(xml, fixture(BUILT));
    assert.equal(verdict(Cib.parse(xml), LAB, 'colocation', '0.10').kind, 'done');
  });

  it('does not take a constraint of another meaning for the one wanted', () => {
    const cases: [string, string, string][] = [
      ['colocation', 'rsc-role="Promoted"', 'rsc-role="Unpromoted"'],
      ['colocation', 'score="INFINITY" rsc-role', 'score="500" rsc-role'],
      ['colocation', 'with-rsc-role="Started"', 'with-rsc-role="Stopped"'],
      ['colocation', 'with-rsc="lvsd-clone"', 'with-rsc="other-clone"'],
      ['order', 'first-action="start"', 'first-action="stop"'],
      ['order', ' then-action="promote"', ''], // then-action defaults to first-action: start
      ['order', 'first="lvsd-clone"', 'first="other-clone"'],
    ];
    for (const [id, from, to] of cases) {
      const xml = fixture(BUILT).replace(from, to);
      assert.notEqual(xml, fixture(BUILT), `${from} is in the fixture`);
      assert.equal(verdict(Cib.parse(xml), LAB, id).kind, 'todo', `${id} with ${to || `no ${from}`}`);
    }
  });

  it('refuses a Mandatory order start lvsd-clone then promote: a checker that cannot start would block promotion', () => {
    const v = verdict(Cib.parse(fixture(BUILT).replace(' kind="Optional"', '')), LAB, 'order');
    assert.equal(v.kind, 'conflict');
    assert.match((v as { why: string }).why, /order order-lvsd-clone-lvs-clone-Optional makes promote of lvs-clone wait .* Mandatory .*pcs constraint remove order-lvsd-clone-lvs-clone-Optional/);
    // The deprecated score 0 is pacemaker's Optional.
    assert.equal(verdict(Cib.parse(fixture(BUILT).replace('kind="Optional"', 'score="0"')), LAB, 'order').kind, 'done');
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

  it('sets interleave on lvsd-clone when it lacks it or has it false', () => {
    const xml = fixture(BUILT).replace('<nvpair id="lvsd-clone-meta_attributes-interleave" name="interleave" value="true"/>', '');
    assert.notEqual(xml, fixture(BUILT));
    assert.deepEqual(verdict(Cib.parse(xml), LAB, 'checker-interleave'), { kind: 'todo', argv: ['pcs', 'resource', 'meta', 'lvsd-clone', 'interleave=true'] });
    const no = fixture(BUILT).replace('name="interleave" value="true"/>\n        </meta_attributes>\n      </clone>\n      <clone id="lvs-clone">', 'name="interleave" value="false"/>\n        </meta_attributes>\n      </clone>\n      <clone id="lvs-clone">');
    assert.notEqual(no, fixture(BUILT));
    assert.equal(verdict(Cib.parse(no), LAB, 'checker-interleave').kind, 'todo');
  });

  it('updates only the operations whose timeout is shorter than bootstrap\'s, keeping their interval; longer ones stay', () => {
    const xml = fixture(BUILT)
      .replace('<op name="monitor" interval="10s" role="Promoted" timeout="30s"', '<op name="monitor" interval="15s" role="Promoted" timeout="20s"')
      .replace('<op name="start" interval="0s" timeout="60s" id="lvs-start', '<op name="start" interval="0s" timeout="2min" id="lvs-start')
      .replace('<op name="stop" interval="0s" timeout="60s" id="lvs-stop', '<op name="stop" interval="0s" id="lvs-stop');
    const v = verdict(Cib.parse(xml), LAB, 'lvs-ops');
    assert.deepEqual(v, { kind: 'todo', argv: ['pcs', 'resource', 'update', 'lvs', 'op', 'stop', 'interval=0s', 'timeout=60s', 'op', 'monitor', 'interval=15s', 'role=Promoted', 'timeout=30s'] });
    const v09 = verdict(Cib.parse(xml), LAB, 'lvs-ops', '0.10');
    assert.ok(v09.kind === 'todo' && v09.argv?.includes('role=Master'), 'the dialect\'s role name');
    // The previous layout's lvsd had the agent's 20 s.
    const prev = verdict(cibFixture('cib-previous-layout-pcs-0.11.5.xml'), LAB, 'checker-ops');
    assert.deepEqual(prev, { kind: 'todo', argv: ['pcs', 'resource', 'update', 'lvsd', 'op', 'start', 'interval=0s', 'timeout=60s', 'op', 'stop', 'interval=0s', 'timeout=60s', 'op', 'monitor', 'interval=10s', 'timeout=30s'] });
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
    assert.match(why(fixture(BUILT), { ...LAB, checker: 'systemd' }, 'checker'), /resource 'lvsd' exists as ocf:heartbeat:lvsd, not systemd:lvsd \(--checker systemd\)/);
    assert.match(why(fixture(BUILT), { ...LAB, config: '/etc/ha.d/other.cf' }, 'checker'), /configfile=\/etc\/ha\.d\/ldirectord\.cf \(wanted \/etc\/ha\.d\/other\.cf\)/);
    const unwrapped = fixture(BUILT).replace('<clone id="lvs-clone">', '<group id="g">').replace(/<\/clone>\n {4}<\/resources>/, '</group>\n    </resources>');
    assert.match(why(unwrapped, LAB, 'lvs'), /resource 'lvs' exists but is not in the promotable clone 'lvs-clone'/);
    const notPromotable = fixture(BUILT).replace('name="promotable" value="true"', 'name="promotable" value="false"');
    assert.match(why(notPromotable, LAB, 'lvs'), /'lvs-clone' exists but is a <clone>, not a promotable clone/);
    const otherClone = fixture(BUILT).replace('<clone id="lvsd-clone">', '<clone id="checkers">');
    assert.match(why(otherClone, LAB, 'checker'), /resource 'lvsd' exists but is in <clone id=checkers>, not in the clone 'lvsd-clone'/);
    const promotableChecker = fixture(BUILT).replace('<nvpair id="lvsd-clone-meta_attributes-interleave"', '<nvpair id="p" name="promotable" value="true"/><nvpair id="lvsd-clone-meta_attributes-interleave"');
    assert.match(why(promotableChecker, LAB, 'checker'), /'lvsd-clone' is promotable/);
  });

  it('compares IPv6 VIPs as addresses, not as text', () => {
    const xml = fixture(BUILT).replace('value="198.51.100.100"', 'value="2001:db8:0:0::10"').replace('name="vip_prefix" value="24"', 'name="vip_prefix" value="64"');
    assert.equal(verdict(Cib.parse(xml), { ...LAB, vip: '2001:db8::10', vipPrefix: '64' }, 'lvs').kind, 'done');
  });
});

describe('pcs/plan: the corosync token', () => {
  const token = (conf: Parameters<NonNullable<ReturnType<typeof buildPlan>[number]['checkConf']>>[0], raw: RawOptions = LAB, version = '0.11.5') => {
    const step = buildPlan(parseOptions(raw), '0.11', version).find((s) => s.id === 'token')!;
    return { step, v: step.checkConf!(conf) };
  };

  it('is done when corosync.conf sets it, and names the consensus', () => {
    assert.deepEqual(token({ name: 'lvs', nodes: ['d1', 'd2'], token: 1000 }).v, { kind: 'done', what: 'corosync token 1000 ms (consensus 1200 ms by default) in /etc/corosync/corosync.conf' });
    assert.match((token({ name: 'lvs', nodes: [], token: 1000, consensus: 5000 }).v as { what: string }).what, /consensus 5000 ms as corosync\.conf sets it/);
  });

  it('is to do when corosync.conf has another token or none (corosync 3.1+ would take 3000)', () => {
    assert.equal(token({ name: 'lvs', nodes: [], token: 3000 }).v.kind, 'todo');
    assert.equal(token({ name: 'lvs', nodes: [] }).v.kind, 'todo');
    assert.equal(token({ name: 'lvs', nodes: [], token: 1500 }, { ...LAB, token: '1500' }).v.kind, 'done');
  });

  it('runs pcs cluster config update from pcs 0.10.8 on, and is left to the operator before', () => {
    assert.deepEqual(token(undefined).step.argv, ['pcs', 'cluster', 'config', 'update', 'totem', 'token=1000']);
    assert.equal(token(undefined, LAB, '0.10.8').step.manual, undefined);
    const old = token(undefined, LAB, '0.10.7').step.manual;
    assert.ok(old, 'no config update before 0.10.8');
    assert.match(old.join('\n'), /"token: 1000" in the totem section.*\npcs cluster sync corosync .*\npcs cluster reload corosync/);
    const p09 = buildPlan(parseOptions(LAB), '0.9', '0.9.169').find((s) => s.id === 'token')!;
    assert.match(p09.manual!.join('\n'), /\npcs cluster sync +# copies/);
  });
});

describe('pcs/cib: reading cibadmin --query', () => {
  it('reads the version attributes and refuses what is not a CIB', () => {
    assert.deepEqual(cibFixture('cib-previous-layout-pcs-0.11.5.xml').version, { epoch: '12', adminEpoch: '0', numUpdates: '4' });
    assert.throws(() => Cib.parse('<status/>'), /not a CIB: the root element is <status>/);
    assert.throws(() => Cib.parse(''), /the CIB is empty|not well-formed/);
  });
});
