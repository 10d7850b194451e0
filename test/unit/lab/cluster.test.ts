import assert from 'node:assert/strict';
import { corosyncConf } from '../../../lab/cluster';
import type { Topology } from '../../../lab/topology';
import { parseCorosyncConf } from '../../../src/pcs/cluster';

// Only what corosyncConf reads of a topology: each node's addresses.
const topo = {
  node: (name: string) => ({ d1: { ip: '198.51.100.11' }, d2: { ip: '198.51.100.12', ringIp: '203.0.113.12' } })[name],
} as unknown as Topology;

describe('lab/cluster: the corosync.conf of lab directors', function () {
  it('two nodes without a device: two_node, each node on its ring address', function () {
    const conf = corosyncConf(topo, ['d1', 'd2'], 'lab', 3000);
    assert.match(conf, /^\s+two_node: 1$/m);
    assert.match(conf, /ring0_addr: 203\.0\.113\.12\n\s+name: d2/);
    assert.deepEqual(parseCorosyncConf(conf), { name: 'lab', nodes: ['d1', 'd2'], token: 3000 });
  });

  it('with a quorum device: no two_node, and lvskit bootstrap reads the device it would add (net, the host, ffsplit)', function () {
    const conf = corosyncConf(topo, ['d1', 'd2'], 'lab', 3000, '198.51.100.30');
    assert.doesNotMatch(conf, /two_node/);
    assert.match(conf, /^\s+tls: off$/m);
    assert.deepEqual(parseCorosyncConf(conf).quorumDevice, { model: 'net', host: '198.51.100.30', algorithm: 'ffsplit' });
  });
});
