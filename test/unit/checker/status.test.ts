import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../../src/checker/engine';
import { heartbeatMs, snapshot, STATUS_STALE_MS, statusSource, statusText, writeStatus } from '../../../src/checker/status';
import type { IpvsBackend } from '../../../src/ipvs/table';
import { config, real, virtual } from '../../support/checker-config';

describe('checker/status: the heartbeat the OCF monitor reads', () => {
  it('rewrites the status file every checkinterval, but at least every 10 s, whatever the checkinterval', () => {
    assert.equal(heartbeatMs(1), 1000);
    assert.equal(heartbeatMs(5), 5000);
    for (const checkinterval of [10, 60, 61, 300, 86_400, 2 ** 31 - 1]) assert.equal(heartbeatMs(checkinterval), 10_000, `checkinterval ${checkinterval}`);
  });

  it('so a running lvsd is never older than the deep monitor allows, with room for missed beats', () => {
    for (const checkinterval of [1, 30, 59, 60, 61, 120, 3600]) {
      assert.ok(heartbeatMs(checkinterval) * 5 <= STATUS_STALE_MS, `checkinterval ${checkinterval}: heartbeat ${heartbeatMs(checkinterval)} ms vs ${STATUS_STALE_MS} ms`);
    }
  });
});

describe('checker/status: the status file, written in pieces', function () {
  this.timeout(20_000);
  let engine: Engine | undefined;
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvsd-status-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await engine?.stop();
    engine = undefined;
  });

  // No kernel: an empty table that takes every change; every check passes at once.
  const backend: IpvsBackend = { read: async () => new Map(), apply: async () => ({ errors: [] }) };
  async function running(reals: number): Promise<Engine> {
    const vs = [
      virtual({ checkinterval: 600, reals: Array.from({ length: reals }, (_, i) => real(`198.18.${i >> 8}.${i & 255}`, { weight: 1 + (i % 3) })) }),
      virtual({ address: '198.51.100.101', checktype: 'off', reals: [real('198.51.100.21')], follow: '198.51.100.101' }),
    ];
    engine = new Engine(config(vs), backend, { log: () => undefined }, Date.now, () => async () => ({ up: true, detail: 'ok' }));
    await engine.start();
    await engine.settled;
    return engine;
  }
  const meta = { pid: 42, config: '/etc/ha.d/x.cf', state: 'running' as const, startedAt: '2026-12-02T00:00:00.000Z' };
  const same = <T extends { updatedAt: string }>(x: T) => ({ ...x, updatedAt: '' });

  it('says what snapshot() says, for 2500 reals in three pieces and more', async () => {
    const e = await running(2500);
    const pieces = [...statusText(statusSource(e, meta))];
    assert.ok(pieces.length >= 5, `${pieces.length} pieces`);
    const parsed = JSON.parse(pieces.join(''));
    assert.deepEqual(same(parsed), same(snapshot(e, meta)));
    assert.equal(parsed.virtuals[0].reals.length, 2500);
    assert.equal(parsed.virtuals[0].realsUp, 2500);
  });

  it('replaces the file atomically and never writes through a link planted at its temporary name', async () => {
    const e = await running(3);
    const path = join(dir, 'x.cf.json');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'untouched');
    symlinkSync(victim, `${path}.${process.pid}.tmp`);
    await writeStatus(path, statusText(statusSource(e, meta)));
    assert.equal(readFileSync(victim, 'utf8'), 'untouched');
    assert.ok(lstatSync(path).isFile());
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, 42);
  });
});
