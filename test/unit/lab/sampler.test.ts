import assert from 'node:assert/strict';
import { changes, forwardingWhileRealServer, parseTicks, twoArpAnswers } from '../../../lab/sampler';

const VIP = '198.51.100.100';
const M1 = '02:00:00:00:00:01';
const M2 = '02:00:00:00:00:02';

/** One sampler line: d1 and d2 with the VIP where given, services where given. */
function line(t: number, d1: { dev?: string; svc?: boolean; link?: boolean }, d2: { dev?: string; svc?: boolean; link?: boolean }, arp: string[] = []): string {
  const node = (n: { dev?: string; svc?: boolean; link?: boolean }) => ({
    addr: n.dev ? [[VIP, n.dev]] : [],
    carrier: n.link === false ? ['lo'] : ['lo', 'eth0'],
    svc: n.svc ? [[VIP, 'TCP', 80, 3, 3]] : [],
  });
  return JSON.stringify({ t, nodes: { d1: node(d1), d2: node(d2) }, arp: { [VIP]: arp }, garp: { [VIP]: [] } });
}

describe('lab/sampler: the samples and the invariants of the hot standby', () => {
  it('reads the sampler\'s lines, skipping a half-written last one', () => {
    const text = `${line(1000, { dev: 'eth0', svc: true }, { dev: 'lo' }, [M1])}\n{"t":1100,"nod`;
    const [t, ...rest] = parseTicks(text);
    assert.equal(rest.length, 0);
    assert.deepEqual(t, {
      at: 1000,
      nodes: {
        d1: { addr: [{ vip: VIP, dev: 'eth0' }], carrier: ['lo', 'eth0'], services: [{ vip: VIP, protocol: 'TCP', port: 80, reals: 3, live: 3 }] },
        d2: { addr: [{ vip: VIP, dev: 'lo' }], carrier: ['lo', 'eth0'], services: [] },
      },
      arp: { [VIP]: [M1] },
      garp: { [VIP]: [] },
    });
  });

  it('flags a director with a service for a VIP it holds on lo while linked, and only that', () => {
    const ticks = parseTicks([
      line(1000, { dev: 'eth0', svc: true }, { dev: 'lo' }),
      line(1100, { dev: 'eth0', svc: true }, { dev: 'lo', svc: true }),
      line(1200, { dev: 'lo', svc: true, link: false }, { dev: 'eth0', svc: true }),
      line(1300, { svc: true }, { dev: 'eth0', svc: true }),
    ].join('\n'));
    assert.deepEqual(forwardingWhileRealServer(ticks, VIP), [{ at: 1100, what: `d2 has TCP ${VIP}:80 (3/3 reals live) with ${VIP} on lo` }]);
  });

  it('flags two MACs answering ARP for the VIP', () => {
    const ticks = parseTicks([line(1000, {}, {}, [M1]), line(1100, {}, {}, [M1, M2]), line(1200, {}, {}, [])].join('\n'));
    const names: Record<string, string> = { [M1]: 'd1', [M2]: 'd2' };
    assert.deepEqual(twoArpAnswers(ticks, VIP, (m) => names[m] ?? m), [{ at: 1100, what: `d1 and d2 answered ARP for ${VIP}` }]);
  });

  it('lists what changed, for timelines', () => {
    const ticks = parseTicks([
      line(1000, { dev: 'eth0', svc: true }, { dev: 'lo' }, [M1]),
      line(1100, { dev: 'eth0', svc: true, link: false }, { dev: 'lo' }, []),
      line(1200, { svc: true, link: false }, { dev: 'eth0', svc: true }, [M2]),
    ].join('\n'));
    const c = changes(ticks, VIP).filter((x) => x.at > 1000).map((x) => `${x.at} ${x.node}: ${x.what}`);
    assert.deepEqual(c, [
      '1100 d1: eth0 link down',
      `1200 d1: ${VIP} on no interface`,
      `1200 d2: ${VIP} on eth0`,
      `1200 d2: IPVS: 1 service(s), 3 live real(s) for ${VIP}`,
      `1200 client: ${M2} answer(s) ARP for ${VIP}`,
    ]);
  });
});
