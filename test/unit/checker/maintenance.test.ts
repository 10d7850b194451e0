// maintenancedir's names (ldirectord's six) against a real directory, with a scripted resolver.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAddressName, Maintenance, maintenanceNames, shortName } from '../../../src/checker/maintenance';

const R1 = { family: 4 as const, address: '198.51.100.21', port: 80 };

describe('checker/maintenance', () => {
  let dir: string;
  let lookups: string[];
  let clock: number;
  const names = new Map<string, string | undefined>([['198.51.100.21', 'web1.example.org']]);
  const resolver = async (address: string) => {
    lookups.push(address);
    return names.get(address);
  };
  const put = (name: string) => writeFileSync(join(dir, name), '');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvsd-maint-'));
    lookups = [];
    clock = 1_000_000;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists ldirectord\'s six names in its order; the short name only for a lowercase-led name with a dot', () => {
    assert.deepEqual(maintenanceNames(R1, 'web1.example.org'), ['198.51.100.21:80', '198.51.100.21', 'web1.example.org:80', 'web1.example.org', 'web1:80', 'web1']);
    assert.deepEqual(maintenanceNames({ family: 6, address: '2001:db8::21', port: 443 }), ['[2001:db8::21]:443', '[2001:db8::21]']);
    assert.equal(shortName('Web1.example.org'), undefined);
    assert.equal(shortName('w.example.org'), undefined, 'ldirectord wants two characters or more');
    assert.equal(shortName('localhost'), undefined);
    assert.deepEqual(maintenanceNames(R1, 'localhost'), ['198.51.100.21:80', '198.51.100.21', 'localhost:80', 'localhost']);
  });

  it('tells address names from host names', () => {
    for (const n of ['198.51.100.21', '198.51.100.21:80', '[2001:db8::1]', '[2001:db8::1]:80']) assert.ok(isAddressName(n), n);
    for (const n of ['web1', 'web1:80', 'web1.example.org', '[web1]', '198.51.100.256']) assert.ok(!isAddressName(n), n);
  });

  it('finds IP:PORT and IP files without resolving anything', async () => {
    const m = new Maintenance(resolver, () => clock);
    assert.equal(await m.find(dir, R1), undefined);
    put('198.51.100.21');
    assert.equal(await m.find(dir, R1), '198.51.100.21');
    put('198.51.100.21:80');
    assert.equal(await m.find(dir, R1), '198.51.100.21:80');
    assert.equal(await m.find(dir, { ...R1, address: '198.51.100.22' }), undefined);
    put('198.51.100.99:80');
    assert.equal(await m.find(dir, { ...R1, address: '198.51.100.22' }), undefined);
    assert.deepEqual(lookups, [], 'only address-named files: no lookup');
  });

  for (const file of ['web1.example.org:80', 'web1.example.org', 'web1:80', 'web1']) {
    it(`finds a real by its reverse name: ${file}`, async () => {
      const m = new Maintenance(resolver, () => clock);
      put(file);
      assert.equal(await m.find(dir, R1), file);
      assert.equal(await m.find(dir, { ...R1, port: 8080 }), file.endsWith(':80') ? undefined : file);
    });
  }

  it('does not match a name the real does not have, nor a real without a name', async () => {
    const m = new Maintenance(resolver, () => clock);
    put('web2');
    assert.equal(await m.find(dir, R1), undefined);
    assert.equal(await m.find(dir, { ...R1, address: '198.51.100.23' }), undefined);
    assert.deepEqual(lookups.sort(), ['198.51.100.21', '198.51.100.23']);
  });

  it('looks a name up once a minute, serving the old one while it looks again', async () => {
    const m = new Maintenance(resolver, () => clock);
    put('web1');
    assert.equal(await m.find(dir, R1), 'web1');
    clock += 30_000;
    assert.equal(await m.find(dir, R1), 'web1');
    assert.equal(lookups.length, 1);
    names.set('198.51.100.21', 'web9.example.org');
    clock += 31_000;
    assert.equal(await m.find(dir, R1), 'web1', 'the stale name still serves');
    await new Promise((r) => setImmediate(r));
    assert.equal(lookups.length, 2);
    assert.equal(await m.find(dir, R1), undefined, 'the new name is web9');
    names.set('198.51.100.21', 'web1.example.org');
  });

  it('does not hold a check longer than its wait on a slow resolver, and uses the name once it comes', async () => {
    let answer: (name: string) => void = () => undefined;
    const slow = (address: string) => {
      lookups.push(address);
      return new Promise<string | undefined>((resolve) => {
        answer = resolve;
      });
    };
    const m = new Maintenance(slow, () => clock, 20);
    put('web1');
    assert.equal(await m.find(dir, R1), undefined, 'no name yet');
    assert.equal(await m.find(dir, R1), undefined);
    assert.equal(lookups.length, 1, 'one lookup in flight per address');
    answer('web1.example.org');
    await new Promise((r) => setImmediate(r));
    assert.equal(await m.find(dir, R1), 'web1');
  });

  it('reads the directory again when it changes: no lookup once the host-named file is gone', async () => {
    const m = new Maintenance(resolver, () => clock);
    put('web1');
    assert.equal(await m.find(dir, R1), 'web1');
    rmSync(join(dir, 'web1'));
    clock += 120_000;
    assert.equal(await m.find(dir, R1), undefined);
    assert.equal(lookups.length, 1);
  });

  it('treats a missing directory as empty', async () => {
    const m = new Maintenance(resolver, () => clock);
    assert.equal(await m.find(join(dir, 'absent'), R1), undefined);
  });
});
