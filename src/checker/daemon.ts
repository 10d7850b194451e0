// lvsd as a process: loads the configuration, runs the engine, and answers signals (HUP reloads,
// TERM stops with cleanstop), autoreload, the pid and status files, and the metrics listener.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { basename } from 'node:path';
import { which } from '../exec/run';
import { IpvsadmBackend } from '../ipvs/ipvsadm';
import { LocalAddresses } from '../net/monitor';
import { Alerts, appendMonitorfile, FallbackCommands, runCallback } from './alerts';
import { loadConfigInChild } from './config/child';
import { ConfigError } from './config/errors';
import type { CheckerConfig } from './config/model';
import { loadConfig } from './config/parse';
import { checkFor } from './checks';
import { describeVirtual, Engine, type LogLevel } from './engine';
import { Instances } from './instances';
import { chooseTarget, createLogger, type Logger } from './log';
import { readInstances } from '../agents/lvs/state';
import { type InstanceMetric, metricsText, serveMetrics, type ProcessCounters } from './metrics';
import { heartbeatMs, statusPath, statusSource, statusText, writeStatus, type CheckerStatus } from './status';

export interface DaemonOptions {
  configFile: string;
  /** Log to stderr (ldirectord -d). */
  debug: boolean;
  /** Started by `ldirectord start` or the OCF agent: stdio is closed, log to the logfile. */
  detached: boolean;
  pidFile?: string;
  statusFile?: string;
  /** Overrides the metrics directive. */
  metrics?: string;
}

/** Reads and checks a configuration; the error lists every problem with file and line. */
export function readConfiguration(file: string): CheckerConfig {
  return loadConfig(file);
}

