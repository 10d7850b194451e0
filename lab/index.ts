// The lab: a kernel with IPVS (the host's if it has one, else User-Mode Linux) and topologies on it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { HostKernel } from './host';
import type { Kernel } from './kernel';
import { UmlKernel } from './uml';

export type { ExecResult, ExecSpec, Kernel } from './kernel';
export { check, describe } from './kernel';
export { Topology, defaultSpec, LAN, RING, vipsOf, type NodeSpec, type LabNode, type TopologySpec } from './topology';

/** True when the running kernel can do IPVS itself (module loads, or it is built in). */
export function hostHasIpvs(): boolean {
  const r = spawnSync('modprobe', ['-q', 'ip_vs'], { stdio: 'ignore' });
  return r.status === 0 && existsSync('/proc/net/ip_vs');
}

/**
 * Opens a lab kernel. LVSKIT_LAB=host|uml forces a backend; by default the host is used when it
 * has IPVS, User-Mode Linux otherwise.
 */
export async function openKernel(choice = process.env.LVSKIT_LAB): Promise<Kernel> {
  const backend = choice === 'host' || choice === 'uml' ? choice : hostHasIpvs() ? 'host' : 'uml';
  return backend === 'host' ? new HostKernel() : UmlKernel.boot();
}
