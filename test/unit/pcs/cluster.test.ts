import assert from 'node:assert/strict';
import { judgeCluster, parseCorosyncConf, parseCrmNodeList } from '../../../src/pcs/cluster';
import { fixture } from './helpers';

describe('pcs/cluster: is this node already in the cluster?', () => {
  it('reads cluster_name and node names from the corosync.conf pcs 0.11 writes', () => {
    assert.deepEqual(parseCorosyncConf(fixture('corosync-pcs-0.11.conf')), { name: 'lvs', nodes: ['d1', 'd2'] });
  });

  it('reads the totem token pcs 0.11.5 wrote for `pcs cluster setup … totem token=1000`', () => {
    assert.deepEqual(parseCorosyncConf(fixture('corosync-pcs-0.11.5-token.conf')), { name: 'lvs', nodes: ['d1', 'd2'], token: 1000 });
    assert.deepEqual(parseCorosyncConf('totem {\n  token: 3000\n  consensus: 3600\n  interface {\n    token: 5\n  }\n}\n'), { name: undefined, nodes: [], token: 3000, consensus: 3600 });
  });

  it('takes ring0_addr for a node without a name, and ignores comments and other sections', () => {
    const conf = 'totem {\n  version: 2\n  # cluster_name: old\n  cluster_name: web\n  interface {\n    linknumber: 0\n  }\n}\nnodelist {\n  node {\n    ring0_addr: 198.51.100.11\n    nodeid: 1\n  }\n  node {\n    name: b\n    ring0_addr: 198.51.100.12\n  }\n}\nlogging {\n  name: x\n}\n';
    assert.deepEqual(parseCorosyncConf(conf), { name: 'web', nodes: ['198.51.100.11', 'b'] });
  });

  it('reads crm_node -l', () => {
    assert.deepEqual(parseCrmNodeList('1 d1 member\n2 d2 lost\n\n'), ['d1', 'd2']);
  });

  it('is done when running with the same name and nodes, in any order', () => {
    const facts = { corosync: { name: 'lvs', nodes: ['d1', 'd2'] }, members: ['d2', 'd1'] };
    assert.deepEqual(judgeCluster(facts, 'lvs', ['d1', 'd2']), { kind: 'running' });
  });

  it('needs only auth, start and enable when corosync.conf is ours but nothing runs', () => {
    assert.deepEqual(judgeCluster({ corosync: { name: 'lvs', nodes: ['d1', 'd2'] }, members: undefined }, 'lvs', ['d2', 'd1']), { kind: 'configured' });
    assert.deepEqual(judgeCluster({ corosync: undefined, members: undefined }, 'lvs', ['d1', 'd2']), { kind: 'absent' });
  });

  it('refuses to touch another cluster, naming what it found', () => {
    const other = judgeCluster({ corosync: { name: 'web', nodes: ['d1', 'd2'] }, members: ['d1', 'd2'] }, 'lvs', ['d1', 'd2']);
    assert.equal(other.kind, 'conflict');
    assert.match((other as { why: string }).why, /already configured for cluster web with nodes d1, d2 .*not cluster lvs with nodes d1, d2/);
    const more = judgeCluster({ corosync: { name: 'lvs', nodes: ['d1', 'd2', 'd3'] }, members: undefined }, 'lvs', ['d1', 'd2']);
    assert.equal(more.kind, 'conflict');
    const members = judgeCluster({ corosync: { name: 'lvs', nodes: ['d1', 'd2'] }, members: ['d1', 'd3'] }, 'lvs', ['d1', 'd2']);
    assert.match((members as { why: string }).why, /pacemaker here knows nodes d1, d3, not d1, d2/);
  });
});
