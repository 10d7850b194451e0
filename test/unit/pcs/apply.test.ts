// The decisions of --apply (what runs, what is skipped, where the password goes, how the previous
// layout is converted), on a System whose answers the test chooses. The real pcs and pacemaker run
// in test/lab/bootstrap.test.ts.
import assert from 'node:assert/strict';
import { LvskitError, UsageError } from '../../../src/errors';
import { Cib } from '../../../src/pcs/cib';
import type { RawOptions } from '../../../src/pcs/options';
import { bootstrapIn, evolvingSystem, FakeSystem, fixture, type PcsCall, withProperty } from './helpers';

const APPLY: RawOptions = { nodes: 'd1,d2', vip: '198.51.100.100', vipPrefix: '24', syncInterface: 'eth0', stonith: false, apply: true };
const RUNNING = { corosync: { name: 'lvs', nodes: ['d1', 'd2'], token: 1000 }, members: ['d1', 'd2'] };
const SECRET = "pa$$ 'word\"-p";
// What pcs 0.11.5 built, with the no-quorum-policy bootstrap sets since (as pcs property set writes it).
const BUILT = withProperty(fixture('cib-bootstrapped-pcs-0.11.5.xml'), 'no-quorum-policy', 'demote');

/** The CIB as each resource step of a new build leaves it, cut back from the one pcs built. */
function buildStates(): string[] {
  const full = BUILT;
  const noOrder = full.replace(/<rsc_order [^>]*\/>/, '');
  const noColocation = noOrder.replace(/<rsc_colocation [^>]*\/>/, '');
  const noLvs = noColocation.replace(/<clone id="lvs-clone">[\s\S]*?<\/clone>/, '');
  const noChecker = noLvs.replace(/<clone id="lvsd-clone">[\s\S]*?<\/clone>/, '');
  const noStickiness = noChecker.replace(/<nvpair id="rsc_defaults-meta_attributes-resource-stickiness"[^>]*\/>/, '');
  const noPolicy = noStickiness.replace(/<nvpair id="cib-bootstrap-options-no-quorum-policy"[^>]*\/>/, '');
  const noStonith = noPolicy.replace(/<nvpair id="cib-bootstrap-options-stonith-enabled"[^>]*\/>/, '');
  const states = [noStonith, noPolicy, noStickiness, noChecker, noLvs, noColocation, noOrder, full];
  states.forEach((s, i) => assert.ok(i === 0 || s !== states[i - 1], `state ${i} differs from the one before`));
  return states;
}

function evolving(states: string[], facts = RUNNING, opts: ConstructorParameters<typeof FakeSystem>[2] = {}): FakeSystem {
  return evolvingSystem(states, facts, opts);
}

const BUILD_COMMANDS = [
  'property set stonith-enabled=false',
  'property set no-quorum-policy=demote',
  'resource defaults update resource-stickiness=100',
  'resource create lvsd ocf:heartbeat:lvsd configfile=/etc/ha.d/ldirectord.cf op start interval=0s timeout=60s op stop interval=0s timeout=60s op monitor interval=30s timeout=30s clone interleave=true',
  // lvs with its constraints in one transaction: pacemaker never sees it unplaced.
  'cluster cib /tmp/lvskit-bootstrap-test/cib-before.xml',
  '-f /tmp/lvskit-bootstrap-test/cib-after.xml resource create lvs ocf:heartbeat:lvs nic=eth0 vip=198.51.100.100 vip_prefix=24 sync_interface=eth0 op start interval=0s timeout=60s op stop interval=0s timeout=60s op promote interval=0s timeout=60s op demote interval=0s timeout=60s op monitor interval=10s role=Promoted timeout=30s op monitor interval=30s role=Unpromoted timeout=30s promotable',
  '-f /tmp/lvskit-bootstrap-test/cib-after.xml constraint colocation add Promoted lvs-clone with lvsd-clone INFINITY',
  '-f /tmp/lvskit-bootstrap-test/cib-after.xml constraint order start lvsd-clone then promote lvs-clone kind=Optional',
  'cluster cib-push /tmp/lvskit-bootstrap-test/cib-after.xml diff-against=/tmp/lvskit-bootstrap-test/cib-before.xml',
];

