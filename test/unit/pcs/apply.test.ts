// The decisions of --apply (what runs, what is skipped, where the password goes), on a System whose
// answers the test chooses. The real pcs and pacemaker run in test/lab/bootstrap.test.ts.
import assert from 'node:assert/strict';
import { LvskitError, UsageError } from '../../../src/errors';
import { Cib } from '../../../src/pcs/cib';
import type { RawOptions } from '../../../src/pcs/options';
import { bootstrapIn, cibFixture, FakeSystem, fixture } from './helpers';

const APPLY: RawOptions = { nodes: 'd1,d2', vip: '198.51.100.100', vipPrefix: '24', syncInterface: 'eth0', stonith: false, apply: true };
const RUNNING = { corosync: { name: 'lvs', nodes: ['d1', 'd2'] }, members: ['d1', 'd2'] };
const SECRET = "pa$$ 'word\"-p";

describe('pcs/bootstrap --apply: what runs and what is skipped', () => {
  it('on a running cluster with an empty CIB: no cluster step, no password, every resource step in order', async () => {
    const sys = new FakeSystem(cibFixture('cib-fresh-pacemaker-2.1.5.xml'), RUNNING);
    const r = await bootstrapIn(APPLY, sys);
    assert.equal(r.error, undefined, r.error?.message);
    assert.equal(sys.passwordAsked, 0);
    assert.deepEqual(
      sys.calls.map((c) => c.args.join(' ')),
      [
        'property set stonith-enabled=false',
        'resource defaults update resource-stickiness=100',
        'resource create lvs ocf:heartbeat:lvs nic=eth0 vip=198.51.100.100 vip_prefix=24 sync_interface=eth0 op monitor interval=10s role=Promoted op monitor interval=11s role=Unpromoted promotable',
        'resource create lvsd ocf:heartbeat:lvsd configfile=/etc/ha.d/ldirectord.cf --disabled',
        'constraint colocation add lvsd with Promoted lvs-clone INFINITY',
        'constraint order promote lvs-clone then start lvsd',
        'resource enable lvsd',
      ],
    );
    assert.ok(sys.calls.every((c) => c.input === undefined), 'only auth gets standard input');
    assert.equal(sys.cibReads, 1 + 6, 'one read for conflicts and the first step, then one after each change');
    assert.match(r.out, /^already done: cluster lvs runs on d1, d2 \(auth, setup, start, enable skipped\)$/m);
    assert.match(r.out, /^bootstrap complete: 7 steps run, 4 already done$/m);
  });

  it('on the CIB pcs built: runs nothing and says what it found', async () => {
    const sys = new FakeSystem(cibFixture('cib-bootstrapped-pcs-0.11.5.xml'), RUNNING);
    const r = await bootstrapIn(APPLY, sys);
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(sys.calls, []);
    assert.equal(sys.cibReads, 1, 'nothing changed: the CIB is read once');
    assert.match(r.out, /^already done: promotable clone lvs-clone of lvs \(ocf:heartbeat:lvs, nic=eth0 vip=198\.51\.100\.100 vip_prefix=24 sync_interface=eth0\)$/m);
    assert.match(r.out, /^already done: colocation colocation-lvsd-lvs-clone-INFINITY: lvsd with the promoted lvs-clone, score INFINITY$/m);
    assert.match(r.out, /^bootstrap complete: 0 steps run, 11 already done$/m);
  });

  it('on a new cluster: the password goes to pcs host auth on stdin only, and never into the output', async () => {
    // pcs prints its prompt on stdout; this one even echoes the password back, to test the scrubbing.
    const sys = new FakeSystem(cibFixture('cib-fresh-pacemaker-2.1.5.xml'), { corosync: undefined, members: undefined }, {
      password: SECRET,
      onPcs: (c) => (c.args[0] === 'host' ? { stdout: `Password: d1: Authorized ${SECRET}\nd2: Authorized\n`, stderr: `echo ${SECRET}\n` } : undefined),
    });
    const r = await bootstrapIn(APPLY, sys);
    assert.equal(r.error, undefined, r.error?.message);
    assert.equal(sys.passwordAsked, 1);
    const [auth, setup, start, enable] = sys.calls;
    assert.deepEqual(auth, { args: ['host', 'auth', 'd1', 'd2', '-u', 'hacluster'], input: `${SECRET}\n` });
    assert.deepEqual([setup?.args, start?.args, enable?.args], [['cluster', 'setup', 'lvs', 'd1', 'd2'], ['cluster', 'start', '--all'], ['cluster', 'enable', '--all']]);
    for (const c of sys.calls) assert.ok(!c.args.some((a) => a.includes('pa$$')), `no password in argv: ${c.args.join(' ')}`);
    assert.equal(sys.calls.length, 4 + 7);
    assert.ok(!r.out.includes('pa$$') && !r.err.includes('pa$$'), `the password is not in the output:\n${r.out}\n${r.err}`);
    assert.match(r.out, /^ {2}d1: Authorized \*+$/m, 'the prompt is dropped, the rest of pcs output shown');
    assert.match(r.out, /^running: pcs host auth d1 d2 -u hacluster$/m);
  });

  it('with corosync.conf in place but nothing running: auth, start and enable, not setup', async () => {
    const sys = new FakeSystem(cibFixture('cib-bootstrapped-pcs-0.11.5.xml'), { corosync: { name: 'lvs', nodes: ['d2', 'd1'] }, members: undefined }, { password: 'x' });
    const r = await bootstrapIn(APPLY, sys);
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(sys.calls.map((c) => c.args.slice(0, 2).join(' ')), ['host auth', 'cluster start', 'cluster enable']);
    assert.match(r.out, /^already done: cluster lvs is configured on this node \(\/etc\/corosync\/corosync\.conf\): setup skipped$/m);
  });

  it('stops before running anything when a step conflicts with what the CIB holds', async () => {
    const xml = fixture('cib-bootstrapped-pcs-0.11.5.xml').replace('value="198.51.100.100"', 'value="198.51.100.99"').replace(/<rsc_order [^>]*\/>/, '');
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
    const sys = new FakeSystem(cibFixture('cib-fresh-pacemaker-2.1.5.xml'), RUNNING, {
      onPcs: (c) => (c.args[1] === 'create' ? { code: 1, stderr: "Error: Agent 'ocf:heartbeat:lvs' is not installed\n" } : undefined),
    });
    const r = await bootstrapIn(APPLY, sys);
    assert.match(r.error?.message ?? '', /^step 'lvs' \(create lvs as the promotable clone lvs-clone: .*\) failed: pcs resource create lvs .* promotable: exit 1$/);
    assert.match(r.err, /^ {2}Error: Agent 'ocf:heartbeat:lvs' is not installed$/m);
    assert.equal(sys.calls.length, 3, 'nothing after the failed step');
  });

  it('uses the installed pcs dialect, and refuses a --pcs-version of another dialect', async () => {
    const sys = new FakeSystem(cibFixture('cib-fresh-pacemaker-2.1.5.xml'), RUNNING, { version: '0.10.8' });
    const r = await bootstrapIn(APPLY, sys);
    assert.equal(r.error, undefined);
    assert.ok(sys.calls.some((c) => c.args.join(' ') === 'constraint colocation add lvsd with Master lvs-clone INFINITY'));
    const wrong = await bootstrapIn({ ...APPLY, pcsVersion: '0.11' }, new FakeSystem(undefined, RUNNING, { version: '0.10.8' }));
    assert.ok(wrong.error instanceof UsageError);
    assert.match(wrong.error.message, /--pcs-version 0\.11 \(dialect 0\.11\) does not match the installed pcs 0\.10\.8 \(dialect 0\.10\)/);
  });
});
