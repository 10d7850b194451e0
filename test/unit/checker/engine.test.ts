// The engine's decisions against an in-memory IPVS table and scripted check results.
// (The real kernel and real checks are exercised in test/lab/lvsd*.test.ts.)
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Engine } from '../../../src/checker/engine';
import type { Check } from '../../../src/checker/checks/types';
import { diffTables } from '../../../src/ipvs/diff';
import { addressService, serviceKey } from '../../../src/ipvs/service';
import { applyChanges, type DestState, type IpvsBackend, type Table, type TableChange } from '../../../src/ipvs/table';
import { config, real, virtual } from '../../support/checker-config';

class MemoryIpvs implements IpvsBackend {
  table: Table<DestState> = new Map();
  batches: TableChange[][] = [];
  reads = 0;
  async read(): Promise<Table<DestState>> {
    this.reads++;
    return structuredClone(this.table);
  }
  async apply(changes: TableChange[]) {
    this.batches.push(changes);
    // As ipvsadm -R: each line on its own; one the kernel refuses is reported, the others apply.
    const errors: string[] = [];
    for (const c of changes) {
      const k = serviceKey('service' in c ? c.service.id : c.id);
      if (c.op === 'add-service' && this.table.has(k)) errors.push('Service already exists');
      else if (c.op !== 'add-service' && !this.table.has(k)) errors.push('No such service');
      else this.table = applyChanges(this.table, [c]);
    }
    return { errors };
  }
  weights(key = 'tcp 198.51.100.100:80'): Record<string, number> {
    return Object.fromEntries([...(this.table.get(key)?.dests.values() ?? [])].map((d) => [d.target, d.weight]));
  }
}

/** Check results by real address; a missing entry is "up". */
function scripted(health: Map<string, boolean>, calls: string[] = []): () => Check {
  return () => async (t) => {
    calls.push(t.address);
    return { up: health.get(t.address) ?? true, detail: health.get(t.address) === false ? 'refused' : 'ok' };
  };
}

const quiet = { log: () => undefined };
const R1 = '198.51.100.21';
const R2 = '198.51.100.22';

async function until(what: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await sleep(10);
  }
}

