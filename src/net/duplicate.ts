// Who else answers for an address on the wire: ARP duplicate address detection (IPv4, iputils
// arping -D, sender 0.0.0.0), an ARP request from this host's address (to hear every answer), or a
// neighbour solicitation (IPv6, ndisc6). Every host that has the address on the link answers; a DR
// real server with the VIP on lo and ARP hidden does not, nor does this host (its own MACs are left
// out). One probe process and one to a few frames per call.
import { readFileSync } from 'node:fs';
import { runAsync } from '../exec/run';
import type { Family } from './address';

export interface ProbeResult {
  /** MACs (lower case) of other hosts answering for the address; empty when none. */
  macs: string[];
  /** The probe could not run (its program missing or failing): nothing is known. */
  error?: string;
}

export interface ProbeTools {
  /** iputils arping, for IPv4. */
  arping?: string;
  /** ndisc6 (package ndisc6), for IPv6. */
  ndisc6?: string;
}

export function ownMac(dev: string): string | undefined {
  try {
    return readFileSync(`/sys/class/net/${dev}/address`, 'utf8').trim().toLowerCase();
  } catch {
    return undefined;
  }
}

const MAC = /([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})/;

/** Whether a probe's output is that of a probe that ran to its end (arping's count of replies, ndisc6's first line). */
export function probeFinished(text: string, family: Family): boolean {
  return family === 4 ? /^Received \d+ response/m.test(text) : /^Soliciting /m.test(text);
}

/** MACs in arping -D's "Unicast reply from A [MAC]" lines, or ndisc6's "Target link-layer address: MAC". */
export function parseProbeOutput(text: string): string[] {
  const macs = new Set<string>();
  for (const line of text.split('\n')) {
    if (!/reply from|link-layer address/i.test(line)) continue;
    const m = MAC.exec(line);
    if (m) macs.add(m[1]!.toLowerCase());
  }
  return [...macs];
}

/**
 * `first`: whether anyone but this host answers (duplicate address detection, which stops at the first
 * answer: a promoted director needs one). `every`: every host that answers within the wait (an
 * unpromoted director needs two); IPv4 then asks as an ordinary ARP request from this host's address
 * and waits for two answers or the end of the wait.
 */
export type ProbeMode = 'first' | 'every';

/**
 * The probe's program and arguments; its output is read by parseProbeOutput. `every` over IPv4 needs
 * `source`, this host's own address on `dev`: left to arping, the kernel may pick the VIP itself (on lo
 * of an unpromoted director), and the request would be a gratuitous ARP moving the neighbours' entries.
 * `-b` keeps it a broadcast.
 */
export function probeCommand(address: string, family: Family, dev: string, tools: ProbeTools, waitMs = 1000, mode: ProbeMode = 'first', source?: string): { program?: string; args: string[]; missing: string } {
  if (family === 4) {
    const wait = String(Math.max(1, Math.ceil(waitMs / 1000)));
    if (mode === 'every' && source === undefined) throw new Error('an ARP probe for every answer needs this host\'s own address');
    const args = mode === 'first' ? ['-D', '-c', '1', '-w', wait, '-I', dev, address] : ['-b', '-c', '2', '-w', wait, '-s', source!, '-I', dev, address];
    return { ...(tools.arping ? { program: tools.arping } : {}), args, missing: 'arping (iputils-arping) is not installed' };
  }
  return { ...(tools.ndisc6 ? { program: tools.ndisc6 } : {}), args: ['-m', '-n', '-r', '1', '-w', String(waitMs), address, dev], missing: 'ndisc6 is not installed' };
}

export async function probeDuplicates(address: string, family: Family, dev: string, tools: ProbeTools, waitMs = 1000): Promise<ProbeResult> {
  const self = ownMac(dev);
  const { program, args, missing } = probeCommand(address, family, dev, tools, waitMs, 'first');
  if (!program) return { macs: [], error: missing };
  const r = await runAsync(program, args, { timeoutMs: waitMs + 3000 });
  // arping -D exits 1 when someone answered, arping 1 when fewer answered than asked for; ndisc6 exits 2 when nobody did.
  if (r.error || (r.code !== 0 && r.code !== 1 && r.code !== 2)) return { macs: [], error: `${program}: ${r.error ?? `exit ${r.code}`}: ${r.stderr.trim()}` };
  return { macs: parseProbeOutput(r.stdout).filter((m) => m !== self) };
}
