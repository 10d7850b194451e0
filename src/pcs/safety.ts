// A safe director cluster: a quorum device on a third host (corosync-qnetd), the operator's fence
// device, and the no-quorum-policy that makes a partition without quorum give up the VIP. The
// options, their steps, and the checks made before bootstrap changes anything.
import { connect } from 'node:net';
import { run, which } from '../exec/run';
import { LvskitError, UsageError } from '../errors';
import { ipFamily } from '../net/address';
import { type Cib, children, nvpairs, parseXml } from './cib';
import type { CorosyncConf } from './cluster';
import { atLeast, type Dialect } from './dialect';
import { agentOf, HACLUSTER, type Step, type Verdict } from './plan';

/** corosync-qnetd's TCP port (corosync-qnetd(8)). */
export const QNETD_PORT = 5403;
/** pcsd's TCP port, on the qnetd host too. */
const PCSD_PORT = 2224;
const QNETD_TIMEOUT_MS = 3_000;
/** The id of the fence device bootstrap creates. */
export const FENCE_ID = 'lvs-fence';
/** ffsplit: in a 50:50 split the device votes for exactly one half (corosync-qdevice(8)). */
const ALGORITHM = 'ffsplit';
/** The first pcs that sets up the qdevice's TLS certificates itself (through pcsd). */
const PCS_QDEVICE: [number, number, number] = [0, 9, 153];
/** no-quorum-policy=demote exists since Pacemaker 2.0.5. */
const PACEMAKER_DEMOTE: [number, number, number] = [2, 0, 5];

export interface FenceDevice {
  agent: string;
  options: [string, string][];
}

export interface SafetyOptions {
  /** The host running corosync-qnetd, as pcs knows it. */
  qdevice: string | undefined;
  fence: FenceDevice | undefined;
}

export interface SafetyRaw {
  qdevice?: string;
  fence?: string;
  /** `--fence-option k=v`, repeated. */
  fenceOption?: string[];
}

// ---- options ---------------------------------------------------------------------------------

const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62}))*$/;
const FENCE_AGENT = /^fence_[A-Za-z0-9_]{1,64}$/;
const OPTION_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/**
 * A secret in an option would be on pcs's command line (ps), in bootstrap's output and in the CIB,
 * readable by every haclient member: passwords (fence agents read them from `NAME_script` instead),
 * and other secrets fence agents take (fence_aws secret_key, SNMP community, IPMI hexadecimal_kg).
 */
function secretKind(name: string): 'password' | 'secret' | undefined {
  if (/(?:^|_)(?:passwd|password)$/i.test(name)) return 'password';
  if (/(?:^|_)(?:secret|secret_key|community|token|kg)$/i.test(name)) return 'secret';
  return undefined;
}

function parseQdevice(raw: string | undefined, nodes: string[]): string | undefined {
  if (raw === undefined) return undefined;
  if (!(HOST.test(raw) && raw.length <= 253) && ipFamily(raw) === undefined) {
    throw new UsageError(`--qdevice: '${raw}' is not a host name or an address`);
  }
  if (nodes.some((n) => n.toLowerCase() === raw.toLowerCase())) {
    throw new UsageError(`--qdevice ${raw} is one of --nodes: corosync-qnetd runs on a third host, outside the cluster`);
  }
  if (nodes.length % 2 !== 0) {
    throw new UsageError(`--qdevice is for an even number of nodes (algorithm ${ALGORITHM}); ${nodes.length} nodes already have a majority in any split but 50:50`);
  }
  return raw;
}

function parseFenceOption(raw: string, seen: Set<string>): [string, string] {
  const eq = raw.indexOf('=');
  const name = eq > 0 ? raw.slice(0, eq) : '';
  const value = eq > 0 ? raw.slice(eq + 1) : '';
  if (!OPTION_NAME.test(name) || value === '' || value.length > 4096 || /[\x00-\x1f\x7f]/.test(value)) {
    throw new UsageError(`--fence-option must be NAME=VALUE (a name of letters, digits, '_', '-'; a value without control characters), got '${raw}'`);
  }
  const secret = secretKind(name);
  if (secret === 'password') {
    throw new UsageError(
      `--fence-option ${name}=… would put a password on pcs's command line and in the CIB; give ${name}_script=/path/to/script instead ` +
        '(the fence agent runs it and reads the password from its output; keep the script readable by root only, on every director)',
    );
  }
  if (secret === 'secret') {
    throw new UsageError(
      `--fence-option ${name}=… would put a secret on pcs's command line, in this output and in the CIB; give the agent its secret another way ` +
        '(a file or credentials it reads itself, pcs stonith describe AGENT) or create the fence device by hand and leave out --fence',
    );
  }
  if (seen.has(name.toLowerCase())) throw new UsageError(`--fence-option ${name} is given twice`);
  seen.add(name.toLowerCase());
  return [name, value];
}

