// ocf:heartbeat:lvs (docs/lvs-agent.md), run in lab directors the way pacemaker runs it, on a real
// IPVS kernel. Every check reads the system itself: addresses, /proc/sys, ipvsadm, the client's ARP
// cache and the ARP frames on the wire; the agent's own exit code is never the only evidence.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Topology } from '../../lab';
import { useTopology } from '../support/lab';
import {
  assertReason,
  refusesEach,
  type BadInput,
  AGENT,
  ARP_SYSCTLS,
  expectRc,
  HIDDEN,
  ipvsSaved,
  lvs,
  OCF,
  ocfEnv,
  reset,
  RSCTMP,
  setLink,
  setSysctls,
  show,
  snapshot,
  announcementDone,
  stateFiles,
  syncDaemons,
  sysctls,
  VIP,
  vipOn,
  waitFor,
  writeFile,
  type Call,
} from '../support/lvs-agent';

// Found before the first start; none is a default or a value the agent sets, so "restored" cannot
// pass by coincidence.
const FOUND: Record<string, string> = {
  'net.ipv4.conf.all.arp_ignore': '2',
  'net.ipv4.conf.all.arp_announce': '1',
  'net.ipv4.conf.lo.arp_ignore': '3',
  'net.ipv4.conf.lo.arp_announce': '1',
};

async function expectUnpromoted(t: Topology, step: string, call: Call = {}): Promise<void> {
  assert.deepEqual(await vipOn(t, 'd1', 'lo'), [32], `${step}: the VIP/32 must be on lo`);
  assert.deepEqual(await vipOn(t, 'd1', 'eth0'), [], `${step}: the VIP must not be on eth0`);
  assert.deepEqual(await sysctls(t, 'd1'), HIDDEN, `${step}: ARP must be hidden on all and lo`);
  await expectRc(t, 'd1', 'monitor', OCF.SUCCESS, call);
}

async function expectPromoted(t: Topology, step: string, prefix: number, found: Record<string, string>, call: Call = {}): Promise<void> {
  assert.deepEqual(await vipOn(t, 'd1', 'eth0'), [prefix], `${step}: the VIP/${prefix} must be on eth0`);
  assert.deepEqual(await vipOn(t, 'd1', 'lo'), [], `${step}: the VIP must not be on lo`);
  assert.deepEqual(await sysctls(t, 'd1'), found, `${step}: the ARP sysctls must be back as found`);
  await expectRc(t, 'd1', 'monitor', OCF.RUNNING_PROMOTED, call);
}

async function expectStopped(t: Topology, step: string, found: Record<string, string>, call: Call = {}): Promise<void> {
  assert.deepEqual(await vipOn(t, 'd1', 'eth0'), [], `${step}: the VIP must not be on eth0`);
  assert.deepEqual(await vipOn(t, 'd1', 'lo'), [], `${step}: the VIP must not be on lo`);
  assert.deepEqual(await sysctls(t, 'd1'), found, `${step}: every ARP sysctl must be back as found before the first start`);
  await expectRc(t, 'd1', 'monitor', OCF.NOT_RUNNING, call);
}

