// What the IPv6 lab tests read back from the wire (the addresses and servers are lab/ipv6.ts'):
// neighbour solicitations answered (ndisc6), the unsolicited neighbour advertisements a node
// receives, a node's neighbour cache; also a self-signed certificate for the HTTPS server, curl, and
// a long-lived connection.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe as describeResult, type ExecResult, type Topology } from '../../lab';
import { type Chat, type ChatLine, parseChatLog } from '../../lab/echo';
import { VIP6 } from '../../lab/ipv6';
import { waitFor } from './lvs-agent';

export { addIpv6, ip6, PREFIX6, startServer6, VIP6, type Server6 } from '../../lab/ipv6';

export interface Addr6 {
  prefix: number;
  /** iproute2's flags of the address that the tests care about. */
  tentative: boolean;
  nodad: boolean;
  dadfailed: boolean;
}

/** Where an IPv6 address sits on a device, with its flags ([] when it is not there). */
export async function addr6On(topo: Topology, node: string, dev: string, address = VIP6): Promise<Addr6[]> {
  const out = await topo.run(node, ['ip', '-j', '-6', 'addr', 'show', 'dev', dev]);
  const links = JSON.parse(out || '[]') as Array<{ addr_info?: Array<Record<string, unknown> & { local: string; prefixlen: number }> }>;
  return (links[0]?.addr_info ?? [])
    .filter((a) => a.local === address)
    .map((a) => ({ prefix: a.prefixlen, tentative: a.tentative === true, nodad: a.nodad === true, dadfailed: a.dadfailed === true }));
}

/** Prefix lengths only, as vipOn() gives them for IPv4. */
export async function vip6On(topo: Topology, node: string, dev: string, address = VIP6): Promise<number[]> {
  return (await addr6On(topo, node, dev, address)).map((a) => a.prefix);
}

/**
 * The MACs that answer a neighbour solicitation for `target` sent from `from` (ndisc6, package
 * ndisc6): every host that holds the address on that link, nobody else. [] when none answers.
 */
export async function ndiscAnswers(topo: Topology, from: string, target = VIP6): Promise<string[]> {
  const r = await topo.exec(from, ['ndisc6', '-m', '-n', '-r', '2', '-w', '1000', target, 'eth0']);
  // 0: answered; 2: nobody answered. Anything else is a broken probe, not an answer.
  assert.ok(r.code === 0 || r.code === 2, `ndisc6 on ${from}: ${describeResult(r)}`);
  // Distinct: under load the first answer can come after ndisc6 sent its second solicitation (-m prints both).
  return [...new Set([...r.stdout.matchAll(/link-layer address:\s*([0-9A-Fa-f:]{17})/g)].map((m) => m[1]!.toLowerCase()))];
}

/** The client's neighbour cache entry for an address: its MAC and state, or undefined. */
export async function neighbour(topo: Topology, node: string, address = VIP6): Promise<{ mac?: string; state: string } | undefined> {
  const out = (await topo.run(node, ['ip', '-6', 'neigh', 'show', address])).trim();
  if (!out) return undefined;
  const mac = /lladdr ([0-9a-f:]{17})/.exec(out)?.[1];
  return { ...(mac ? { mac } : {}), state: out.split(/\s+/).pop() ?? '' };
}

// Listens on a node's eth0 for ICMPv6 neighbour advertisements and prints one JSON line per frame
// received (not sent): source MAC, IPv6 source and destination, flags, target, target link-layer address.
const CAPTURE_NA = String.raw`
import json, socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
s.bind((sys.argv[1], 0))
s.settimeout(0.1)
end = time.monotonic() + float(sys.argv[2])
print(json.dumps({"ready": True}), flush=True)
mac = lambda b: ":".join("%02x" % x for x in b)
ip6 = lambda b: socket.inet_ntop(socket.AF_INET6, bytes(b))
while time.monotonic() < end:
    try:
        frame, addr = s.recvfrom(2048)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING or len(frame) < 78 or frame[20] != 58 or frame[54] != 136:
        continue
    flags = frame[58]
    tlla = None
    o = 78
    while o + 8 <= len(frame):
        kind, length = frame[o], frame[o + 1] * 8
        if length == 0:
            break
        if kind == 2:
            tlla = mac(frame[o + 2:o + 8])
        o += length
    print(json.dumps({"t": time.monotonic(), "src": mac(frame[6:12]), "saddr": ip6(frame[22:38]), "daddr": ip6(frame[38:54]),
                      "hop": frame[21], "router": bool(flags & 0x80), "solicited": bool(flags & 0x40), "override": bool(flags & 0x20),
                      "target": ip6(frame[62:78]), "tlla": tlla}), flush=True)
print(json.dumps({"done": True}), flush=True)
`;

