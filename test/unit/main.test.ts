import assert from 'node:assert/strict';
import { roleOf } from '../../src/main';

describe('main: multi-call dispatch by invoked name', () => {
  it('maps the OCF and ldirectord names to their roles', () => {
    assert.equal(roleOf('lvs'), 'lvs');
    assert.equal(roleOf('lvsd'), 'lvsd');
    assert.equal(roleOf('ldirectord'), 'ldirectord');
  });

  it('treats any other name as lvskit', () => {
    for (const name of ['lvskit', 'node', 'lvskit-0.1.0', 'LVS', 'lvs.sh']) assert.equal(roleOf(name), 'lvskit', name);
  });
});