describe('ocf:heartbeat:lvs: roles on the system', function () {
  const topo = useTopology(1);
  beforeEach(async function () {
    this.timeout(30_000);
    await reset(topo(), 'd1');
  });

  it('start, promote, demote and stop, each twice, leave the system in the documented state', async function () {
    this.timeout(420_000); // eight actions and their checks, each a few processes of the one-CPU guest
    const t = topo();
    await setSysctls(t, 'd1', FOUND);
    const call: Call = { params: { vip_prefix: '24' } };
    for (const n of [1, 2]) {
      await expectRc(t, 'd1', 'start', OCF.SUCCESS, call);
      await expectUnpromoted(t, `start #${n}`, call);
    }
    assert.deepEqual(await syncDaemons(t, 'd1'), [], 'no sync daemon without sync_interface');
    for (const n of [1, 2]) {
      await expectRc(t, 'd1', 'promote', OCF.SUCCESS, call);
      await expectPromoted(t, `promote #${n}`, 24, FOUND, call);
    }
    assert.deepEqual(await sysctls(t, 'd1', ['net.ipv4.conf.all.forwarding']), { 'net.ipv4.conf.all.forwarding': '0' }, 'forwarding=false leaves forwarding alone');
    for (const n of [1, 2]) {
      await expectRc(t, 'd1', 'demote', OCF.SUCCESS, call);
      await expectUnpromoted(t, `demote #${n}`, call);
    }
    for (const n of [1, 2]) {
      await expectRc(t, 'd1', 'stop', OCF.SUCCESS, call);
      await expectStopped(t, `stop #${n}`, FOUND, call);
    }
    assert.deepEqual(await stateFiles(t, 'd1'), [], 'stop removes the state file');
  });

  it('a start after a stop saves the values found then, and stop restores those', async function () {
    this.timeout(120_000);
    const t = topo();
    await setSysctls(t, 'd1', FOUND);
    await expectRc(t, 'd1', 'start', OCF.SUCCESS);
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS);
    const later = { ...FOUND, 'net.ipv4.conf.all.arp_announce': '0', 'net.ipv4.conf.lo.arp_ignore': '2' };
    await setSysctls(t, 'd1', later);
    await expectRc(t, 'd1', 'start', OCF.SUCCESS);
    assert.deepEqual(await sysctls(t, 'd1'), HIDDEN);
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS);
    assert.deepEqual(await sysctls(t, 'd1'), later);
  });

  it('runs every program by the path which() found: start, promote, demote and stop work with no PATH at all', async function () {
    this.timeout(180_000);
    const t = topo();
    const bare = (action: string) => {
      const env = ocfEnv(action, { params: { sync_interface: 'eth0' } });
      return t.exec('d1', ['env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), AGENT, action], { timeoutMs: 60_000 });
    };
    for (const action of ['start', 'promote', 'demote', 'stop']) {
      const r = await bare(action);
      assert.equal(r.code, OCF.SUCCESS, `${action} without PATH: ${show(r)}`);
    }
    assert.deepEqual(await vipOn(t, 'd1', 'lo'), []);
    assert.deepEqual(await syncDaemons(t, 'd1'), []);
  });

  it('never follows a symbolic link planted at its state file or its temporary name', async function () {
    this.timeout(120_000);
    const t = topo();
    const victim = join(t.node('d1').dir, 'victim');
    await writeFile(t, victim, 'precious\n');
    const state = `${RSCTMP}/lvs-lvs.json`;
    await t.run('d1', ['mkdir', '-p', RSCTMP]);
    await t.run('d1', ['ln', '-sfn', victim, state]);
    await t.run('d1', ['ln', '-sfn', victim, `${state}.tmp`]);
    await expectRc(t, 'd1', 'start', OCF.SUCCESS);
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS);
    assert.equal(await t.run('d1', ['cat', victim]), 'precious\n');
    await t.run('d1', ['rm', '-f', `${state}.tmp`]);
  });

  it('stop on a never-started node returns 0 and changes nothing', async function () {
    this.timeout(60_000);
    const t = topo();
    await setSysctls(t, 'd1', FOUND);
    const before = await snapshot(t, 'd1');
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS);
    assert.deepEqual(await snapshot(t, 'd1'), before);
    await expectRc(t, 'd1', 'monitor', OCF.NOT_RUNNING);
  });

  it('forwarding=true: promote sets all.forwarding=1, demote and stop put back what was found', async function () {
    this.timeout(120_000);
    const t = topo();
    const fwd = ['net.ipv4.conf.all.forwarding'];
    const call: Call = { params: { forwarding: 'true' } };
    await expectRc(t, 'd1', 'start', OCF.SUCCESS, call);
    assert.deepEqual(Object.values(await sysctls(t, 'd1', fwd)), ['0'], 'after start');
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, call);
    assert.deepEqual(Object.values(await sysctls(t, 'd1', fwd)), ['1'], 'after promote');
    await expectRc(t, 'd1', 'demote', OCF.SUCCESS, call);
    assert.deepEqual(Object.values(await sysctls(t, 'd1', fwd)), ['0'], 'after demote');
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, call);
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS, call);
    assert.deepEqual(Object.values(await sysctls(t, 'd1', fwd)), ['0'], 'after stop');
  });

  it('monitor and probe read the role from the system, not from what the agent did last', async function () {
    this.timeout(180_000);
    const t = topo();
    const probe: Call = { interval: 0 };
    await expectRc(t, 'd1', 'monitor', OCF.NOT_RUNNING, probe);
    await expectRc(t, 'd1', 'start', OCF.SUCCESS);
    await expectRc(t, 'd1', 'monitor', OCF.SUCCESS, probe);
    // ARP no longer hidden: a DR real server that would steal the VIP.
    await setSysctls(t, 'd1', { 'net.ipv4.conf.all.arp_ignore': '0' });
    await expectRc(t, 'd1', 'monitor', OCF.ERR_GENERIC);
    await setSysctls(t, 'd1', { 'net.ipv4.conf.all.arp_ignore': '1' });
    await expectRc(t, 'd1', 'monitor', OCF.SUCCESS);
    // The VIP on lo and on the NIC at once (as a promote cut short would leave it).
    await t.run('d1', ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'eth0']);
    await expectRc(t, 'd1', 'monitor', OCF.ERR_GENERIC);
    // start repairs it: the VIP leaves the NIC.
    await expectRc(t, 'd1', 'start', OCF.SUCCESS);
    await expectUnpromoted(t, 'start over a VIP left on eth0');
    // The VIP with a prefix the agent never adds is someone else's (the node's own address?):
    // reported, refused on this node (5), never removed.
    await t.run('d1', ['ip', 'addr', 'add', `${VIP}/24`, 'dev', 'eth0']);
    await expectRc(t, 'd1', 'monitor', OCF.ERR_GENERIC);
    const refused = await expectRc(t, 'd1', 'start', OCF.ERR_INSTALLED);
    assert.match(refused.stderr, /ocf-exit-reason:.*eth0 as \/24.*this node's own address/);
    assert.deepEqual(await vipOn(t, 'd1', 'eth0'), [24], 'start left the foreign address alone');
    await t.run('d1', ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS);
    await expectRc(t, 'd1', 'monitor', OCF.RUNNING_PROMOTED, probe);
    // Someone removed the VIP by hand: the director holds nothing.
    await t.run('d1', ['ip', 'addr', 'del', `${VIP}/32`, 'dev', 'eth0']);
    await expectRc(t, 'd1', 'monitor', OCF.NOT_RUNNING);
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS);
  });

  it('a promoted director whose LAN link is cut drops the VIP at once (link watcher), monitors 9, and is a candidate after demote', async function () {
    this.timeout(120_000);
    const t = topo();
    await expectRc(t, 'd1', 'start', OCF.SUCCESS);
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS);
    await expectRc(t, 'd1', 'monitor', OCF.RUNNING_PROMOTED);
    await waitFor('the link watcher to run', async () => (await stateFiles(t, 'd1')).some((f) => f.endsWith('.vipwatch.pid')));
    await setLink(t, 'd1', 'down');
    try {
      const state = await t.run('d1', ['cat', '/sys/class/net/eth0/operstate']);
      assert.equal(state.trim(), 'lowerlayerdown', 'the lab cut the link below eth0');
      // No action runs: the watcher reacts to the kernel's event.
      await waitFor('the VIP off eth0 without any monitor', async () => (await vipOn(t, 'd1', 'eth0')).length === 0);
      await expectRc(t, 'd1', 'monitor', OCF.FAILED_PROMOTED);
      await expectRc(t, 'd1', 'monitor', OCF.FAILED_PROMOTED, { interval: 0 });
    } finally {
      await setLink(t, 'd1', 'up');
    }
    // The link is back but the VIP is not: only pacemaker's demote and promote decide again.
    await expectRc(t, 'd1', 'monitor', OCF.FAILED_PROMOTED);
    assert.deepEqual(await vipOn(t, 'd1', 'eth0'), []);
    await expectRc(t, 'd1', 'demote', OCF.SUCCESS);
    await expectRc(t, 'd1', 'monitor', OCF.SUCCESS);
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS);
    await expectRc(t, 'd1', 'monitor', OCF.RUNNING_PROMOTED);
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS);
    assert.ok(!(await stateFiles(t, 'd1')).some((f) => f.endsWith('.vipwatch.pid')), 'stop ends the link watcher');
  });
});

