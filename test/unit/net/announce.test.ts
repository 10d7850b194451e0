import assert from 'node:assert/strict';
import { type Announcement, announceArgs } from '../../../src/net/announce';

const a: Announcement = { address: '198.51.100.100', family: 4, prefix: 32, dev: 'eth0', count: 5, intervalMs: 200, mode: 'request', program: '/usr/bin/arping', sender: 'arping', pidFile: '/run/x.pid' };

describe('net/announce: gratuitous ARP command lines', () => {
  it('uses arping -U for requests and -A for replies, the interval in whole seconds (iputils refuses 0.2)', () => {
    assert.deepEqual(announceArgs(a), ['-U', '-c', '5', '-i', '1', '-I', 'eth0', '198.51.100.100']);
    assert.deepEqual(announceArgs({ ...a, mode: 'reply', intervalMs: 2500 }).slice(0, 5), ['-A', '-c', '5', '-i', '3']);
  });

  it("speaks resource-agents' send_arp and send_ua", () => {
    assert.deepEqual(announceArgs({ ...a, sender: 'send_arp' }), ['-i', '200', '-r', '5', '-p', '/run/x.pid', 'eth0', '198.51.100.100', 'auto', 'not_used', 'not_used']);
    assert.deepEqual(announceArgs({ ...a, sender: 'send_ua', address: '2001:db8::1', family: 6, prefix: 64 }), ['-i', '200', '-c', '5', '2001:db8::1', '64', 'eth0']);
  });
});
