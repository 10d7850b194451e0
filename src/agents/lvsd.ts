// ocf:heartbeat:lvsd: runs lvsd, the health checker, beside the promoted lvs instance.
// Parameters first, then meta-data, then one function per action; the checker itself is loaded
// only by the actions that need it, so meta-data stays cheap.
import { rmSync } from 'node:fs';
import type { AgentDefinition, OcfContext } from '../ocf/agent';
import { OCF, OcfError, type OcfCode } from '../ocf/codes';
import { which } from '../exec/run';
import { VERSION } from '../version';

const DEFAULT_CONFIG = '/etc/ha.d/ldirectord.cf';

function pidFile(ctx: OcfContext): string {
  return `${ctx.env.HA_RSCTMP || '/run/resource-agents'}/lvsd-${ctx.instance}.pid`;
}

/** Milliseconds pacemaker gives this action, less a margin to answer in. */
function budgetMs(ctx: OcfContext, fallbackSeconds: number): number {
  const t = Number(ctx.env.OCF_RESKEY_CRM_meta_timeout);
  return Math.max(2000, (Number.isFinite(t) && t > 0 ? t : fallbackSeconds * 1000) - 2000);
}

/**
 * The configuration, parsed and checked. A file that cannot be read here, or names that do not
 * resolve here, are this node's problem (ERR_INSTALLED: pacemaker tries another node); anything
 * else is wrong everywhere (ERR_CONFIGURED). The first problem is the exit reason.
 */
async function configuration(ctx: OcfContext): Promise<import('../checker/config/model').CheckerConfig> {
  const { readConfiguration } = await import('../checker/daemon');
  const { ConfigError, formatProblem } = await import('../checker/config/errors');
  try {
    return readConfiguration(ctx.params.configfile!);
  } catch (err) {
    if (err instanceof ConfigError) {
      const first = err.problems[0];
      const more = err.problems.length > 1 ? ` (and ${err.problems.length - 1} more problem(s))` : '';
      const code = !err.local ? OCF.ERR_CONFIGURED : ctx.isProbe ? OCF.NOT_RUNNING : OCF.ERR_INSTALLED;
      throw new OcfError(code, `${first ? formatProblem(first) : err.message}${more}`);
    }
    throw new OcfError(OCF.ERR_GENERIC, (err as Error).message);
  }
}

/** The metrics parameter follows the metrics directive's rule (no empty host). */
async function checkMetrics(ctx: OcfContext): Promise<void> {
  if (!ctx.params.metrics) return;
  const { listenAddress } = await import('../checker/config/address');
  try {
    listenAddress(ctx.params.metrics);
  } catch (err) {
    throw new OcfError(OCF.ERR_CONFIGURED, `metrics: ${(err as Error).message}`);
  }
}

function requireIpvsadm(ctx: OcfContext): void {
  if (!which('ipvsadm', ctx.env)) throw new OcfError(OCF.ERR_INSTALLED, 'ipvsadm is not installed (package ipvsadm)');
}

async function lvsdStart(ctx: OcfContext): Promise<OcfCode> {
  requireIpvsadm(ctx);
  await checkMetrics(ctx);
  await configuration(ctx);
  if ((await lvsdMonitor(ctx)) === OCF.SUCCESS) return OCF.SUCCESS;
  const { startDetached } = await import('../checker/process');
  const extra = ctx.params.metrics ? ['--metrics', ctx.params.metrics] : [];
  const r = await startDetached(ctx.params.configfile!, pidFile(ctx), budgetMs(ctx, 20), extra);
  if (!r.ok) throw new OcfError(OCF.ERR_GENERIC, r.reason ?? 'lvsd did not start');
  ctx.log.info(`lvsd started with pid ${r.pid} for ${ctx.params.configfile}`);
  return OCF.SUCCESS;
}

async function lvsdStop(ctx: OcfContext): Promise<OcfCode> {
  const { checkerState, stopChecker } = await import('../checker/process');
  const running = checkerState(pidFile(ctx), ctx.params.configfile!);
  if (running.state === 'running') {
    const how = await stopChecker(running.pid, budgetMs(ctx, 20));
    if (how === 'killed') ctx.log.warn(`lvsd (pid ${running.pid}) did not stop in time and was killed; its cleanstop may be incomplete`);
    else ctx.log.info(`lvsd (pid ${running.pid}) stopped`);
  }
  rmSync(pidFile(ctx), { force: true });
  return OCF.SUCCESS;
}

async function lvsdMonitor(ctx: OcfContext): Promise<OcfCode> {
  const { checkerState } = await import('../checker/process');
  const running = checkerState(pidFile(ctx), ctx.params.configfile!);
  if (running.state !== 'running') return OCF.NOT_RUNNING;
  if (ctx.checkLevel >= 10) {
    // Deeper: the checker must still be working, not only alive (its status file is its heartbeat).
    const { readStatus, statusPath, STATUS_STALE_MS } = await import('../checker/status');
    const s = readStatus(statusPath(ctx.params.configfile!));
    const age = s ? Date.now() - Date.parse(s.updatedAt) : Infinity;
    if (!s || s.pid !== running.pid || age > STATUS_STALE_MS) {
      throw new OcfError(OCF.ERR_GENERIC, `lvsd (pid ${running.pid}) has not reported for ${Math.round(age / 1000)} s`);
    }
  }
  return OCF.SUCCESS;
}

async function lvsdValidate(ctx: OcfContext): Promise<OcfCode> {
  requireIpvsadm(ctx);
  await checkMetrics(ctx);
  await configuration(ctx);
  return OCF.SUCCESS;
}

export const lvsdAgent: AgentDefinition = {
  name: 'lvsd',
  version: VERSION,
  shortdesc: 'LVS health checker (ldirectord-compatible)',
  longdesc:
    'Runs lvsd, which reads an ldirectord configuration file, checks the real servers concurrently and keeps the IPVS ' +
    'table of this director in line with their health. Colocate it with the promoted instance of ocf:heartbeat:lvs.',
  parameters: [
    {
      name: 'configfile',
      type: 'string',
      default: DEFAULT_CONFIG,
      unique: true,
      shortdesc: 'Configuration file',
      longdesc: 'The ldirectord configuration file lvsd reads (ldirectord.cf syntax, plus lvsd directives).',
    },
    {
      name: 'metrics',
      type: 'string',
      default: '',
      shortdesc: 'Prometheus listen address',
      longdesc:
        'HOST:PORT on which lvsd serves /metrics (IPv4:PORT, [IPv6]:PORT or NAME:PORT), overriding the metrics directive; ' +
        'empty: as the file says. The host is required, as in the directive: 0.0.0.0:PORT or [::]:PORT listen on every ' +
        'interface. /metrics has no authentication and shows every virtual and real address with its health and weight.',
    },
  ],
  actions: [
    { name: 'start', timeout: 20 },
    { name: 'stop', timeout: 20 },
    { name: 'monitor', timeout: 20, interval: 30 },
    { name: 'validate-all', timeout: 20 },
    { name: 'meta-data', timeout: 5 },
  ],
  handlers: {
    start: lvsdStart,
    stop: lvsdStop,
    monitor: lvsdMonitor,
    'validate-all': lvsdValidate,
  },
};