// Listens for ARP on a node's eth0 and prints one JSON line per frame received (not sent).
const CAPTURE = `
import json, socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind((sys.argv[1], 0))
s.settimeout(0.1)
end = time.monotonic() + float(sys.argv[2])
print(json.dumps({"ready": True}), flush=True)
mac = lambda b: ":".join("%02x" % x for x in b)
ip = lambda b: ".".join(str(x) for x in b)
while time.monotonic() < end:
    try:
        frame, addr = s.recvfrom(2048)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING or len(frame) < 42:
        continue
    a = frame[14:42]
    print(json.dumps({"t": time.monotonic(), "op": int.from_bytes(a[6:8], "big"), "sha": mac(a[8:14]),
                      "spa": ip(a[14:18]), "tha": mac(a[18:24]), "tpa": ip(a[24:28])}), flush=True)
print(json.dumps({"done": True}), flush=True)
`;

interface ArpFrame {
  t: number;
  op: number;
  sha: string;
  spa: string;
  tha: string;
  tpa: string;
}

/** Starts an ARP capture on a node; the returned function waits for its end and gives the frames. */
async function captureArp(t: Topology, node: string, seconds: number): Promise<() => Promise<ArpFrame[]>> {
  const log = join(t.node(node).dir, `arp-${Date.now()}.log`);
  const started = await t.exec(node, ['python3', '-c', CAPTURE, 'eth0', String(seconds)], { detach: true, log });
  assert.equal(started.code, 0, show(started));
  const lines = async () =>
    (await t.exec(node, ['cat', log])).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Partial<ArpFrame> & { ready?: boolean; done?: boolean });
  await waitFor('the ARP capture to listen', async () => (await lines()).some((l) => l.ready));
  return async () => {
    await waitFor('the ARP capture to end', async () => (await lines()).some((l) => l.done), (seconds + 10) * 1000, 250);
    return (await lines()).filter((l): l is ArpFrame => l.op !== undefined);
  };
}

/** Gratuitous ARPs from a MAC for the VIP: sender and target address are both the VIP. */
const gratuitous = (frames: ArpFrame[], mac: string) => frames.filter((f) => f.sha === mac && f.spa === VIP && f.tpa === VIP);

