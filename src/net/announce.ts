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
      return [a.mode === 'reply' ? '-A' : '-U', '-c', String(a.count), '-i', String(a.intervalMs / 1000), '-I', a.dev, a.address];
    case 'send_arp':
      // hb mode: device src_ip src_hw broadcast netmask; only the first two are used.
      return [...(a.mode === 'reply' ? ['-A'] : []), '-i', String(a.intervalMs), '-r', String(a.count), '-p', a.pidFile, a.dev, a.address, 'auto', 'not_used', 'not_used'];
    case 'send_ua':
      return ['-i', String(a.intervalMs), '-c', String(a.count), a.address, String(a.prefix), a.dev];
  }
}

/** Starts the sender detached; returns its pid. A previous sender for the same pid file is stopped. */
export function announce(a: Announcement): number | undefined {
  stopAnnouncing(a.pidFile);
  const child = spawn(a.program, announceArgs(a), { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
  if (child.pid !== undefined) writeFileSync(a.pidFile, `${child.pid}\n`);
  return child.pid;
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
