// IPVS connection synchronisation for IPv6 connections across a failover, on the lab kernel: two
// directors run ocf:heartbeat:lvs with an IPv6 VIP and sync_interface=eth0 (the agent's actions
// called as pacemaker calls them, no cluster needed) and lvsd following the VIP, a DR real server
// with an IPv6 echo service, and a client holding one TCP connection through the VIP. The promoted
// director loses its link (its VIP watcher drops the VIP), the other is promoted. What the kernel
// does is read back: the synced entry in the new director's connection table (ipvsadm -Lnc), the
// client's connection and the real's socket. Without sync the same failover resets the connection.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { defaultSpec, Topology } from '../../lab';
import { BOOT_TIMEOUT_MS, labKernel } from '../support/lab';
import type { ChatLine } from '../../lab/echo';
import { addIpv6, ip6, neighbour, startChat, startServer6, VIP6, vip6On } from '../support/ipv6';
import { expectRc, lvs, OCF, reset, setLink, waitFor, type Call } from '../support/lvs-agent';
import { checkerArgv, Started, table, writeConfig } from '../support/lvsd';

const PORT = 7000;
const DIRECTORS = ['d1', 'd2'] as const;

describe('IPVS connection sync for IPv6 connections across a failover (lab)', function () {
  let topo: Topology | undefined;
  const t = (): Topology => {
    if (!topo) throw new Error('no topology (before() failed)');
    return topo;
  };
  const started = new Started(t);
  let cfg = '';

  before(async function () {
    this.timeout(BOOT_TIMEOUT_MS);
    topo = await Topology.create(await labKernel(), defaultSpec(2, 1));
    await addIpv6(topo);
    await topo.run('r1', ['ip', '-6', 'addr', 'add', `${VIP6}/128`, 'dev', 'lo']);
    await startServer6(topo, 'r1', 'echo', PORT);
    // lvsd on both directors, following the VIP: the service is only where the VIP is on eth0.
    cfg = await writeConfig(topo, 'sync6.cf', [
      'checkinterval=1',
      'checktimeout=2',
      `virtual6=[${VIP6}]:${PORT}`,
      `\treal6=[${ip6(topo, 'r1')}]:${PORT} gate`,
      '\tchecktype=connect',
      '\tscheduler=rr',
      '',
    ].join('\n'));
  });
  afterEach(async function () {
    this.timeout(60_000);
    await started.killAll();
    for (const d of DIRECTORS) {
      await setLink(t(), d, 'up');
      await lvs(t(), d, 'stop', agent());
      await reset(t(), d);
    }
  });
  after(async function () {
    this.timeout(60_000);
    await topo?.destroy();
  });

  function agent(sync = true): Call {
    return { params: { vip: VIP6, ...(sync ? { sync_interface: 'eth0', sync_id: '6' } : {}) } };
  }

  const connEntry = (port: number) =>
    new RegExp(`^TCP\\s+\\S+\\s+\\S+\\s+\\[${ip6(t(), 'client')}\\]:${port}\\s+\\[${VIP6}\\]:${PORT}\\s+\\[${ip6(t(), 'r1')}\\]:${PORT}\\s*$`, 'm');

  /** d1 promoted, d2 a standby, lvsd on both, the client's connection through d1. */
  async function setUp(sync: boolean): Promise<{ port: number; chat: Awaited<ReturnType<typeof startChat>> }> {
    await t().run('client', ['ip', '-6', 'neigh', 'flush', 'to', VIP6]);
    for (const d of DIRECTORS) await expectRc(t(), d, 'start', OCF.SUCCESS, agent(sync));
    await expectRc(t(), 'd1', 'promote', OCF.SUCCESS, agent(sync));
    for (const d of DIRECTORS) await started.start(d, checkerArgv(t(), cfg), join(t().node(d).dir, `sync6-lvsd-${Date.now()}.log`));
    const svc = `-A -t [${VIP6}]:${PORT} -s rr`;
    await waitFor('r1 in d1’s table', async () => (await table(t(), 'd1')).some((l) => l.startsWith(`-a -t [${VIP6}]:${PORT} -r`)), 30_000, 200);
    // lvsd's check reached r1, which holds the VIP on lo: the director's own packets do not leave from the VIP.
    assert.doesNotMatch(await t().run('d1', ['ip', '-6', 'route', 'get', ip6(t(), 'r1')]), new RegExp(`src ${VIP6} `), 'the VIP is not the director’s source address');
    assert.ok(!(await table(t(), 'd2')).includes(svc), 'the standby has no service for the VIP');
    const chat = await startChat(t(), 'client', VIP6, PORT);
    const port = (await chat.lines()).find((x) => x.kind === 'connected')!.n;
    assert.match(await t().run('d1', ['ipvsadm', '-Lnc']), connEntry(port), 'the connection in d1’s table');
    return { port, chat };
  }

  /** d1 loses its link (its VIP watcher drops the VIP), pacemaker's part done by hand: d2 promoted. */
  async function failover(): Promise<number> {
    await setLink(t(), 'd1', 'down');
    const cutAt = Number(await t().run('client', ['date', '+%s%3N']));
    await waitFor('d1’s VIP watcher to drop the VIP', async () => (await vip6On(t(), 'd1', 'eth0')).length === 0, 10_000, 100);
    await expectRc(t(), 'd2', 'promote', OCF.SUCCESS, agent());
    await waitFor('the client’s neighbour entry to name d2', async () => (await neighbour(t(), 'client'))?.mac === t().node('d2').mac, 10_000, 100);
    return cutAt;
  }

  it('with sync_interface=eth0 the IPv6 connection is synced to the standby and survives the promotion of the other director', async function () {
    this.timeout(240_000);
    const { port, chat } = await setUp(true);
    try {
      await waitFor('the connection in d2’s table (synced by the backup daemon)', async () => connEntry(port).test(await t().run('d2', ['ipvsadm', '-Lnc'])), 30_000, 200);
      const cutAt = await failover();
      let all: ChatLine[] = [];
      await waitFor('3 echoes after the failover', async () => {
        all = await chat.lines();
        const err = all.find((x) => x.kind === 'error');
        if (err) assert.fail(`the connection broke: ${err.detail}`);
        return all.filter((x) => x.kind === 'echo' && x.at > cutAt).length >= 3;
      }, 60_000, 200);
      const echoes = all.filter((x) => x.kind === 'echo');
      assert.equal(all.filter((x) => x.kind === 'connected').length, 1, 'one connection, never reopened');
      assert.ok(echoes.every((x, i) => x.n === i + 1), 'every line echoed, in order');
      const stall = Math.max(...echoes.filter((x) => x.at >= cutAt - 1000).map((x) => Number(x.detail.split(' ')[0])));
      console.log(`      IPv6 connection across the failover: the longest echo took ${stall} ms (link cut → d2 promoted by hand); ${echoes.length} echoes, one connection`);
      assert.match(await t().run('d2', ['ipvsadm', '-Lnc']), connEntry(port), 'the synced entry carries the connection on d2');
      await waitFor('lvsd on d2 to add the service once the VIP is on its eth0', async () => (await table(t(), 'd2')).some((l) => l.startsWith(`-a -t [${VIP6}]:${PORT} -r`)), 10_000, 200);
      const onReal = await t().run('r1', ['ss', '-Htn', 'state', 'established', `sport = :${PORT}`]);
      assert.match(onReal, new RegExp(`\\[${ip6(t(), 'client')}\\]:${port}\\b`), 'r1 still has the same connection');
    } finally {
      await chat.stop();
    }
  });

  it('without sync the same failover resets the connection (the new director knows nothing of it)', async function () {
    this.timeout(240_000);
    const { port, chat } = await setUp(false);
    try {
      // Given the time sync would have taken: nothing arrives on d2.
      await new Promise((r) => setTimeout(r, 3000));
      assert.doesNotMatch(await t().run('d2', ['ipvsadm', '-Lnc']), connEntry(port), 'no sync daemon: d2 has no entry');
      await failover();
      let err: ChatLine | undefined;
      await waitFor('the connection to fail', async () => (err = (await chat.lines()).find((x) => x.kind === 'error')) !== undefined, 60_000, 200);
      assert.match(err!.detail, /reset|closed|Broken pipe/i, `how the connection ended: ${err!.detail}`);
    } finally {
      await chat.stop();
    }
  });
});