describe('ocf:heartbeat:lvs: gratuitous ARP at promote', function () {
  const topo = useTopology(2);
  beforeEach(async function () {
    this.timeout(30_000);
    await reset(topo(), 'd1');
    await reset(topo(), 'd2');
    await topo().run('client', ['ip', 'neigh', 'flush', 'to', VIP]);
  });
  afterEach(async function () {
    this.timeout(30_000);
    await reset(topo(), 'd1');
  });

  const neigh = () => topo().run('client', ['ip', 'neigh', 'show', VIP]);

  it('moves the VIP to the new director in the client’s ARP cache, with arp_count requests', async function () {
    this.timeout(120_000);
    const t = topo();
    const d1 = t.node('d1').mac;
    const d2 = t.node('d2').mac;
    await expectRc(t, 'd1', 'start', OCF.SUCCESS);
    // Unpromoted, d1 holds the VIP on lo but must not answer ARP for it.
    const quiet = await t.exec('client', ['arping', '-c', '2', '-w', '3', '-I', 'eth0', VIP]);
    assert.match(quiet.stdout, /Received 0 response/, `nobody may answer ARP for the VIP yet:\n${show(quiet)}`);

    // The client learns the VIP at d2 (the old director), then d2 lets it go.
    await t.run('d2', ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'eth0']);
    await t.exec('client', ['curl', '-sS', '--max-time', '3', `http://${VIP}:80/`]);
    assert.match(await neigh(), new RegExp(`lladdr ${d2}`), 'precondition: the client resolves the VIP to d2');
    await t.run('d2', ['ip', 'addr', 'del', `${VIP}/32`, 'dev', 'eth0']);

    const frames = await captureArp(t, 'client', 15);
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS);
    // The client sends nothing to the VIP: only d1's gratuitous ARP can change its entry.
    const moved = await waitFor(`the client's ARP entry for the VIP to show d1 (${d1})`, async () => (await neigh()).includes(`lladdr ${d1}`), 5000, 200).then(
      () => '',
      async (err: Error) => `${err.message}; it shows: ${await neigh()}`,
    );
    const garps = gratuitous(await frames(), d1);
    assert.ok(moved === '', `${moved}\ngratuitous ARPs from d1 seen by the client: ${JSON.stringify(garps)}`);
    const requests = garps.filter((f) => f.op === 1);
    assert.equal(requests.length, 5, `arp_count=5 gratuitous ARP requests expected, seen:\n${JSON.stringify(garps, null, 1)}`);
    const span = requests.at(-1)!.t - requests[0]!.t;
    assert.ok(span > 0.4 && span < 2.0, `5 requests at arp_interval=200 ms should span about 0.8 s, spanned ${span.toFixed(2)} s`);

    // And d1 now answers ARP for the VIP itself.
    const answer = await t.exec('client', ['arping', '-c', '1', '-w', '3', '-I', 'eth0', VIP]);
    assert.match(answer.stdout, new RegExp(`reply from ${VIP.replaceAll('.', '\\.')} \\[${d1}\\]`, 'i'), show(answer));
  });

  it('arp_sender=arping arp_mode=reply arp_count=3 sends exactly 3 gratuitous ARP replies', async function () {
    this.timeout(120_000);
    const t = topo();
    const call: Call = { params: { arp_sender: 'arping', arp_mode: 'reply', arp_count: '3', arp_interval: '100' } };
    await expectRc(t, 'd1', 'start', OCF.SUCCESS, call);
    const frames = await captureArp(t, 'client', 15);
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, call);
    const garps = gratuitous(await frames(), t.node('d1').mac);
    assert.deepEqual(
      garps.map((f) => f.op),
      [2, 2, 2],
      `3 ARP replies (op 2) and no request expected, seen:\n${JSON.stringify(garps, null, 1)}`,
    );
  });
});

