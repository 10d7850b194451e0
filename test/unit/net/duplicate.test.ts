import assert from 'node:assert/strict';
import { parseProbeOutput } from '../../../src/net/duplicate';

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
});
