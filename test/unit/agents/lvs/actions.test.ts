// The lvs agent's role logic against an in-memory node (addresses, sysctls, links, IPVS, score).
// The real node is exercised in test/lab/lvs-agent.test.ts and the failover tests; this pins the
// decisions: order of promote, when the score changes, what is never touched.
import assert from 'node:assert/strict';
import { lvsActions, SCORE } from '../../../../src/agents/lvs/actions';
import { PARAMETERS } from '../../../../src/agents/lvs/params';
import type { LvsState } from '../../../../src/agents/lvs/state';
import type { IpvsCalls, LvsSystem } from '../../../../src/agents/lvs/system';
import { addressService, serviceKey, type ServiceId } from '../../../../src/ipvs/service';
import type { InterfaceAddress } from '../../../../src/net/ip';
import type { OcfContext } from '../../../../src/ocf/agent';
import { OCF, OcfError } from '../../../../src/ocf/codes';


class FakeNode implements LvsSystem {
  calls: string[] = [];
  addrs: InterfaceAddress[] = [{ ifname: 'eth0', address: '198.51.100.11', prefix: 24 }];
  sysctls: Record<string, string> = {
    'net/ipv4/conf/all/arp_ignore': '0', 'net/ipv4/conf/all/arp_announce': '0',
    'net/ipv4/conf/lo/arp_ignore': '0', 'net/ipv4/conf/lo/arp_announce': '0',
    'net/ipv4/conf/eth0/arp_ignore': '0', 'net/ipv4/conf/eth0/arp_announce': '0',
  };
  carrier = true;
  services = new Map<string, ServiceId>();
  score: number | undefined;
  watcher = false;
  files = new Map<string, LvsState>();
  /** lvsd deletes the service between the agent's listing and its delete. */
  lvsdRaces = false;

  which = (name: string) => `/usr/sbin/${name}`;
  addresses = () => this.addrs.map((a) => ({ ...a }));
  addAddress = (dev: string, vip: string, prefix: number) => {
    this.calls.push(`add ${vip}/${prefix} ${dev}`);
    if (this.addrs.some((a) => a.ifname === dev && a.address === vip && a.prefix === prefix)) throw new Error('RTNETLINK answers: File exists');
    this.addrs.push({ ifname: dev, address: vip, prefix });
  };
  deleteAddress = (dev: string, vip: string, prefix: number) => {
    this.calls.push(`del ${vip}/${prefix} ${dev}`);
    this.addrs = this.addrs.filter((a) => !(a.ifname === dev && a.address === vip && a.prefix === prefix));
  };
  changeAddresses = (vip: string, _family: number, changes: { op: 'add' | 'del'; dev: string; prefix: number }[]) => {
    this.calls.push(`batch ${changes.map((c) => `${c.op} ${vip}/${c.prefix} ${c.dev}`).join(', ')}`);
    const failed: { change: (typeof changes)[number]; error: string }[] = [];
    for (const c of changes) {
      const has = this.addrs.some((a) => a.ifname === c.dev && a.address === vip && a.prefix === c.prefix);
      if (c.op === 'add' && has) failed.push({ change: c, error: 'Error: ipv4: Address already assigned.' });
      else if (c.op === 'del' && !has) failed.push({ change: c, error: 'Error: ipv4: Address not found.' });
      else if (c.op === 'add') this.addrs.push({ ifname: c.dev, address: vip, prefix: c.prefix });
      else this.addrs = this.addrs.filter((a) => !(a.ifname === c.dev && a.address === vip && a.prefix === c.prefix));
    }
    return failed;
  };
  link = (dev: string) => ({ exists: dev === 'eth0', up: dev === 'eth0' && this.carrier, operstate: this.carrier ? 'up' : 'down, no carrier' });
  readSysctl = (key: string) => this.sysctls[key] ?? '0';
  writeSysctl = (key: string, value: string) => {
    this.calls.push(`sysctl ${key}=${value}`);
    this.sysctls[key] = value;
  };
  ipvs = (): IpvsCalls => ({
    list: () => [...this.services.values()],
    add: (id) => {
      this.calls.push(`ipvs add ${serviceKey(id)}`);
      this.services.set(serviceKey(id), id);
    },
    remove: (id) => {
      this.calls.push(`ipvs del ${serviceKey(id)}`);
      const had = this.services.delete(serviceKey(id));
      if (!had || this.lvsdRaces) {
        this.services.delete(serviceKey(id));
        throw new Error('ipvsadm -D: No such service');
      }
    },
    clear: () => this.services.clear(),
    syncDaemons: () => [],
    startSync: () => undefined,
    stopSync: () => undefined,
  });
  attributes = new Map<string, string>();
  setAttribute = (name: string, value: string | undefined) => {
    this.calls.push(`attr ${name}=${value ?? 'delete'}`);
    if (value === undefined) this.attributes.delete(name);
    else this.attributes.set(name, value);
    return undefined;
  };
  mac = () => '02:00:00:00:00:11';
  setScore = (score: number | undefined) => {
    this.calls.push(`score ${score ?? 'delete'}`);
    this.score = score;
    return undefined;
  };
  announce = async () => {
    this.calls.push('arp');
    return undefined;
  };
  stopAnnouncing = () => undefined;
  startVipWatch = () => {
    this.calls.push('vipwatch start');
    this.watcher = true;
  };
  stopVipWatch = () => {
    if (this.watcher) this.calls.push('vipwatch stop');
    this.watcher = false;
  };
  vipWatchRunning = () => this.watcher;
  /** What the last answer probe heard (arping output), until a monitor takes it. */
  heard: string | undefined;
  startAnswerProbe = (spec: { source?: string }) => {
    this.calls.push('answer probe');
    assert.equal(spec.source, '198.51.100.11', 'asked from its own address');
    return undefined;
  };
  takeAnswerProbe = () => {
    const h = this.heard;
    this.heard = undefined;
    return h;
  };
  loadState = (path: string) => structuredClone(this.files.get(path));
  saveState = (path: string, s: LvsState) => void this.files.set(path, structuredClone(s));
  removeState = (path: string) => void this.files.delete(path);
  clock = Date.parse('2026-12-03T10:00:00Z');
  now = () => this.clock;
}

