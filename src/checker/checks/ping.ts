// checktype=ping: ICMP echo through iputils ping (Node has no raw sockets). ldirectord counts the real
// up on the first reply out of checkcount attempts; `-c 1 -w D` does exactly that: it probes every
// D/checkcount seconds until one probe is answered or D has passed. Without a known D it probes each
// second until the signal ends it. The child dies with the signal either way.
import { brief, fail, guarded, runChild, up } from './socket';
import type { Check } from './types';

export const pingCheck: Check = (target, signal) =>
  guarded(signal, async (scope) => {
    const attempts = Math.max(1, Math.floor(target.checkcount) || 1);
    const known = target.timeout !== undefined && target.timeout > 0;
    const seconds = known ? target.timeout! : 86_400;
    // iputils refuses intervals under 0.2 s for ordinary users; its deadline is whole seconds.
    const interval = known ? Math.max(0.2, seconds / attempts) : 1;
    const args = ['-n', target.family === 6 ? '-6' : '-4', '-c', '1', '-i', interval.toFixed(3), '-w', String(Math.ceil(seconds)), target.address];
    scope.step('waiting for an echo reply');
    const r = await runChild(scope, 'ping', args);
    if (r.code === 0) return up('echo reply');
    if (r.code === 1) fail('no echo reply');
    fail(r.stderr.trim() ? brief(r.stderr) : `ping ${r.signal ? `killed by ${r.signal}` : `exit ${r.code}`}`);
  });
