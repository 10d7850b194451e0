// Several VIPs: the --vip syntax and its refusals, the names of each VIP's resources, the placement
// constraints, and what --apply does on a cluster that gains a VIP. The CIB fixtures with several
// VIPs were written by pcs 0.11.5 offline (pcs -f, `resource create --force`: the agent is not
// installed there) running this plan's commands on cib-bootstrapped-pcs-0.11.5.xml.
import assert from 'node:assert/strict';
import { SCORE } from '../../../src/agents/lvs/actions';
import { runLvskit } from '../../../src/commands/program';
import { UsageError } from '../../../src/errors';
import { Cib, type XmlElement } from '../../../src/pcs/cib';
import type { Dialect } from '../../../src/pcs/dialect';
import { parseOptions, type RawOptions } from '../../../src/pcs/options';
import { buildPlan, resourceSteps, type Verdict } from '../../../src/pcs/plan';
import { PROMOTION_SCORE, SPREAD_SCORE } from '../../../src/pcs/vips';
import { bootstrapIn, evolvingSystem, FakeSystem, fixture, withProperty } from './helpers';

const OK: RawOptions = { nodes: 'd1,d2', vip: '198.51.100.100' };
// With the no-quorum-policy bootstrap sets since these were written (as pcs property set writes it).
const built = (name: string) => withProperty(fixture(name), 'no-quorum-policy', 'demote');
const ONE = built('cib-bootstrapped-pcs-0.11.5.xml');
const TWO = built('cib-two-vips-together-pcs-0.11.5.xml');
const FOUR = built('cib-four-vips-spread-pcs-0.11.5.xml');
/** The options each fixture was built with. */
const TWO_OPTS: RawOptions = { nodes: 'd1,d2', vip: ['198.51.100.100/24', '198.51.100.101/24'], syncInterface: 'eth0', stonith: false };
const FOUR_OPTS: RawOptions = { nodes: 'd1,d2', vip: ['198.51.100.100/24', '198.51.100.101/24', '2001:db8::100/64', '198.51.100.102/24@eth1'], placement: 'spread', stonith: false };

function usage(raw: RawOptions, message: RegExp): void {
  assert.throws(() => parseOptions({ ...OK, ...raw }), (e) => e instanceof UsageError && e.exitCode === 2 && message.test(e.message), `expected ${message}`);
}

function verdicts(xml: string, raw: RawOptions, dialect: Dialect = '0.11'): Record<string, Verdict['kind']> {
  const out: Record<string, Verdict['kind']> = {};
  for (const s of resourceSteps(parseOptions(raw), dialect)) if (s.check) out[s.id] = s.check(Cib.parse(xml)).kind;
  return out;
}

function conflict(xml: string, raw: RawOptions, id: string): string {
  const step = resourceSteps(parseOptions(raw), '0.11').find((s) => s.id === id);
  const v = step?.check?.(Cib.parse(xml));
  assert.equal(v?.kind, 'conflict', `${id}: ${JSON.stringify(v)}`);
  return (v as { why: string }).why;
}

