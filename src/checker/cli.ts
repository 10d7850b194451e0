// `lvskit checker`: lvsd in the foreground, or `--test-config` to check a file as `nginx -t` does.
export interface CheckerOptions {
  config: string;
  testConfig?: boolean;
  debug?: boolean;
  pidFile?: string;
  detached?: boolean;
  metrics?: string;
  /** The child side of a reload (config/child.ts). */
  emitConfig?: boolean;
}

export async function runChecker(opts: CheckerOptions): Promise<number> {
  if (opts.emitConfig) {
    const { emitConfig } = await import('./config/child');
    return emitConfig(opts.config);
  }
  if (opts.metrics !== undefined) {
    // The same rule as the metrics directive: refused before anything starts.
    const { listenAddress } = await import('./config/address');
    try {
      listenAddress(opts.metrics);
    } catch (err) {
      process.stderr.write(`lvsd: --metrics: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const { readConfiguration, runDaemon } = await import('./daemon');
  if (opts.testConfig) {
    try {
      const c = readConfiguration(opts.config);
      for (const w of c.warnings) process.stderr.write(`lvsd: warning: ${w}\n`);
      const reals = c.virtuals.reduce((n, v) => n + v.reals.length, 0);
      process.stdout.write(`lvsd: the configuration file ${opts.config} syntax is ok (${c.virtuals.length} virtual service(s), ${reals} real server(s))\n`);
      return 0;
    } catch (err) {
      process.stderr.write(`lvsd: ${(err as Error).message}\nlvsd: configuration file ${opts.config} test failed\n`);
      return 1;
    }
  }
  const daemon: Parameters<typeof runDaemon>[0] = { configFile: opts.config, debug: !!opts.debug, detached: !!opts.detached };
  if (opts.pidFile) daemon.pidFile = opts.pidFile;
  if (opts.metrics) daemon.metrics = opts.metrics;
  return runDaemon(daemon);
}
