// The safe cluster options (--qdevice, --fence, --fence-option) and no-quorum-policy: their golden
// dry runs, their option errors, the CIB and corosync.conf verdicts, and the checks --apply makes
// before it changes anything (probes the test answers; the real qnetd and fence agents run in the lab).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LvskitError, UsageError } from '../../../src/errors';
import { Cib } from '../../../src/pcs/cib';
import { type CorosyncConf, parseCorosyncConf } from '../../../src/pcs/cluster';
import type { Dialect } from '../../../src/pcs/dialect';
import { parseOptions, type RawOptions } from '../../../src/pcs/options';
import { buildPlan, type Verdict } from '../../../src/pcs/plan';
import { agentParameters } from '../../../src/pcs/safety';
import { GOLDEN_OPTIONS, GOLDEN_SAFE_OPTIONS, GOLDEN_VERSIONS } from './golden-options';
import { bootstrapIn, FakeProbes, FakeSystem, fenceMetadata, fixture, GOLDEN, NO_SYSTEM, withProperty } from './helpers';

// The lab's options, which the CIB fixtures were built with.
const OK: RawOptions = { nodes: 'd1,d2', vip: '198.51.100.100', vipPrefix: '24', syncInterface: 'eth0' };
const SAFE: RawOptions = { ...OK, fence: 'fence_xvm', fenceOption: ['pcmk_host_map=d1:vm-d1;d2:vm-d2', 'key_file=/etc/cluster/fence_xvm.key'], qdevice: 'q1', apply: true };
const BUILT = fixture('cib-bootstrapped-pcs-0.11.5.xml');
const QDEVICE_CONF = 'totem {\n  cluster_name: lvs\n  token: 1000\n}\nnodelist {\n  node {\n    name: d1\n  }\n  node {\n    name: d2\n  }\n}\nquorum {\n  provider: corosync_votequorum\n  device {\n    model: net\n    votes: 1\n    net {\n      algorithm: ffsplit\n      host: q1\n    }\n  }\n}\n';
const RUNNING: { corosync: CorosyncConf | undefined; members: string[] | undefined } = { corosync: { name: 'lvs', nodes: ['d1', 'd2'], token: 1000 }, members: ['d1', 'd2'] };
const RUNNING_WITH_QDEVICE = { corosync: parseCorosyncConf(QDEVICE_CONF), members: ['d1', 'd2'] };
/** The CIB pcs 0.11.5 built, plus the policy and the fence device as pcs writes them. */
const SAFE_CIB = withProperty(BUILT, 'no-quorum-policy', 'demote').replace(
  '<resources>',
  '<resources>\n      <primitive id="lvs-fence" class="stonith" type="fence_xvm">\n        <instance_attributes id="lvs-fence-instance_attributes">\n          <nvpair id="lvs-fence-instance_attributes-key_file" name="key_file" value="/etc/cluster/fence_xvm.key"/>\n          <nvpair id="lvs-fence-instance_attributes-pcmk_host_map" name="pcmk_host_map" value="d1:vm-d1;d2:vm-d2"/>\n        </instance_attributes>\n      </primitive>',
);

function usage(raw: RawOptions, message: RegExp): void {
  assert.throws(() => parseOptions({ ...OK, ...raw }), (e) => e instanceof UsageError && e.exitCode === 2 && message.test(e.message), `expected ${message}`);
}

function step(raw: RawOptions, id: string, dialect: Dialect = '0.11', version: string = dialect) {
  const s = buildPlan(parseOptions(raw), dialect, version).find((x) => x.id === id);
  assert.ok(s, `a step '${id}'`);
  return s;
}

const judge = (raw: RawOptions, id: string, cib: string, dialect: Dialect = '0.11'): Verdict => step(raw, id, dialect).check!(Cib.parse(cib));
const judgeConf = (conf: CorosyncConf | undefined, id = 'qdevice'): Verdict => step(SAFE, id).checkConf!(conf);

