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
import type { SafetyProbes } from '../../../src/pcs/safety';

export const FIXTURES = join(__dirname, 'fixtures');
export const GOLDEN = join(__dirname, 'golden');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export function cibFixture(name: string): Cib {
  return Cib.parse(fixture(name));
}

/** A CIB's text with a cluster property added the way `pcs property set` writes it. */
export function withProperty(xml: string, name: string, value: string): string {
  const out = xml.replace('</cluster_property_set>', `  <nvpair id="cib-bootstrap-options-${name}" name="${name}" value="${value}"/>\n      </cluster_property_set>`);
  if (out === xml) throw new Error('no cluster_property_set in this CIB');
  return out;
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

/** A fence agent's meta-data as stonith_admin prints it, with these parameters. */
export function fenceMetadata(agent: string, params: string[]): string {
  return `<?xml version="1.0" ?>\n<resource-agent name="${agent}" shortdesc="test agent">\n<parameters>\n${params.map((p) => `\t<parameter name="${p}"><content type="string"/></parameter>\n`).join('')}</parameters>\n</resource-agent>\n`;
}

/** Safety probes whose answers the test sets (defaults: every agent exists with these parameters, every host answers); each call is recorded. */
export class FakeProbes implements SafetyProbes {
  asked: string[] = [];
  constructor(
    public answers: {
      agents?: Record<string, string[]>;
      /** Host to the reason a connect fails. */
      unreachable?: Record<string, string>;
      missingPrograms?: string[];
    } = {},
  ) {}
  fenceAgentMetadata(agent: string) {
    this.asked.push(`metadata ${agent}`);
    const params = (this.answers.agents ?? { fence_xvm: ['port', 'key_file', 'multicast_address'] })[agent];
    return params ? { xml: fenceMetadata(agent, params) } : { error: `Agent ${agent} not found or does not support meta-data: Invalid argument (22)` };
  }
  async tcpConnect(host: string, port: number) {
    this.asked.push(`connect ${host}:${port}`);
    return this.answers.unreachable?.[host];
  }
  hasProgram(name: string) {
    this.asked.push(`which ${name}`);
    return !(this.answers.missingPrograms ?? []).includes(name);
  }
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
  /** Directories removeDir removed. */
  removed: string[] = [];
  safety: FakeProbes;
  constructor(
    public cib: Cib | undefined,
    public facts: ClusterFacts,
    public opts: {
      version?: string;
      password?: string;
      onPcs?: (call: PcsCall, sys: FakeSystem) => Partial<RunResult> | void;
      /** The CIB text `pcs cluster cib FILE` saves (default: the serialised fixture given as `cibText`). */
      cibText?: string;
      probes?: FakeProbes;
    } = {},
  ) {
    this.safety = opts.probes ?? new FakeProbes();
  }
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
  removeDir(path: string) {
    this.removed.push(path);
    for (const f of [...this.files.keys()]) if (f.startsWith(`${path}/`)) this.files.delete(f);
  }
  runPcs(args: string[], input: string | undefined): RunResult {
    const call = { args, input };
    this.calls.push(call);
    // Without cibText, onPcs saves the CIB (or readCibFile finds no file).
    if (args[0] === 'cluster' && args[1] === 'cib' && args[2] !== undefined && this.opts.cibText !== undefined) this.files.set(args[2], this.opts.cibText);
    return { code: 0, stdout: '', stderr: '', ...(this.opts.onPcs?.(call, this) ?? {}) };
  }
  async password() {
    this.passwordAsked++;
    if (this.opts.password === undefined) throw new Error('password asked but none set in this fake');
    return this.opts.password;
  }
  async sleep() {}
}

/**
 * A fake whose CIB moves on one state per changing pcs call, as the real one would: on the live CIB,
 * or with `pcs -f FILE` on the file, which `pcs cluster cib-push FILE` makes the live CIB.
 */
export function evolvingSystem(states: string[], facts: ClusterFacts, opts: ConstructorParameters<typeof FakeSystem>[2] = {}): FakeSystem {
  let n = 0;
  return new FakeSystem(Cib.parse(states[0]!), facts, {
    ...opts,
    onPcs: (c, sys) => {
      const r = opts.onPcs?.(c, sys);
      const file = c.args[0] === '-f' ? c.args[1] : undefined;
      const [cmd, sub, arg] = file ? c.args.slice(2) : c.args;
      if (cmd === 'cluster' && sub === 'cib' && arg) sys.files.set(arg, states[n]!);
      if (cmd === 'cluster' && sub === 'cib-push' && arg) sys.cib = Cib.parse(sys.files.get(arg)!);
      if (cmd === 'property' || cmd === 'resource' || cmd === 'constraint') {
        n = Math.min(n + 1, states.length - 1);
        if (file) sys.files.set(file, states[n]!);
        else sys.cib = Cib.parse(states[n]!);
      }
      return r;
    },
  });
}

/** A System for dry runs with --pcs-version: anything it is asked is a bug. */
export const NO_SYSTEM: System = new Proxy({} as System, {
  get(_t, prop) {
    return () => {
      throw new Error(`a dry run with --pcs-version must not touch the system (called ${String(prop)})`);
    };
  },
});
