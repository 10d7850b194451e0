// This node's quorum as it changes, for the lvs agent's VIP watcher: a partition that loses quorum
// gives the VIP up at once instead of when pacemaker's demote gets there. corosync's own
// notifications through `corosync-quorumtool -m`: it prints its status block at start and at every
// membership change, quorum with it (a loss without a membership change, such as a quorum device's
// vote timing out, shows only at the next one; pacemaker's demote covers it); stdbuf makes it flush
// each line into the pipe. And the cluster's no-quorum-policy, which says whether pacemaker takes the
// VIP away from a partition without quorum at all.
import { type ChildProcess, spawn } from 'node:child_process';
import { onLines } from '../exec/lines';
import { runAsync, which } from '../exec/run';

/** A `corosync-quorumtool -m` that ran this long before it ended was working. */
const LONG_RUN_MS = 60_000;

/** `Quorate: Yes|No` of a corosync-quorumtool status line; undefined for any other line. */
export function quorateIn(line: string): boolean | undefined {
  const m = /^Quorate:\s+(Yes|No)\s*$/.exec(line);
  return m ? m[1] === 'Yes' : undefined;
}

/** Follows this node's quorum; `onChange` gets the first state and every change. Restarts the tool if it ends. */
export class QuorumWatch {
  private child?: ChildProcess;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private last?: boolean;
  private failures = 0;

  private constructor(
    private readonly argv: [string, ...string[]],
    private readonly onChange: (quorate: boolean) => void,
    private readonly onError: (message: string) => void,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** undefined when corosync-quorumtool or stdbuf is not installed. */
  static start(onChange: (quorate: boolean) => void, onError: (message: string) => void, env: NodeJS.ProcessEnv = process.env): QuorumWatch | undefined {
    const tool = which('corosync-quorumtool', env);
    const stdbuf = which('stdbuf', env);
    if (!tool || !stdbuf) return undefined;
    const w = new QuorumWatch([stdbuf, '-oL', tool, '-m'], onChange, onError, env);
    w.run();
    return w;
  }

  private run(): void {
    if (this.closed) return;
    const [file, ...args] = this.argv;
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: this.env });
    this.child = child;
    let err = '';
    onLines(child.stdout!, (line) => {
      const q = quorateIn(line);
      if (q === undefined) return;
      if (q !== this.last) {
        this.last = q;
        this.onChange(q);
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (err = (err + d).slice(-500)));
    child.once('error', (e) => this.onError(`corosync-quorumtool -m: ${e.message}`));
    const started = Date.now();
    child.once('close', (code, signal) => {
      if (this.closed) return;
      // corosync not running (yet), or no quorum provider (the tool prints once and exits): say so
      // once, then try again now and then. A child that ran for a while was no failure.
      if (Date.now() - started > LONG_RUN_MS) this.failures = 0;
      this.failures++;
      if (this.failures === 1) this.onError(`corosync-quorumtool -m ended (${signal ?? `exit ${code}`}${err.trim() ? `: ${err.trim()}` : ''}); retrying`);
      this.timer = setTimeout(() => this.run(), this.failures === 1 ? 1000 : 30_000);
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.child?.kill('SIGTERM');
  }
}

/** crm_attribute's exit status for a property that is not set (CRM_EX_NOSUCH). */
const NOT_SET = 105;

/** The cluster's no-quorum-policy; pacemaker's default, stop, when it is not set; undefined when it cannot be read. */
export async function noQuorumPolicy(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const tool = which('crm_attribute', env) ?? 'crm_attribute';
  const r = await runAsync(tool, ['--type', 'crm_config', '--name', 'no-quorum-policy', '--query', '--quiet'], { env, timeoutMs: 10_000 });
  return policyOf(r.code, r.stdout);
}

export function policyOf(code: number | null, stdout: string): string | undefined {
  const v = stdout.trim().toLowerCase();
  if (code === 0 && /^[a-z]+$/.test(v)) return v;
  return code === NOT_SET ? 'stop' : undefined;
}

/** Whether pacemaker takes the promoted role away from a partition without quorum under this policy. */
export function policyGivesUp(policy: string): boolean {
  return policy !== 'ignore' && policy !== 'freeze';
}
