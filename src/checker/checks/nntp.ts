// service=nntp (ldirectord check_nntp): the server's banner starts with 2 (200/201: ready).
import { brief, connect, endpointOf, fail, goodbye, guarded, LineReader, up } from './socket';
import type { Check } from './types';

export const nntpCheck: Check = (target, signal) =>
  guarded(signal, async (scope) => {
    const socket = await connect(scope, endpointOf(target));
    const reader = new LineReader(socket, scope.signal);
    scope.step('waiting for the banner');
    const banner = await reader.line();
    if (banner === null) fail('connection closed without a banner');
    if (!banner.startsWith('2')) fail(`banner "${brief(banner, 40)}"`);
    await goodbye(socket, 'QUIT\r\n');
    return up(`banner ${banner.slice(0, 3)}`);
  });
