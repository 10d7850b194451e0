// User-Mode Linux as the lab kernel, booted over the host's own filesystem (lab.md).
// Commands travel as files: <dir>/ctl/queue/<id>.json in, <dir>/ctl/done/<id>.json out.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'esbuild';
import { DEFAULT_TIMEOUT_MS, type ExecResult, type ExecSpec, type Kernel } from './kernel';

export const UML_BINARY = '/usr/bin/linux.uml';
const BOOT_TIMEOUT_MS = 90_000;
const repoRoot = resolve(__dirname, '..');

export interface UmlOptions {
  memory?: string;
  /** Host paths the guest must see under their own names (the checkout is always added). */
  shares?: string[];
}

export class UmlKernel implements Kernel {
  readonly kind = 'uml';
  readonly workdir = '/tmp/lvskit-lab-work'; // guest tmpfs (the guest masks /tmp)
  private readonly dir: string;
  private readonly ctl: string;
  private child: ChildProcess | undefined;
  private exited = false;
  private seq = 0;
  private beat: NodeJS.Timeout | undefined;

  private constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'lvskit-uml-'));
    this.ctl = join(this.dir, 'ctl');
    mkdirSync(join(this.ctl, 'queue'), { recursive: true });
    mkdirSync(join(this.ctl, 'done'), { recursive: true });
  }

  static async boot(options: UmlOptions = {}): Promise<UmlKernel> {
    const uml = new UmlKernel();
    try {
      await uml.start(options);
    } catch (err) {
      await uml.close();
      throw err;
    }
    return uml;
  }

  private async start(options: UmlOptions): Promise<void> {
    if (!existsSync(UML_BINARY)) throw new Error(`${UML_BINARY} is missing: install Debian's user-mode-linux`);
    await build({
      entryPoints: [join(__dirname, 'guest', 'agent.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node18',
      outfile: join(this.dir, 'agent.cjs'),
      logLevel: 'warning',
    });
    this.touch();
    this.beat = setInterval(() => this.touch(), 2000);
    this.beat.unref();

    const shares = [repoRoot, ...(options.shares ?? [])].join(':');
    const console = openSync(join(this.dir, 'console.log'), 'a');
    this.child = spawn(
      UML_BINARY,
      [
        `mem=${options.memory ?? '2G'}`,
        'rootfstype=hostfs',
        'rootflags=/',
        'rw',
        `init=${join(__dirname, 'guest', 'init.sh')}`,
        `lab_dir=${this.dir}`,
        `lab_shares=${shares}`,
        `uml_dir=${this.dir}`,
        'con=null',
        'con0=null,fd:2',
      ],
      // UML backs its memory with a file in TMPDIR and keeps its umid under HOME; both stay in this lab's directory.
      { detached: true, stdio: ['ignore', console, console], env: { PATH: '/usr/bin:/bin', TMPDIR: this.dir, HOME: this.dir } },
    );
    this.child.once('exit', () => {
      this.exited = true;
    });
    process.once('exit', this.killNow);

    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    while (!existsSync(join(this.ctl, 'ready'))) {
      if (this.exited) throw new Error(`UML exited during boot:\n${this.diagnostics()}`);
      if (Date.now() > deadline) throw new Error(`UML did not boot within ${BOOT_TIMEOUT_MS / 1000} s:\n${this.diagnostics()}`);
      await sleep(50);
    }
  }

  private touch(): void {
    const path = join(this.ctl, 'alive');
    const now = new Date();
    try {
      utimesSync(path, now, now);
    } catch {
      writeFileSync(path, '');
    }
  }

  /** The tail of the guest's init log and of the UML console, for error messages. */
  diagnostics(): string {
    const tail = (file: string) => {
      try {
        return readFileSync(join(this.dir, file), 'utf8').split('\n').slice(-30).join('\n');
      } catch {
        return '(none)';
      }
    };
    return `--- guest.log\n${tail('guest.log')}\n--- console.log\n${tail('console.log')}`;
  }

  private submit(job: object): string {
    const id = `${process.pid}-${String(++this.seq).padStart(8, '0')}`;
    const tmp = join(this.ctl, 'queue', `.${id}.tmp`);
    writeFileSync(tmp, JSON.stringify({ ...job, id }));
    renameSync(tmp, join(this.ctl, 'queue', `${id}.json`));
    return id;
  }

  async exec(spec: ExecSpec): Promise<ExecResult> {
    if (this.exited || !this.child) throw new Error(`the UML lab is not running:\n${this.diagnostics()}`);
    const id = this.submit(spec);
    const result = join(this.ctl, 'done', `${id}.json`);
    // The guest enforces the timeout; this guard only catches a guest that died.
    const deadline = Date.now() + (spec.timeoutMs ?? DEFAULT_TIMEOUT_MS) + 30_000;
    let wait = 2;
    for (;;) {
      if (existsSync(result)) {
        const r = JSON.parse(readFileSync(result, 'utf8')) as ExecResult;
        rmSync(result, { force: true });
        return r;
      }
      if (this.exited) throw new Error(`UML exited while running ${spec.argv.join(' ')}:\n${this.diagnostics()}`);
      if (Date.now() > deadline) throw new Error(`no answer from the UML guest for ${spec.argv.join(' ')}:\n${this.diagnostics()}`);
      await sleep(wait);
      wait = Math.min(wait * 2, 20);
    }
  }

  private readonly killNow = (): void => {
    if (this.child?.pid !== undefined) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };

  async close(): Promise<void> {
    if (this.beat) clearInterval(this.beat);
    if (this.child && !this.exited) {
      this.submit({ argv: [], shutdown: true });
      const deadline = Date.now() + 15_000;
      while (!this.exited && Date.now() < deadline) await sleep(50);
      this.exited = true;
    }
    // UML leaves helper processes in its group; take them all down.
    this.killNow();
    process.removeListener('exit', this.killNow);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
