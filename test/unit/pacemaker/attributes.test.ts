import assert from 'node:assert/strict';
import { parseNodeAttribute } from '../../../src/pacemaker/attributes';

describe('pacemaker/attributes: permanent node attributes from the CIB', () => {
  it("reads one attribute of every node from cibadmin --query --scope nodes", () => {
    const xml = `<nodes>
  <node id="1" uname="d1"><instance_attributes id="nodes-1"><nvpair id="nodes-1-lvs-mac-eth0" name="lvs-mac-eth0" value="02:00:00:00:00:11"/></instance_attributes></node>
  <node id="2" uname="d2"><instance_attributes id="nodes-2"><nvpair id="nodes-2-x" name="x" value="1"/><nvpair id="nodes-2-lvs-mac-eth0" name="lvs-mac-eth0" value="02:00:00:00:00:12"/></instance_attributes></node>
  <node id="3" uname="d3"/>
</nodes>`;
    assert.deepEqual([...parseNodeAttribute(xml, 'lvs-mac-eth0')], [['d1', '02:00:00:00:00:11'], ['d2', '02:00:00:00:00:12']]);
  });
});