describe('pcs/vips: --vip ADDR[/PREFIX][@NIC], repeated', () => {
  it('gives each VIP its address, prefix, NIC and lvs resource (lvs, lvs2, …), --nic and --vip-prefix as defaults', () => {
    const o = parseOptions({ ...OK, vip: ['198.51.100.100', '2001:db8::100/64', '203.0.113.100/24@eth1', '198.51.100.101@eth2'], nic: 'bond0', vipPrefix: '25' });
    assert.deepEqual(o.vips, [
      { address: '198.51.100.100', family: 4, prefix: 25, nic: 'bond0', resource: 'lvs' },
      { address: '2001:db8::100', family: 6, prefix: 64, nic: 'bond0', resource: 'lvs2' },
      { address: '203.0.113.100', family: 4, prefix: 24, nic: 'eth1', resource: 'lvs3' },
      { address: '198.51.100.101', family: 4, prefix: 25, nic: 'eth2', resource: 'lvs4' },
    ]);
    assert.equal(o.placement, 'together');
    assert.equal(parseOptions({ ...OK, vip: ['198.51.100.100', '198.51.100.101'], placement: 'spread' }).placement, 'spread');
    // The single form of before: one string, prefix from --vip-prefix.
    assert.deepEqual(parseOptions({ ...OK, vipPrefix: '24' }).vips, [{ address: '198.51.100.100', family: 4, prefix: 24, nic: 'eth0', resource: 'lvs' }]);
  });

  it('refuses a bad VIP before anything runs, naming the option and the value', () => {
    usage({ vip: [] }, /^--vip is required/);
    usage({ vip: '198.51.100.100/33' }, /^the prefix in --vip 198\.51\.100\.100\/33 must be an integer from 1 to 32 for an IPv4 VIP, got '33'$/);
    usage({ vip: '2001:db8::1/129' }, /^the prefix in --vip 2001:db8::1\/129 must be an integer from 1 to 128 for an IPv6 VIP, got '129'$/);
    usage({ vip: '198.51.100.100/' }, /prefix in --vip 198\.51\.100\.100\/ must be an integer/);
    usage({ vip: 'fe80::1' }, /^--vip fe80::1: fe80::1 is a link-local address \(fe80::\/10\); a VIP is a unicast address/);
    usage({ vip: '169.254.10.1/16' }, /^--vip 169\.254\.10\.1\/16: 169\.254\.10\.1 is a link-local address/);
    usage({ vip: 'ff02::1' }, /ff02::1 is a multicast address/);
    usage({ vip: '239.1.1.1' }, /239\.1\.1\.1 is a multicast address/);
    usage({ vip: '127.0.0.2' }, /127\.0\.0\.2 is a loopback address/);
    usage({ vip: '::1' }, /::1 is the loopback address/);
    usage({ vip: 'fe80::1%eth0' }, /^--vip is not an IPv4 or IPv6 address: 'fe80::1%eth0'$/);
    usage({ vip: '198.51.100.300/24@eth1' }, /^--vip is not an IPv4 or IPv6 address: '198\.51\.100\.300' \(in --vip 198\.51\.100\.300\/24@eth1\)$/);
    usage({ vip: '198.51.100.100@lo' }, /^the NIC in --vip 198\.51\.100\.100@lo cannot be lo/);
    usage({ vip: '198.51.100.100@-x' }, /^the NIC in --vip 198\.51\.100\.100@-x is not a valid interface name: '-x'$/);
    usage({ vip: ['198.51.100.100', '198.51.100.100/24'] }, /^--vip names 198\.51\.100\.100 twice: each VIP is given once$/);
    usage({ vip: ['2001:db8::100', '2001:DB8:0::100/64'] }, /^--vip names 2001:db8::100 twice \(as 2001:db8::100 and 2001:DB8:0::100\)/);
    usage({ vip: ['198.51.100.100', '2001:db8::100'], vipPrefix: '24' }, /^--vip-prefix 24 would apply to IPv4 and IPv6 VIPs alike: give the VIPs their own prefix/);
    usage({ vip: ['198.51.100.100/24', '2001:db8::100/64'], vipPrefix: '24' }, /^--vip-prefix 24 applies to no VIP: every --vip has its own \/PREFIX$/);
    usage({ vip: ['198.51.100.100/24', '2001:db8::100'], vipPrefix: '129' }, /^--vip-prefix must be an integer from 1 to 128 for an IPv6 VIP, got '129'$/);
    usage({ placement: 'apart' }, /^--placement must be together or spread, got 'apart'$/);
    usage({ vip: ['198.51.100.100', '198.51.100.101'], placement: 'spread', syncInterface: 'eth1' }, /^--sync-interface cannot be combined with --placement spread and several VIPs/);
  });

  it('takes --vip repeated and --placement on the command line', async () => {
    let out = '';
    const write = process.stdout.write;
    process.stdout.write = ((t: string) => {
      out += String(t);
      return true;
    }) as typeof process.stdout.write;
    try {
      const argv = ['bootstrap', '--nodes', 'd1,d2', '--vip', '198.51.100.100', '--vip', '2001:db8::100/64@eth1', '--placement', 'spread', '--pcs-version', '0.11'];
      assert.equal(await runLvskit(argv), 0);
    } finally {
      process.stdout.write = write;
    }
    assert.match(out, /^# VIPs: lvs 198\.51\.100\.100 on eth0, lvs2 2001:db8::100\/64 on eth1; --placement spread\.$/m);
    assert.match(out, /^pcs constraint colocation add Promoted lvs2-clone with Promoted lvs-clone -5$/m);
  });

  it('accepts a mixed-family --vip-prefix when only one family lacks its own prefix, and sync with spread for one VIP', () => {
    assert.equal(parseOptions({ ...OK, vip: ['198.51.100.100', '2001:db8::100/64'], vipPrefix: '24' }).vips[0]?.prefix, 24);
    assert.equal(parseOptions({ ...OK, placement: 'spread', syncInterface: 'eth1' }).syncInterface, 'eth1');
  });
});

describe('pcs/vips: the plan of several VIPs', () => {
  const ids = (raw: RawOptions) => resourceSteps(parseOptions(raw), '0.11').map((s) => s.id);

  it('keeps the single VIP\'s steps and names, and gives each further VIP its own clone, constraints and placement', () => {
    assert.deepEqual(ids(OK).slice(-4), ['lvs', 'lvs-ops', 'colocation', 'order']);
    assert.deepEqual(ids({ ...OK, vip: ['198.51.100.100', '198.51.100.101', '2001:db8::100'] }).slice(-14), [
      'lvs', 'lvs-ops', 'colocation', 'order',
      'lvs2', 'lvs2-ops', 'lvs2-colocation', 'lvs2-order', 'lvs2-placement',
      'lvs3', 'lvs3-ops', 'lvs3-colocation', 'lvs3-order', 'lvs3-placement',
    ]);
  });

  it('writes the placement in every dialect: together with the first at INFINITY, spread each apart from the one before', () => {
    const argv = (placement: string, dialect: Dialect) =>
      resourceSteps(parseOptions({ ...OK, vip: ['198.51.100.100', '198.51.100.101', '198.51.100.102'], placement }), dialect)
        .filter((s) => s.id.endsWith('-placement'))
        .map((s) => s.argv.join(' '));
    assert.deepEqual(argv('together', '0.9'), [
      'pcs constraint colocation add Master lvs2-master with Master lvs-master INFINITY',
      'pcs constraint colocation add Master lvs3-master with Master lvs-master INFINITY',
    ]);
    assert.deepEqual(argv('spread', '0.10'), [
      'pcs constraint colocation add Master lvs2-clone with Master lvs-clone -5',
      'pcs constraint colocation add Master lvs3-clone with Master lvs2-clone -5',
    ]);
    assert.deepEqual(argv('spread', '0.12'), [
      'pcs constraint colocation add Promoted lvs2-clone with Promoted lvs-clone score=-5',
      'pcs constraint colocation add Promoted lvs3-clone with Promoted lvs2-clone score=-5',
    ]);
  });

  it('keeps a spread VIP promotable beside another: the score stays below the agent\'s promotion score', () => {
    assert.equal(PROMOTION_SCORE, SCORE, 'the agent\'s promotion score');
    assert.ok(SCORE + SPREAD_SCORE > 0, `promotion score ${SCORE} + ${SPREAD_SCORE}`);
  });

  it('sets sync_interface on the first VIP\'s lvs only: the sync daemons are one per director', () => {
    const create = resourceSteps(parseOptions(TWO_OPTS), '0.11').filter((s) => s.id === 'lvs' || s.id === 'lvs2');
    assert.ok(create[0]?.argv.includes('sync_interface=eth0'));
    assert.ok(!create[1]?.argv.some((a) => a.startsWith('sync_interface')));
  });
});

describe('pcs/vips: is a VIP\'s step already done? (CIBs pcs 0.11.5 wrote)', () => {
  it('finds every step done where pcs ran the plan, for together and spread; a second run changes nothing', () => {
    for (const [xml, raw] of [[TWO, TWO_OPTS], [FOUR, FOUR_OPTS]] as const) {
      const v = verdicts(xml, raw);
      assert.deepEqual(Object.entries(v).filter(([, k]) => k !== 'done'), [], JSON.stringify(v));
    }
  });

  it('on the one-VIP cluster, finds only the new VIP\'s steps to do', () => {
    const v = verdicts(ONE, { ...TWO_OPTS });
    assert.deepEqual(Object.keys(v).filter((id) => v[id] !== 'done'), ['lvs2', 'lvs2-ops', 'lvs2-colocation', 'lvs2-order', 'lvs2-placement']);
  });

  it('refuses the other placement than the cluster was built with, naming the constraint', () => {
    assert.match(
      conflict(FOUR, { ...FOUR_OPTS, placement: 'together' }, 'lvs2-placement'),
      /^colocation colocation-lvs2-clone-lvs-clone--5 of the promoted lvs2-clone and lvs-clone \(score -5\) keeps them apart, against --placement together; remove it \(pcs constraint remove colocation-lvs2-clone-lvs-clone--5\)/,
    );
    const spread = { ...TWO_OPTS, syncInterface: undefined, placement: 'spread' };
    const xml = TWO.replace(/<nvpair [^>]*name="sync_interface"[^>]*\/>/, '');
    assert.match(conflict(xml, spread, 'lvs2-placement'), /colocation colocation-lvs2-clone-lvs-clone-INFINITY .* puts them on one director, against --placement spread/);
    for (const score of ['-INFINITY', '-1000', '-10']) {
      const never = FOUR.replace('score="-5"', `score="${score}"`);
      assert.match(conflict(never, FOUR_OPTS, 'lvs2-placement'), new RegExp(`\\(score ${score}\\) leaves a lone director unable to hold both \\(it outweighs the promotion score 10\\)`));
    }
  });

  it('takes a negative score the promotion score outweighs as spread, and a positive finite one as no placement for together', () => {
    assert.equal(verdicts(FOUR.replace('score="-5"', 'score="-9"'), FOUR_OPTS)['lvs2-placement'], 'done');
    assert.equal(verdicts(TWO.replace(/(with-rsc="lvs-clone" )score="INFINITY"/, '$1score="500"'), TWO_OPTS)['lvs2-placement'], 'todo');
  });

  it('says to keep the --vip order when a VIP\'s resource holds another address', () => {
    const why = conflict(TWO, { ...TWO_OPTS, vip: ['198.51.100.100/24', '198.51.100.102/24', '198.51.100.101/24'] }, 'lvs2');
    assert.match(why, /resource 'lvs2' exists with vip=198\.51\.100\.101 \(wanted 198\.51\.100\.102\) \(the VIPs are lvs, lvs2, … in the order of the --vip options: keep that order and add new VIPs last\)/);
  });
});

/** Every element below `el` as text, for comparing two CIBs element by element. */
function flatten(el: XmlElement | undefined, into: string[] = []): string[] {
  for (const c of el?.children ?? []) {
    into.push(`${c.name} ${JSON.stringify(c.attrs)}`);
    flatten(c, into);
  }
  return into;
}

describe('pcs/vips: adding a VIP to a running cluster', () => {
  const RUNNING = { corosync: { name: 'lvs', nodes: ['d1', 'd2'], token: 1000 }, members: ['d1', 'd2'] };

  it('--apply runs only the new clone\'s commands, on a copy of the CIB pushed as one change', async () => {
    // The CIB after each command, cut back from the one pcs 0.11.5 wrote: the clone, then its constraints.
    const constraints = [...TWO.matchAll(/<rsc_(?:colocation|order) [^>]*lvs2-clone[^>]*\/>/g)].map((m) => m[0]);
    assert.equal(constraints.length, 3);
    const states = [0, 1, 2, 3].map((n) => constraints.slice(n).reduce((xml, c) => xml.replace(c, ''), TWO));
    const sys = evolvingSystem([ONE, ...states], RUNNING);
    const r = await bootstrapIn({ ...TWO_OPTS, apply: true }, sys);
    assert.equal(r.error, undefined, r.error?.message);
    const f = '-f /tmp/lvskit-bootstrap-test/cib-after.xml';
    assert.deepEqual(
      sys.calls.map((c) => c.args.join(' ').replace(/ op .*promotable$/, ' op … promotable')),
      [
        'cluster cib /tmp/lvskit-bootstrap-test/cib-before.xml',
        `${f} resource create lvs2 ocf:heartbeat:lvs nic=eth0 vip=198.51.100.101 vip_prefix=24 op … promotable`,
        `${f} constraint colocation add Promoted lvs2-clone with lvsd-clone INFINITY`,
        `${f} constraint order start lvsd-clone then promote lvs2-clone kind=Optional`,
        `${f} constraint colocation add Promoted lvs2-clone with Promoted lvs-clone INFINITY`,
        'cluster cib-push /tmp/lvskit-bootstrap-test/cib-after.xml diff-against=/tmp/lvskit-bootstrap-test/cib-before.xml',
      ],
    );
    assert.equal(sys.cib?.configuration && flatten(sys.cib.configuration).join('\n'), flatten(Cib.parse(TWO).configuration).join('\n'), 'the push left the CIB pcs built');
    assert.match(r.out, /^bootstrap complete: 6 steps run, 16 already done$/m);
    assert.deepEqual(sys.removed, ['/tmp/lvskit-bootstrap-test'], 'the copies are removed after the push');
    const again = new FakeSystem(Cib.parse(TWO), RUNNING);
    assert.equal((await bootstrapIn({ ...TWO_OPTS, apply: true }, again)).error, undefined);
    assert.deepEqual(again.calls, [], 'a second run changes nothing');
  });

  it('stops without a push when the saved CIB already has the new clone (created by someone else meanwhile)', async () => {
    const sys = new FakeSystem(Cib.parse(ONE), RUNNING, { cibText: TWO });
    const r = await bootstrapIn({ ...TWO_OPTS, apply: true }, sys);
    assert.match(r.error?.message ?? '', /^the CIB changed while bootstrap read it \(lvs2 appeared\); run bootstrap again$/);
    assert.deepEqual(sys.calls.map((c) => c.args.slice(0, 2).join(' ')), ['cluster cib'], 'only the CIB was saved');
  });

  it('in the CIB: everything that was there stays as it was; what is new is the new clone and constraints naming it', () => {
    const before = flatten(Cib.parse(ONE).configuration);
    const after = flatten(Cib.parse(TWO).configuration);
    assert.deepEqual(before.filter((e) => !after.includes(e)), [], 'nothing changed or removed');
    const added = after.filter((e) => !before.includes(e));
    assert.ok(added.length > 0);
    for (const e of added) assert.match(e, /lvs2/, `only lvs2 is new: ${e}`);
    assert.deepEqual(
      added.filter((e) => e.startsWith('rsc_')).map((e) => e.split(' ')[0]),
      ['rsc_colocation', 'rsc_order', 'rsc_colocation'],
    );
  });
});

describe('pcs/vips: another stack holding one of the VIPs', () => {
  it('stops --apply before any change when another resource holds the second VIP', async () => {
    const xml = ONE.replace(
      '</resources>',
      '<primitive id="ip2" class="ocf" type="IPaddr2" provider="heartbeat"><instance_attributes id="ip2-ia"><nvpair id="ip2-ia-ip" name="ip" value="198.51.100.101"/></instance_attributes></primitive></resources>',
    );
    const sys = new FakeSystem(Cib.parse(xml), { corosync: { name: 'lvs', nodes: ['d1', 'd2'], token: 1000 }, members: ['d1', 'd2'] });
    const r = await bootstrapIn({ ...TWO_OPTS, apply: true }, sys);
    assert.match(r.error?.message ?? '', /resource 'ip2' \(ocf:heartbeat:IPaddr2\) holds the VIP 198\.51\.100\.101 \(ip=198\.51\.100\.101\)/);
    assert.deepEqual(sys.calls, []);
  });

  it('plans the same steps with buildPlan for every dialect', () => {
    for (const d of ['0.9', '0.10', '0.11', '0.12'] as const) {
      const steps = buildPlan(parseOptions(FOUR_OPTS), d);
      assert.equal(new Set(steps.map((s) => s.id)).size, steps.length, `step ids unique on ${d}`);
    }
  });
});
