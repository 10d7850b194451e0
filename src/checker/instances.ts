// ldirectord's `execute`: other configurations started, stopped and reloaded along with this one.
// As ldirectord (ld_cmd_children), each is commanded through the ldirectord command line,
// `ldirectord NAME start|stop|reload`, one after the other; here without blocking the checks.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { findConfig } from '../ldirectord/cli';
import type { LogLevel } from './engine';
import { selfCommand } from './process';

/** `ldirectord NAME start` waits up to 60 s for that lvsd to run; a little more for the command. */
const COMMAND_TIMEOUT_MS = 90_000;

export type InstanceCommand = 'start' | 'stop' | 'reload' | 'status';

export interface InstanceResult {
  code: number | null;
  output: string;
}

/** Runs `ldirectord NAME COMMAND` with this binary; never throws. */
export function commandInstance(name: string, command: InstanceCommand, timeoutMs = COMMAND_TIMEOUT_MS): Promise<InstanceResult> {
  const { file, args } = selfCommand([name, command]);
  return new Promise((done) => {
    const child = spawn(file, args, { argv0: 'ldirectord', cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (b: Buffer) => {
      if (output.length < 2048) output += b.toString();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      done({ code: null, output: e.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output: output.trim() });
    });
  });
}

type Log = (level: LogLevel, message: string) => void;

/** Whether an execute name is the configuration `self` (found as ldirectord finds its files). */
export function namesItself(name: string, self: string): boolean {
  return resolve(findConfig(name)) === resolve(self);
}

/**
 * The instances of one running lvsd: what its file's execute lines name, minus the file itself.
 * Commands run one at a time, in the order asked (a stop waits for a start still under way).
 */
export class Instances {
  private queue = Promise.resolve();

  constructor(
    /** This lvsd's own configuration file: an execute naming it would start a second lvsd on it. */
    private readonly self: string,
    private readonly log: Log,
    private readonly run: typeof commandInstance = commandInstance,
  ) {}

  private others(names: readonly string[]): string[] {
    return names.filter((n) => {
      const same = namesItself(n, this.self);
      if (same) this.log('warning', `execute ${n}: that is this configuration itself; not started again`);
      return !same;
    });
  }

  private async one(name: string, command: InstanceCommand): Promise<boolean> {
    const r = await this.run(name, command);
    if (r.code === 0) this.log('info', `execute: ldirectord ${name} ${command}: done`);
    else this.log(command === 'reload' ? 'debug' : 'error', `execute: ldirectord ${name} ${command} failed (${r.code === null ? 'did not finish' : `exit ${r.code}`})${r.output ? `: ${r.output.split('\n')[0]}` : ''}`);
    return r.code === 0;
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(work);
    return this.queue;
  }

  private async each(names: readonly string[], command: InstanceCommand): Promise<void> {
    for (const n of this.others(names)) await this.one(n, command);
  }

  start(names: readonly string[]): Promise<void> {
    return this.enqueue(() => this.each(names, 'start'));
  }

  stop(names: readonly string[]): Promise<void> {
    return this.enqueue(() => this.each(names, 'stop'));
  }

  /** As ldirectord's reread_config: stop the ones gone, reload (or else start) the kept ones, start the new ones. */
  reload(before: readonly string[], after: readonly string[]): Promise<void> {
    return this.enqueue(async () => {
      await this.each(before.filter((n) => !after.includes(n)), 'stop');
      for (const n of this.others(after.filter((x) => before.includes(x)))) {
        if (!(await this.one(n, 'reload'))) await this.one(n, 'start');
      }
      await this.each(after.filter((n) => !before.includes(n)), 'start');
    });
  }
}