describe('ocf:heartbeat:lvs: duplicate VIP detection by the promoted and the unpromoted director', function () {
  const topo = useTopology(2);

  it('reports another host answering ARP for its VIP within the interval, in its state and lvskit status, and says when it is gone', async function () {
    this.timeout(180_000);
    const t = topo();
    const call: Call = { params: { duplicate_check_interval: '1' } };
    const rogueMac = t.node('d2').mac.toLowerCase();
    await expectRc(t, 'd1', 'start', OCF.SUCCESS, call);
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, call);
    const status = async () => (await t.exec('d1', [t.spec.binary, 'status'], { env: { HA_RSCTMP: RSCTMP } })).stdout;
    try {
      assert.doesNotMatch(await status(), /DUPLICATE/);
      // A rogue: d2 (no lvs on it) configures the VIP on its NIC and answers ARP for it.
      await t.run('d2', ['ip', 'addr', 'add', `${VIP}/24`, 'dev', 'eth0']);
      const added = Number(await t.run('d2', ['date', '+%s%3N']));
      let since = 0;
      await waitFor('the promoted director to record the duplicate', async () => {
        const st = JSON.parse((await t.exec('d1', ['cat', `${RSCTMP}/lvs-lvs.json`])).stdout || '{}') as { duplicate?: { macs: string[]; since: string } };
        since = st.duplicate?.macs.includes(rogueMac) ? Date.parse(st.duplicate.since) : 0;
        return since > 0;
      }, 15_000, 200);
      // The documented bound: one interval plus the probe's 1 s wait; 2 s more for a busy one-CPU UML.
      console.log(`      duplicate recorded ${since - added} ms after the rogue took the VIP (duplicate_check_interval 1 s)`);
      assert.ok(since - added <= 4000, `recorded ${since - added} ms after the rogue took the VIP`);
      assert.match(await status(), new RegExp(`DUPLICATE VIP: also answered by ${rogueMac} \\(a host that is not a cluster director\\)`));
      assert.deepEqual(await vipOn(t, 'd1', 'eth0'), [32], 'a rogue host is reported, the VIP kept');
      await t.run('d2', ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
      await waitFor('the duplicate report to clear', async () => !(await status()).includes('DUPLICATE'), 15_000, 200);
    } finally {
      await t.exec('d2', ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
      await lvs(t, 'd1', 'stop', call);
    }
  });

  it('an unpromoted director that hears two hosts answer for its VIP says so (state, lvskit status), and when one is left', async function () {
    this.timeout(180_000);
    const t = topo();
    const holders = ['d2', 'client'];
    const macs = holders.map((n) => t.node(n).mac.toLowerCase()).sort();
    const status = async () => (await t.exec('d1', [t.spec.binary, 'status'], { env: { HA_RSCTMP: RSCTMP } })).stdout;
    const recorded = async () => (JSON.parse((await t.exec('d1', ['cat', `${RSCTMP}/lvs-lvs.json`])).stdout || '{}') as { duplicate?: { macs: string[]; unpromoted?: boolean } }).duplicate;
    // A monitor reports what the previous monitor's background probe heard (it is read once 2 s old).
    const heardBy = async () => {
      await expectRc(t, 'd1', 'monitor', OCF.SUCCESS);
      await sleep(4000);
      await expectRc(t, 'd1', 'monitor', OCF.SUCCESS);
    };
    await expectRc(t, 'd1', 'start', OCF.SUCCESS);
    try {
      // One holder is the normal case (the promoted director): nothing to report.
      await t.run('d2', ['ip', 'addr', 'add', `${VIP}/24`, 'dev', 'eth0']);
      await heardBy();
      assert.equal(await recorded(), undefined, 'one host answering is no duplicate');
      await t.run('client', ['ip', 'addr', 'add', `${VIP}/24`, 'dev', 'eth0']);
      await sleep(4000); // the probe the last monitor started heard one host
      await heardBy();
      assert.deepEqual((await recorded())?.macs, macs);
      assert.equal((await recorded())?.unpromoted, true);
      assert.match(await status(), new RegExp(`DUPLICATE VIP: answered by 2 hosts at once \\(${macs.join(', ')}\\)`));
      assert.deepEqual(await vipOn(t, 'd1', 'lo'), [32], 'it acts on nothing: the VIP stays on lo');
      await t.run('client', ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
      await sleep(4000);
      await heardBy();
      assert.equal(await recorded(), undefined, 'one host again: the report cleared');
      assert.doesNotMatch(await status(), /DUPLICATE/);
    } finally {
      for (const n of holders) await t.exec(n, ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
      await lvs(t, 'd1', 'stop');
    }
  });
});

describe('ocf:heartbeat:lvs: IPVS table and sync daemons', function () {
  const topo = useTopology(1);
  const OTHER = '-A -t 198.51.100.200:80 -s rr';
  const VIP_SERVICES = [
    `-A -t ${VIP}:80 -s rr`,
    `-a -t ${VIP}:80 -r 198.51.100.21:80 -g -w 1`,
    `-A -u ${VIP}:53 -s rr`,
  ];

  beforeEach(async function () {
    this.timeout(30_000);
    await reset(topo(), 'd1');
  });

  /** The VIP's services (tcp 80 with one real, udp 53) and another address's one. */
  async function fillTable(t: Topology): Promise<string[]> {
    await t.run('d1', ['ipvsadm', '-C']);
    await t.run('d1', ['ipvsadm', '-R'], { stdin: [...VIP_SERVICES, OTHER].map((l) => `${l}\n`).join('') });
    const saved = await ipvsSaved(t, 'd1');
    assert.deepEqual([...saved].sort(), [...VIP_SERVICES, OTHER].sort(), 'precondition: the table as filled');
    return saved;
  }

  it('ipvs_cleanup=vip (default): start and demote remove the VIP’s services only', async function () {
    this.timeout(120_000);
    const t = topo();
    await fillTable(t);
    await expectRc(t, 'd1', 'start', OCF.SUCCESS);
    assert.deepEqual(await ipvsSaved(t, 'd1'), [OTHER], 'after start');
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS);
    await fillTable(t);
    await expectRc(t, 'd1', 'demote', OCF.SUCCESS);
    assert.deepEqual(await ipvsSaved(t, 'd1'), [OTHER], 'after demote');
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS);
  });

  it('ipvs_cleanup=none: start, promote and demote leave the table alone', async function () {
    this.timeout(120_000);
    const t = topo();
    const call: Call = { params: { ipvs_cleanup: 'none' } };
    const table = await fillTable(t);
    for (const action of ['start', 'promote', 'demote']) {
      await expectRc(t, 'd1', action, OCF.SUCCESS, call);
      assert.deepEqual(await ipvsSaved(t, 'd1'), table, `after ${action}`);
    }
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS, call);
  });

  it('ipvs_cleanup=all: start and demote empty the whole table', async function () {
    this.timeout(120_000);
    const t = topo();
    const call: Call = { params: { ipvs_cleanup: 'all' } };
    await fillTable(t);
    await expectRc(t, 'd1', 'start', OCF.SUCCESS, call);
    assert.deepEqual(await ipvsSaved(t, 'd1'), [], 'after start');
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, call);
    await fillTable(t);
    await expectRc(t, 'd1', 'demote', OCF.SUCCESS, call);
    assert.deepEqual(await ipvsSaved(t, 'd1'), [], 'after demote');
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS, call);
  });

  it('sync daemons follow the role: backup unpromoted, master promoted, none stopped', async function () {
    this.timeout(120_000);
    const t = topo();
    const call: Call = { params: { sync_interface: 'eth0', sync_id: '7' } };
    const roles = async () => {
      const lines = await syncDaemons(t, 'd1');
      for (const l of lines) assert.match(l, /^(master|backup) sync daemon \(mcast=eth0, syncid=7,/, `unexpected daemon: ${l}`);
      return lines.map((l) => l.split(' ')[0]).sort();
    };
    await expectRc(t, 'd1', 'start', OCF.SUCCESS, call);
    assert.deepEqual(await roles(), ['backup'], 'after start');
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS, call);
    assert.deepEqual(await roles(), ['master'], 'after promote');
    // The placeholders that keep IPVS on for synced connections (both families) until lvsd's table arrives.
    assert.deepEqual((await ipvsSaved(t, 'd1')).sort(), ['-A -t 0.0.0.0:1 -s rr', '-A -t [::]:1 -s rr'], 'placeholder services while promoted');
    await expectRc(t, 'd1', 'demote', OCF.SUCCESS, call);
    assert.deepEqual(await roles(), ['backup'], 'after demote');
    assert.deepEqual(await ipvsSaved(t, 'd1'), [], 'no placeholder when unpromoted');
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS, call);
    assert.deepEqual(await roles(), [], 'after stop');
  });
});

