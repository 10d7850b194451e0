// `lvskit vipprobe`: one duplicate VIP probe for an unpromoted lvs instance, started (detached) by
// its recurring monitor so that the monitor does not wait for answers. An unpromoted director holds
// the VIP on lo with ARP hidden, so it asks the wire as any host would and listens for every answer:
// one answer is the promoted director; two or more are two hosts claiming the VIP (two partitions
// promoted a director each, or a rogue host), which it logs, records in the state file (lvskit
// status, lvsd's metrics) and sets as the node attribute lvs-duplicate-<instance>, and clears when
// one host answers again. It acts on nothing: the promoted directors' own watchers do that.
import { which } from '../../exec/run';
import { ipFamily } from '../../net/address';
import { probeDuplicates } from '../../net/duplicate';
import { createLog } from '../../ocf/log';
import { setNodeAttributeAsync } from '../../pacemaker/attributes';
import { duplicateAttribute, loadState, saveState } from './state';
import { liveSystem } from './system';

const USAGE = 'usage: lvskit vipprobe --nic IF --vip ADDR --state FILE --watch-pid FILE (started by ocf:heartbeat:lvs at an unpromoted monitor)';

export async function runVipProbe(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const get = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const [nic, vip, statePath, watchPid] = [get('--nic'), get('--vip'), get('--state'), get('--watch-pid')];
  const family = vip === undefined ? undefined : ipFamily(vip);
  if (!nic || !vip || !family || !statePath || !watchPid) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const instance = env.OCF_RESOURCE_INSTANCE || 'lvs';
  const log = createLog('lvs', instance, env);
  const r = await probeDuplicates(vip, family, nic, { arping: which('arping', env), ndisc6: which('ndisc6', env) }, 1000, 'every');
  if (r.error) {
    log.warn(`vipprobe: duplicate VIP check of the unpromoted instance not done: ${r.error}`);
    return 0;
  }
  // Read, decided and written at once: the agent's actions write the same file.
  const state = loadState(statePath);
  // Stopped, or promoted meanwhile (its VIP watcher reports from then on): not ours to record.
  if (!state || liveSystem.vipWatchRunning(watchPid)) return 0;
  const was = state.duplicate?.unpromoted ? state.duplicate : undefined;
  const macs = [...r.macs].sort();
  const inCluster = Boolean(env.OCF_RESKEY_crm_feature_set);
  if (macs.length >= 2) {
    if (was && was.macs.join() === macs.join()) return 0;
    state.duplicate = { macs, since: new Date().toISOString(), unpromoted: true };
    saveState(statePath, state);
    log.error(`vipprobe: VIP ${vip} is answered on the wire by ${macs.length} hosts at once: ${macs.join(', ')} (seen from this unpromoted director; the promoted directors' watchers act on it)`);
    if (inCluster) {
      const err = await setNodeAttributeAsync(duplicateAttribute(instance), macs.join(','), 'reboot', env);
      if (err) log.error(`vipprobe: cannot set ${duplicateAttribute(instance)}: ${err}`);
    }
  } else if (was) {
    delete state.duplicate;
    saveState(statePath, state);
    log.info(`vipprobe: VIP ${vip} is answered by ${macs.length === 1 ? 'one host' : 'no host'} again`);
    if (inCluster) await setNodeAttributeAsync(duplicateAttribute(instance), undefined, 'reboot', env);
  }
  return 0;
}
