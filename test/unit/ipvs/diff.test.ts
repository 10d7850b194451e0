import assert from 'node:assert/strict';
import { diffTables } from '../../../src/ipvs/diff';
import { addressService, fwmarkService, serviceKey, type ServiceId } from '../../../src/ipvs/service';
import type { DestSpec, Table } from '../../../src/ipvs/table';

const dest = (target: string, weight = 1, over: Partial<DestSpec> = {}): DestSpec => ({ target, forward: 'gate', weight, uthreshold: 0, lthreshold: 0, ...over });
const ID: Record<string, ServiceId> = {
  web: addressService('tcp', '198.51.100.100', 80),
  tls: addressService('tcp', '198.51.100.100', 443),
  mark7: fwmarkService(7),
  mark9: fwmarkService(9),
};
function table(entries: Record<string, { sched?: string; dests: DestSpec[] }>): Table {
  return new Map(Object.entries(entries).map(([name, e]) => [serviceKey(ID[name]!), { spec: { id: ID[name]!, scheduler: e.sched ?? 'lc', ops: false }, dests: new Map(e.dests.map((d) => [d.target, d])) }]));
}
const WEB = 'web';

describe('ipvs/diff: from the kernel table to the desired one', () => {
  it('adds a missing service with its reals', () => {
    const c = diffTables(new Map(), table({ [WEB]: { dests: [dest('198.51.100.21:80')] } }));
    assert.deepEqual(c.map((x) => x.op), ['add-service', 'add-dest']);
  });

  it('changes nothing when the tables are equal', () => {
    const t = table({ [WEB]: { dests: [dest('198.51.100.21:80'), dest('198.51.100.22:80', 0)] } });
    assert.deepEqual(diffTables(t, table({ [WEB]: { dests: [dest('198.51.100.21:80'), dest('198.51.100.22:80', 0)] } }), new Set([serviceKey(ID.web!)])), []);
  });

  it('edits weight and thresholds, deletes reals that should not be there', () => {
    const current = table({ [WEB]: { dests: [dest('198.51.100.21:80'), dest('198.51.100.22:80'), dest('198.51.100.23:80')] } });
    const desired = table({ [WEB]: { dests: [dest('198.51.100.21:80', 0), dest('198.51.100.22:80', 1, { uthreshold: 4 })] } });
    assert.deepEqual(diffTables(current, desired).map((x) => [x.op, 'dest' in x ? x.dest.target : 'target' in x ? x.target : '']), [
      ['delete-dest', '198.51.100.23:80'],
      ['edit-dest', '198.51.100.21:80'],
      ['edit-dest', '198.51.100.22:80'],
    ]);
  });

  it('edits a service whose scheduler changed', () => {
    const c = diffTables(table({ [WEB]: { sched: 'wlc', dests: [] } }), table({ [WEB]: { dests: [] } }));
    assert.deepEqual(c.map((x) => x.op), ['edit-service']);
  });

  it('deletes owned services no longer desired, and never touches services it does not own', () => {
    const current = table({ web: { dests: [] }, tls: { dests: [dest('198.51.100.21:443')] }, mark7: { dests: [] } });
    const c = diffTables(current, new Map(), new Set([serviceKey(ID.web!), serviceKey(ID.mark9!)]));
    assert.deepEqual(c, [{ op: 'delete-service', id: ID.web }]);
  });

  it('treats an all-ones persistence mask as no mask, as ipvsadm prints it', () => {
    const k = serviceKey(ID.web!);
    const current: Table = new Map([[k, { spec: { id: ID.web!, scheduler: 'lc', persistent: 300, ops: false }, dests: new Map() }]]);
    const desired: Table = new Map([[k, { spec: { id: ID.web!, scheduler: 'lc', persistent: 300, netmask: '255.255.255.255', ops: false }, dests: new Map() }]]);
    assert.deepEqual(diffTables(current, desired), []);
  });
});
