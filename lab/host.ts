// The host kernel as the lab kernel: used when it has IPVS (`modprobe ip_vs` works).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecResult, ExecSpec, Kernel } from './kernel';
import { runSpec } from './guest/runner';

export class HostKernel implements Kernel {
  readonly kind = 'host';
  readonly workdir = mkdtempSync(join(tmpdir(), 'lvskit-lab-'));

  exec(spec: ExecSpec): Promise<ExecResult> {
    return runSpec(spec);
  }

  async close(): Promise<void> {
    rmSync(this.workdir, { recursive: true, force: true });
  }
}