describe('checker/engine: health to IPVS table', function () {
  this.timeout(10_000);
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.stop();
    engine = undefined;
  });

  it('puts the service in at once and each real in after its first passed check, never a failed one', async () => {
    const ipvs = new MemoryIpvs();
    const health = new Map([[R2, false]]);
    engine = new Engine(config([virtual({ reals: [real(R1), real(R2)] })]), ipvs, quiet, Date.now, scripted(health));
    await engine.start();
    assert.ok(ipvs.table.has('tcp 198.51.100.100:80'));
    await engine.settled;
    assert.deepEqual(ipvs.weights(), { [`${R1}:80`]: 1 });
  });

  it('at a restart keeps reals found with a weight until checked, and does not put back a quiesced one', async () => {
    const ipvs = new MemoryIpvs();
    const key = 'tcp 198.51.100.100:80';
    ipvs.table.set(key, { spec: { id: addressService('tcp', '198.51.100.100', 80), scheduler: 'lc', ops: false }, dests: new Map([
      [`${R1}:80`, { target: `${R1}:80`, forward: 'gate', weight: 1, uthreshold: 0, lthreshold: 0, activeConns: 3, inactConns: 0 }],
      [`${R2}:80`, { target: `${R2}:80`, forward: 'gate', weight: 0, uthreshold: 0, lthreshold: 0, activeConns: 0, inactConns: 0 }],
    ]) });
    const health = new Map([[R2, false]]);
    engine = new Engine(config([virtual({ quiescent: true, reals: [real(R1), real(R2)] })]), ipvs, quiet, Date.now, scripted(health));
    await engine.start();
    assert.deepEqual(ipvs.batches, [], 'nothing changed before any check');
    await engine.settled;
    assert.deepEqual(ipvs.weights(), { [`${R1}:80`]: 1, [`${R2}:80`]: 0 });
  });

  it('takes a real out after failurecount failures and back after risecount passes', async () => {
    const ipvs = new MemoryIpvs();
    const health = new Map<string, boolean>();
    const v = virtual({ failurecount: 2, risecount: 2, checkinterval: 0.05, reals: [real(R1), real(R2)] });
    engine = new Engine(config([v], { checkinterval: 60 }), ipvs, quiet, Date.now, scripted(health));
    await engine.start();
    await engine.settled;
    health.set(R1, false);
    const r1 = engine.checkOf(v, v.reals[0]!)!;
    await until(() => r1.state.fails === 1);
    assert.ok(`${R1}:80` in ipvs.weights(), 'one failure is a soft failure');
    await until(() => !(`${R1}:80` in ipvs.weights()));
    health.set(R1, true);
    await until(() => r1.state.passes === 1);
    assert.ok(!(`${R1}:80` in ipvs.weights()), 'one pass is not enough to return');
    await until(() => `${R1}:80` in ipvs.weights());
  });

  it('quiesces instead of deleting with quiescent=yes, and adds the fallback when no real is up', async () => {
    const ipvs = new MemoryIpvs();
    const health = new Map([[R1, false], [R2, false]]);
    const v = virtual({ quiescent: true, fallback: { family: 4, address: '198.51.100.30', port: 80, forward: 'gate' }, reals: [real(R1), real(R2)] });
    engine = new Engine(config([v]), ipvs, quiet, Date.now, scripted(health));
    await engine.start();
    await engine.settled;
    assert.deepEqual(ipvs.weights(), { [`${R1}:80`]: 0, [`${R2}:80`]: 0, '198.51.100.30:80': 1 }, 'reals failing their first check go in at weight 0, as with ldirectord');
    ipvs.table.get('tcp 198.51.100.100:80')!.dests.delete(`${R2}:80`);
    health.set(R1, true);
    await until(() => ipvs.weights()[`${R1}:80`] === 1);
    assert.ok(!('198.51.100.30:80' in ipvs.weights()), 'fallback removed once a real is up');
    assert.ok(!(`${R2}:80` in ipvs.weights()), 'a quiesced real removed by hand is not put back (readdquiescent=no)');
  });

  it('quiesces a real whose first check fails while a batch is being applied (its weight-0 entry is not lost)', async () => {
    // Seen in a busy lab: the failure arrived during a slow apply, the end of that apply cleared the
    // "add at weight 0" mark, and the real stayed out of the table for good.
    let release!: () => void;
    const r2Result = new Promise<void>((resolve) => (release = resolve));
    class SlowIpvs extends MemoryIpvs {
      override async apply(changes: TableChange[]) {
        release();
        await sleep(50);
        return super.apply(changes);
      }
    }
    const ipvs = new SlowIpvs();
    const check = (): Check => async (t) => {
      if (t.address !== R2) return { up: true, detail: 'ok' };
      await r2Result;
      return { up: false, detail: 'refused' };
    };
    engine = new Engine(config([virtual({ quiescent: true, reals: [real(R1), real(R2)] })]), ipvs, quiet, Date.now, check);
    await engine.start();
    await engine.settled;
    await until(() => `${R2}:80` in ipvs.weights());
    assert.deepEqual(ipvs.weights(), { [`${R1}:80`]: 1, [`${R2}:80`]: 0 });
  });

  it('checks a real shared by two virtuals once per round and applies the result to both', async () => {
    const ipvs = new MemoryIpvs();
    const calls: string[] = [];
    const a = virtual({ reals: [real(R1)] });
    const b = virtual({ port: 8080, reals: [real(R1, { port: 80, forward: 'masq' })], checkport: 80 });
    engine = new Engine(config([a, b]), ipvs, quiet, Date.now, scripted(new Map(), calls));
    await engine.start();
    await engine.settled;
    assert.equal(calls.length, 1);
    assert.deepEqual(ipvs.weights('tcp 198.51.100.100:8080'), { [`${R1}:80`]: 1 });
  });

  it('applies many transitions in one batch', async () => {
    const ipvs = new MemoryIpvs();
    const reals = Array.from({ length: 50 }, (_, i) => real(`198.51.100.${101 + i}`));
    engine = new Engine(config([virtual({ reals })]), ipvs, quiet, Date.now, scripted(new Map()));
    await engine.start();
    await engine.settled;
    assert.equal(Object.keys(ipvs.weights()).length, 50);
    assert.ok(ipvs.batches.length <= 3, `${ipvs.batches.length} batches for 50 reals`);
  });

  it('keeps health across a reload, adds new virtuals and deletes removed ones', async () => {
    const ipvs = new MemoryIpvs();
    const health = new Map([[R2, false]]);
    const v = virtual({ reals: [real(R1), real(R2)] });
    engine = new Engine(config([v, virtual({ port: 443, reals: [real(R1)] })]), ipvs, quiet, Date.now, scripted(health));
    await engine.start();
    await engine.settled;
    const again = virtual({ reals: [real(R1), real(R2)] });
    await engine.reload(config([again, virtual({ port: 8443, reals: [real(R2)] })]));
    assert.equal(engine.checkOf(again, again.reals[1]!)!.state.health, 'down', 'R2 stays down across the reload');
    assert.deepEqual(ipvs.weights(), { [`${R1}:80`]: 1 });
    assert.ok(!ipvs.table.has('tcp 198.51.100.100:443'), 'removed virtual deleted');
    assert.ok(ipvs.table.has('tcp 198.51.100.100:8443'), 'new virtual added');
  });

  it('removes its services at stop with cleanstop, and only those', async () => {
    const ipvs = new MemoryIpvs();
    ipvs.table.set('tcp 203.0.113.1:80', { spec: { id: addressService('tcp', '203.0.113.1', 80), scheduler: 'rr', ops: false }, dests: new Map() });
    const e = new Engine(config([virtual({ reals: [real(R1)] }), virtual({ port: 443, cleanstop: false, reals: [real(R1)] })]), ipvs, quiet, Date.now, scripted(new Map()));
    await e.start();
    await e.settled;
    await e.stop();
    assert.deepEqual([...ipvs.table.keys()].sort(), ['tcp 198.51.100.100:443', 'tcp 203.0.113.1:80']);
  });

  it('leaves a table it reconciled with nothing more to do', async () => {
    const ipvs = new MemoryIpvs();
    const c = config([virtual({ quiescent: true, reals: [real(R1), real(R2, { weight: 3 })] })]);
    engine = new Engine(c, ipvs, quiet, Date.now, scripted(new Map([[R2, false]])));
    await engine.start();
    await engine.settled;
    assert.deepEqual(diffTables(ipvs.table, engine.desired()!), []);
  });

  it('follows its VIP: the service is in only while the address is held, and the health is known before', async () => {
    const ipvs = new MemoryIpvs();
    const held = new Set<string>();
    const addresses = { held: (a: string) => held.has(a) };
    const calls: string[] = [];
    const v = virtual({ reals: [real(R1), real(R2)] });
    v.follow = '198.51.100.100';
    const other = virtual({ address: '198.51.100.101', reals: [real(R1)] });
    engine = new Engine(config([v, other]), ipvs, quiet, Date.now, scripted(new Map([[R2, false]]), calls), addresses);
    await engine.start();
    await engine.settled;
    assert.deepEqual([...ipvs.table.keys()], ['tcp 198.51.100.101:80'], 'a following service stays out while its VIP is elsewhere; one that follows nothing is in');
    assert.ok(calls.includes(R1) && calls.includes(R2), 'the reals are checked all the same');
    held.add('198.51.100.100');
    engine.addressesChanged();
    await engine.reconcileNow();
    assert.deepEqual(ipvs.weights(), { [`${R1}:80`]: 1 }, 'in at once with the health already known');
    assert.equal(engine.isActive(v), true);
    held.delete('198.51.100.100');
    engine.addressesChanged();
    await engine.reconcileNow();
    assert.ok(!ipvs.table.has('tcp 198.51.100.100:80'), 'out again when the VIP leaves');
    assert.ok(ipvs.table.has('tcp 198.51.100.101:80'));
  });

  it('when its VIP lands, writes the service from the table it knows, without reading the kernel first', async () => {
    const ipvs = new MemoryIpvs();
    let held = false;
    const v = virtual({ reals: [real(R1), real(R2)] });
    v.follow = '198.51.100.100';
    engine = new Engine(config([v]), ipvs, quiet, Date.now, scripted(new Map()), { held: () => held });
    await engine.start();
    await engine.settled;
    await engine.reconcileNow();
    const reads = ipvs.reads;
    const batches = ipvs.batches.length;
    held = true;
    engine.addressesChanged();
    await until(() => ipvs.batches.length > batches);
    assert.equal(ipvs.reads, reads, 'no read before the write');
    assert.deepEqual(ipvs.weights(), { [`${R1}:80`]: 1, [`${R2}:80`]: 1 });
    held = false;
    engine.addressesChanged();
    await until(() => !ipvs.table.has('tcp 198.51.100.100:80'));
    assert.equal(ipvs.reads, reads, 'none when it leaves either');
    // Anything else (a check result, the repair pass) still reads.
    await engine.reconcileNow();
    assert.equal(ipvs.reads, reads + 1);
  });

  it('when the known table was wrong (another writer), reads, and writes what is missing', async () => {
    const ipvs = new MemoryIpvs();
    let held = false;
    const logs: string[] = [];
    const v = virtual({ reals: [real(R1)] });
    v.follow = '198.51.100.100';
    engine = new Engine(config([v]), ipvs, { log: (_l, m) => logs.push(m) }, Date.now, scripted(new Map()), { held: () => held });
    await engine.start();
    await engine.settled;
    await engine.reconcileNow();
    // Behind lvsd's back: the service is in already, without its real.
    ipvs.table.set('tcp 198.51.100.100:80', { spec: { id: addressService('tcp', '198.51.100.100', 80), scheduler: 'wrr', ops: false }, dests: new Map() });
    const reads = ipvs.reads;
    held = true;
    engine.addressesChanged();
    // The add is refused; lvsd reads, logs, and corrects the scheduler in a pass right after.
    await until(() => ipvs.table.get('tcp 198.51.100.100:80')?.spec.scheduler === 'lc' && ipvs.weights()[`${R1}:80`] === 1, 500);
    assert.ok(ipvs.reads > reads, 'the refused add made it read the kernel');
    assert.ok(logs.some((m) => m.includes('Service already exists')), 'the refusal is logged');
    // From then on the table is known again: the VIP leaving needs no read.
    const after = ipvs.reads;
    held = false;
    engine.addressesChanged();
    await until(() => !ipvs.table.has('tcp 198.51.100.100:80'));
    assert.equal(ipvs.reads, after);
  });

  it('at start removes a following service whose VIP is not held (a standby must never forward it)', async () => {
    const ipvs = new MemoryIpvs();
    ipvs.table.set('tcp 198.51.100.100:80', { spec: { id: addressService('tcp', '198.51.100.100', 80), scheduler: 'wrr', ops: false }, dests: new Map([
      [`${R1}:80`, { target: `${R1}:80`, forward: 'gate', weight: 1, uthreshold: 0, lthreshold: 0, activeConns: 0, inactConns: 0 }],
    ]) });
    const v = virtual({ reals: [real(R1)] });
    v.follow = '198.51.100.100';
    engine = new Engine(config([v]), ipvs, quiet, Date.now, scripted(new Map()), { held: () => false });
    await engine.start();
    assert.equal(ipvs.table.size, 0);
  });

  it('ignores address events before start: no real counts as down before its first check', async () => {
    const ipvs = new MemoryIpvs();
    const fallbacks: boolean[] = [];
    const v = virtual({ reals: [real(R1)] });
    v.follow = '198.51.100.100';
    v.fallbackcommand = '/usr/local/sbin/sorry';
    engine = new Engine(config([v]), ipvs, { ...quiet, fallback: (_v, on) => fallbacks.push(on) }, Date.now, scripted(new Map()), { held: () => true });
    engine.addressesChanged();
    await engine.start();
    await engine.settled;
    assert.deepEqual(fallbacks, [], 'the fallback never went in');
    assert.deepEqual(ipvs.weights(), { [`${R1}:80`]: 1 });
  });

  it('runs the fallback hook when every real is down even without a fallback server (fallbackcommand alone)', async () => {
    const ipvs = new MemoryIpvs();
    const fallbacks: boolean[] = [];
    const v = virtual({ reals: [real(R1)] });
    v.fallbackcommand = '/usr/local/sbin/sorry';
    engine = new Engine(config([v]), ipvs, { ...quiet, fallback: (_v, on) => fallbacks.push(on) }, Date.now, scripted(new Map([[R1, false]])));
    await engine.start();
    await engine.settled;
    assert.deepEqual(fallbacks, [true]);
    assert.deepEqual(ipvs.weights(), {}, 'no fallback server to add');
  });
});

