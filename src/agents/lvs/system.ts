// Everything the lvs agent does to the node, behind one interface: the live one runs ip, ipvsadm,
// crm_attribute and the ARP senders and writes /proc/sys; unit tests of the role logic pass a fake.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { which } from '../../exec/run';
import * as ipvsadm from '../../ipvs/ipvsadm';
import type { ServiceId } from '../../ipvs/service';
import type { Family } from '../../net/address';
import { type Announcement, announce, stopAnnouncing } from '../../net/announce';
import { type AddressChange, addAddress, changeAddresses, deleteAddress, type InterfaceAddress, type LinkState, linkState, listAddresses } from '../../net/ip';
import { readSysctl, writeSysctl } from '../../net/sysctl';
import { type Lifetime, setNodeAttribute } from '../../pacemaker/attributes';
import { setPromotionScore } from '../../pacemaker/promotion';
import { ownMac, probeCommand } from '../../net/duplicate';
import { type LvsState, loadState, removeState, saveState } from './state';

export interface IpvsCalls {
  list(): ServiceId[];
  add(id: ServiceId, scheduler: string): void;
  remove(id: ServiceId): void;
  clear(): void;
  syncDaemons(): ipvsadm.SyncDaemon[];
  startSync(state: ipvsadm.SyncState, iface: string, syncid: number): void;
  stopSync(state: ipvsadm.SyncState): void;
}

export interface VipWatchSpec {
  pidFile: string;
  /** The agent's environment: the watcher needs OCF_RESOURCE_INSTANCE etc. for crm_attribute. */
  env: NodeJS.ProcessEnv;
  nic: string;
  vip: string;
  prefix: number;
  family: Family;
  statePath: string;
  /** Duplicate VIP probes this often; 0: none. */
  duplicateIntervalMs: number;
}

export interface LvsSystem {
  /** Absolute path of a program, or undefined when missing. */
  which(name: string): string | undefined;
  addresses(family: Family): InterfaceAddress[];
  addAddress(dev: string, vip: string, prefix: number, family: Family): void;
  deleteAddress(dev: string, vip: string, prefix: number, family: Family): void;
  /** Several changes in one ip process, in order, each tried: the failures with ip's messages. */
  changeAddresses(vip: string, family: Family, changes: AddressChange[]): { change: AddressChange; error: string }[];
  link(dev: string): LinkState;
  readSysctl(key: string): string;
  writeSysctl(key: string, value: string): void;
  /** IPVS through the ipvsadm at this path. */
  ipvs(path: string): IpvsCalls;
  /** Sets (number) or deletes (undefined) this instance's promotion score; an error message or undefined. */
  setScore(score: number | undefined, env: NodeJS.ProcessEnv, timeoutMs: number): string | undefined;
  /** Sets (string) or deletes (undefined) a node attribute of this node; an error message or undefined. */
  setAttribute(name: string, value: string | undefined, lifetime: Lifetime, env: NodeJS.ProcessEnv): string | undefined;
  /** The MAC of an interface. */
  mac(dev: string): string | undefined;
  /** Starts the sender; resolves with an error message when it failed at once. */
  announce(a: Announcement): Promise<string | undefined>;
  stopAnnouncing(pidFile: string): void;
  startVipWatch(spec: VipWatchSpec): void;
  /** Stops the watcher named in the pid file (only if it is one). */
  stopVipWatch(pidFile: string): void;
  vipWatchRunning(pidFile: string): boolean;
  /**
   * Who answers for the VIP, asked by an unpromoted instance: one probe (every answer, net/duplicate),
   * detached, its output into `outFile` for the next monitor; the error when its program is missing.
   */
  startAnswerProbe(spec: { nic: string; vip: string; family: Family; source?: string; outFile: string; env: NodeJS.ProcessEnv }): string | undefined;
  /**
   * The output of the last answer probe once it is `settledMs` old (the probe is over), removing it;
   * undefined while it runs, when there is none, or when it is older than `staleMs` (removed too).
   */
  takeAnswerProbe(outFile: string, settledMs: number, staleMs: number): string | undefined;
  loadState(path: string, allowedSysctls: ReadonlySet<string>): LvsState | undefined;
  saveState(path: string, state: LvsState): void;
  removeState(path: string): void;
  /** Wall clock, ms. */
  now(): number;
}

/** The pid in a pid file when that process is a link watcher (its command line says so). */
function watcherPid(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmd.includes('vipwatch') ? pid : undefined;
  } catch {
    return undefined;
  }
}

export const liveSystem: LvsSystem = {
  which: (name) => which(name),
  addresses: listAddresses,
  addAddress,
  deleteAddress,
  changeAddresses,
  link: linkState,
  readSysctl,
  writeSysctl,
  ipvs: (path) => ({
    list: () => ipvsadm.listServices(path),
    add: (id, scheduler) => ipvsadm.addService(path, id, scheduler),
    remove: (id) => ipvsadm.deleteService(path, id),
    clear: () => ipvsadm.clearServices(path),
    syncDaemons: () => ipvsadm.syncDaemons(path),
    startSync: (state, iface, syncid) => ipvsadm.startSyncDaemon(path, state, iface, syncid),
    stopSync: (state) => ipvsadm.stopSyncDaemon(path, state),
  }),
  setScore: setPromotionScore,
  setAttribute: (name, value, lifetime, env) => setNodeAttribute(name, value, lifetime, env),
  mac: ownMac,
  announce,
  stopAnnouncing,
  startVipWatch(spec) {
    // The binary itself, as `lvskit vipwatch` (argv0 lvskit: main.ts dispatches it before commander).
    const child = spawn(
      process.execPath,
      ['vipwatch', '--nic', spec.nic, '--vip', spec.vip, '--prefix', String(spec.prefix), '--state', spec.statePath, '--dup-interval', String(spec.duplicateIntervalMs)],
      { argv0: 'lvskit', detached: true, stdio: 'ignore', env: spec.env },
    );
    child.unref();
    if (child.pid !== undefined) writeFileSync(spec.pidFile, `${child.pid}\n`);
  },
  stopVipWatch(pidFile) {
    const pid = watcherPid(pidFile);
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    rmSync(pidFile, { force: true });
  },
  vipWatchRunning: (pidFile) => watcherPid(pidFile) !== undefined,
  startAnswerProbe(spec) {
    const { program, args, missing } = probeCommand(spec.vip, spec.family, spec.nic, { arping: which('arping', spec.env), ndisc6: which('ndisc6', spec.env) }, 1000, 'every', spec.source);
    if (!program) return missing;
    const out = openSync(spec.outFile, 'w', 0o600);
    try {
      const child = spawn(program, args, { detached: true, stdio: ['ignore', out, 'ignore'], env: spec.env });
      // A probe that cannot start is only a missing answer file: never an unhandled error in the monitor.
      child.on('error', () => undefined);
      child.unref();
    } finally {
      closeSync(out);
    }
    return undefined;
  },
  takeAnswerProbe(outFile, settledMs, staleMs) {
    try {
      const age = Date.now() - statSync(outFile).mtimeMs;
      if (age < settledMs) return undefined;
      const text = age > staleMs ? undefined : readFileSync(outFile, 'utf8');
      rmSync(outFile, { force: true });
      return text;
    } catch {
      return undefined;
    }
  },
  loadState,
  saveState,
  removeState,
  now: () => Date.now(),
};
