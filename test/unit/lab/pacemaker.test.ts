import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allOnline, nodesIn, parsePacemakerLog, promotedNode, summary, zoneMs } from '../../../lab/pacemaker';
import { parseCrmMon } from '../../../src/status/collect';

// The same capture of pacemaker 2.1.5's crm_mon XML that `lvskit status` is tested on.
const XML = readFileSync(join(__dirname, '..', 'status', 'fixtures', 'crm_mon-2.1.5.xml'), 'utf8');

describe('lab/pacemaker: crm_mon and the detail log read back', () => {
  it('finds roles, the promoted node and who is online in crm_mon XML (the product\'s parser)', () => {
    const v = parseCrmMon(XML);
    assert.deepEqual(nodesIn(v, 'st', 'Promoted'), ['d1']);
    assert.equal(promotedNode(v, 'st'), 'd1');
    assert.equal(promotedNode(v, 'vip'), undefined, 'a stopped primitive is promoted nowhere');
    assert.equal(allOnline(v, ['d1']), true);
    assert.equal(allOnline(v, ['d1', 'd2']), false);
    assert.equal(summary(v), 'nodes d1; DC d1; bad:Started@d1 vip:Stopped@- st:Promoted@d1; failed actions: vip_start_0@d1: not configured ([findif] failed)');
  });

  it('dates the detail log\'s lines (local time, no year) on the lab clock', () => {
    const text = [
      'Dec 02 10:00:01.234 d1 pacemaker-controld  [812] (do_lrm_rsc_op) 	notice: Requesting local execution of promote operation for lvs on d1 | transition_key=1',
      '  continuation without a time stamp',
      'Dec  2 10:00:02.500 d1 pacemaker-controld  [812] (log_executor_event) 	notice: Result of promote operation for lvs on d1: ok | call=40',
    ].join('\n');
    const lines = parsePacemakerLog(text, { year: 2026, zoneMs: zoneMs('+0100') });
    assert.deepEqual(lines.map((l) => l.at), [Date.UTC(2026, 11, 2, 9, 0, 1, 234), Date.UTC(2026, 11, 2, 9, 0, 2, 500)]);
    assert.match(lines[1]!.text, /^d1 pacemaker-controld .*Result of promote operation for lvs on d1: ok/);
    assert.equal(zoneMs('-0530'), -(5 * 60 + 30) * 60_000);
    assert.throws(() => zoneMs('UTC'), /not a UTC offset: 'UTC'/);
  });
});
