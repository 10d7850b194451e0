// `lvskit vipwatch`: the promoted lvs instance's watch over its VIP. Started by promote, stopped by
// demote and stop (its pid in $HA_RSCTMP), restarted by a promoted monitor that finds it gone.
//
// Link: on carrier loss, reported by netlink the moment it happens, the VIP goes off the NIC at once
// and the promotion score is deleted, so that pacemaker promotes another director now.
//
// Quorum: when this node's partition loses quorum (corosync's notification) and no-quorum-policy
// makes pacemaker demote it, the VIP goes off the NIC at once, as on link loss but without the
// link hold-down.
//
// Duplicates: every `--dup-interval` ms it asks the wire who answers for the VIP (ARP duplicate
// address detection; neighbour solicitation for IPv6). Another MAC is logged, recorded in the state
// file (lvskit status, lvsd's metrics) and set as the transient node attribute
// lvs-duplicate-<instance> (crm_mon -A; pacemaker alerts fire on it). When that MAC is another
// cluster director's (node attribute lvs-mac-<nic>, published at start), two partitions each
// promoted one: the director whose node name sorts last gives the VIP up as on link loss, so that
// exactly one keeps it without fencing. An unknown host is only reported: giving the VIP up, or moving
// it to another director, cannot stop a rogue host answering and would leave the clients to it.
import { spawn } from 'node:child_process';
import { runAsync, which } from '../../exec/run';
import { ipFamily } from '../../net/address';
import { probeDuplicates } from '../../net/duplicate';
import { linkState } from '../../net/ip';
import { IpMonitor } from '../../net/monitor';
import { createLog } from '../../ocf/log';
import { clusterView, setNodeAttributeAsync } from '../../pacemaker/attributes';
import { setPromotionScore } from '../../pacemaker/promotion';
import { noQuorumPolicy, policyGivesUp, QuorumWatch } from '../../pacemaker/quorum';
import { duplicateAttribute, loadState, macAttribute, saveState } from './state';

interface WatchArgs {
  nic: string;
  vip: string;
  prefix: number;
  state: string;
  /** 0: no duplicate probes. */
  dupIntervalMs: number;
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
  const dup = Number(get('--dup-interval') ?? '0');
  if (!nic || !vip || ipFamily(vip) === undefined || !Number.isInteger(prefix) || !state || !Number.isInteger(dup) || dup < 0) {
    return 'usage: lvskit vipwatch --nic IF --vip ADDR --prefix N --state FILE [--dup-interval MS] (started by ocf:heartbeat:lvs at promote)';
  }
  return { nic, vip, prefix, state, dupIntervalMs: dup };
}