function fileDigest(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

/** The lvs agent's instances on this node (their state files), for the metrics. */
function lvsInstances(): InstanceMetric[] {
  return readInstances(process.env)
    .filter(({ state }) => state.vip !== undefined)
    .map(({ instance, state }) => ({ instance, vip: state.vip!, duplicates: state.duplicate?.macs.length ?? 0 }));
}

export async function runDaemon(opts: DaemonOptions): Promise<number> {
  let config: CheckerConfig;
  try {
    config = readConfiguration(opts.configFile);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`lvsd: ${msg}\n`);
    if (opts.detached) createLogger(chooseTarget('/var/log/ldirectord.log', { debug: false, detached: true }), basename(opts.configFile))('error', msg);
    return err instanceof ConfigError ? err.exitCode : 1;
  }
  const name = basename(opts.configFile);
  const counters: ProcessCounters = { checks: 0, errors: 0, reloads: 0 };
  const makeLog = (c: CheckerConfig): Logger => {
    const base = createLogger(chooseTarget(c.globals.logfile, { debug: opts.debug, detached: opts.detached, supervised: c.globals.supervised }), name, opts.debug ? 'debug' : 'info');
    return (level: LogLevel, message: string) => {
      if (level === 'error') counters.errors++;
      base(level, message);
    };
  };
  let log = makeLog(config);
  for (const w of config.warnings) log('warning', w);

  const ipvsadm = which('ipvsadm');
  if (!ipvsadm) {
    log('error', 'Can not find ipvsadm (install the ipvsadm package)');
    return 1;
  }
  // followvip: the node's addresses, followed through netlink, decide which virtuals are in the kernel.
  const ip = which('ip');
  if (!ip && config.virtuals.some((v) => v.follow !== undefined)) {
    log('error', 'Can not find ip (install the iproute2 package): followvip needs it to see where the VIPs are');
    return 1;
  }
  const addresses = ip ? new LocalAddresses(ip, () => engine.addressesChanged(), (m) => log('warning', m)) : undefined;
  const alerts = new Alerts((l, m) => log(l, m));
  const fallbackCommands = new FallbackCommands((l, m) => log(l, m));
  const instances = new Instances(opts.configFile, (l, m) => log(l, m));
  const engine = new Engine(config, new IpvsadmBackend(ipvsadm), {
    log: (l, m) => log(l, m),
    checked: (check, result) => {
      counters.checks++;
      for (const { virtual } of check.members) {
        if (virtual.monitorfile) appendMonitorfile(virtual.monitorfile, `${check.label} ${describeVirtual(virtual)} ${result.kind}`, result.up, result.detail, log);
      }
      // No status write per check: the heartbeat carries the latest results; transitions write at once.
    },
    transition: (virtual, real, to) => {
      // Every director checks every real: only the one forwarding the virtual sends the alert.
      if (engine.isActive(virtual)) alerts.realChanged(virtual, real, to, describeVirtual(virtual));
      statusSoon();
    },
    fallback: (virtual, active) => {
      if (virtual.fallback) {
        log('info', `${active ? 'Added' : 'Deleted'} fallback server for ${describeVirtual(virtual)}`);
        alerts.fallbackChanged(virtual, active, describeVirtual(virtual));
      } else log('info', `${active ? 'No' : 'Again a'} real server up for ${describeVirtual(virtual)}: fallbackcommand ${active ? 'start' : 'stop'}`);
      void fallbackCommands.run(virtual, active);
    },
    reconciled: (r) => {
      if (r.changes > 0 || r.errors.length > 0) statusSoon();
    },
  }, Date.now, checkFor, addresses);

  const startedAt = new Date().toISOString();
  let state: CheckerStatus['state'] = 'starting';
  const statusFile = opts.statusFile ?? statusPath(opts.configFile);
  let statusTimer: NodeJS.Timeout | undefined;
  // One write at a time, in pieces (a large table is written between checks); a write asked for
  // meanwhile is done once more afterwards, with the state of then.
  let writing: Promise<void> | undefined;
  let writeAgain = false;
  let writesStopped = false;
  const writeNow = () => {
    clearTimeout(statusTimer);
    statusTimer = undefined;
    if (writesStopped) return;
    if (writing) {
      writeAgain = true;
      return;
    }
    writing = (async () => {
      do {
        writeAgain = false;
        try {
          await writeStatus(statusFile, statusText(statusSource(engine, { pid: process.pid, config: opts.configFile, state, startedAt })));
        } catch (err) {
          log('warning', `cannot write status file ${statusFile}: ${(err as Error).message}`);
        }
      } while (writeAgain && !writesStopped);
    })().finally(() => (writing = undefined));
  };
  // At most one status write per second, whatever the number of reals.
  function statusSoon(): void {
    statusTimer ??= setTimeout(writeNow, 1000);
  }
  // A heartbeat even when nothing changes: the OCF monitor reads its age (status.ts).
  let heartbeat = setInterval(writeNow, heartbeatMs(config.globals.checkinterval));

  if (opts.pidFile) writeFileSync(opts.pidFile, `${process.pid}\n`);
  log('info', `Starting lvsd (ldirectord-compatible) with pid ${process.pid} for ${opts.configFile}`);

  let metricsServer: Server | undefined;
  const openMetrics = async (c: CheckerConfig) => {
    const listen = opts.metrics ?? c.globals.metrics;
    metricsServer?.close();
    metricsServer = undefined;
    if (!listen) return;
    try {
      metricsServer = await serveMetrics(listen, () =>
        metricsText(statusSource(engine, { pid: process.pid, config: opts.configFile, state, startedAt }), counters, lvsInstances()),
      );
    } catch (err) {
      log('error', (err as Error).message);
    }
  };

  let stopping: Promise<number> | undefined;
  let digest = fileDigest(opts.configFile);
  let lastStamp = '';
  let reloading = Promise.resolve();
  let reloadQueued = false;
  const parsing = new AbortController();

  // Signals that arrive while a reload waits make one more reload, not one each.
  const reload = (why: string) => {
    if (reloadQueued) return;
    reloadQueued = true;
    reloading = reloading.then(async () => {
      reloadQueued = false;
      if (stopping) return;
      let next: CheckerConfig;
      const began = Date.now();
      try {
        // Parsed by a child process: checks, /metrics and signals go on meanwhile.
        next = await loadConfigInChild(opts.configFile, { signal: parsing.signal });
        if (!addresses && next.virtuals.some((v) => v.follow !== undefined)) throw new Error('followvip needs ip(8), which is not installed');
      } catch (err) {
        if (!stopping) log('error', `${why}: keeping the running configuration: ${(err as Error).message}`);
        return;
      }
      if (stopping) return;
      const parsed = Date.now();
      state = 'reloading';
      alerts.state = 'reloading';
      log('info', `${why}: reloading ${opts.configFile}`);
      for (const w of next.warnings) log('warning', w);
      log = makeLog(next);
      await engine.reload(next);
      void instances.reload(config.globals.execute, next.globals.execute);
      counters.reloads++;
      if ((opts.metrics ?? next.globals.metrics) !== (opts.metrics ?? config.globals.metrics)) await openMetrics(next);
      config = next;
      clearInterval(heartbeat);
      heartbeat = setInterval(writeNow, heartbeatMs(next.globals.checkinterval));
      state = 'running';
      alerts.state = 'running';
      writeNow();
      log('info', `Reloaded: ${next.virtuals.length} virtual service(s), ${engine.allChecks().length} check(s); parsed in ${((parsed - began) / 1000).toFixed(1)} s, applied in ${((Date.now() - parsed) / 1000).toFixed(1)} s`);
    });
  };

  // autoreload and callback: the file is compared by content, checked every second.
  const watcher = setInterval(() => {
    let changed = false;
    try {
      // Hash only when the file's identity or time changed: cheap enough to run every second.
      const st = statSync(opts.configFile);
      const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (stamp === lastStamp) return;
      lastStamp = stamp;
      const d = fileDigest(opts.configFile);
      changed = d !== undefined && d !== digest;
      if (changed) digest = d;
    } catch {
      return;
    }
    if (!changed) return;
    if (config.globals.callback) void runCallback(config.globals.callback, opts.configFile, log);
    if (config.globals.autoreload) reload('configuration file changed');
  }, 1000);

  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      stopping ??= (async () => {
        state = 'stopping';
        alerts.state = 'stopping';
        log('info', `${signal}: stopping`);
        const began = Date.now();
        let step = 'waiting for a reload';
        // A stop that does not end is reported with the step it hangs in (systemd or pacemaker will kill it).
        const slow = setInterval(() => log('warning', `still stopping after ${Math.round((Date.now() - began) / 1000)} s: ${step}`), 10_000);
        slow.unref();
        clearInterval(watcher);
        clearInterval(heartbeat);
        clearTimeout(statusTimer);
        writesStopped = true;
        parsing.abort();
        await reloading;
        step = 'stopping the other instances (execute)';
        await instances.stop(config.globals.execute);
        addresses?.close();
        step = 'ending the checks and the IPVS work under way (cleanstop)';
        await engine.stop();
        alerts.close();
        metricsServer?.close();
        metricsServer?.closeAllConnections();
        // A write under way would put the file back after its removal.
        step = 'finishing the status file';
        await writing;
        clearInterval(slow);
        rmSync(statusFile, { force: true });
        if (opts.pidFile) rmSync(opts.pidFile, { force: true });
        log('info', `Exiting (stopped in ${Date.now() - began} ms)`);
        return 0;
      })();
      // Everything is cleaned up: a socket of an aborted check or a child still ending must not hold the exit.
      void stopping.then((code) => {
        resolve(code);
        setImmediate(() => process.exit(code));
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGQUIT', () => stop('SIGQUIT'));
    process.on('SIGHUP', () => reload('SIGHUP'));
    process.on('SIGPIPE', () => undefined);

    void (async () => {
      try {
        await openMetrics(config);
        await addresses?.start();
        await engine.start();
        state = 'running';
        alerts.state = 'running';
        writeNow();
        log('info', `Running: ${config.virtuals.length} virtual service(s), ${engine.allChecks().length} check(s)`);
        void instances.start(config.globals.execute);
      } catch (err) {
        log('error', `cannot start: ${(err as Error).message}`);
        addresses?.close();
        clearInterval(watcher);
        clearInterval(heartbeat);
        if (opts.pidFile) rmSync(opts.pidFile, { force: true });
        resolve(1);
      }
    })();
  });
}
