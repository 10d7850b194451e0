// `lvskit bootstrap --apply` on a real two-director corosync + pacemaker cluster in the lab: what it
// creates is read back from the CIB (cibadmin, XPath by xmllint) and crm_mon, the VIP from the
// promoted director's eth0, and a second run must leave the CIB's epoch alone.
// The cluster is started with the daemons directly (no pcsd or systemd in the lab), so the cluster
// phase finds it running and is skipped; the golden dry-run tests cover its commands.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultSpec, describe as describeResult, type ExecResult, Topology } from '../../lab';
import { startCluster } from '../../lab/cluster';
import { BOOT_TIMEOUT_MS, labKernel } from '../support/lab';

const VIP = '198.51.100.100';
const NODES = ['d1', 'd2'];

interface Instance {
  id: string;
  role: string;
  node: string | undefined;
}

describe('lvskit bootstrap --apply on a two-director pacemaker cluster', function () {
  let topo: Topology | undefined;
  const t = () => {
    if (!topo) throw new Error('no topology (before() failed)');
    return topo;
  };

  before(async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    topo = await Topology.create(await labKernel(), defaultSpec(2, 0));
    await startCluster(topo, NODES, { name: 'lvs' });
  });
  after(async function () {
    this.timeout(60_000);
    await topo?.destroy();
  });

  function bootstrap(): Promise<ExecResult> {
    return t().exec('d1', [t().spec.binary, 'bootstrap', '--apply', '--nodes', NODES.join(','), '--vip', VIP, '--nic', 'eth0', '--vip-prefix', '24', '--no-stonith'], {
      timeoutMs: 240_000,
    });
  }

  /** Whether the XPath matches something in this CIB (xmllint here, not the code under test). */
  function inCib(cib: string, xpath: string): boolean {
    const r = spawnSync('xmllint', ['--xpath', `boolean(${xpath})`, '-'], { input: cib, encoding: 'utf8' });
    assert.equal(r.status, 0, `xmllint --xpath ${xpath}: ${r.stderr}`);
    return r.stdout.trim() === 'true';
  }

  async function cibVersion(): Promise<{ epoch: string; admin_epoch: string }> {
    const root = /<cib\b[^>]*>/.exec(await t().run('d1', ['cibadmin', '--query']))?.[0] ?? '';
    const attr = (n: string) => new RegExp(`\\b${n}="(\\d+)"`).exec(root)?.[1] ?? '';
    return { epoch: attr('epoch'), admin_epoch: attr('admin_epoch') };
  }

  /** The instances crm_mon shows for a resource id (clone instances share the primitive's id). */
  async function instances(id: string): Promise<Instance[]> {
    const xml = await t().run('d1', ['crm_mon', '-1', '--output-as=xml']);
    const out: Instance[] = [];
    for (const m of xml.matchAll(/<resource id="([^"]+)"[^>]*\brole="([^"]+)"[^>]*?(?:\/>|>([\s\S]*?)<\/resource>)/g)) {
      if (m[1] !== id) continue;
      out.push({ id: m[1], role: m[2]!, node: /<node name="([^"]+)"/.exec(m[3] ?? '')?.[1] });
    }
    return out;
  }

  async function vipPrefixes(node: string, dev: string): Promise<number[]> {
    const addrs = JSON.parse(await t().run(node, ['ip', '-j', 'addr', 'show', 'dev', dev])) as { addr_info?: { local: string; prefixlen: number }[] }[];
    return addrs.flatMap((a) => a.addr_info ?? []).filter((i) => i.local === VIP).map((i) => i.prefixlen);
  }

  let promoted: string | undefined;

  it('skips the cluster phase on the running cluster and creates every resource and constraint', async function () {
    this.timeout(300_000);
    const r = await bootstrap();
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, /^already done: cluster lvs runs on d1, d2 \(auth, setup, start, enable skipped\)$/m);
    assert.doesNotMatch(r.stdout, /running: pcs (host|cluster) /, 'no cluster command on a running cluster');
    assert.match(r.stderr, /WARNING: --no-stonith turns fencing off/);
    for (const cmd of [
      'pcs property set stonith-enabled=false',
      'pcs resource defaults update resource-stickiness=100',
      'pcs resource create lvs ocf:heartbeat:lvs nic=eth0 vip=198.51.100.100 vip_prefix=24 op monitor interval=10s role=Promoted op monitor interval=11s role=Unpromoted promotable',
      'pcs resource create lvsd ocf:heartbeat:lvsd configfile=/etc/ha.d/ldirectord.cf --disabled',
      'pcs constraint colocation add lvsd with Promoted lvs-clone INFINITY',
      'pcs constraint order promote lvs-clone then start lvsd',
      'pcs resource enable lvsd',
    ]) {
      assert.ok(r.stdout.includes(`running: ${cmd}\n`), `expected 'running: ${cmd}' in:\n${r.stdout}`);
    }

    const expected: [string, string][] = [
      ['the promotable clone lvs-clone', "//resources/clone[@id='lvs-clone']/meta_attributes/nvpair[@name='promotable' and @value='true']"],
      ['lvs is ocf:heartbeat:lvs in lvs-clone', "//clone[@id='lvs-clone']/primitive[@id='lvs' and @class='ocf' and @provider='heartbeat' and @type='lvs']"],
      ['lvs vip', `//primitive[@id='lvs']/instance_attributes/nvpair[@name='vip' and @value='${VIP}']`],
      ['lvs nic', "//primitive[@id='lvs']/instance_attributes/nvpair[@name='nic' and @value='eth0']"],
      ['lvs vip_prefix', "//primitive[@id='lvs']/instance_attributes/nvpair[@name='vip_prefix' and @value='24']"],
      ['the promoted monitor', "//primitive[@id='lvs']/operations/op[@name='monitor' and @interval='10s' and @role='Promoted']"],
      ['the unpromoted monitor', "//primitive[@id='lvs']/operations/op[@name='monitor' and @interval='11s' and @role='Unpromoted']"],
      ['the checker lvsd', "//resources/primitive[@id='lvsd' and @class='ocf' and @provider='heartbeat' and @type='lvsd']"],
      ['lvsd configfile', "//primitive[@id='lvsd']/instance_attributes/nvpair[@name='configfile' and @value='/etc/ha.d/ldirectord.cf']"],
      ['the colocation', "//constraints/rsc_colocation[@rsc='lvsd' and @with-rsc='lvs-clone' and @with-rsc-role='Promoted' and @score='INFINITY']"],
      ['the order', "//constraints/rsc_order[@first='lvs-clone' and @first-action='promote' and @then='lvsd' and @then-action='start']"],
      ['the stickiness', "//rsc_defaults/meta_attributes/nvpair[@name='resource-stickiness' and @value='100']"],
      ['stonith off', "//crm_config/cluster_property_set/nvpair[@name='stonith-enabled' and @value='false']"],
    ];
    const cib = await t().run('d1', ['cibadmin', '--query']);
    const missing = expected.filter(([, xpath]) => !inCib(cib, xpath)).map(([what, xpath]) => `${what}: ${xpath}`);
    assert.deepEqual(missing, [], 'every element bootstrap creates is in the CIB');
    assert.equal(inCib(cib, "//primitive[@id='lvsd']/meta_attributes/nvpair[@name='target-role' and @value='Stopped']"), false, 'lvsd is enabled at the end');
  });

  it('promotes exactly one director, which holds the VIP on eth0; the other holds it on lo', async function () {
    this.timeout(120_000);
    let last: Instance[] = [];
    const until = Date.now() + 90_000;
    while (Date.now() < until) {
      last = await instances('lvs');
      const roles = last.map((i) => i.role).sort();
      if (roles.join(',') === 'Promoted,Unpromoted' && last.every((i) => i.node !== undefined)) break;
      await sleep(1000);
    }
    const p = last.filter((i) => i.role === 'Promoted');
    const u = last.filter((i) => i.role === 'Unpromoted');
    assert.equal(p.length, 1, `exactly one promoted lvs instance, crm_mon shows ${JSON.stringify(last)}`);
    assert.equal(u.length, 1, `one unpromoted lvs instance, crm_mon shows ${JSON.stringify(last)}`);
    promoted = p[0]!.node!;
    const other = u[0]!.node!;
    assert.deepEqual(await vipPrefixes(promoted, 'eth0'), [24], `the VIP/24 is on ${promoted}'s eth0`);
    assert.deepEqual(await vipPrefixes(promoted, 'lo'), [], `the VIP is not on ${promoted}'s lo`);
    assert.deepEqual(await vipPrefixes(other, 'eth0'), [], `the VIP is not on ${other}'s eth0`);
    assert.deepEqual(await vipPrefixes(other, 'lo'), [32], `the VIP/32 is on ${other}'s lo`);
  });

  it('a second run does nothing: every step already done, the CIB epoch unchanged', async function () {
    this.timeout(240_000);
    const before = await cibVersion();
    const r = await bootstrap();
    const after = await cibVersion();
    assert.equal(r.code, 0, describeResult(r));
    assert.doesNotMatch(r.stdout, /^running:/m, 'no pcs command runs the second time');
    assert.equal(r.stdout.match(/^already done: /gm)?.length, 8, `the cluster and 7 resource steps are already done:\n${r.stdout}`);
    assert.match(r.stdout, /^bootstrap complete: 0 steps run, 11 already done$/m);
    assert.deepEqual(after, before, 'epoch and admin_epoch of the CIB');
    assert.notEqual(before.epoch, '', 'the CIB has an epoch');
  });

  it('runs the checker lvsd on the promoted director (needs the lvsd agent)', async function () {
    this.timeout(120_000);
    assert.ok(promoted, 'a promoted director (previous test)');
    let last: Instance[] = [];
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      last = await instances('lvsd');
      if (last.some((i) => i.role === 'Started' && i.node === promoted)) return;
      await sleep(1000);
    }
    const failures = (await t().exec('d1', ['crm_mon', '-1', '--output-as=xml'])).stdout.match(/<failure [^>]*lvsd[^>]*>/g) ?? [];
    assert.fail(`lvsd is not started on ${promoted}: crm_mon shows ${JSON.stringify(last)}; failures: ${failures.join('\n')}`);
  });
});
