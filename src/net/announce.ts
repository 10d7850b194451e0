// Gratuitous ARP (IPv4) and unsolicited neighbour advertisements (IPv6), sent in the background so
// that promote returns as soon as the first announcement is on the wire.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Family } from './address';

export type ArpSender = 'send_arp' | 'arping';
export type ArpMode = 'request' | 'reply';

export interface Announcement {
  address: string;
  family: Family;
  prefix: number;
  dev: string;
  count: number;
  intervalMs: number;
  mode: ArpMode;
  /** Resolved program path: arping, send_arp or send_ua. */
  program: string;
  sender: ArpSender | 'send_ua';
  pidFile: string;
}

export function announceArgs(a: Announcement): string[] {
  switch (a.sender) {
    case 'arping':
      // iputils arping takes whole seconds only (Debian 12 rejects '0.2').
      return [a.mode === 'reply' ? '-A' : '-U', '-c', String(a.count), '-i', String(arpingSeconds(a.intervalMs)), '-I', a.dev, a.address];
    case 'send_arp':
      // hb mode: device src_ip src_hw broadcast netmask; only the first two are used.
      return [...(a.mode === 'reply' ? ['-A'] : []), '-i', String(a.intervalMs), '-r', String(a.count), '-p', a.pidFile, a.dev, a.address, 'auto', 'not_used', 'not_used'];
    case 'send_ua':
      return ['-i', String(a.intervalMs), '-c', String(a.count), a.address, String(a.prefix), a.dev];
  }
}

export function arpingSeconds(intervalMs: number): number {
  return Math.max(1, Math.ceil(intervalMs / 1000));
}

/** How long promote watches the sender: arping and send_arp refuse bad arguments within 2-3 ms. */
const WATCH_MS = 20;

/**
 * Starts the sender detached and watches it briefly. Resolves with an error message when it could
 * not start or exited with an error at once, else undefined (it goes on in the background).
 * A previous sender for the same pid file is stopped first.
 */
export function announce(a: Announcement): Promise<string | undefined> {
  stopAnnouncing(a.pidFile);
  const argv = [a.program, ...announceArgs(a)];
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = (message: string | undefined) => {
      clearTimeout(timer);
      child.removeAllListeners();
      child.stderr.destroy();
      child.unref();
      resolve(message);
    };
    const timer = setTimeout(() => done(undefined), WATCH_MS);
    child.once('error', (err) => done(`${argv.join(' ')}: ${err.message}`));
    child.once('exit', (code, signal) => done(code === 0 ? undefined : `${argv.join(' ')}: ${signal ?? `exit ${code}`}: ${stderr.trim()}`));
    // send_arp keeps its own pid file (-p) and kills the process named there: it must not find itself.
    if (a.sender !== 'send_arp' && child.pid !== undefined) writeFileSync(a.pidFile, `${child.pid}\n`);
  });
}

/** Stops a sender still running (a demote right after a promote must not keep announcing). */
export function stopAnnouncing(pidFile: string): void {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 1) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (/arping|send_arp|send_ua/.test(cmd)) process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  rmSync(pidFile, { force: true });
}
