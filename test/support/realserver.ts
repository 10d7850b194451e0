// `lvskit realserver` on a lab real server, as the realserver lab tests call it.
import assert from 'node:assert/strict';
import type { ExecResult, Topology } from '../../lab';
import { show } from './lvs-agent';

export const STATE = '/run/lvskit/realserver.json';

/** The ARP sysctls found before up: neither the defaults nor what up sets, so "restored" cannot pass by coincidence. */
export const FOUND: Readonly<Record<string, string>> = {
  'net.ipv4.conf.all.arp_ignore': '0',
  'net.ipv4.conf.all.arp_announce': '1',
  'net.ipv4.conf.lo.arp_ignore': '3',
  'net.ipv4.conf.lo.arp_announce': '1',
};

/** realserver on a node: rs() runs it, expect() also asserts its exit code, stateFile() reads its state ('' when none). */
export function realserverCli(topo: () => Topology, node = 'r1') {
  const rs = (...args: string[]): Promise<ExecResult> => topo().exec(node, [topo().spec.binary, 'realserver', ...args]);
  const expect = async (code: number, ...args: string[]): Promise<ExecResult> => {
    const r = await rs(...args);
    assert.equal(r.code, code, `realserver ${args.join(' ')}: expected exit ${code}\n${show(r)}`);
    return r;
  };
  const stateFile = async (): Promise<string> => (await topo().exec(node, ['cat', STATE])).stdout;
  return { rs, expect, stateFile };
}