export function runVipWatch(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const w = parseArgs(args);
  if (typeof w === 'string') {
    process.stderr.write(`${w}\n`);
    return Promise.resolve(2);
  }
  const instance = env.OCF_RESOURCE_INSTANCE || 'lvs';
  const log = createLog('lvs', instance, env);
  const ip = which('ip', env);
  if (!ip) {
    log.error('vipwatch: ip is not installed: link loss is seen only by the promoted monitor');
    return Promise.resolve(1);
  }
  const inCluster = Boolean(env.OCF_RESKEY_crm_feature_set);
  const family = ipFamily(w.vip)!;
  // The command that takes the VIP off waits in a running `ip -batch -` (it executes each line as it
  // reads it): giving the VIP up costs a line written, not a process started.
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
    let dupTimer: NodeJS.Timeout | undefined;
    let quorum: QuorumWatch | undefined;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      clearTimeout(dupTimer);
      monitor.close();
      quorum?.close();
      remover.kill('SIGTERM');
      resolve(code);
    };

    /** The VIP off the NIC (only the prefix the agent added), the reason recorded, the score dropped. */
    let givingUp = false;
    const giveUp = async (why: string, linkLost = false) => {
      // After finish (demote or stop sent SIGTERM) the VIP and the score are theirs, not ours.
      if (givingUp || done) return;
      givingUp = true;
      const at = new Date();
      const t0 = process.hrtime.bigint();
      let code: number | null;
      if (!removerGone) {
        remover.stdin!.end(`address del ${w.vip}/${w.prefix} dev ${w.nic}\n`);
        code = await removerExit;
      } else {
        // The waiting ip died (killed?): start one now.
        const r = await runAsync(ip, [`-${family}`, 'address', 'del', `${w.vip}/${w.prefix}`, 'dev', w.nic]);
        code = r.code;
        removerErr = r.stderr || r.error || '';
      }
      // "Cannot assign requested address": already gone, not a failure.
      if (code !== 0 && !/Cannot assign requested address/.test(removerErr)) {
        log.error(`vipwatch: ${why}, but VIP ${w.vip} could not be taken off ${w.nic}: ${removerErr.trim() || `ip exit ${code}`}`);
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      log.warn(`vipwatch: ${why}: VIP ${w.vip} taken off ${w.nic} in ${ms.toFixed(1)} ms`);
      const state = loadState(w.state);
      if (state) {
        state.gaveUp = { at: at.toISOString(), why };
        // Starts the agent's link_holddown: no score until the link has been back that long.
        if (linkLost) state.link = { downAt: at.toISOString() };
        if (state.added) delete state.added[w.nic];
        saveState(w.state, state);
      }
      if (!inCluster) {
        log.info('vipwatch: not run by pacemaker: no promotion score to drop');
      } else {
        const err = setPromotionScore(undefined, env);
        if (err) log.error(`vipwatch: cannot delete the promotion score: ${err}; pacemaker learns of it at the next monitor`);
        else {
          log.info('vipwatch: promotion score deleted: pacemaker demotes this instance and promotes another director');
          if (state) {
            state.score = null;
            saveState(w.state, state);
          }
        }
      }
      finish(0);
    };

    const look = () => {
      if (done || givingUp) return;
      const l = linkState(w.nic);
      if (!l.up) void giveUp(`${w.nic} lost its link (${l.operstate})`, true);
    };

    let seen = '';
    const duplicates = async (macs: string[]) => {
      const key = [...macs].sort().join(' ');
      if (key === seen) return;
      seen = key;
      const state = loadState(w.state);
      if (macs.length === 0) {
        log.info(`vipwatch: VIP ${w.vip} is answered by this director alone again`);
        if (state) {
          delete state.duplicate;
          saveState(w.state, state);
        }
        if (inCluster) await setNodeAttributeAsync(duplicateAttribute(instance), undefined, 'reboot', env);
        return;
      }
      // Recorded first: a cluster that answers slowly must not delay what the operator sees.
      log.error(`vipwatch: VIP ${w.vip} is also answered on the wire by ${macs.join(', ')}`);
      const since = new Date().toISOString();
      if (state) {
        state.duplicate = { macs, since };
        saveState(w.state, state);
      }
      if (!inCluster) return;
      const err = await setNodeAttributeAsync(duplicateAttribute(instance), macs.join(','), 'reboot', env);
      if (err) log.error(`vipwatch: cannot set ${duplicateAttribute(instance)}: ${err}`);
      // Another cluster director? Its MAC was published as a permanent node attribute at its start.
      const { me, values } = await clusterView(macAttribute(w.nic), env);
      const peers = [...(values ?? [])].filter(([node, mac]) => node !== me && macs.includes(mac.toLowerCase())).map(([node]) => node);
      if (peers.length === 0) {
        log.error(`vipwatch: ${macs.join(', ')} is not a cluster director: VIP ${w.vip} kept (giving it up would leave the clients to that host); remove the address there`);
        return;
      }
      log.error(`vipwatch: ${macs.join(', ')} is cluster director ${peers.join(', ')}: two partitions promoted a director each`);
      const now = loadState(w.state);
      if (now?.duplicate) {
        now.duplicate.peers = peers;
        saveState(w.state, now);
      }
      // Exactly one of two promoted directors yields: both see each other and compare the same names.
      if (me && peers.some((p) => p < me)) await giveUp(`also held by director ${peers.filter((p) => p < me).join(', ')}, whose name sorts first`);
    };

    const tools = { arping: which('arping', env), ndisc6: which('ndisc6', env) };
    let warned = false;
    const probe = async () => {
      if (done || givingUp) return;
      const r = await probeDuplicates(w.vip, family, w.nic, tools);
      if (r.error) {
        if (!warned) log.warn(`vipwatch: duplicate VIP detection off: ${r.error}`);
        warned = true;
      } else await duplicates(r.macs);
      if (!done && !givingUp) dupTimer = setTimeout(() => void probe(), w.dupIntervalMs);
    };

    // Link events for any interface: the carrier of ours is then read from sysfs (cheap, exact).
    const monitor = new IpMonitor(ip, 'link', look, look, (m) => log.warn(`vipwatch: ${m}`));
    monitor.start();

    // Quorum: a partition without it is demoted by pacemaker (unless no-quorum-policy is ignore or
    // freeze), after its scheduler and the demote have run; the other partition may promote a director
    // before that. Giving the VIP up the moment corosync says so closes that window (fencing closes it
    // for sure). The policy is read now, so that the loss costs no process; read again at the loss if
    // it could not be read, and the VIP kept if it still cannot (pacemaker acts by its own policy).
    let policy: Promise<string | undefined> | undefined;
    const quorumLost = async () => {
      let p = await policy;
      if (p === undefined) p = await (policy = noQuorumPolicy(env));
      if (done) return;
      if (p === undefined) {
        log.warn(`vipwatch: this partition lost quorum; no-quorum-policy cannot be read: VIP ${w.vip} kept, pacemaker acts by its policy`);
        return;
      }
      if (!policyGivesUp(p)) {
        log.warn(`vipwatch: this partition lost quorum; no-quorum-policy=${p}: VIP ${w.vip} kept`);
        return;
      }
      // Short: it ends up in the monitor's exit reason, which pacemaker cuts at 128 characters.
      await giveUp(`quorum lost (no-quorum-policy=${p})`);
    };
    quorum = inCluster
      ? QuorumWatch.start(
          (quorate) => {
            if (!quorate && !done) void quorumLost();
          },
          (m) => log.warn(`vipwatch: ${m}`),
          env,
        )
      : undefined;
    if (quorum) policy = noQuorumPolicy(env);
    if (w.dupIntervalMs > 0) dupTimer = setTimeout(() => void probe(), Math.min(w.dupIntervalMs, 1000));
    process.on('SIGTERM', () => finish(0));
    process.on('SIGINT', () => finish(0));
  });
}
