// A long-lived TCP connection through the VIP: an echo server on the real servers (guest/echo.py)
// and one client connection kept open for a whole scenario (guest/chat.py), to see a connection
// survive a failover.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe as describeResult } from './kernel';
import type { Topology } from './topology';

/** The echo service's port on the real servers (and on the VIP). */
export const ECHO_PORT = 7000;
const ECHO_PY = join(__dirname, 'guest', 'echo.py');
const CHAT_PY = join(__dirname, 'guest', 'chat.py');

/**
 * Starts the echo server on a node's port (default ECHO_PORT), and a second one for IPv6 when the
 * topology has an IPv6 VIP; returns once they listen.
 */
export async function startEcho(topo: Topology, node: string, port = ECHO_PORT): Promise<void> {
  for (const family of topo.spec.vip6 === undefined ? (['ipv4'] as const) : (['ipv4', 'ipv6'] as const)) {
    const r = await topo.exec(node, ['python3', ECHO_PY, String(port), ...(family === 'ipv6' ? ['ipv6'] : [])], { detach: true, log: join(topo.node(node).dir, family === 'ipv6' ? 'echo6.log' : 'echo.log') });
    if (r.error !== undefined) throw new Error(`cannot start the ${family} echo server on ${node}: ${describeResult(r)}`);
    await topo.waitListening(node, port, `${family} echo server`, undefined, family);
  }
}

export interface ChatLine {
  /** Lab clock, ms: the line was sent (echo), the connection made, or the error seen. */
  at: number;
  kind: 'connected' | 'echo' | 'error';
  /** echo: sequence number; connected: the client's local port. */
  n: number;
  /** echo: round trip in ms; error: its description. */
  detail: string;
}

export interface Chat {
  lines(): Promise<ChatLine[]>;
  stop(): Promise<void>;
}

export function parseChatLog(text: string): ChatLine[] {
  return text.split('\n').flatMap((line) => {
    const m = /^(\d+) (connected|echo|error) (\S+)(?: (.*))?$/.exec(line);
    if (!m) return [];
    const kind = m[2] as ChatLine['kind'];
    return [{ at: Number(m[1]), kind, n: kind === 'error' ? 0 : Number(m[3]), detail: kind === 'error' ? `${m[3]} ${m[4] ?? ''}`.trim() : (m[4] ?? '') }];
  });
}

/** Opens the client's long-lived connection to ADDRESS:PORT (default: the VIP, ECHO_PORT); returns after its first echo. */
export async function startChat(topo: Topology, options: { address?: string; port?: number; intervalMs?: number; client?: string; startTimeoutMs?: number } = {}): Promise<Chat> {
  const client = options.client ?? 'client';
  const file = join(topo.node(client).dir, `chat-${Date.now()}.log`);
  const r = await topo.exec(client, ['python3', CHAT_PY, options.address ?? topo.spec.vip, String(options.port ?? ECHO_PORT), String(options.intervalMs ?? 200)], {
    detach: true,
    log: file,
  });
  if (r.error !== undefined || r.pid === undefined) throw new Error(`cannot start the chat client in ${client}: ${describeResult(r)}`);
  const pid = r.pid;
  const lines = async () => parseChatLog((await topo.kernel.exec({ argv: ['cat', file] })).stdout);
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const until = Date.now() + timeoutMs;
  for (;;) {
    const l = await lines();
    if (l.some((x) => x.kind === 'echo')) break;
    const err = l.find((x) => x.kind === 'error');
    if (err || Date.now() > until) throw new Error(`the chat client in ${client} got no echo: ${err?.detail ?? `nothing after ${timeoutMs / 1000} s`}`);
    await sleep(100);
  }
  return { lines, stop: async () => void (await topo.kernel.exec({ argv: ['kill', String(pid)] })) };
}
