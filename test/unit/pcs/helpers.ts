// Running `lvskit bootstrap` in-process: captured output and a System whose every answer the test
// chooses (pure logic only: the lab test runs the real pcs, cibadmin and pacemaker).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from '../../../src/exec/run';
import { type Io, runBootstrap, type System } from '../../../src/pcs/bootstrap';
import { Cib } from '../../../src/pcs/cib';
import { dialectOf } from '../../../src/pcs/dialect';
import type { ClusterFacts } from '../../../src/pcs/cluster';
import type { RawOptions } from '../../../src/pcs/options';

export const FIXTURES = join(__dirname, 'fixtures');
export const GOLDEN = join(__dirname, 'golden');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export function cibFixture(name: string): Cib {
  return Cib.parse(fixture(name));
}

export interface Captured {
  code: number | undefined;
  error: Error | undefined;
  out: string;
  err: string;
}

export async function bootstrapIn(raw: RawOptions, sys: System): Promise<Captured> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t) };
  try {
    const code = await runBootstrap(raw, io, sys);
    return { code, error: undefined, out, err };
  } catch (e) {
    return { code: undefined, error: e as Error, out, err };
  }
}

export interface PcsCall {
  args: string[];
  input: string | undefined;
}

/**
 * A machine whose pcs, CIB and cluster state the test sets. Each pcs call is recorded; `onPcs`
 * may change the CIB the way the real command would.
 */
export class FakeSystem implements System {
  calls: PcsCall[] = [];
  passwordAsked = 0;
  cibReads = 0;
  /** Files by path: what `pcs cluster cib FILE` saved (the CIB), copies, and what a test puts there. */
  files = new Map<string, string>();
  constructor(
    public cib: Cib | undefined,
    public facts: ClusterFacts,
    public opts: {
      version?: string;
      password?: string;
      onPcs?: (call: PcsCall, sys: FakeSystem) => Partial<RunResult> | void;
      /** The CIB text `pcs cluster cib FILE` saves (default: the serialised fixture given as `cibText`). */
      cibText?: string;
    } = {},
  ) {}
  detectPcs() {
    const version = this.opts.version ?? '0.11.5';
    return { version, dialect: dialectOf(version) };
  }
  clusterFacts() {
    return this.facts;
  }
  readCib() {
    this.cibReads++;
    if (!this.cib) throw new Error('no CIB in this fake');
    return this.cib;
  }
  cibAnswers() {
    return this.cib !== undefined;
  }
  readCibFile(path: string) {
    const text = this.files.get(path);
    if (text === undefined) throw new Error(`no file ${path} in this fake`);
    return Cib.parse(text);
  }
  tempDir() {
    return '/tmp/lvskit-bootstrap-test';
  }
  copyFile(from: string, to: string) {
    const text = this.files.get(from);
    if (text === undefined) throw new Error(`no file ${from} in this fake`);
    this.files.set(to, text);
  }
  runPcs(args: string[], input: string | undefined): RunResult {
    const call = { args, input };
    this.calls.push(call);
    if (args[0] === 'cluster' && args[1] === 'cib' && args[2] !== undefined) {
      if (this.opts.cibText === undefined) throw new Error('pcs cluster cib FILE but no cibText in this fake');
      this.files.set(args[2], this.opts.cibText);
    }
    return { code: 0, stdout: '', stderr: '', ...(this.opts.onPcs?.(call, this) ?? {}) };
  }
  async password() {
    this.passwordAsked++;
    if (this.opts.password === undefined) throw new Error('password asked but none set in this fake');
    return this.opts.password;
  }
  async sleep() {}
}

/** A System for dry runs with --pcs-version: anything it is asked is a bug. */
export const NO_SYSTEM: System = new Proxy({} as System, {
  get(_t, prop) {
    return () => {
      throw new Error(`a dry run with --pcs-version must not touch the system (called ${String(prop)})`);
    };
  },
});