function parseFence(raw: SafetyRaw, stonith: boolean): FenceDevice | undefined {
  const opts = raw.fenceOption ?? [];
  if (raw.fence === undefined) {
    if (opts.length) throw new UsageError('--fence-option needs --fence AGENT: the fence agent the options are for');
    return undefined;
  }
  if (!stonith) throw new UsageError('--fence and --no-stonith contradict each other: --fence creates a fence device, --no-stonith turns fencing off');
  if (!FENCE_AGENT.test(raw.fence)) throw new UsageError(`--fence must name a fence agent such as fence_ipmilan or fence_xvm (pcs stonith list), got '${raw.fence}'`);
  const seen = new Set<string>();
  return { agent: raw.fence, options: opts.map((o) => parseFenceOption(o, seen)) };
}

export function parseSafetyOptions(raw: SafetyRaw, nodes: string[], stonith: boolean): SafetyOptions {
  return { qdevice: parseQdevice(raw.qdevice, nodes), fence: parseFence(raw, stonith) };
}

// ---- the steps -------------------------------------------------------------------------------

function checkQdevice(conf: CorosyncConf | undefined, host: string): Verdict {
  const d = conf?.quorumDevice;
  if (!d) return { kind: 'todo' };
  const same = d.model === 'net' && d.host?.toLowerCase() === host.toLowerCase() && d.algorithm === ALGORITHM;
  if (same) return { kind: 'done', what: `quorum device: corosync-qnetd on ${host}, algorithm ${ALGORITHM} (/etc/corosync/corosync.conf)` };
  return {
    kind: 'conflict',
    why: `corosync.conf already has a quorum device (model ${d.model ?? '?'}, host ${d.host ?? '?'}, algorithm ${d.algorithm ?? '?'}), not net host=${host} algorithm=${ALGORITHM}; remove it first (pcs quorum device remove)`,
  };
}

/** The quorum device: pcs authenticated to the qnetd host (it signs the nodes' certificates), then the device. */
export function qdeviceSteps(host: string | undefined, dialect: Dialect, pcsVersion: string): Step[] {
  if (host === undefined) return [];
  if (!atLeast(pcsVersion, PCS_QDEVICE)) {
    throw new UsageError(`--qdevice needs pcs 0.9.153 or later (it sets up the quorum device's certificates through pcsd); this is pcs ${pcsVersion}`);
  }
  const check = (conf: CorosyncConf | undefined) => checkQdevice(conf, host);
  const checkAuth = (conf: CorosyncConf | undefined): Verdict => {
    const v = check(conf);
    return v.kind === 'done' ? { kind: 'done', what: `pcs authenticated to ${host}: not needed, the quorum device is in place` } : v;
  };
  return [
    {
      phase: 'cluster',
      id: 'qdevice-auth',
      description: `authenticate pcs to the quorum device host ${host} as ${HACLUSTER} (password on standard input): pcs has corosync-qnetd there sign the nodes' certificates`,
      argv: dialect === '0.9' ? ['pcs', 'cluster', 'auth', host, '-u', HACLUSTER] : ['pcs', 'host', 'auth', host, '-u', HACLUSTER],
      passwordOnStdin: true,
      checkConf: checkAuth,
    },
    {
      phase: 'cluster',
      id: 'qdevice',
      description: `quorum device corosync-qnetd on ${host}, algorithm ${ALGORITHM}: in a split, only the half the device votes for keeps quorum (pcs removes two_node, starts corosync-qdevice on every node)`,
      argv: ['pcs', 'quorum', 'device', 'add', 'model', 'net', `host=${host}`, `algorithm=${ALGORITHM}`],
      checkConf: check,
    },
  ];
}

type Policy = 'demote' | 'stop';

/** The policy for this pacemaker (the DC's version), or by dialect when it is not known yet. */
function policyFor(dialect: Dialect, pacemaker: string | undefined): Policy {
  if (pacemaker !== undefined) return atLeast(pacemaker, PACEMAKER_DEMOTE) ? 'demote' : 'stop';
  return dialect === '0.9' ? 'stop' : 'demote';
}

