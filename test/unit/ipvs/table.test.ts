import assert from 'node:assert/strict';
import { diffTables } from '../../../src/ipvs/diff';
import { addressService, serviceKey } from '../../../src/ipvs/service';
import { applyChanges, type DestState, type Table } from '../../../src/ipvs/table';

const id = addressService('tcp', '198.51.100.100', 80);
const key = serviceKey(id);
const dest = (target: string, weight: number, activeConns = 0): DestState => ({ target, forward: 'gate', weight, uthreshold: 0, lthreshold: 0, activeConns, inactConns: 0 });

describe('ipvs/table: applyChanges, the table a writer knows after its changes', () => {
  const before = (): Table<DestState> => new Map([[key, { spec: { id, scheduler: 'lc', ops: false }, dests: new Map([['198.51.100.21:80', dest('198.51.100.21:80', 1, 7)]]) }]]);

  it('is the desired table once the diff between them is applied, and leaves its input alone', () => {
    const current = before();
    const desired: Table = new Map([[key, { spec: { id, scheduler: 'wlc', ops: false }, dests: new Map([['198.51.100.22:80', dest('198.51.100.22:80', 2)]]) }]]);
    const after = applyChanges(current, diffTables(current, desired));
    assert.deepEqual(diffTables(after, desired), []);
    assert.equal(current.get(key)!.spec.scheduler, 'lc');
    assert.ok(current.get(key)!.dests.has('198.51.100.21:80'));
  });

  it('keeps the connection counts of an edited real; a new one has none', () => {
    const after = applyChanges(before(), [
      { op: 'edit-dest', id, dest: dest('198.51.100.21:80', 0) },
      { op: 'add-dest', id, dest: dest('198.51.100.23:80', 1) },
    ]);
    assert.equal(after.get(key)!.dests.get('198.51.100.21:80')!.weight, 0);
    assert.equal(after.get(key)!.dests.get('198.51.100.21:80')!.activeConns, 7);
    assert.equal(after.get(key)!.dests.get('198.51.100.23:80')!.activeConns, 0);
  });

  it('drops a deleted service with its reals', () => {
    assert.equal(applyChanges(before(), [{ op: 'delete-service', id }]).size, 0);
  });
});
