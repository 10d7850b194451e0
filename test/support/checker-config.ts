// Builds checker configurations in code for unit tests of the engine's logic (no parser involved).
import type { CheckerConfig, RealConfig, VirtualConfig } from '../../src/checker/config/model';

const where = { file: 'test.cf', line: 1 };

export function real(address: string, over: Partial<RealConfig> = {}): RealConfig {
  return { where, family: 4, address, port: 80, forward: 'gate', weight: 1, ...over };
}

export function virtual(over: Partial<VirtualConfig> = {}): VirtualConfig {
  return {
    where,
    family: 4,
    protocol: 'tcp',
    address: '198.51.100.100',
    port: 80,
    reals: [],
    scheduler: 'lc',
    ops: false,
    checktype: 'connect',
    service: 'http',
    checkcommand: '/bin/true',
    checktimeout: 1,
    negotiatetimeout: 1,
    checkcount: 1,
    checkinterval: 1,
    failurecount: 1,
    risecount: 1,
    slowstart: 0,
    request: '/',
    receive: '',
    httpmethod: 'GET',
    login: '',
    passwd: '',
    database: '',
    secret: '',
    quiescent: false,
    cleanstop: true,
    email: { to: [], freq: 0, status: ['starting', 'running', 'stopping', 'reloading'] },
    ...over,
  };
}

export function config(virtuals: VirtualConfig[], globals: Partial<CheckerConfig['globals']> = {}): CheckerConfig {
  return {
    file: 'test.cf',
    globals: {
      checkinterval: 1,
      autoreload: false,
      logfile: '/dev/null',
      supervised: false,
      fork: false,
      readdquiescent: false,
      execute: [],
      ...globals,
    },
    virtuals,
    warnings: [],
  };
}
