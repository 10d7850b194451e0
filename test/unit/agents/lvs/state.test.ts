import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadState, readInstances } from '../../../../src/agents/lvs/state';

describe('agents/lvs/state: the state file is not trusted', () => {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'lvskit-state-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps only known sysctl keys with numeric values, and well-formed places of the VIP', () => {
    const path = join(dir, 'lvs-lvs.json');
    writeFileSync(path, JSON.stringify({
      saved: { 'net/ipv4/conf/all/arp_ignore': '0', '../../tmp/x': '1', 'net/ipv4/conf/eth0/arp_ignore': '0', 'net/ipv4/conf/lo/arp_announce': '0; rm -rf /' },
      score: 10,
      vip: '198.51.100.100',
      nic: 'eth0',
      added: { eth0: 32, '../x': 24, lo: 'x' },
      gaveUp: { at: 'not a date', why: 'x' },
      duplicate: { macs: ['not a mac'], since: 'x' },
    }));
    assert.deepEqual(loadState(path), { saved: { 'net/ipv4/conf/all/arp_ignore': '0' }, score: 10, vip: '198.51.100.100', nic: 'eth0', added: { eth0: 32 } });
  });

  it('lists the instances by name, whatever order the directory gives (lvskit status shows them so)', () => {
    for (const [name, vip] of [['web6', '2001:db8::100'], ['web4', '198.51.100.100'], ['b', '198.51.100.101']]) {
      writeFileSync(join(dir, `lvs-${name}.json`), JSON.stringify({ saved: {}, vip, nic: 'eth0' }));
    }
    writeFileSync(join(dir, 'lvs-a.vipwatch.pid'), '1\n');
    assert.deepEqual(readInstances({ HA_RSCTMP: dir }).map((x) => [x.instance, x.state.vip]), [['b', '198.51.100.101'], ['web4', '198.51.100.100'], ['web6', '2001:db8::100']]);
  });

  it('reads a file that is not JSON, or not an object, as no state', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, 'not json');
    assert.equal(loadState(path), undefined);
    writeFileSync(path, '[1,2]');
    assert.equal(loadState(path), undefined);
  });
});
