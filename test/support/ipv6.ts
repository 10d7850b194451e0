// IPv6 in the lab, added by the tests to the nodes the lab builds (the lab itself is IPv4): every
// node gets 2001:db8::<last octet of its IPv4 address>/64 on eth0, the IPv6 VIP is 2001:db8::100.
// Only the documentation prefix 2001:db8::/32, only inside the lab's namespaces.
// Also what the IPv6 tests read back from the wire: neighbour solicitations answered (ndisc6), the
// unsolicited neighbour advertisements a node receives, a node's neighbour cache, and small IPv6
// servers for the real servers (HTTP, HTTPS, simpletcp, DNS, echo).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe as describeResult, type ExecResult, type Topology } from '../../lab';
import { type Chat, type ChatLine, parseChatLog } from '../../lab/echo';
import { waitFor } from './lvs-agent';

export const VIP6 = '2001:db8::100';
export const PREFIX6 = 64;

/** A node's IPv6 address: 2001:db8:: and the last octet of its IPv4 address (client ::10, d1 ::11, r1 ::21). */
export function ip6(topo: Topology, node: string): string {
  const last = topo.node(node).ip.split('.').pop()!;
  return `2001:db8::${last}`;
}

/** Every node's IPv6 address on eth0 (nodad: usable at once); returns once no address on any node is still tentative. */
export async function addIpv6(topo: Topology): Promise<void> {
  for (const n of topo.all()) await topo.run(n.name, ['ip', '-6', 'addr', 'add', `${ip6(topo, n.name)}/${PREFIX6}`, 'dev', 'eth0', 'nodad']);
  // A node whose link-local address is still in DAD sends no neighbour solicitation at all.
  for (const n of topo.all()) {
    await waitFor(`${n.name}'s IPv6 addresses to leave DAD`, async () => (await topo.run(n.name, ['ip', '-6', 'addr', 'show', 'tentative'])).trim() === '', 20_000, 200);
  }
}

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
  return [...r.stdout.matchAll(/link-layer address:\s*([0-9A-Fa-f:]{17})/g)].map((m) => m[1]!.toLowerCase());
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

// IPv6 servers for a real server (Python, no shell), each on [::] and answering with the node's name:
//   http NAME PORT              HTTP GET: "NAME\n"
//   https NAME PORT CERT KEY    the same over TLS
//   line NAME PORT              simpletcp: reads a line, answers "status=ok NAME\n"
//   dns NAME PORT               DNS over UDP and TCP: www.example.test A 203.0.113.5, anything else NXDOMAIN
//   echo NAME PORT              TCP echo, each line answered as "NAME: line"
const SERVERS = String.raw`
import http.server, socket, socketserver, ssl, struct, sys, threading
mode, name, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
class V6(socketserver.ThreadingMixIn):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True
    def server_bind(self):
        # IPv6 only: the lab's own IPv4 servers keep 0.0.0.0 on the same ports.
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()
class TCP6(V6, socketserver.TCPServer): pass
class UDP6(V6, socketserver.UDPServer): pass
class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (name + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
def dns_answer(q):
    if len(q) < 17:
        return None
    o, labels = 12, []
    while q[o]:
        labels.append(q[o + 1:o + 1 + q[o]].decode("ascii", "replace"))
        o += q[o] + 1
    qtype = struct.unpack(">H", q[o + 1:o + 3])[0]
    question = q[12:o + 5]
    answers = b""
    rcode = 0
    if ".".join(labels).lower() == "www.example.test" and qtype == 1:
        answers = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + bytes([203, 0, 113, 5])
    else:
        rcode = 3
    return q[0:2] + struct.pack(">HHHHH", 0x8180 | rcode, 1, 1 if answers else 0, 0, 0) + question + answers
class Dns(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        a = dns_answer(data)
        if a:
            sock.sendto(a, self.client_address)
class DnsTcp(socketserver.StreamRequestHandler):
    def handle(self):
        n = struct.unpack(">H", self.rfile.read(2))[0]
        a = dns_answer(self.rfile.read(n))
        if a:
            self.wfile.write(struct.pack(">H", len(a)) + a)
class Line(socketserver.StreamRequestHandler):
    def handle(self):
        self.rfile.readline()
        self.wfile.write(("status=ok " + name + "\n").encode())
class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(name.encode() + b": " + line)
if mode == "http":
    TCP6(("::", port), Page).serve_forever()
elif mode == "https":
    srv = TCP6(("::", port), Page)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()
elif mode == "line":
    TCP6(("::", port), Line).serve_forever()
elif mode == "echo":
    TCP6(("::", port), Echo).serve_forever()
elif mode == "dns":
    threading.Thread(target=TCP6(("::", port), DnsTcp).serve_forever, daemon=True).start()
    UDP6(("::", port), Dns).serve_forever()
`;

export type Server6 = 'http' | 'https' | 'line' | 'dns' | 'echo';

/** Starts an IPv6 server on a node (detached); returns once it listens (TCP; DNS: its TCP side). */
export async function startServer6(topo: Topology, node: string, kind: Server6, port: number, extra: string[] = []): Promise<number> {
  const r = await topo.exec(node, ['python3', '-c', SERVERS, kind, node, String(port), ...extra], { detach: true, log: join(topo.node(node).dir, `${kind}6-${port}.log`) });
  assert.ok(r.error === undefined && r.pid !== undefined, `cannot start the ${kind} server on ${node}: ${describeResult(r)}`);
  await waitFor(`the ${kind} server on ${node} to listen on [::]:${port}`, async () => (await topo.run(node, ['ss', '-Hltn6', `sport = :${port}`])).trim() !== '', 60_000, 200);
  return r.pid;
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
