// Which layout a CIB holds, and the commands that convert the previous one (fixtures pcs wrote).
import assert from 'node:assert/strict';
import { Cib } from '../../../src/pcs/cib';
import { conversionSteps, layoutOf, onFile } from '../../../src/pcs/migrate';
import { parseOptions, type RawOptions } from '../../../src/pcs/options';
import { cibFixture, fixture } from './helpers';

const LAB: RawOptions = { nodes: 'd1,d2', vip: '198.51.100.100', vipPrefix: '24', syncInterface: 'eth0', stonith: false };
const PREVIOUS = 'cib-previous-layout-pcs-0.11.5.xml';

describe('pcs/migrate: which layout the CIB holds', () => {
  it('a fresh CIB and the layout this version builds are current: steps run one by one', () => {
    for (const f of ['cib-fresh-pacemaker-2.1.5.xml', 'cib-bootstrapped-pcs-0.11.5.xml', 'cib-migrated-pcs-0.11.5.xml']) {
      assert.deepEqual(layoutOf(cibFixture(f), parseOptions(LAB), '0.11'), { kind: 'current' }, f);
    }
  });

  it('finds the previous layout pcs 0.11.5 built, with the ids of its two constraints', () => {
    assert.deepEqual(layoutOf(cibFixture(PREVIOUS), parseOptions(LAB), '0.11'), {
      kind: 'previous',
      oldConstraints: ['colocation-lvsd-lvs-clone-INFINITY', 'order-lvs-clone-lvsd-mandatory'],
      checkerPrimitive: true,
      checkerDisabled: false,
    });
    const raw09 = { ...LAB, config: '/etc/ha.d/lvs.cf' };
    assert.deepEqual(layoutOf(cibFixture('cib-previous-layout-pcs-0.9.xml'), parseOptions(raw09), '0.9'), {
      kind: 'previous',
      oldConstraints: ['colocation-lvsd-lvs-master-INFINITY', 'order-lvs-master-lvsd-mandatory'],
      checkerPrimitive: true,
      checkerDisabled: false,
    });
  });

  it('sees a half-built previous layout: lvsd still disabled, one constraint missing', () => {
    const xml = fixture(PREVIOUS)
      .replace('<meta_attributes id="lvsd-meta_attributes"/>', '<meta_attributes id="lvsd-meta_attributes"><nvpair id="t" name="target-role" value="Stopped"/></meta_attributes>')
      .replace(/<rsc_order [^>]*\/>/, '');
    assert.deepEqual(layoutOf(Cib.parse(xml), parseOptions(LAB), '0.11'), { kind: 'previous', oldConstraints: ['colocation-lvsd-lvs-clone-INFINITY'], checkerPrimitive: true, checkerDisabled: true });
  });

  it('sees a clone that still carries the previous constraints (cloned by hand: pcs moved them onto it)', () => {
    const xml = fixture('cib-bootstrapped-pcs-0.11.5.xml').replace(
      '<constraints>',
      '<constraints><rsc_colocation rsc="lvsd-clone" with-rsc="lvs-clone" score="INFINITY" rsc-role="Started" with-rsc-role="Promoted" id="c-old"/>',
    );
    assert.deepEqual(layoutOf(Cib.parse(xml), parseOptions(LAB), '0.11'), { kind: 'previous', oldConstraints: ['c-old'], checkerPrimitive: false, checkerDisabled: false });
  });

  it('stops at the seeds\' stack (a Stateful-derived promotable + ldirectord), naming the guide', () => {
    const l = layoutOf(cibFixture('cib-seeds-stateful-ldirectord-pcs-0.11.5.xml'), parseOptions(LAB), '0.11');
    assert.equal(l.kind, 'foreign');
    assert.match((l as { why: string }).why, /^resource 'ldirectord' runs ldirectord \(ocf:heartbeat:ldirectord\): this cluster runs another LVS stack\. .*docs\/operator-guide\.md §3\.2, stage 2 .*Nothing was changed$/);
  });

  it('stops at any other resource that holds the VIP (IPaddr2 here)', () => {
    const xml = fixture('cib-ipaddr2-ldirectord-pcs-0.11.5.xml').replace(/<primitive id="ldirectord"[\s\S]*?<\/primitive>/, '');
    assert.doesNotMatch(xml, /type="ldirectord"/);
    const l = layoutOf(Cib.parse(xml), parseOptions(LAB), '0.11');
    assert.match((l as { why: string }).why, /^resource 'vip' \(ocf:heartbeat:IPaddr2\) holds the VIP 198\.51\.100\.100 \(ip=198\.51\.100\.100\)/);
  });

  it('stops when the previous lvsd is of the other checker kind', () => {
    const l = layoutOf(cibFixture(PREVIOUS), parseOptions({ ...LAB, checker: 'systemd' }), '0.11');
    assert.deepEqual(l, { kind: 'foreign', why: "resource 'lvsd' exists as ocf:heartbeat:lvsd, not systemd:lvsd (--checker systemd); nothing was changed" });
  });
});

describe('pcs/migrate: the conversion commands', () => {
  const argv = (dialect: '0.9' | '0.10' | '0.11' | '0.12', disabled = false) =>
    conversionSteps({ kind: 'previous', oldConstraints: ['c1', 'o1'], checkerPrimitive: true, checkerDisabled: disabled }, dialect).map((s) => s.argv.join(' '));

  it('removes the old constraints before cloning (pcs resource clone would move them onto the clone)', () => {
    assert.deepEqual(argv('0.11'), ['pcs constraint remove c1 o1', 'pcs resource clone lvsd meta interleave=true']);
    assert.deepEqual(argv('0.12'), ['pcs constraint remove c1 o1', 'pcs resource clone lvsd meta interleave=true']);
  });

  it('writes the clone meta attribute as each pcs reads it (meta keyword from 0.10.7; bare before)', () => {
    assert.deepEqual(argv('0.9'), ['pcs constraint remove c1 o1', 'pcs resource clone lvsd interleave=true']);
    assert.deepEqual(argv('0.10'), ['pcs constraint remove c1 o1', 'pcs resource clone lvsd interleave=true']);
  });

  it('enables a disabled lvsd before cloning it', () => {
    assert.deepEqual(argv('0.11', true), ['pcs constraint remove c1 o1', 'pcs resource enable lvsd', 'pcs resource clone lvsd meta interleave=true']);
  });

  it('only removes constraints when lvsd is already a clone', () => {
    const steps = conversionSteps({ kind: 'previous', oldConstraints: ['c-old'], checkerPrimitive: false, checkerDisabled: false }, '0.11');
    assert.deepEqual(steps.map((s) => s.argv.join(' ')), ['pcs constraint remove c-old']);
  });

  it('runs each command on the copy: pcs -f FILE …', () => {
    assert.deepEqual(onFile(['pcs', 'resource', 'clone', 'lvsd'], '/tmp/x/cib-after.xml'), ['pcs', '-f', '/tmp/x/cib-after.xml', 'resource', 'clone', 'lvsd']);
  });
});
