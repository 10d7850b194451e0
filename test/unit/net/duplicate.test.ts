import assert from 'node:assert/strict';
import { parseProbeOutput, probeCommand, probeFinished } from '../../../src/net/duplicate';

describe('net/duplicate: who answers for the VIP', () => {
  it('reads the MACs of iputils arping -D replies (captured from arping 20221126)', () => {
    const out = 'ARPING 198.51.100.100 from 0.0.0.0 dpa\nUnicast reply from 198.51.100.100 [F6:49:B2:8D:10:63]  0.528ms\nSent 1 probes (1 broadcast(s))\nReceived 1 response(s)\n';
    assert.deepEqual(parseProbeOutput(out), ['f6:49:b2:8d:10:63']);
    assert.deepEqual(parseProbeOutput('ARPING 198.51.100.100 from 0.0.0.0 dpa\nSent 1 probes (1 broadcast(s))\nReceived 0 response(s)\n'), []);
  });

  it('reads every answer of an ordinary arping request, as an unpromoted director asks (captured from arping 20221126, two hosts holding the address)', () => {
    const out = 'ARPING 198.18.0.100 from 198.18.0.1 eth0\nUnicast reply from 198.18.0.100 [D6:B2:90:57:82:B9]  0.566ms\nUnicast reply from 198.18.0.100 [46:07:8D:13:57:C4]  0.595ms\nSent 1 probes (1 broadcast(s))\nReceived 2 response(s)\n';
    assert.deepEqual(parseProbeOutput(out), ['d6:b2:90:57:82:b9', '46:07:8d:13:57:c4']);
  });

  it("reads ndisc6's target link-layer addresses, once each", () => {
    const out = 'Soliciting 2001:db8::100 (2001:db8::100) on eth0...\nTarget link-layer address: 02:00:00:00:00:0A\n from 2001:db8::11\nTarget link-layer address: 02:00:00:00:00:0b\n from 2001:db8::66\nTarget link-layer address: 02:00:00:00:00:0A\n';
    assert.deepEqual(parseProbeOutput(out), ['02:00:00:00:00:0a', '02:00:00:00:00:0b']);
  });

  it('asks for every answer from this host\'s own address, broadcast (never the VIP as sender), and knows a probe that ran to its end', () => {
    const tools = { arping: '/usr/sbin/arping', ndisc6: '/usr/bin/ndisc6' };
    assert.deepEqual(probeCommand('198.51.100.100', 4, 'eth0', tools, 1000, 'every', '198.51.100.12').args, ['-b', '-c', '2', '-w', '1', '-s', '198.51.100.12', '-I', 'eth0', '198.51.100.100']);
    assert.throws(() => probeCommand('198.51.100.100', 4, 'eth0', tools, 1000, 'every'), /own address/);
    assert.deepEqual(probeCommand('198.51.100.100', 4, 'eth0', tools).args, ['-D', '-c', '1', '-w', '1', '-I', 'eth0', '198.51.100.100']);
    assert.equal(probeFinished('ARPING 198.51.100.100 from 198.51.100.12 eth0\nSent 1 probes (1 broadcast(s))\nReceived 0 response(s)\n', 4), true);
    assert.equal(probeFinished('ARPING 198.51.100.100 from 198.51.100.12 eth0\n', 4), false);
    assert.equal(probeFinished('', 6), false);
    // Captured from ndisc6 1.0.5, nobody answering.
    assert.equal(probeFinished('Soliciting 2001:db8::101 (2001:db8::101) on eth0...\nTimed out.\nNo response.\n', 6), true);
  });
});