describe('pcs/bootstrap --apply: what runs and what is skipped', () => {
  it('on a running cluster with an empty CIB: no cluster step, no password, the resource steps in order, each judged on the CIB it left', async () => {
    const sys = evolving(buildStates());
    const r = await bootstrapIn(APPLY, sys);
    assert.equal(r.error, undefined, r.error?.message);
    assert.equal(sys.passwordAsked, 0);
    assert.deepEqual(sys.calls.map((c) => c.args.join(' ')), BUILD_COMMANDS);
    assert.ok(sys.calls.every((c) => c.input === undefined), 'only auth gets standard input');
    assert.equal(sys.cibReads, 1 + 4, 'one read for the layout, conflicts and the first step, then one after each live change');
    assert.match(r.out, /^lvs does not exist: creating it with its constraints in one CIB transaction, on a copy in \/tmp\/lvskit-bootstrap-test$/m);
    assert.match(r.out, /^already done: cluster lvs runs on d1, d2 \(auth, setup, start, enable skipped\)$/m);
    assert.match(r.out, /^already done: corosync token 1000 ms \(consensus 1200 ms by default\) in \/etc\/corosync\/corosync\.conf$/m);
    assert.match(r.out, /^already done: lvsd-clone has interleave=true$/m, 'created with it, so not set again');
    assert.match(r.out, /^already done: lvs has operation timeouts of at least start 60 s, stop 60 s, promote 60 s/m);
    assert.match(r.out, /^bootstrap complete: 9 steps run, 8 already done$/m);
  });

  it('on the CIB pcs built: runs nothing and says what it found', async () => {
    const sys = new FakeSystem(Cib.parse(BUILT), RUNNING);
    const r = await bootstrapIn(APPLY, sys);
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(sys.calls, []);
    assert.equal(sys.cibReads, 1, 'nothing changed: the CIB is read once');
    assert.match(r.out, /^already done: promotable clone lvs-clone of lvs \(ocf:heartbeat:lvs, nic=eth0 vip=198\.51\.100\.100 vip_prefix=24 sync_interface=eth0\)$/m);
    assert.match(r.out, /^already done: clone lvsd-clone of lvsd \(ocf:heartbeat:lvsd, configfile=\/etc\/ha\.d\/ldirectord\.cf\)$/m);
    assert.match(r.out, /^already done: colocation colocation-lvs-clone-lvsd-clone-INFINITY: the promoted lvs-clone only with lvsd-clone, score INFINITY$/m);
    assert.match(r.out, /^already done: order order-lvsd-clone-lvs-clone-Optional: start lvsd-clone then promote lvs-clone \(Optional\)$/m);
    assert.match(r.out, /^bootstrap complete: 0 steps run, 15 already done$/m);
  });

  it('changes the token of a running cluster online with pcs 0.10.8+, and leaves it to the operator before', async () => {
    const other = { ...RUNNING, corosync: { ...RUNNING.corosync, token: 3000 } };
    const sys = new FakeSystem(Cib.parse(BUILT), other);
    const r = await bootstrapIn(APPLY, sys);
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(sys.calls.map((c) => c.args.join(' ')), ['cluster config update totem token=1000']);
    assert.equal(sys.passwordAsked, 0);

    const old = new FakeSystem(Cib.parse(BUILT), other, { version: '0.10.7' });
    const o = await bootstrapIn(APPLY, old);
    assert.equal(o.error, undefined, o.error?.message);
    assert.deepEqual(old.calls, [], 'pcs 0.10.7 has no config update: nothing runs');
    assert.match(o.out, /^not done: corosync token 1000 ms on a cluster that runs with another .*: this pcs cannot do it; run:\n {2}On one node, set "token: 1000" in the totem section of \/etc\/corosync\/corosync\.conf, then:\n {2}pcs cluster sync corosync +# copies corosync\.conf to every node\n {2}pcs cluster reload corosync/m);
    assert.match(o.out, /^bootstrap complete: 0 steps run, 14 already done, 1 left to you \(not done: above\)$/m);
  });

  it('on a new cluster: the password goes to pcs host auth on stdin only, and never into the output; setup writes the token', async () => {
    // pcs prints its prompt on stdout; this one even echoes the password back, to test the scrubbing.
    const sys = evolving(buildStates(), { corosync: undefined, members: undefined } as never, {
      password: SECRET,
      onPcs: (c) => (c.args[0] === 'host' ? { stdout: `Password: d1: Authorized ${SECRET}\nd2: Authorized\n`, stderr: `echo ${SECRET}\n` } : undefined),
    });
    const r = await bootstrapIn(APPLY, sys);
    assert.equal(r.error, undefined, r.error?.message);
    assert.equal(sys.passwordAsked, 1);
    const [auth, setup, start, enable] = sys.calls;
    assert.deepEqual(auth, { args: ['host', 'auth', 'd1', 'd2', '-u', 'hacluster'], input: `${SECRET}\n` });
    assert.deepEqual([setup?.args, start?.args, enable?.args], [['cluster', 'setup', 'lvs', 'd1', 'd2', 'totem', 'token=1000'], ['cluster', 'start', '--all'], ['cluster', 'enable', '--all']]);
    for (const c of sys.calls) assert.ok(!c.args.some((a) => a.includes('pa$$')), `no password in argv: ${c.args.join(' ')}`);
    assert.equal(sys.calls.length, 4 + 9);
    assert.ok(!r.out.includes('pa$$') && !r.err.includes('pa$$'), `the password is not in the output:\n${r.out}\n${r.err}`);
    assert.match(r.out, /^ {2}d1: Authorized \*+$/m, 'the prompt is dropped, the rest of pcs output shown');
    assert.match(r.out, /^running: pcs host auth d1 d2 -u hacluster$/m);
    assert.match(r.out, /^already done: corosync token 1000 ms: written by pcs cluster setup$/m);
  });

  it('with corosync.conf in place but nothing running: auth, start and enable, not setup; the token judged from corosync.conf', async () => {
    const sys = new FakeSystem(Cib.parse(BUILT), { corosync: { name: 'lvs', nodes: ['d2', 'd1'] }, members: undefined }, { password: 'x' });
    const r = await bootstrapIn(APPLY, sys);
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(sys.calls.map((c) => c.args.slice(0, 2).join(' ')), ['host auth', 'cluster start', 'cluster enable', 'cluster config']);
    assert.match(r.out, /^already done: cluster lvs is configured on this node \(\/etc\/corosync\/corosync\.conf\): setup skipped$/m);
  });

  it('stops before running anything when a step conflicts with what the CIB holds', async () => {
    const xml = BUILT.replace('value="198.51.100.100"', 'value="198.51.100.99"').replace(/<rsc_order [^>]*\/>/, '');
    const sys = new FakeSystem(Cib.parse(xml), RUNNING);
    const r = await bootstrapIn(APPLY, sys);
    assert.ok(r.error instanceof LvskitError && r.error.exitCode === 1);
    assert.match(r.error.message, /cannot create lvs as the promotable clone lvs-clone.*: resource 'lvs' exists with vip=198\.51\.100\.99 \(wanted 198\.51\.100\.100\)/);
    assert.deepEqual(sys.calls, [], 'the missing order constraint is not added either');
  });

  it('refuses another cluster on this node without running pcs', async () => {
    const sys = new FakeSystem(undefined, { corosync: { name: 'web', nodes: ['a', 'b'] }, members: ['a', 'b'] });
    const r = await bootstrapIn(APPLY, sys);
    assert.match(r.error?.message ?? '', /already configured for cluster web with nodes a, b/);
    assert.deepEqual(sys.calls, []);
    assert.equal(sys.passwordAsked, 0);
  });

  it('stops at the first pcs failure, naming the step and the command', async () => {
    const sys = evolving(buildStates(), RUNNING, {
      onPcs: (c) => (c.args.join(' ').includes(' resource create lvs ') ? { code: 1, stderr: "Error: Agent 'ocf:heartbeat:lvs' is not installed\n" } : undefined),
    });
    const r = await bootstrapIn(APPLY, sys);
    assert.match(r.error?.message ?? '', /^step 'lvs' \(create lvs as the promotable clone lvs-clone: .*\) failed: pcs -f \S+\/cib-after\.xml resource create lvs .* promotable: exit 1$/);
    assert.match(r.err, /^ {2}Error: Agent 'ocf:heartbeat:lvs' is not installed$/m);
    assert.deepEqual(sys.calls.slice(4).map((c) => c.args.slice(0, 2).join(' ')), ['cluster cib', '-f /tmp/lvskit-bootstrap-test/cib-after.xml'], 'nothing after the failed step: the copy is never pushed');
    assert.deepEqual(sys.removed, [], 'the copies are kept');
  });

  it('uses the installed pcs dialect, and refuses a --pcs-version of another dialect', async () => {
    const sys = evolving(buildStates(), RUNNING, { version: '0.10.8' });
    const r = await bootstrapIn(APPLY, sys);
    assert.equal(r.error, undefined);
    assert.ok(sys.calls.some((c) => c.args.join(' ').endsWith('cib-after.xml constraint colocation add Master lvs-clone with lvsd-clone INFINITY')));
    const wrong = await bootstrapIn({ ...APPLY, pcsVersion: '0.11' }, new FakeSystem(undefined, RUNNING, { version: '0.10.8' }));
    assert.ok(wrong.error instanceof UsageError);
    assert.match(wrong.error.message, /--pcs-version 0\.11 \(dialect 0\.11\) does not match the installed pcs 0\.10\.8 \(dialect 0\.10\)/);
  });
});

describe('pcs/bootstrap --apply on the previous layout: one CIB transaction', () => {
  const PREVIOUS = fixture('cib-previous-layout-pcs-0.11.5.xml');
  // As pcs 0.11.5 converted it, with the no-quorum-policy the transaction now also sets.
  const MIGRATED = withProperty(fixture('cib-migrated-pcs-0.11.5.xml'), 'no-quorum-policy', 'demote');
  const DIR = '/tmp/lvskit-bootstrap-test';
  const AFTER = `${DIR}/cib-after.xml`;
  const F = ['-f', AFTER];
  /** pcs -f changing the copy: the real commands end where pcs 0.11.5 ended (the migrated fixture). */
  const converting = (result = MIGRATED) => (c: PcsCall, sys: FakeSystem) => {
    if (c.args[0] === '-f' && c.args[3] === 'order') sys.files.set(AFTER, result);
  };

  it('changes a copy with pcs -f, checks it, and pushes it as one diff; the live CIB is never changed step by step', async () => {
    const sys = new FakeSystem(Cib.parse(PREVIOUS), RUNNING, { cibText: PREVIOUS, onPcs: converting() });
    const r = await bootstrapIn(APPLY, sys);
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(
      sys.calls.map((c) => c.args.join(' ')),
      [
        `cluster cib ${DIR}/cib-before.xml`,
        [...F, 'constraint remove colocation-lvsd-lvs-clone-INFINITY order-lvs-clone-lvsd-mandatory'].join(' '),
        [...F, 'resource clone lvsd meta interleave=true'].join(' '),
        [...F, 'property set no-quorum-policy=demote'].join(' '),
        [...F, 'resource update lvsd op start interval=0s timeout=60s op stop interval=0s timeout=60s op monitor interval=10s timeout=30s'].join(' '),
        [...F, 'resource update lvs op start interval=0s timeout=60s op stop interval=0s timeout=60s op promote interval=0s timeout=60s op demote interval=0s timeout=60s op monitor interval=10s role=Promoted timeout=30s op monitor interval=11s role=Unpromoted timeout=30s'].join(' '),
        [...F, 'constraint colocation add Promoted lvs-clone with lvsd-clone INFINITY'].join(' '),
        [...F, 'constraint order start lvsd-clone then promote lvs-clone kind=Optional'].join(' '),
        `cluster cib-push ${AFTER} diff-against=${DIR}/cib-before.xml`,
      ],
    );
    assert.equal(sys.cibReads, 1, 'the live CIB is read once, to see the layout');
    assert.match(r.out, /^the CIB has the previous layout \(lvsd beside the promoted lvs only\): converting it in one CIB transaction/m);
    assert.match(r.out, /^already done: resource default resource-stickiness=100$/m);
    assert.match(r.out, /^the CIB as it was before: \/tmp\/lvskit-bootstrap-test\/cib-before\.xml$/m);
    assert.match(r.out, /^note: lvsd on the promoted director is still the process the previous layout started;/m);
    assert.match(r.out, /^bootstrap complete: 9 steps run, 8 already done$/m);
  });

  it('pushes nothing when the changed copy is not the layout wanted', async () => {
    const half = MIGRATED.replace(/<rsc_order [^>]*\/>/, '');
    const sys = new FakeSystem(Cib.parse(PREVIOUS), RUNNING, { cibText: PREVIOUS, onPcs: converting(half) });
    const r = await bootstrapIn(APPLY, sys);
    assert.match(r.error?.message ?? '', /^the converted copy of the CIB is not the layout wanted \(order: not done\); nothing was pushed, the cluster is unchanged \(the copies are in \/tmp\/lvskit-bootstrap-test\)$/);
    assert.ok(!sys.calls.some((c) => c.args[1] === 'cib-push'), 'no cib-push');
  });

  it('stops before the transaction when a step conflicts (lvs with another VIP)', async () => {
    const other = PREVIOUS.replace('value="198.51.100.100"', 'value="198.51.100.99"');
    const sys = new FakeSystem(Cib.parse(other), RUNNING, { cibText: other, onPcs: converting() });
    const r = await bootstrapIn(APPLY, sys);
    assert.match(r.error?.message ?? '', /resource 'lvs' exists with vip=198\.51\.100\.99/);
    assert.deepEqual(sys.calls.map((c) => c.args.slice(0, 2).join(' ')), ['cluster cib'], 'only the CIB was saved');
  });

  it('converts systemd:lvsd the same way with --checker systemd', async () => {
    const systemd = PREVIOUS.replace('<primitive id="lvsd" class="ocf" type="lvsd" provider="heartbeat">', '<primitive id="lvsd" class="systemd" type="lvsd">').replace(/<instance_attributes id="lvsd-instance_attributes">[\s\S]*?<\/instance_attributes>/, '');
    const migrated = MIGRATED.replace('<primitive id="lvsd" class="ocf" type="lvsd" provider="heartbeat">', '<primitive id="lvsd" class="systemd" type="lvsd">');
    const sys = new FakeSystem(Cib.parse(systemd), RUNNING, { cibText: systemd, onPcs: converting(migrated) });
    const r = await bootstrapIn({ ...APPLY, checker: 'systemd' }, sys);
    assert.equal(r.error, undefined, r.error?.message);
    assert.ok(sys.calls.some((c) => c.args.join(' ') === [...F, 'resource clone lvsd meta interleave=true'].join(' ')));
    assert.equal(sys.calls.at(-1)?.args[1], 'cib-push');
  });

  it('stops before any change at the seeds\' ldirectord stack, naming the guide', async () => {
    const seeds = fixture('cib-seeds-stateful-ldirectord-pcs-0.11.5.xml');
    const sys = new FakeSystem(Cib.parse(seeds), RUNNING, { cibText: seeds });
    const r = await bootstrapIn(APPLY, sys);
    assert.match(r.error?.message ?? '', /resource 'ldirectord' runs ldirectord .*docs\/operator-guide\.md §3\.2, stage 2.*Nothing was changed/);
    assert.deepEqual(sys.calls, []);
  });

  it('a second run after the push finds the current layout and changes nothing', async () => {
    const sys = new FakeSystem(Cib.parse(MIGRATED), RUNNING);
    const r = await bootstrapIn(APPLY, sys);
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(sys.calls, []);
  });
});
