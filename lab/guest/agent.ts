// Inside the UML guest: runs the jobs the host drops into <ctl>/queue and writes each result to
// <ctl>/done. The console of UML is unreliable, so files on the shared host filesystem are the channel.
import { readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecSpec } from '../kernel';
import { runSpec } from './runner';

interface Job extends ExecSpec {
  id: string;
  shutdown?: boolean;
}

const ctl = process.argv[2];
if (!ctl) {
  process.stderr.write('usage: agent.cjs CTL_DIR\n');
  process.exit(2);
}
const queue = join(ctl, 'queue');
const done = join(ctl, 'done');
const alive = join(ctl, 'alive');
const HOST_SILENCE_MS = 30_000;

function writeAtomically(path: string, data: string): void {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

function shutdown(why: string): never {
  process.stderr.write(`lab agent: shutting down: ${why}\n`);
  process.exit(0);
}

// Every poll is a readdir over hostfs (inotify does not see the host's writes): 10 ms while jobs
// come, 50 ms after a quiet second, so that an idle lab leaves the guest's one CPU to the cluster.
const BUSY_POLL_MS = 10;
const IDLE_POLL_MS = 50;
const QUIET_MS = 1000;
let lastJob = 0;

function poll(): void {
  let names: string[];
  try {
    names = readdirSync(queue).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    shutdown(`queue unreadable: ${String(err)}`);
  }
  for (const name of names) {
    const path = join(queue, name);
    let job: Job;
    try {
      job = JSON.parse(readFileSync(path, 'utf8')) as Job;
      unlinkSync(path);
    } catch {
      continue; // half-visible; the next poll takes it
    }
    if (job.shutdown) shutdown('asked by the host');
    lastJob = Date.now();
    void runSpec(job).then((result) => writeAtomically(join(done, `${job.id}.json`), JSON.stringify(result)));
  }
}

// The host touches <ctl>/alive; if it stops (the test process died), power the guest off.
let lastBeat = 0;
let lastChange = Date.now();
function heartbeat(): void {
  let beat = 0;
  try {
    beat = statSync(alive).mtimeMs;
  } catch {
    /* not yet written */
  }
  if (beat !== lastBeat) {
    lastBeat = beat;
    lastChange = Date.now();
  } else if (Date.now() - lastChange > HOST_SILENCE_MS) {
    shutdown('the host stopped its heartbeat');
  }
}

function schedule(): void {
  setTimeout(
    () => {
      poll();
      schedule();
    },
    Date.now() - lastJob < QUIET_MS ? BUSY_POLL_MS : IDLE_POLL_MS,
  );
}

schedule();
setInterval(heartbeat, 2000);
writeAtomically(join(ctl, 'ready'), `${process.pid}\n`);