const VIP = '198.51.100.100';
const silent = { sink: 'stderr' as const, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function ctx(action: string, over: Record<string, string> = {}, env: Record<string, string> = {}): OcfContext {
  const params: Record<string, string> = {};
  for (const p of PARAMETERS) if (p.default !== undefined) params[p.name] = p.default;
  Object.assign(params, { vip: VIP, nic: 'eth0' }, over);
  return {
    action,
    params,
    instance: 'lvs',
    env: { HA_RSCTMP: '/fake', OCF_RESKEY_crm_feature_set: '3.16.2', ...env },
    isProbe: action === 'monitor' && env.OCF_RESKEY_CRM_meta_interval === undefined,
    checkLevel: 0,
    log: silent,
  };
}

async function run(node: FakeNode, action: string, over: Record<string, string> = {}, env: Record<string, string> = {}): Promise<number> {
  const a = lvsActions(node) as Record<string, (c: OcfContext) => number | Promise<number>>;
  try {
    return await a[action]!(ctx(action, over, env));
  } catch (err) {
    if (err instanceof OcfError) return err.code;
    throw err;
  }
}

const where = (n: FakeNode) => n.addrs.filter((a) => a.address === VIP).map((a) => `${a.ifname}/${a.prefix}`).sort();

describe('agents/lvs: role logic on an in-memory node', () => {
  it('start: ARP hidden before the VIP goes on lo, the VIP service removed, the score set', async () => {
    const n = new FakeNode();
    const web = addressService('tcp', VIP, 80);
    const other = addressService('tcp', '198.51.100.101', 80);
    n.services.set(serviceKey(web), web);
    n.services.set(serviceKey(other), other);
    assert.equal(await run(n, 'start'), OCF.SUCCESS);
    assert.deepEqual(where(n), ['lo/32']);
    const firstLo = n.calls.indexOf(`add ${VIP}/32 lo`);
    assert.ok(n.calls.slice(0, firstLo).includes('sysctl net/ipv4/conf/all/arp_ignore=1'), n.calls.join('; '));
    assert.deepEqual([...n.services.keys()], [serviceKey(other)], 'only this VIP\'s services go (ipvs_cleanup=vip)');
    assert.equal(n.score, SCORE);
    assert.equal(n.attributes.get('lvs-mac-eth0'), '02:00:00:00:00:11', 'the MAC published for the VIP watchers of the other directors');
  });

  it('demote and stop clear the duplicate report the VIP watcher left', async () => {
    const n = new FakeNode();
    await run(n, 'start');
    await run(n, 'promote');
    const path = [...n.files.keys()][0]!;
    n.files.set(path, { ...n.files.get(path)!, duplicate: { macs: ['02:00:00:00:00:99'], since: new Date().toISOString() } });
    n.attributes.set('lvs-duplicate-lvs', '02:00:00:00:00:99');
    assert.equal(await run(n, 'demote'), OCF.SUCCESS);
    assert.equal(n.attributes.has('lvs-duplicate-lvs'), false);
    assert.equal(n.files.get(path)!.duplicate, undefined);
  });

  it('demote does not fail when lvsd, following the VIP, deleted the service first', async () => {
    const n = new FakeNode();
    await run(n, 'start');
    await run(n, 'promote');
    const web = addressService('tcp', VIP, 80);
    n.services.set(serviceKey(web), web);
    n.lvsdRaces = true;
    assert.equal(await run(n, 'demote'), OCF.SUCCESS);
    assert.equal(n.services.size, 0);
  });

  it('promote: the VIP on the NIC and the first ARP before anything else, no score change, the link watcher last', async () => {
    const n = new FakeNode();
    await run(n, 'start');
    n.calls = [];
    assert.equal(await run(n, 'promote'), OCF.SUCCESS);
    // One ip process moves it: lvsd never finds the VIP on lo beside the services it adds for the NIC.
    assert.deepEqual(n.calls.slice(0, 2), [`batch add ${VIP}/32 eth0, del ${VIP}/32 lo`, 'arp']);
    assert.ok(!n.calls.some((c) => c.startsWith('score')), `promote changed the score: ${n.calls.join('; ')}`);
    assert.equal(n.calls.at(-1), 'vipwatch start');
    assert.deepEqual(where(n), ['eth0/32']);
    assert.equal(await run(n, 'monitor', {}, { OCF_RESKEY_CRM_meta_interval: '10000' }), OCF.RUNNING_PROMOTED);
  });

  it('sync_interface: while promoted, a placeholder service for each family (the sync daemon carries both); the other family\'s is best effort', async () => {
    const anchors = (n: FakeNode) => [...n.services.values()].flatMap((id) => (id.protocol !== 'fwmark' && id.port === 1 ? [`${id.family} ${id.address}`] : [])).sort();
    const n = new FakeNode();
    await run(n, 'start', { sync_interface: 'eth0' });
    assert.deepEqual(anchors(n), [], 'none while unpromoted');
    n.calls = [];
    assert.equal(await run(n, 'promote', { sync_interface: 'eth0' }), OCF.SUCCESS);
    assert.deepEqual(anchors(n), ['4 0.0.0.0', '6 ::']);
    // A synced connection's next segment may reach the VIP at once: IPVS must be on before it lands.
    const vipAt = n.calls.findIndex((c) => c.startsWith('batch add'));
    assert.ok(vipAt > 0 && n.calls.slice(0, vipAt).filter((c) => c.startsWith('ipvs add')).length === 2, `anchors after the VIP: ${n.calls.join('; ')}`);
    assert.equal(await run(n, 'demote', { sync_interface: 'eth0' }), OCF.SUCCESS);
    assert.deepEqual(anchors(n), [], 'both gone at demote');
    // A kernel without IPv6 IPVS: the IPv4 VIP is promoted anyway, with a warning.
    const bare = new FakeNode();
    const calls = bare.ipvs();
    bare.ipvs = () => ({ ...calls, add: (id, sch) => (id.family === 6 ? assert.fail('no IPv6 IPVS') : calls.add(id, sch)) });
    await run(bare, 'start', { sync_interface: 'eth0' });
    assert.equal(await run(bare, 'promote', { sync_interface: 'eth0' }), OCF.SUCCESS);
    assert.deepEqual(anchors(bare), ['4 0.0.0.0']);
    assert.equal(await run(new FakeNode(), 'promote'), OCF.SUCCESS);
  });

  it('demote: back to lo with no score change and the watcher stopped', async () => {
    const n = new FakeNode();
    await run(n, 'start');
    await run(n, 'promote');
    n.calls = [];
    assert.equal(await run(n, 'demote'), OCF.SUCCESS);
    assert.ok(!n.calls.some((c) => c.startsWith('score')), n.calls.join('; '));
    assert.ok(n.calls.includes('vipwatch stop'));
    assert.deepEqual(where(n), ['lo/32']);
  });

  it('demote: off the NIC and the VIP\'s services gone before the VIP goes on lo (never local on lo beside a service)', async () => {
    const n = new FakeNode();
    await run(n, 'start');
    await run(n, 'promote');
    const web = addressService('tcp', VIP, 80);
    n.services.set(serviceKey(web), web);
    n.calls = [];
    assert.equal(await run(n, 'demote'), OCF.SUCCESS);
    const i = (c: string) => n.calls.indexOf(c);
    assert.ok(i(`del ${VIP}/32 eth0`) >= 0 && i(`del ${VIP}/32 eth0`) < i(`ipvs del ${serviceKey(web)}`), n.calls.join('; '));
    assert.ok(i(`ipvs del ${serviceKey(web)}`) < i(`add ${VIP}/32 lo`), n.calls.join('; '));
  });

  it('keeps ARP hidden at promote and stop while another VIP is on lo (another instance\'s, or realserver\'s)', async () => {
    const n = new FakeNode();
    n.addrs.push({ ifname: 'lo', address: '198.51.100.101', prefix: 32 });
    await run(n, 'start');
    assert.equal(await run(n, 'promote'), OCF.SUCCESS);
    assert.equal(n.sysctls['net/ipv4/conf/all/arp_ignore'], '1', 'promote un-hid ARP for 198.51.100.101');
    assert.equal(await run(n, 'stop'), OCF.SUCCESS);
    assert.equal(n.sysctls['net/ipv4/conf/all/arp_ignore'], '1', 'stop un-hid ARP for 198.51.100.101');
  });

  it('a repeated promote (VIP already on the NIC, none on lo) succeeds and changes nothing', async () => {
    const n = new FakeNode();
    await run(n, 'start');
    await run(n, 'promote');
    assert.equal(await run(n, 'promote'), OCF.SUCCESS);
    assert.deepEqual(where(n), ['eth0/32']);
  });

  it('an unpromoted recurring monitor starts one answer probe in the background, from its own address; a probe, a promoted monitor, duplicate_check_interval=0 or a NIC without an address of its own none', async () => {
    const n = new FakeNode();
    await run(n, 'start');
    const probes = () => n.calls.filter((c) => c === 'answer probe').length;
    assert.equal(await run(n, 'monitor', {}, { OCF_RESKEY_CRM_meta_interval: '11000' }), OCF.SUCCESS);
    assert.equal(probes(), 1);
    assert.equal(await run(n, 'monitor'), OCF.SUCCESS, 'a probe');
    assert.equal(await run(n, 'monitor', { duplicate_check_interval: '0' }, { OCF_RESKEY_CRM_meta_interval: '11000' }), OCF.SUCCESS);
    assert.equal(probes(), 1);
    n.addrs = n.addrs.filter((x) => x.address !== '198.51.100.11');
    assert.equal(await run(n, 'monitor', {}, { OCF_RESKEY_CRM_meta_interval: '11000' }), OCF.SUCCESS);
    assert.equal(probes(), 1, 'no address to ask from: the VIP itself would be the sender');
    n.addrs.push({ ifname: 'eth0', address: '198.51.100.11', prefix: 24 });
    await run(n, 'promote');
    assert.equal(await run(n, 'monitor', {}, { OCF_RESKEY_CRM_meta_interval: '10000' }), OCF.RUNNING_PROMOTED);
    assert.equal(probes(), 1);
  });

  it('an unpromoted monitor reports two hosts answering for the VIP (state, node attribute) once, and clears it when one answers again', async () => {
    const n = new FakeNode();
    await run(n, 'start');
    const monitor = () => run(n, 'monitor', {}, { OCF_RESKEY_CRM_meta_interval: '11000' });
    const reply = (mac: string) => `Unicast reply from ${VIP} [${mac}]  0.5ms\n`;
    const state = () => n.files.get('/fake/lvs-lvs.json')!;
    n.heard = `ARPING ${VIP} from 198.51.100.11 eth0\n${reply('02:00:00:00:00:12')}Received 1 response(s)\n`;
    await monitor();
    assert.equal(state().duplicate, undefined, 'one host (the promoted director) is no duplicate');
    n.heard = `${reply('02:00:00:00:00:13')}${reply('02:00:00:00:00:12')}Received 2 response(s)\n`;
    assert.equal(await monitor(), OCF.SUCCESS, 'it acts on nothing');
    assert.deepEqual(state().duplicate?.macs, ['02:00:00:00:00:12', '02:00:00:00:00:13']);
    assert.equal(state().duplicate?.unpromoted, true);
    assert.equal(n.attributes.get('lvs-duplicate-lvs'), '02:00:00:00:00:12,02:00:00:00:00:13');
    assert.deepEqual(where(n), ['lo/32'], 'the VIP stays on lo');
    const since = state().duplicate?.since;
    n.clock += 11_000;
    n.heard = `${reply('02:00:00:00:00:12')}${reply('02:00:00:00:00:13')}Received 2 response(s)\n`;
    await monitor();
    assert.equal(state().duplicate?.since, since, 'the same two hosts: reported once');
    for (const failed of ['', `ARPING ${VIP} from 198.51.100.11 eth0\n`]) {
      n.heard = failed;
      await monitor();
      assert.deepEqual(state().duplicate?.macs, ['02:00:00:00:00:12', '02:00:00:00:00:13'], `a probe that failed or was cut short (${JSON.stringify(failed)}) clears nothing`);
    }
    n.heard = `${reply('02:00:00:00:00:12')}Received 1 response(s)\n`;
    await monitor();
    assert.equal(state().duplicate, undefined);
    assert.equal(n.attributes.has('lvs-duplicate-lvs'), false);
  });

  it('a promoted monitor restarts a missing link watcher', async () => {
    const n = new FakeNode();
    await run(n, 'start');
    await run(n, 'promote');
    n.watcher = false;
    assert.equal(await run(n, 'monitor', {}, { OCF_RESKEY_CRM_meta_interval: '10000' }), OCF.RUNNING_PROMOTED);
    assert.equal(n.watcher, true);
  });

  it('after the watcher acted on a link loss, the promoted monitor says 9, and demote makes a clean candidate', async () => {
    const n = new FakeNode();
    await run(n, 'start');
    await run(n, 'promote');
    // What vipwatch does: VIP off the NIC, the loss recorded, the score deleted.
    n.carrier = false;
    n.deleteAddress('eth0', VIP, 32);
    const path = [...n.files.keys()][0]!;
    n.files.set(path, { ...n.files.get(path)!, gaveUp: { at: new Date().toISOString(), why: 'eth0 lost its link' }, score: null, added: { lo: 32 } });
    n.score = undefined;
    n.watcher = false;
    assert.equal(await run(n, 'monitor', {}, { OCF_RESKEY_CRM_meta_interval: '10000' }), OCF.FAILED_PROMOTED);
    assert.equal(await run(n, 'demote'), OCF.SUCCESS);
    assert.equal(n.score, undefined, 'no score while the link is down');
    n.carrier = true;
    assert.equal(await run(n, 'monitor', {}, { OCF_RESKEY_CRM_meta_interval: '11000' }), OCF.SUCCESS);
    assert.equal(n.score, undefined, 'no score at once when the link returns (link_holddown, 15 s)');
    n.clock += 14_000;
    await run(n, 'monitor', {}, { OCF_RESKEY_CRM_meta_interval: '11000' });
    assert.equal(n.score, undefined, 'none 14 s after');
    n.clock += 1_000;
    assert.equal(await run(n, 'monitor', {}, { OCF_RESKEY_CRM_meta_interval: '11000' }), OCF.SUCCESS);
    assert.equal(n.score, SCORE, 'a candidate again once the link has been back 15 s');
    assert.deepEqual(where(n), ['lo/32']);
  });

  it('a link that drops again during the hold-down starts it over; link_holddown=0 gives the score back at once', async () => {
    const n = new FakeNode();
    await run(n, 'start');
    n.carrier = false;
    await run(n, 'monitor', {}, { OCF_RESKEY_CRM_meta_interval: '11000' });
    assert.equal(n.score, undefined);
    n.carrier = true;
    await run(n, 'monitor', {}, { OCF_RESKEY_CRM_meta_interval: '11000' });
    n.clock += 10_000;
    n.carrier = false;
    await run(n, 'monitor', {}, { OCF_RESKEY_CRM_meta_interval: '11000' });
    n.carrier = true;
    n.clock += 1_000;
    await run(n, 'monitor', {}, { OCF_RESKEY_CRM_meta_interval: '11000' });
    n.clock += 10_000;
    await run(n, 'monitor', {}, { OCF_RESKEY_CRM_meta_interval: '11000' });
    assert.equal(n.score, undefined, '10 s after the second return: still held down');
    n.clock += 5_000;
    await run(n, 'monitor', {}, { OCF_RESKEY_CRM_meta_interval: '11000' });
    assert.equal(n.score, SCORE);

    const m = new FakeNode();
    await run(m, 'start', { link_holddown: '0' });
    m.carrier = false;
    await run(m, 'monitor', { link_holddown: '0' }, { OCF_RESKEY_CRM_meta_interval: '11000' });
    assert.equal(m.score, undefined);
    m.carrier = true;
    await run(m, 'monitor', { link_holddown: '0' }, { OCF_RESKEY_CRM_meta_interval: '11000' });
    assert.equal(m.score, SCORE);
  });

  it('refuses a VIP the node already owns, changing nothing (probe: not running; start: 5)', async () => {
    const n = new FakeNode();
    n.addrs.push({ ifname: 'eth0', address: VIP, prefix: 24 });
    assert.equal(await run(n, 'monitor'), OCF.NOT_RUNNING);
    n.calls = [];
    assert.equal(await run(n, 'start'), OCF.ERR_INSTALLED);
    assert.deepEqual(n.calls, []);
    assert.equal(await run(n, 'stop'), OCF.SUCCESS);
    assert.deepEqual(where(n), ['eth0/24'], 'stop leaves an address it did not add');
  });

  it('restores only the sysctls it may touch, whatever the state file says', async () => {
    const n = new FakeNode();
    await run(n, 'start');
    const path = [...n.files.keys()][0]!;
    const forged = n.files.get(path)!;
    forged.saved['../../../tmp/x'] = '1';
    n.files.set(path, forged);
    n.calls = [];
    assert.equal(await run(n, 'stop'), OCF.SUCCESS);
    assert.ok(n.calls.every((c) => !c.includes('tmp/x')), n.calls.join('; '));
    assert.equal(n.sysctls['net/ipv4/conf/all/arp_ignore'], '0');
  });

  it('stop removes the VIP and deletes the score; a promote without link refuses and drops the score', async () => {
    const n = new FakeNode();
    await run(n, 'start');
    assert.equal(await run(n, 'stop'), OCF.SUCCESS);
    assert.deepEqual(where(n), []);
    assert.equal(n.score, undefined);
    await run(n, 'start');
    n.carrier = false;
    assert.equal(await run(n, 'promote'), OCF.ERR_GENERIC);
    assert.deepEqual(where(n), ['lo/32']);
    assert.equal(n.score, undefined);
  });
});
