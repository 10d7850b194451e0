import assert from 'node:assert/strict';
import { mergeThresholds, parseSaved, renderChanges } from '../../../src/ipvs/ipvsadm';
import { addressService, fwmarkService } from '../../../src/ipvs/service';

const WEB = addressService('tcp', '198.51.100.100', 80);
const DNS = addressService('udp', '198.51.100.100', 53);

// Captured from ipvsadm 1.31 on Linux 6.1 (UML lab) after adding these rules.
const SAVED = `-A -t 198.51.100.100:80 -s lc
-a -t 198.51.100.100:80 -r 198.51.100.1:80 -g -w 3
-a -t 198.51.100.100:80 -r 198.51.100.21:80 -g -w 5
-a -t 198.51.100.100:80 -r 198.51.100.22:8080 -m -w 3
-A -t 198.51.100.100:443 -s sh -p 360 -b sh-fallback,sh-port
-A -u 198.51.100.100:53 -s wrr -p 300 -M 255.255.255.0 -o
-A -t [2001:db8::100]:80 -s wlc -p 60 -M 64
-a -t [2001:db8::100]:80 -r [2001:db8::21]:80 -g -w 1
-A -f 7 -s rr
-a -f 7 -r 198.51.100.23:0 -i -w 2 --tun-type ipip
-A -f 8 -6 -s rr
`;
const THRESHOLDS = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn 
  -> RemoteAddress:Port
TCP  198.51.100.100:80 lc
  -> 198.51.100.1:80              0          0          0          0         
  -> 198.51.100.21:80             10         2          4          7         
  -> 198.51.100.22:8080           0          0          0          0         
FWM  7 rr
  -> 198.51.100.23:0              0          0          0          0         
FWM  8 IPv6 rr
`;

describe('ipvs/ipvsadm: reading and writing ipvsadm rules', () => {
  it('parses every service form ipvsadm -S prints', () => {
    const t = parseSaved(SAVED);
    assert.deepEqual([...t.keys()], ['tcp 198.51.100.100:80', 'tcp 198.51.100.100:443', 'udp 198.51.100.100:53', 'tcp [2001:db8::100]:80', 'fwmark 7', 'fwmark 8 ipv6']);
    assert.deepEqual(t.get('udp 198.51.100.100:53')!.spec, { id: DNS, scheduler: 'wrr', persistent: 300, netmask: '255.255.255.0', ops: true });
    assert.deepEqual(t.get('tcp [2001:db8::100]:80')!.spec.id, { protocol: 'tcp', family: 6, address: '2001:db8::100', port: 80 });
    assert.deepEqual(t.get('fwmark 8 ipv6')!.spec.id, { protocol: 'fwmark', family: 6, mark: 8 });
    assert.equal(t.get('tcp 198.51.100.100:443')!.spec.schedflags, 'sh-fallback,sh-port');
    assert.equal(t.get('tcp [2001:db8::100]:80')!.spec.netmask, '64');
  });

  it('parses destinations with their forwarding method and weight', () => {
    const t = parseSaved(SAVED);
    const web = t.get('tcp 198.51.100.100:80')!.dests;
    assert.equal(web.size, 3);
    assert.deepEqual(
      [...web.values()].map((d) => [d.target, d.forward, d.weight]),
      [['198.51.100.1:80', 'gate', 3], ['198.51.100.21:80', 'gate', 5], ['198.51.100.22:8080', 'masq', 3]],
    );
    assert.equal(t.get('fwmark 7')!.dests.get('198.51.100.23:0')!.forward, 'ipip');
  });

  it('adds thresholds and connection counts from the --thresholds listing', () => {
    const t = parseSaved(SAVED);
    mergeThresholds(t, THRESHOLDS);
    const d = t.get('tcp 198.51.100.100:80')!.dests.get('198.51.100.21:80')!;
    assert.deepEqual([d.uthreshold, d.lthreshold, d.activeConns, d.inactConns], [10, 2, 4, 7]);
  });

  it('renders changes as ipvsadm -R lines, thresholds always explicit', () => {
    const lines = renderChanges([
      { op: 'add-service', service: { id: WEB, scheduler: 'lc', ops: false } },
      { op: 'edit-service', service: { id: DNS, scheduler: 'wrr', persistent: 300, netmask: '255.255.255.0', ops: true } },
      { op: 'add-dest', id: WEB, dest: { target: '198.51.100.21:80', forward: 'gate', weight: 1, uthreshold: 0, lthreshold: 0 } },
      { op: 'edit-dest', id: fwmarkService(7), dest: { target: '198.51.100.23:0', forward: 'ipip', weight: 0, uthreshold: 5, lthreshold: 1 } },
      { op: 'delete-dest', id: WEB, target: '198.51.100.22:8080' },
      { op: 'delete-service', id: fwmarkService(8, 6) },
    ]);
    assert.deepEqual(lines, [
      '-A -t 198.51.100.100:80 -s lc',
      '-E -u 198.51.100.100:53 -s wrr -p 300 -M 255.255.255.0 -o',
      '-a -t 198.51.100.100:80 -r 198.51.100.21:80 -g -w 1 -x 0 -y 0',
      '-e -f 7 -r 198.51.100.23:0 -i -w 0 -x 5 -y 1',
      '-d -t 198.51.100.100:80 -r 198.51.100.22:8080',
      '-D -f 8 -6',
    ]);
  });
});