describe('pcs/safety: the safe two-node cluster options', () => {
  describe('dry run', () => {
    for (const [dialect, version] of Object.entries(GOLDEN_VERSIONS)) {
      it(`prints exactly golden/safe-${dialect}.txt for pcs ${version} (fence device, quorum device, fencing on)`, async () => {
        const r = await bootstrapIn({ ...GOLDEN_SAFE_OPTIONS, pcsVersion: version }, NO_SYSTEM);
        assert.equal(r.error, undefined, r.error?.message);
        assert.equal(r.err, '', 'no --no-stonith warning');
        assert.equal(r.out, readFileSync(join(GOLDEN, `safe-${dialect}.txt`), 'utf8'));
      });
    }

    it('chooses no-quorum-policy by dialect: stop for pacemaker 1.x (pcs 0.9), demote from pacemaker 2.0.5', () => {
      assert.deepEqual(step(OK, 'no-quorum-policy', '0.9').argv, ['pcs', 'property', 'set', 'no-quorum-policy=stop']);
      for (const d of ['0.10', '0.11', '0.12'] as const) assert.deepEqual(step(OK, 'no-quorum-policy', d).argv, ['pcs', 'property', 'set', 'no-quorum-policy=demote']);
    });

    it('names the options that would make the cluster safe in the --no-stonith warning', async () => {
      const r = await bootstrapIn({ ...GOLDEN_OPTIONS, pcsVersion: '0.11.5' }, NO_SYSTEM);
      assert.match(r.err, /^lvskit: WARNING: To make it safe, instead: --fence AGENT \[--fence-option NAME=VALUE \.\.\.\] \(a fence device; passwords$/m);
      assert.match(r.err, /^lvskit: WARNING: only as NAME_script=FILE\) and, for two nodes, --qdevice HOST \(corosync-qnetd on a third host: only one$/m);
    });

    it('refuses --qdevice for a pcs that cannot set up its certificates (before 0.9.153)', () => {
      assert.throws(() => step({ ...OK, qdevice: 'q1' }, 'qdevice', '0.9', '0.9.152'), (e) => e instanceof UsageError && /--qdevice needs pcs 0\.9\.153 or later .*this is pcs 0\.9\.152/.test(e.message));
      assert.deepEqual(step({ ...OK, qdevice: 'q1' }, 'qdevice-auth', '0.9', '0.9.153').argv, ['pcs', 'cluster', 'auth', 'q1', '-u', 'hacluster']);
    });
  });

  describe('options', () => {
    it('parses the fence device and the quorum host', () => {
      const o = parseOptions({ ...OK, fence: 'fence_ipmilan', fenceOption: ['ip=198.51.100.5', 'password_script=/etc/lvskit/ipmi-pass', 'pcmk_host_list=d1'], qdevice: '198.51.100.9' });
      assert.deepEqual(o.fence, { agent: 'fence_ipmilan', options: [['ip', '198.51.100.5'], ['password_script', '/etc/lvskit/ipmi-pass'], ['pcmk_host_list', 'd1']] });
      assert.equal(o.qdevice, '198.51.100.9');
    });

    it('refuses other secrets fence agents take (fence_aws secret_key, SNMP community, IPMI hexadecimal_kg), without repeating them', () => {
      for (const opt of ['secret_key=abc123', 'community=private', 'hexadecimal_kg=0a0b', 'token=t0k']) {
        const name = opt.split('=')[0]!;
        usage({ fence: 'fence_aws', fenceOption: [opt] }, new RegExp(`^--fence-option ${name}=… would put a secret on pcs's command line`));
        assert.throws(() => parseOptions({ ...OK, fence: 'fence_aws', fenceOption: [opt] }), (e) => e instanceof Error && !e.message.includes(opt.split('=')[1]!));
      }
      // A key file's path is no secret.
      assert.deepEqual(parseOptions({ ...OK, fence: 'fence_xvm', fenceOption: ['key_file=/etc/cluster/fence_xvm.key'] }).fence?.options, [['key_file', '/etc/cluster/fence_xvm.key']]);
    });

    it('refuses a password on the command line, naming the _script option to use instead', () => {
      usage({ fence: 'fence_ipmilan', fenceOption: ['password=s3cret'] }, /^--fence-option password=… would put a password on pcs's command line and in the CIB; give password_script=\/path\/to\/script instead/);
      usage({ fence: 'fence_ipmilan', fenceOption: ['passwd=s3cret'] }, /give passwd_script=/);
      usage({ fence: 'fence_apc_snmp', fenceOption: ['snmp_priv_passwd=x'] }, /give snmp_priv_passwd_script=/);
      assert.throws(() => parseOptions({ ...OK, fence: 'fence_ipmilan', fenceOption: ['password=s3cret'] }), (e) => e instanceof Error && !e.message.includes('s3cret'), 'the secret is not repeated');
    });

    it('names the option and the value that is wrong', () => {
      usage({ qdevice: 'd2' }, /^--qdevice d2 is one of --nodes: corosync-qnetd runs on a third host/);
      usage({ qdevice: 'q1', nodes: 'd1,d2,d3' }, /^--qdevice is for an even number of nodes \(algorithm ffsplit\); 3 nodes/);
      usage({ qdevice: '-q1' }, /^--qdevice: '-q1' is not a host name or an address/);
      usage({ fenceOption: ['ip=198.51.100.5'] }, /^--fence-option needs --fence AGENT/);
      usage({ fence: 'fence_xvm', stonith: false }, /^--fence and --no-stonith contradict each other/);
      usage({ fence: 'ipmi; reboot' }, /^--fence must name a fence agent such as fence_ipmilan or fence_xvm \(pcs stonith list\), got 'ipmi; reboot'/);
      usage({ fence: 'fence_xvm', fenceOption: ['port'] }, /^--fence-option must be NAME=VALUE .*got 'port'/);
      usage({ fence: 'fence_xvm', fenceOption: ['=x'] }, /^--fence-option must be NAME=VALUE/);
      usage({ fence: 'fence_xvm', fenceOption: ['port=a\nb'] }, /^--fence-option must be NAME=VALUE/);
      usage({ fence: 'fence_xvm', fenceOption: ['port=a', 'Port=b'] }, /^--fence-option Port is given twice/);
    });
  });

  describe('verdicts', () => {
    it('no-quorum-policy: demote on pacemaker 2.1 unless set, fence/suicide kept, stop on pacemaker 1.1 and 2.0.4', () => {
      const argv = (v: Verdict) => (v.kind === 'todo' ? v.argv?.join(' ') : v.kind);
      assert.equal(argv(judge(OK, 'no-quorum-policy', BUILT)), 'pcs property set no-quorum-policy=demote');
      assert.equal(judge(OK, 'no-quorum-policy', withProperty(BUILT, 'no-quorum-policy', 'demote')).kind, 'done');
      assert.equal(argv(judge(OK, 'no-quorum-policy', withProperty(BUILT, 'no-quorum-policy', 'stop'))), 'pcs property set no-quorum-policy=demote');
      assert.equal(argv(judge(OK, 'no-quorum-policy', withProperty(BUILT, 'no-quorum-policy', 'ignore'))), 'pcs property set no-quorum-policy=demote');
      assert.equal(judge(OK, 'no-quorum-policy', withProperty(BUILT, 'no-quorum-policy', 'suicide')).kind, 'done');
      assert.equal(judge(OK, 'no-quorum-policy', withProperty(BUILT, 'no-quorum-policy', 'Fence')).kind, 'done', 'pacemaker reads it in any case');
      // pcs 0.9's CIB says pacemaker 1.1.23; a pcs 0.10 on pacemaker 2.0.4 has no demote either.
      assert.equal(argv(judge(OK, 'no-quorum-policy', fixture('cib-bootstrapped-pcs-0.9.xml'), '0.9')), 'pcs property set no-quorum-policy=stop');
      const old = BUILT.replace('value="2.1.5-a3f44794f94"', 'value="2.0.4-2deceaa3ae"');
      assert.notEqual(old, BUILT);
      assert.equal(argv(judge(OK, 'no-quorum-policy', old, '0.10')), 'pcs property set no-quorum-policy=stop');
      assert.equal(judge(OK, 'no-quorum-policy', withProperty(old, 'no-quorum-policy', 'stop'), '0.10').kind, 'done');
      // No DC yet on pcs 0.10: either policy is taken as done, so a second run never flips it.
      const noDc = BUILT.replace(/<nvpair id="cib-bootstrap-options-dc-version"[^>]*\/>/, '');
      assert.equal(judge(OK, 'no-quorum-policy', withProperty(noDc, 'no-quorum-policy', 'stop'), '0.10').kind, 'done');
      assert.equal(argv(judge(OK, 'no-quorum-policy', noDc, '0.10')), 'pcs property set no-quorum-policy=demote');
    });

    it('fence device: created when absent, done with the same agent and options, a conflict otherwise', () => {
      assert.equal(judge(SAFE, 'fence', BUILT).kind, 'todo');
      const done = judge(SAFE, 'fence', SAFE_CIB);
      assert.deepEqual(done, { kind: 'done', what: 'fence device lvs-fence (stonith:fence_xvm, pcmk_host_map=d1:vm-d1;d2:vm-d2 key_file=/etc/cluster/fence_xvm.key)' });
      const other = judge(SAFE, 'fence', SAFE_CIB.replace('type="fence_xvm"', 'type="fence_ipmilan"'));
      assert.equal(other.kind, 'conflict');
      assert.match((other as { why: string }).why, /resource 'lvs-fence' exists as stonith:fence_ipmilan, not stonith:fence_xvm; remove it \(pcs stonith delete lvs-fence\) or give --fence fence_ipmilan$/);
      const notFence = judge(SAFE, 'fence', SAFE_CIB.replace('class="stonith" type="fence_xvm"', 'class="ocf" provider="heartbeat" type="Dummy"'));
      assert.match((notFence as { why: string }).why, /resource 'lvs-fence' exists as ocf:heartbeat:Dummy, not stonith:fence_xvm; remove it \(pcs resource delete lvs-fence\)$/);
      const changed = judge(SAFE, 'fence', SAFE_CIB.replace('value="/etc/cluster/fence_xvm.key"', 'value="/etc/other.key"'));
      assert.match((changed as { why: string }).why, /^fence device 'lvs-fence' exists with key_file=\/etc\/other\.key \(wanted \/etc\/cluster\/fence_xvm\.key\); change it with pcs stonith update lvs-fence/);
    });

    it('quorum device: read from corosync.conf as pcs writes it; another device is a conflict', () => {
      assert.deepEqual(parseCorosyncConf(QDEVICE_CONF).quorumDevice, { model: 'net', algorithm: 'ffsplit', host: 'q1' });
      assert.equal(parseCorosyncConf(fixture('corosync-pcs-0.11.conf')).quorumDevice, undefined);
      assert.equal(judgeConf(undefined).kind, 'todo');
      assert.equal(judgeConf(RUNNING.corosync).kind, 'todo');
      assert.equal(judgeConf(RUNNING_WITH_QDEVICE.corosync).kind, 'done');
      assert.equal(judgeConf(RUNNING_WITH_QDEVICE.corosync, 'qdevice-auth').kind, 'done', 'no auth once the device is there');
      const lms = parseCorosyncConf(QDEVICE_CONF.replace('ffsplit', 'lms').replace('host: q1', 'host: q2'));
      const v = judgeConf(lms);
      assert.equal(v.kind, 'conflict');
      assert.match((v as { why: string }).why, /already has a quorum device \(model net, host q2, algorithm lms\), not net host=q1 algorithm=ffsplit; remove it first \(pcs quorum device remove\)/);
    });

    it('reads the parameter names of a fence agent\'s meta-data', () => {
      assert.deepEqual(agentParameters(fenceMetadata('fence_xvm', ['port', 'key_file'])), ['port', 'key_file']);
    });
  });

  describe('--apply', () => {
    it('on a running cluster: authenticates to the qnetd host, adds the device, sets the policy, creates the fence device', async () => {
      const probes = new FakeProbes();
      const sys = new FakeSystem(Cib.parse(BUILT), RUNNING, { password: 'pw', probes });
      const r = await bootstrapIn(SAFE, sys);
      assert.equal(r.error, undefined, r.error?.message);
      assert.deepEqual(sys.calls.map((c) => c.args.join(' ')), [
        'host auth q1 -u hacluster',
        'quorum device add model net host=q1 algorithm=ffsplit',
        'property set no-quorum-policy=demote',
        'stonith create lvs-fence fence_xvm pcmk_host_map=d1:vm-d1;d2:vm-d2 key_file=/etc/cluster/fence_xvm.key',
      ]);
      assert.equal(sys.calls[0]!.input, 'pw\n', 'the password on standard input');
      assert.equal(sys.passwordAsked, 1);
      assert.deepEqual(probes.asked, ['metadata fence_xvm', 'which corosync-qdevice', 'connect q1:5403', 'connect q1:2224']);
      assert.doesNotMatch(r.out, /fencing is on; resources start only once/);
    });

    it('a second run changes nothing and does not probe the qnetd host again', async () => {
      const probes = new FakeProbes();
      const sys = new FakeSystem(Cib.parse(SAFE_CIB), RUNNING_WITH_QDEVICE, { probes });
      const r = await bootstrapIn(SAFE, sys);
      assert.equal(r.error, undefined, r.error?.message);
      assert.deepEqual(sys.calls, []);
      assert.equal(sys.passwordAsked, 0);
      assert.deepEqual(probes.asked, ['metadata fence_xvm']);
      assert.match(r.out, /^already done: quorum device: corosync-qnetd on q1, algorithm ffsplit/m);
      assert.match(r.out, /^already done: fence device lvs-fence/m);
      assert.match(r.out, /^bootstrap complete: 0 steps run, 17 already done$/m);
    });

    it('on a new cluster: one password for the nodes and the qnetd host, the device added after the cluster starts', async () => {
      const sys = new FakeSystem(Cib.parse(SAFE_CIB), { corosync: undefined, members: undefined }, { password: 'pw' });
      const r = await bootstrapIn(SAFE, sys);
      assert.equal(r.error, undefined, r.error?.message);
      assert.deepEqual(sys.calls.map((c) => c.args.slice(0, 3).join(' ')), ['host auth d1', 'cluster setup lvs', 'cluster start --all', 'cluster enable --all', 'host auth q1', 'quorum device add']);
      assert.equal(sys.passwordAsked, 1);
    });

    const refused = async (raw: RawOptions, probes: FakeProbes, message: RegExp, facts = RUNNING) => {
      const sys = new FakeSystem(Cib.parse(BUILT), facts, { password: 'pw', probes });
      const r = await bootstrapIn(raw, sys);
      assert.ok(r.error instanceof LvskitError && r.error.exitCode === 1, `an error: ${r.error?.message}`);
      assert.match(r.error.message, message);
      assert.match(r.error.message, /\nnothing was changed$/);
      assert.deepEqual(sys.calls, [], 'no pcs command ran');
      assert.equal(sys.passwordAsked, 0);
    };

    it('stops before any change when the fence agent does not exist, or an option is not one of its parameters', async () => {
      await refused({ ...SAFE, fence: 'fence_nosuch' }, new FakeProbes(), /^--fence fence_nosuch: no such fence agent on this node \(stonith_admin --metadata --agent fence_nosuch: Agent fence_nosuch not found/);
      await refused({ ...SAFE, fenceOption: ['plug=vm-d1', 'ip=x'] }, new FakeProbes(), /^--fence-option plug, ip: not a parameter of fence_xvm \(pcs stonith describe fence_xvm lists them; pacemaker's own start with pcmk_\)/);
    });

    it('stops before any change when the qnetd host does not answer, or corosync-qdevice is missing here; both problems at once', async () => {
      await refused(SAFE, new FakeProbes({ unreachable: { q1: 'ECONNREFUSED' } }), /^--qdevice q1: corosync-qnetd does not answer on TCP port 5403 \(ECONNREFUSED\); set it up on q1 first \(pcs qdevice setup model net --enable --start\)/);
      await refused(SAFE, new FakeProbes({ missingPrograms: ['corosync-qdevice'] }), /^--qdevice: corosync-qdevice is not installed on this node; install it on every director \(Debian: apt install corosync-qdevice\)/);
      await refused({ ...SAFE, fence: 'fence_nosuch' }, new FakeProbes({ unreachable: { q1: 'no answer within 3 s' } }), /^--fence fence_nosuch: .*\n--qdevice q1: corosync-qnetd does not answer on TCP port 5403 \(no answer within 3 s\)/);
    });

    it('stops before any change when corosync.conf has another quorum device', async () => {
      const other = { ...RUNNING_WITH_QDEVICE, corosync: parseCorosyncConf(QDEVICE_CONF.replace('host: q1', 'host: q2')) };
      await refused(SAFE, new FakeProbes(), /^corosync\.conf already has a quorum device \(model net, host q2, algorithm ffsplit\)/, other);
    });
  });
});