const BAD_INPUT: BadInput[] = [
  { what: 'no vip', call: { params: { vip: null } }, rc: OCF.ERR_CONFIGURED, reason: ['vip'] },
  { what: 'vip 300.1.1.1', call: { params: { vip: '300.1.1.1' } }, rc: OCF.ERR_CONFIGURED, reason: ['vip', '300.1.1.1'] },
  { what: 'vip 127.0.0.1 (stop would take 127.0.0.1/8 off lo)', call: { params: { vip: '127.0.0.1' } }, rc: OCF.ERR_CONFIGURED, reason: ['vip', 'loopback'] },
  { what: 'vip 127.0.0.1 (nothing of it to stop)', action: 'stop', call: { params: { vip: '127.0.0.1' } }, rc: OCF.SUCCESS },
  { what: 'vip 224.0.0.18', call: { params: { vip: '224.0.0.18' } }, rc: OCF.ERR_CONFIGURED, reason: ['vip', 'multicast'] },
  { what: 'vip 169.254.10.10', call: { params: { vip: '169.254.10.10' } }, rc: OCF.ERR_CONFIGURED, reason: ['vip', 'link-local'] },
  { what: 'vip with a prefix', call: { params: { vip: '198.51.100.100/24' } }, rc: OCF.ERR_CONFIGURED, reason: ['vip', '198.51.100.100/24'] },
  { what: 'vip_prefix 33', call: { params: { vip_prefix: '33' } }, rc: OCF.ERR_CONFIGURED, reason: ['vip_prefix', '33'] },
  { what: "nic 'eth0;reboot'", call: { params: { nic: 'eth0;reboot' } }, rc: OCF.ERR_CONFIGURED, reason: ['nic', 'eth0;reboot'] },
  { what: "nic '$(id)'", call: { params: { nic: '$(id)' } }, rc: OCF.ERR_CONFIGURED, reason: ['nic', '$(id)'] },
  { what: "nic '-j'", call: { params: { nic: '-j' } }, rc: OCF.ERR_CONFIGURED, reason: ['nic', '-j'] },
  { what: 'a nic this node lacks (eth9)', call: { params: { nic: 'eth9' } }, rc: OCF.ERR_INSTALLED, reason: ['eth9'] },
  { what: 'a nic this node lacks, in a probe', action: 'monitor', call: { params: { nic: 'eth9' }, interval: 0 }, rc: OCF.NOT_RUNNING },
  { what: 'sync_id 256', call: { params: { sync_interface: 'eth0', sync_id: '256' } }, rc: OCF.ERR_CONFIGURED, reason: ['sync_id', '256'] },
  { what: 'sync_id -1', call: { params: { sync_interface: 'eth0', sync_id: '-1' } }, rc: OCF.ERR_CONFIGURED, reason: ['sync_id', '-1'] },
  { what: "sync_interface '$(id)'", call: { params: { sync_interface: '$(id)' } }, rc: OCF.ERR_CONFIGURED, reason: ['sync_interface', '$(id)'] },
  { what: 'ipvs_cleanup some', call: { params: { ipvs_cleanup: 'some' } }, rc: OCF.ERR_CONFIGURED, reason: ['ipvs_cleanup', 'some'] },
  { what: 'arp_mode both', call: { params: { arp_mode: 'both' } }, rc: OCF.ERR_CONFIGURED, reason: ['arp_mode', 'both'] },
  { what: 'arp_sender ncat', call: { params: { arp_sender: 'ncat' } }, rc: OCF.ERR_CONFIGURED, reason: ['arp_sender', 'ncat'] },
  { what: 'arp_count 0', call: { params: { arp_count: '0' } }, rc: OCF.ERR_CONFIGURED, reason: ['arp_count', '0'] },
  { what: 'arp_count 101', call: { params: { arp_count: '101' } }, rc: OCF.ERR_CONFIGURED, reason: ['arp_count', '101'] },
  { what: 'arp_interval 9', call: { params: { arp_interval: '9' } }, rc: OCF.ERR_CONFIGURED, reason: ['arp_interval', '9'] },
  { what: 'forwarding maybe', call: { params: { forwarding: 'maybe' } }, rc: OCF.ERR_CONFIGURED, reason: ['forwarding', 'maybe'] },
  { what: 'an unknown action', action: 'bounce', call: {}, rc: OCF.ERR_UNIMPLEMENTED, reason: ['bounce'] },
  { what: 'vip 300.1.1.1 to validate-all', action: 'validate-all', call: { params: { vip: '300.1.1.1' } }, rc: OCF.ERR_CONFIGURED, reason: ['vip', '300.1.1.1'] },
];


