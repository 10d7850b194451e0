// A kernel the lab runs commands on: the host's own (when it has IPVS) or a User-Mode Linux guest.
// Everything above this interface (topologies, tests) is the same on both.

export interface ExecSpec {
  argv: string[];
  env?: Record<string, string>;
  stdin?: string;
  /** Kill the command (and its process group) after this long. Default 60 s. */
  timeoutMs?: number;
  /** Start it in the background and return at once; output goes to `log` (a path on that kernel). */
  detach?: boolean;
  log?: string;
}

export interface ExecResult {
  argv: string[];
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** For detached commands: the pid on that kernel. */
  pid?: number;
  /** Could not be started at all (no such program, ...). */
  error?: string;
}

export interface Kernel {
  /** 'host' or 'uml'. */
  readonly kind: string;
  /** A writable directory on that kernel, private to this lab, gone after close(). */
  readonly workdir: string;
  exec(spec: ExecSpec): Promise<ExecResult>;
  close(): Promise<void>;
}

export const BASE_ENV: Record<string, string> = {
  PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
  LC_ALL: 'C',
  HOME: '/root',
};

export const DEFAULT_TIMEOUT_MS = 60_000;

export function describe(r: ExecResult): string {
  const status = r.error ?? (r.timedOut ? 'timed out' : r.signal ? `signal ${r.signal}` : `exit ${r.code}`);
  return `${r.argv.join(' ')}: ${status}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/** exec() that throws unless the command exited 0; returns stdout. */
export async function check(kernel: Kernel, spec: ExecSpec): Promise<string> {
  const r = await kernel.exec(spec);
  if (r.code !== 0) throw new Error(`command failed on the ${kernel.kind} lab kernel: ${describe(r)}`);
  return r.stdout;
}
