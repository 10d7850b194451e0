// checktype=external: runs checkcommand with ldirectord's arguments `VIP|fwmark VPORT RIP RPORT`;
// exit 0 = up. No shell; the command and everything it started are killed when the signal aborts.
import { brief, fail, guarded, runChild, up } from './socket';
import type { Check } from './types';

export const externalCheck: Check = (target, signal) =>
  guarded(signal, async (scope) => {
    const v = target.virtual;
    const args = [v.protocol === 'fwm' ? String(v.fwmark ?? '') : (v.address ?? ''), String(v.port), target.address, String(target.realPort)];
    scope.step(`waiting for ${target.checkcommand}`);
    const r = await runChild(scope, target.checkcommand, args);
    if (r.code === 0) return up('exit 0');
    const said = r.stderr.trim() ? `: ${brief(r.stderr, 60)}` : '';
    fail(r.signal ? `killed by ${r.signal}${said}` : `exit ${r.code}${said}`);
  });