describe('ocf:heartbeat:lvs: bad input changes nothing', function () {
  const topo = useTopology(1);
  before(async function () {
    this.timeout(30_000);
    const t = topo();
    await reset(t, 'd1');
    await setSysctls(t, 'd1', FOUND);
    // Something for a wrongly run cleanup to remove.
    await t.run('d1', ['ipvsadm', '-A', '-t', `${VIP}:80`, '-s', 'rr']);
    await t.run('d1', ['ipvsadm', '-A', '-t', '198.51.100.200:80', '-s', 'rr']);
  });

  refusesEach(BAD_INPUT, topo);

  it('on a promoted director, demote and promote with bad values change nothing', async function () {
    this.timeout(120_000);
    const t = topo();
    await expectRc(t, 'd1', 'start', OCF.SUCCESS);
    await expectRc(t, 'd1', 'promote', OCF.SUCCESS);
    try {
      // The ARP sender's pid file goes when it finishes: snapshot a settled system.
      await announcementDone(t, 'd1');
      const before = await snapshot(t, 'd1');
      const r1 = await expectRc(t, 'd1', 'demote', OCF.ERR_CONFIGURED, { params: { nic: '$(id)' } });
      assertReason(r1.stderr, ['nic', '$(id)'], 'demote');
      const r2 = await expectRc(t, 'd1', 'promote', OCF.ERR_CONFIGURED, { params: { vip_prefix: '33' } });
      assertReason(r2.stderr, ['vip_prefix', '33'], 'promote');
      assert.deepEqual(await snapshot(t, 'd1'), before);
      await expectRc(t, 'd1', 'monitor', OCF.RUNNING_PROMOTED);
    } finally {
      await lvs(t, 'd1', 'stop');
    }
    assert.deepEqual(await sysctls(t, 'd1', ARP_SYSCTLS), FOUND, 'stop after the bad calls restores as found');
  });

  it('validate-all at level 0 checks syntax only: 0 with good values, also for a NIC this node lacks; changes nothing', async function () {
    this.timeout(60_000);
    const t = topo();
    const before = await snapshot(t, 'd1');
    await expectRc(t, 'd1', 'validate-all', OCF.SUCCESS);
    await expectRc(t, 'd1', 'validate-all', OCF.SUCCESS, { params: { nic: 'eth9', sync_interface: 'eth0', sync_id: '7' } });
    assert.deepEqual(await snapshot(t, 'd1'), before);
  });

  it('validate-all with OCF_CHECK_LEVEL=10: 5 for a NIC this node lacks, 0 for eth0', async function () {
    this.timeout(60_000);
    const t = topo();
    const deep = (nic: string): Call => ({ params: { nic }, env: { OCF_CHECK_LEVEL: '10' } });
    const r = await expectRc(t, 'd1', 'validate-all', OCF.ERR_INSTALLED, deep('eth9'));
    assertReason(r.stderr, ['eth9'], 'validate-all level 10');
    await expectRc(t, 'd1', 'validate-all', OCF.SUCCESS, deep('eth0'));
  });
});

// A stand-in for crm_attribute, bind-mounted in one director only: it records each call and keeps
// that node's attributes in a JSON file, so the promotion score pacemaker would see can be read back.
const FAKE_CRM_ATTRIBUTE = (log: string, store: string) => `#!/usr/bin/python3
import json, os, sys
LOG, STORE = ${JSON.stringify(log)}, ${JSON.stringify(store)}
args = sys.argv[1:]
if "--version" in args:
    print("Pacemaker 2.1.5")
    sys.exit(0)
rec = {"argv": args, "instance": os.environ.get("OCF_RESOURCE_INSTANCE"), "lifetime": []}
name = op = value = None
i = 0
while i < len(args):
    a = args[i]
    i += 1
    if a.startswith("--"):
        opt, eq, attached = a.partition("=")
    elif a.startswith("-") and len(a) > 1:
        opt, attached = a[:2], a[2:]
    else:
        continue
    def take():
        global i
        if attached:
            return attached
        i += 1
        return args[i - 1] if i - 1 < len(args) else ""
    if opt in ("-p", "--promotion"):
        rsc = attached
        if not rsc and i < len(args) and not args[i].startswith("-"):
            rsc = args[i]
            i += 1
        name = "master-" + (rsc or rec["instance"] or "")
    elif opt in ("-n", "--name"):
        name = take()
    elif opt in ("-v", "--update"):
        op, value = "set", take()
    elif opt in ("-D", "--delete"):
        op = "delete"
    elif opt in ("-G", "--query"):
        op = op or "query"
    elif opt in ("-l", "--lifetime"):
        rec["lifetime"].append(take())
    elif opt in ("-N", "--node", "-t", "--type", "-i", "--id", "-s", "--set-name", "-d", "--default"):
        take()
rec.update(name=name, op=op, value=value)
with open(LOG, "a") as f:
    f.write(json.dumps(rec) + "\\n")
attrs = json.load(open(STORE)) if os.path.exists(STORE) else {}
if op == "set":
    attrs[name] = value
elif op == "delete":
    attrs.pop(name, None)
elif op == "query":
    if name not in attrs:
        print("crm_attribute: Error performing operation: No such device or address", file=sys.stderr)
        sys.exit(105)
    print(attrs[name] if ("-q" in args or "--quiet" in args) else "scope=status  name=%s value=%s" % (name, attrs[name]))
json.dump(attrs, open(STORE, "w"))
`;

interface CrmCall {
  argv: string[];
  name: string | null;
  op: 'set' | 'delete' | 'query' | null;
  value: string | null;
  lifetime: string[];
}

