// `lvskit linkwatch`: the promoted lvs instance's watch on its NIC. Started by promote, stopped by
// demote and stop (its pid in $HA_RSCTMP), restarted by a promoted monitor that finds it gone.
// On carrier loss, reported by netlink the moment it happens: the VIP off the NIC at once, the loss
// written to the instance's state, the promotion score deleted so that pacemaker promotes another
// director now instead of at the next monitor. Then it exits: its work for this promotion is done.
import { spawn } from 'node:child_process';
import { runAsync, which } from '../../exec/run';
import { ipFamily } from '../../net/address';
import { linkState } from '../../net/ip';
import { IpMonitor } from '../../net/monitor';
import { createLog } from '../../ocf/log';
import { setPromotionScore } from '../../pacemaker/promotion';
import { loadState, saveState } from './state';

interface WatchArgs {
  nic: string;
  vip: string;
  prefix: number;
  state: string;
}

function parseArgs(args: string[]): WatchArgs | string {
  const get = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const nic = get('--nic');
  const vip = get('--vip');
  const prefix = Number(get('--prefix'));
  const state = get('--state');
  if (!nic || !vip || ipFamily(vip) === undefined || !Number.isInteger(prefix) || !state) {
    return 'usage: lvskit linkwatch --nic IF --vip ADDR --prefix N --state FILE (started by ocf:heartbeat:lvs at promote)';
  }
  return { nic, vip, prefix, state };
}

export function runLinkWatch(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const w = parseArgs(args);
  if (typeof w === 'string') {
    process.stderr.write(`${w}\n`);
    return Promise.resolve(2);
  }
  const log = createLog('lvs', env.OCF_RESOURCE_INSTANCE || 'lvs', env);
  const ip = which('ip', env);
  if (!ip) {
    log.error('linkwatch: ip is not installed: link loss is seen only by the promoted monitor');
    return Promise.resolve(1);
  }
  const family = ipFamily(w.vip)!;
  // The command that takes the VIP off is waiting in a running `ip -batch -` (it executes each line
  // as it reads it): at the loss there is no process to start, only a line to write.
  const remover = spawn(ip, ['-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let removerErr = '';
  remover.stderr!.on('data', (d: Buffer) => (removerErr += d.toString()));
  remover.stdin!.on('error', () => undefined);
  let removerGone = false;
  const removerExit = new Promise<number | null>((res) => {
    remover.once('exit', (code) => {
      removerGone = true;
      res(code);
    });
    remover.once('error', (err) => {
      removerGone = true;
      removerErr += err.message;
      res(null);
    });
  });
  return new Promise<number>((resolve) => {
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      monitor.close();
      remover.kill('SIGTERM');
      resolve(code);
    };

    const act = async (operstate: string) => {
      const lostAt = new Date();
      const t0 = process.hrtime.bigint();
      // Only the prefix the agent added: never the node's own addresses. "Cannot assign requested
      // address" (already gone) is not a failure.
      let code: number | null;
      if (!removerGone) {
        remover.stdin!.end(`address del ${w.vip}/${w.prefix} dev ${w.nic}\n`);
        code = await removerExit;
      } else {
        // The waiting ip died (killed?): start one now.
        removerErr = '';
        const r = await runAsync(ip, [`-${family}`, 'address', 'del', `${w.vip}/${w.prefix}`, 'dev', w.nic]);
        code = r.code;
        removerErr = r.stderr || r.error || '';
      }
      if (code !== 0 && !/Cannot assign requested address/.test(removerErr)) {
        log.error(`linkwatch: ${w.nic} lost its link but VIP ${w.vip} could not be taken off: ${removerErr.trim() || `ip exit ${code}`}`);
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      log.warn(`linkwatch: ${w.nic} lost its link (${operstate}): VIP ${w.vip} taken off the NIC in ${ms.toFixed(1)} ms`);
      const state = loadState(w.state);
      if (state) {
        state.linkLostAt = lostAt.toISOString();
        if (state.added) delete state.added[w.nic];
        saveState(w.state, state);
      }
      if (!env.OCF_RESKEY_crm_feature_set) {
        log.info('linkwatch: not run by pacemaker: no promotion score to drop');
      } else {
        const err = setPromotionScore(undefined, env);
        if (err) log.error(`linkwatch: cannot delete the promotion score: ${err}; pacemaker learns of the loss at the next monitor`);
        else {
          log.info('linkwatch: promotion score deleted: pacemaker demotes this instance and promotes another director');
          if (state) {
            state.score = null;
            saveState(w.state, state);
          }
        }
      }
      finish(0);
    };

    let acting = false;
    const look = () => {
      if (done || acting) return;
      const l = linkState(w.nic);
      if (!l.up) {
        acting = true;
        void act(l.operstate);
      }
    };
    // Link events for any interface: the carrier of ours is then read from sysfs (cheap, exact).
    const monitor = new IpMonitor(ip, 'link', look, look, (m) => log.warn(`linkwatch: ${m}`));
    monitor.start();
    process.on('SIGTERM', () => finish(0));
    process.on('SIGINT', () => finish(0));
  });
}
