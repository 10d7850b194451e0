// checktype=connect: a TCP connection to the check port, closed at once (ldirectord check_connect).
// UDP virtuals have nothing to connect to; the engine pings them instead, as ldirectord does.
import { connect, endpointOf, guarded, up } from './socket';
import type { Check } from './types';

export const connectCheck: Check = (target, signal) =>
  guarded(signal, async (scope) => {
    const socket = await connect(scope, endpointOf(target));
    socket.destroy();
    return up('connected');
  });