export interface NaFrame {
  t: number;
  src: string;
  saddr: string;
  daddr: string;
  hop: number;
  router: boolean;
  solicited: boolean;
  override: boolean;
  target: string;
  tlla: string | null;
}

/** Starts a neighbour advertisement capture on a node; the returned function waits for its end and gives the frames. */
export async function captureNa(topo: Topology, node: string, seconds: number): Promise<() => Promise<NaFrame[]>> {
  const log = join(topo.node(node).dir, `na-${Date.now()}.log`);
  const started = await topo.exec(node, ['python3', '-c', CAPTURE_NA, 'eth0', String(seconds)], { detach: true, log });
  assert.equal(started.error, undefined, describeResult(started));
  const lines = async () =>
    (await topo.exec(node, ['cat', log])).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Partial<NaFrame> & { ready?: boolean; done?: boolean });
  await waitFor('the neighbour advertisement capture to listen', async () => (await lines()).some((l) => l.ready), 20_000);
  return async () => {
    await waitFor('the capture to end', async () => (await lines()).some((l) => l.done), (seconds + 15) * 1000, 250);
    return (await lines()).filter((l): l is NaFrame => l.target !== undefined);
  };
}

/** A throw-away self-signed certificate for the HTTPS server, in the node's directory. */
export async function selfSigned(topo: Topology, node: string): Promise<{ cert: string; key: string }> {
  const dir = topo.node(node).dir;
  const cert = join(dir, 'cert6.pem');
  const key = join(dir, 'key6.pem');
  await topo.run(node, ['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=www.example.test', '-keyout', key, '-out', cert]);
  return { cert, key };
}

/** curl to an IPv6 URL from a node: the body, trimmed, or the failure. */
export async function curl6(topo: Topology, node: string, address: string, port = 80): Promise<ExecResult> {
  return topo.exec(node, ['curl', '-sS', '-g', '--max-time', '3', `http://[${address}]:${port}/`]);
}

// One TCP connection to [HOST]:PORT, kept until STOP exists: a numbered line every INTERVAL s, its
// echo awaited (TCP retransmits through an outage), one log line per echo; the first error ends it.
const CHAT = String.raw`
import os, socket, sys, time
host, port, interval, stop, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
log = open(out, "a", buffering=1)
try:
    s = socket.create_connection((host, port), timeout=60)
    log.write("%d connected %d\n" % (time.time() * 1000, s.getsockname()[1]))
    r = s.makefile("rb")
    n = 0
    while not os.path.exists(stop):
        n += 1
        t0 = time.time()
        s.sendall(b"%d\n" % n)
        line = r.readline().decode()
        if not line:
            raise EOFError("closed by the other side")
        if not line.strip().endswith(": %d" % n):
            raise ValueError("echo %r for %d" % (line, n))
        log.write("%d echo %d %d %s\n" % (t0 * 1000, n, (time.time() - t0) * 1000, line.split(":")[0]))
        time.sleep(interval)
except Exception as e:
    log.write("%d error %s: %s\n" % (time.time() * 1000, type(e).__name__, e))
`;

/** Opens the long-lived connection from `node` to [address]:port; returns once the first echo is back. */
export async function startChat(topo: Topology, node: string, address: string, port: number, intervalMs = 200): Promise<Chat> {
  const dir = topo.node(node).dir;
  const stamp = Date.now();
  const out = join(dir, `chat6-${stamp}.log`);
  const stopFile = join(dir, `chat6-${stamp}.stop`);
  const r = await topo.exec(node, ['python3', '-c', CHAT, address, String(port), String(intervalMs / 1000), stopFile, out], { detach: true, log: `${out}.stderr` });
  assert.equal(r.error, undefined, describeResult(r));
  const lines = async (): Promise<ChatLine[]> => parseChatLog((await topo.exec(node, ['cat', out])).stdout);
  await waitFor(`the first echo of the connection to [${address}]:${port}`, async () => {
    const l = await lines();
    const err = l.find((x) => x.kind === 'error');
    if (err) throw new Error(`the connection to [${address}]:${port} failed: ${err.detail}`);
    return l.some((x) => x.kind === 'echo');
  }, 30_000, 200);
  return { lines, stop: async () => void (await topo.exec(node, ['touch', stopFile])) };
}
