// IPv6 in the lab (the lab's own addressing is IPv4): every node gets 2001:db8::<last octet of its
// IPv4 address>/64 on eth0, the IPv6 VIP is 2001:db8::100, and small IPv6 servers answer with the
// node's name. Only the documentation prefix 2001:db8::/32, only inside the lab's namespaces.
// Used by the dual-stack director layout (lab/directors.ts) and the IPv6 lab tests.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe as describeResult } from './kernel';
import type { Topology } from './topology';

/** Polls until `probe` is true; throws naming `what` after `timeoutMs`. */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number, stepMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(stepMs);
  }
}

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
    await until(`${n.name}'s IPv6 addresses to leave DAD`, async () => (await topo.run(n.name, ['ip', '-6', 'addr', 'show', 'tentative'])).trim() === '', 20_000, 200);
  }
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
  if (r.error !== undefined || r.pid === undefined) throw new Error(`cannot start the ${kind} server on ${node}: ${describeResult(r)}`);
  await until(`the ${kind} server on ${node} to listen on [::]:${port}`, async () => (await topo.run(node, ['ss', '-Hltn6', `sport = :${port}`])).trim() !== '', 60_000, 200);
  return r.pid;
}