function checkNoQuorumPolicy(cib: Cib, dialect: Dialect): Verdict {
  const dc = cib.property('dc-version');
  const want = policyFor(dialect, dc);
  const have = cib.property('no-quorum-policy')?.trim().toLowerCase();
  // fence (suicide before pacemaker 2.1.8) gives the VIP up too, the node fencing itself: the operator's stronger choice stays.
  const accepted = have === want || have === 'fence' || have === 'suicide' || (dc === undefined && dialect === '0.10' && (have === 'stop' || have === 'demote'));
  if (accepted) return { kind: 'done', what: `cluster property no-quorum-policy=${have}` };
  return { kind: 'todo', argv: ['pcs', 'property', 'set', `no-quorum-policy=${want}`] };
}

function checkFence(cib: Cib, f: FenceDevice): Verdict {
  const found = cib.resource(FENCE_ID);
  if (!found) return { kind: 'todo' };
  const el = found.el;
  const want = `stonith:${f.agent}`;
  if (el.name !== 'primitive' || agentOf(el) !== want) {
    const other = el.name === 'primitive' ? agentOf(el) : `a <${el.name}>`;
    const fence = el.name === 'primitive' && el.attrs.class === 'stonith';
    const how = fence ? `pcs stonith delete ${FENCE_ID}) or give --fence ${el.attrs.type ?? ''}` : `pcs resource delete ${FENCE_ID})`;
    return { kind: 'conflict', why: `resource '${FENCE_ID}' exists as ${other}, not ${want}; remove it (${how}` };
  }
  const have = nvpairs(el, 'instance_attributes');
  const diffs = f.options.filter(([k, v]) => have[k] !== v).map(([k, v]) => `${k}=${have[k] ?? '(unset)'} (wanted ${v})`);
  if (diffs.length) return { kind: 'conflict', why: `fence device '${FENCE_ID}' exists with ${diffs.join(', ')}; change it with pcs stonith update ${FENCE_ID} …` };
  return { kind: 'done', what: `fence device ${FENCE_ID} (${want}${f.options.length ? `, ${f.options.map(([k, v]) => `${k}=${v}`).join(' ')}` : ''})` };
}

/** no-quorum-policy, then the fence device (before any resource, which starts only once fencing can). */
export function safetyResourceSteps(fence: FenceDevice | undefined, dialect: Dialect): Step[] {
  const policy = policyFor(dialect, undefined);
  const steps: Step[] = [
    {
      phase: 'resources',
      id: 'no-quorum-policy',
      description:
        policy === 'demote'
          ? `a partition without quorum gives up the VIP: no-quorum-policy=demote (lvs is demoted there: the VIP goes to lo, the director stays a real server)${dialect === '0.10' ? '; stop where the CIB\'s dc-version is before pacemaker 2.0.5' : ''}`
          : 'a partition without quorum gives up the VIP: no-quorum-policy=stop (every resource stops there; pacemaker before 2.0.5 has no demote)',
      argv: ['pcs', 'property', 'set', `no-quorum-policy=${policy}`],
      check: (cib) => checkNoQuorumPolicy(cib, dialect),
    },
  ];
  if (fence) {
    steps.push({
      phase: 'resources',
      id: 'fence',
      description: `create the fence device ${FENCE_ID} (${fence.agent}): a director that stops answering is fenced before its resources are recovered elsewhere`,
      argv: ['pcs', 'stonith', 'create', FENCE_ID, fence.agent, ...fence.options.map(([k, v]) => `${k}=${v}`)],
      check: (cib) => checkFence(cib, fence),
    });
  }
  return steps;
}

/** The dry run's note on what --apply checks first. */
export function safetyChecksNote(o: SafetyOptions): string[] {
  const checks = [
    ...(o.fence ? [`#   stonith_admin --metadata --agent ${o.fence.agent}: the agent is here, the option names are its parameters`] : []),
    ...(o.qdevice !== undefined ? [`#   corosync-qdevice is installed here, ${o.qdevice} answers on TCP ${QNETD_PORT} (corosync-qnetd) and ${PCSD_PORT} (pcsd) (unless corosync.conf has the device)`] : []),
  ];
  return checks.length ? ['# Before any change, --apply checks (and stops when one fails):', ...checks] : [];
}

/** What the --no-stonith warning adds: the options that would make the cluster safe. */
export function safeClusterHint(): string[] {
  return [
    'To make it safe, instead: --fence AGENT [--fence-option NAME=VALUE ...] (a fence device; passwords',
    'only as NAME_script=FILE) and, for two nodes, --qdevice HOST (corosync-qnetd on a third host: only one',
    'half of a split keeps quorum). docs/operator-guide.md, "A safe two-node cluster".',
  ];
}

// ---- checks before any change ------------------------------------------------------------------