describe('ocf:heartbeat:lvs: promotion scores (crm_attribute recorded)', function () {
  const topo = useTopology(1);
  let log = '';
  let store = '';

  before(async function () {
    this.timeout(30_000);
    const t = topo();
    const dir = t.node('d1').dir;
    log = join(dir, 'crm_attribute.log');
    store = join(dir, 'crm_attribute.json');
    const fake = join(dir, 'crm_attribute');
    await writeFile(t, fake, FAKE_CRM_ATTRIBUTE(log, store), '755');
    // d1 has its own mount namespace: only d1 sees the stand-in.
    await t.run('d1', ['mount', '--bind', fake, '/usr/sbin/crm_attribute']);
  });
  beforeEach(async function () {
    this.timeout(30_000);
    await reset(topo(), 'd1');
    await topo().run('d1', ['rm', '-f', log, store]);
  });

  async function calls(): Promise<CrmCall[]> {
    const r = await topo().exec('d1', ['cat', log]);
    return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as CrmCall);
  }
  /** The score pacemaker would read for this instance; undefined when not set. */
  async function score(): Promise<string | undefined> {
    const r = await topo().exec('d1', ['cat', store]);
    if (r.code !== 0) return undefined;
    return (JSON.parse(r.stdout) as Record<string, string>)['master-lvs'];
  }
  /** The calls made by fn that change an attribute. */
  async function changesBy(fn: () => Promise<unknown>): Promise<CrmCall[]> {
    const before = (await calls()).length;
    await fn();
    return (await calls()).slice(before).filter((c) => c.op === 'set' || c.op === 'delete');
  }
  const notPositive = (s: string | undefined) => s === undefined || Number.parseInt(s, 10) <= 0 || s === '-INFINITY';

  it('the same score whatever the role; promote and demote leave it alone; the link watcher drops it on carrier loss; deleted at stop', async function () {
    this.timeout(180_000);
    const t = topo();
    let linkBack = 0;
    await expectRc(t, 'd1', 'start', OCF.SUCCESS);
    assert.equal(await score(), '10', `after start; calls: ${JSON.stringify(await calls())}`);
    assert.deepEqual(await changesBy(() => expectRc(t, 'd1', 'monitor', OCF.SUCCESS)), [], 'monitor with the score unchanged');
    assert.deepEqual(await changesBy(() => expectRc(t, 'd1', 'promote', OCF.SUCCESS)), [], 'promote must not change the score (it would abort the transition)');
    assert.deepEqual(await changesBy(() => expectRc(t, 'd1', 'monitor', OCF.RUNNING_PROMOTED)), [], 'monitor with the score unchanged');
    await setLink(t, 'd1', 'down');
    try {
      // No monitor runs: the link watcher started by promote acts on the netlink event.
      await waitFor('the link watcher to take the VIP off eth0 and drop the score', async () => (await vipOn(t, 'd1', 'eth0')).length === 0 && notPositive(await score()));
      await expectRc(t, 'd1', 'monitor', OCF.FAILED_PROMOTED);
    } finally {
      linkBack = Date.now();
      await setLink(t, 'd1', 'up');
    }
    await expectRc(t, 'd1', 'monitor', OCF.FAILED_PROMOTED);
    assert.deepEqual(await vipOn(t, 'd1', 'eth0'), [], 'the VIP does not come back with the link: never a second director');
    await expectRc(t, 'd1', 'demote', OCF.SUCCESS);
    assert.ok(notPositive(await score()), 'demote does not raise the score');
    await candidateAfterHolddown(linkBack);
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS);
    assert.equal(await score(), undefined, 'stop deletes the score');
    const others = (await calls()).filter((c) => c.name !== 'master-lvs');
    const writes = others.filter((c) => c.op !== 'query');
    assert.deepEqual(writes.map((c) => [c.name, c.lifetime.at(-1), c.op]), [['lvs-mac-eth0', 'forever', 'set']], `besides master-lvs, only the MAC is published, once: ${JSON.stringify(others)}`);
    // The one read: the VIP watcher's no-quorum-policy (what it does when the partition loses quorum).
    assert.deepEqual([...new Set(others.filter((c) => c.op === 'query').map((c) => c.name))], ['no-quorum-policy'], JSON.stringify(others));
  });

  it('an unpromoted node without link has no positive score; it gets 10 back once the link has been up link_holddown', async function () {
    this.timeout(180_000);
    const t = topo();
    await expectRc(t, 'd1', 'start', OCF.SUCCESS);
    await setLink(t, 'd1', 'down');
    let linkBack = 0;
    try {
      await lvs(t, 'd1', 'monitor');
      const s = await score();
      assert.ok(notPositive(s), `an unpromoted node without link has score ${s}`);
    } finally {
      linkBack = Date.now();
      await setLink(t, 'd1', 'up');
    }
    await candidateAfterHolddown(linkBack);
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS);
  });

  /** With the default link_holddown (15 s): no score at the first monitor after the link returned, 10 from the first monitor 15 s after. */
  async function candidateAfterHolddown(linkBack: number): Promise<void> {
    const t = topo();
    await expectRc(t, 'd1', 'monitor', OCF.SUCCESS);
    const early = Date.now() - linkBack;
    if (early < 14_000) assert.ok(notPositive(await score()), `no score ${early} ms after the link returned (link_holddown 15 s)`);
    await waitFor('the score back after link_holddown', async () => {
      await expectRc(t, 'd1', 'monitor', OCF.SUCCESS);
      return (await score()) === '10';
    }, 60_000, 1000);
    const back = Date.now() - linkBack;
    assert.ok(back >= 15_000, `the score came back ${back} ms after the link returned: not before link_holddown (15 s)`);
  }

  it('before pacemaker 2.1 (feature set 3.6.1) the score is a reboot-lifetime master-lvs attribute, as crm_master sets it', async function () {
    this.timeout(60_000);
    const t = topo();
    const old: Call = { params: { crm_feature_set: '3.6.1' } };
    await expectRc(t, 'd1', 'start', OCF.SUCCESS, old);
    const sets = (await calls()).filter((c) => c.op === 'set' && c.name !== 'lvs-mac-eth0');
    assert.ok(sets.length > 0 && sets.every((c) => c.name === 'master-lvs' && c.lifetime.at(-1) === 'reboot'), JSON.stringify(sets));
    assert.equal(await score(), '10');
    await expectRc(t, 'd1', 'stop', OCF.SUCCESS, old);
    assert.equal(await score(), undefined);
  });
});