/** What the checks ask of the machine; the live ones below run the real programs. */
export interface SafetyProbes {
  /** The agent's meta-data (`stonith_admin --metadata --agent AGENT`), or why there is none. */
  fenceAgentMetadata(agent: string): { xml: string } | { error: string };
  /** A TCP connect; undefined when it connected, else why not. */
  tcpConnect(host: string, port: number, timeoutMs: number): Promise<string | undefined>;
  hasProgram(name: string): boolean;
}

/** Parameter names of a fence agent's meta-data. */
export function agentParameters(xml: string): string[] {
  const root = parseXml(xml);
  return children(children(root, 'parameters')[0], 'parameter')
    .map((p) => p.attrs.name ?? '')
    .filter((n) => n !== '');
}

function fenceProblem(f: FenceDevice, probes: SafetyProbes): string | undefined {
  const md = probes.fenceAgentMetadata(f.agent);
  if ('error' in md) {
    return `--fence ${f.agent}: no such fence agent on this node (stonith_admin --metadata --agent ${f.agent}: ${md.error}); install it on every director (Debian: fence-agents; pcs stonith list shows the installed ones)`;
  }
  let names: string[];
  try {
    names = agentParameters(md.xml);
  } catch (err) {
    return `--fence ${f.agent}: its meta-data is not readable (${(err as Error).message})`;
  }
  // pcmk_* are pacemaker's own fencing parameters, for every agent (pcmk_host_list, pcmk_host_map, pcmk_delay_max …).
  const unknown = f.options.map(([k]) => k).filter((k) => !k.startsWith('pcmk_') && !names.includes(k));
  if (unknown.length) {
    return `--fence-option ${unknown.join(', ')}: not a parameter of ${f.agent} (pcs stonith describe ${f.agent} lists them; pacemaker's own start with pcmk_)`;
  }
  return undefined;
}

async function qdeviceProblem(host: string, conf: CorosyncConf | undefined, probes: SafetyProbes): Promise<string | undefined> {
  const v = checkQdevice(conf, host);
  if (v.kind === 'conflict') return v.why;
  if (v.kind === 'done') return undefined;
  if (!probes.hasProgram('corosync-qdevice')) {
    return '--qdevice: corosync-qdevice is not installed on this node; install it on every director (Debian: apt install corosync-qdevice)';
  }
  const why = await probes.tcpConnect(host, QNETD_PORT, QNETD_TIMEOUT_MS);
  if (why !== undefined) {
    return `--qdevice ${host}: corosync-qnetd does not answer on TCP port ${QNETD_PORT} (${why}); set it up on ${host} first (pcs qdevice setup model net --enable --start)`;
  }
  // pcs has the qnetd host sign the directors' certificates through its pcsd.
  const pcsd = await probes.tcpConnect(host, PCSD_PORT, QNETD_TIMEOUT_MS);
  if (pcsd !== undefined) {
    return `--qdevice ${host}: pcsd does not answer on TCP port ${PCSD_PORT} (${pcsd}); pcs signs the directors' certificates through it: on ${host} install pcs, give hacluster the directors' password, systemctl enable --now pcsd`;
  }
  return undefined;
}

/** Every problem of the safety options that the machine can show, before bootstrap changes anything. */
export async function checkSafety(o: SafetyOptions, conf: CorosyncConf | undefined, probes: SafetyProbes): Promise<void> {
  const problems: string[] = [];
  if (o.fence) {
    const p = fenceProblem(o.fence, probes);
    if (p) problems.push(p);
  }
  if (o.qdevice !== undefined) {
    const p = await qdeviceProblem(o.qdevice, conf, probes);
    if (p) problems.push(p);
  }
  if (problems.length) throw new LvskitError(`${problems.join('\n')}\nnothing was changed`);
}

export const liveSafetyProbes: SafetyProbes = {
  fenceAgentMetadata(agent) {
    const admin = which('stonith_admin');
    if (!admin) return { error: 'stonith_admin is not installed (pacemaker-cli-utils)' };
    const r = run(admin, ['--metadata', '--agent', agent], { timeoutMs: 60_000 });
    if (r.code !== 0 || !r.stdout.includes('<resource-agent')) return { error: (r.stderr || r.stdout).trim() || r.error || `exit ${r.code}` };
    return { xml: r.stdout };
  },
  tcpConnect(host, port, timeoutMs) {
    return new Promise((resolve) => {
      const socket = connect({ host, port });
      const done = (why: string | undefined) => {
        socket.destroy();
        resolve(why);
      };
      socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000} s`));
      socket.once('connect', () => done(undefined));
      socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    });
  },
  hasProgram: (name) => which(name) !== undefined,
};
