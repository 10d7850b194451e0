# The lab's sampler (lab/sampler.ts starts it on the lab kernel, outside every node, so that killing a
# node's processes does not kill it). Every INTERVAL_MS, for each watched node: where the VIPs sit and
# whether eth0 has carrier (netlink, from a socket in the node's network namespace) and its IPVS
# services (/proc/PID/net/ip_vs), without starting a process;
# and, from the client's eth0, which MACs answer ARP for each VIP.
#
# The ARP requests are probes as `arping -D` sends them (sender address 0.0.0.0) from a MAC that no
# node has: the answers come back to that MAC, and no ARP cache anywhere learns from them, so the
# sampler cannot move the client's ARP entry (which the load generator measures). Gratuitous ARPs
# for a VIP seen on the client's wire are recorded too.
#
# One JSON line per sample (lab kernel clock, ms):
#   {"t": ..., "nodes": {NAME: {"addr": [[VIP, IFNAME], ...], "carrier": ["eth0"] or [], "svc": [[VIP, "TCP", PORT, REALS, LIVE], ...]}},
#    "arp": {VIP: [MAC, ...]}, "garp": {VIP: [MAC, ...]}}
# It exits when a watched node's namespace holder is gone (the topology was destroyed).
# usage: python3 sampler.py INTERVAL_MS JSON  with JSON {"nodes": {NAME: PID}, "client": PID, "vips": [...]}
import ctypes
import json
import os
import select
import socket
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
RTM_NEWLINK, RTM_GETLINK, RTM_NEWADDR, RTM_GETADDR, NLMSG_DONE, NLMSG_ERROR = 16, 18, 20, 22, 3, 2
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFLA_IFNAME = 1, 2, 3, 3
IFF_LOWER_UP = 0x10000
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
ETH_P_ARP = 0x0806
PROBE_MAC = bytes.fromhex('026c766b0001')  # locally administered; no lab node has it
libc = ctypes.CDLL(None, use_errno=True)


def setns(fd: int) -> None:
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), 'setns')


def in_netns(pid: int, make):
    """A socket created inside the network namespace of pid (it stays bound to that namespace)."""
    home = os.open('/proc/self/ns/net', os.O_RDONLY)
    target = os.open(f'/proc/{pid}/ns/net', os.O_RDONLY)
    try:
        setns(target)
        return make()
    finally:
        setns(home)
        os.close(home)
        os.close(target)


def netlink(sock: socket.socket, seq: int, request: int, flags: int, reply: int, body: bytes, wanted: set):
    """The reply messages of a netlink request (a dump, or one GET): [(header after nlmsghdr, {attribute: bytes})],
    only the attributes in `wanted` parsed."""
    sock.send(struct.pack('=IHHII', 16 + len(body), request, flags, seq, 0) + body)
    out = []
    while True:
        data = sock.recv(65536)
        off = 0
        while off + 16 <= len(data):
            length, kind, _, _, _ = struct.unpack_from('=IHHII', data, off)
            if length < 16 or kind == NLMSG_DONE or kind == NLMSG_ERROR:
                return out
            if kind == reply:
                attrs = {}
                a = off + 16 + len(body)
                while a + 4 <= off + length:
                    alen, atype = struct.unpack_from('=HH', data, a)
                    if alen < 4:
                        break
                    if atype in wanted:
                        attrs[atype] = data[a + 4:a + alen]
                    a += (alen + 3) & ~3
                out.append((data[off + 16:off + 16 + len(body)], attrs))
            off += (length + 3) & ~3
        if not flags & NLM_F_DUMP:
            return out  # one GET: one reply message, no DONE


def text(raw: bytes) -> str:
    return raw.split(b'\0', 1)[0].decode()


def ipv4_addresses(sock: socket.socket, seq: int):
    """[(address, label)] of every IPv4 address in the socket's namespace."""
    out = []
    body = struct.pack('=BBBBI', socket.AF_INET, 0, 0, 0, 0)
    for _, attrs in netlink(sock, seq, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, RTM_NEWADDR, body, {IFA_ADDRESS, IFA_LOCAL, IFA_LABEL}):
        raw = attrs.get(IFA_LOCAL) or attrs.get(IFA_ADDRESS)
        if raw and len(raw) == 4:
            out.append((socket.inet_ntoa(raw), text(attrs.get(IFA_LABEL, b''))))
    return out


def carrier(sock: socket.socket, seq: int, ifname: str) -> bool:
    """Whether the interface has carrier (IFF_LOWER_UP) in the socket's namespace."""
    name = ifname.encode() + b'\0'
    attr = struct.pack('=HH', 4 + len(name), IFLA_IFNAME) + name + b'\0' * ((4 - len(name) % 4) % 4)
    body = struct.pack('=BBHiII', socket.AF_UNSPEC, 0, 0, 0, 0, 0) + attr
    for head, _ in netlink(sock, seq, RTM_GETLINK, NLM_F_REQUEST, RTM_NEWLINK, body, set()):
        return bool(struct.unpack_from('=I', head, 8)[0] & IFF_LOWER_UP)
    return False


def ip_vs(pid: int):
    """[(address, protocol, port, reals, reals with weight > 0)] from /proc/PID/net/ip_vs (IPv4 services)."""
    out = []
    try:
        with open(f'/proc/{pid}/net/ip_vs') as f:
            text = f.read()
    except FileNotFoundError:
        return out  # no IPVS in this kernel (the host lab without the module): no services
    current = None
    for line in text.splitlines()[3:]:
        c = line.split()
        if not c:
            continue
        if c[0] == '->':
            if current is not None and len(c) >= 4:
                current[3] += 1
                current[4] += 1 if int(c[3]) > 0 else 0
            continue
        current = None
        if c[0] in ('TCP', 'UDP', 'SCTP') and len(c[1]) == 13:  # HHHHHHHH:PPPP
            addr = socket.inet_ntoa(bytes.fromhex(c[1][:8]))
            current = [addr, c[0], int(c[1][9:], 16), 0, 0]
            out.append(current)
    return out


def arp_probe(vip: str) -> bytes:
    eth = b'\xff' * 6 + PROBE_MAC + struct.pack('!H', ETH_P_ARP)
    arp = struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + PROBE_MAC + b'\0' * 4 + b'\0' * 6 + socket.inet_aton(vip)
    return eth + arp


def main(interval: float, config: dict) -> None:
    nodes = {name: int(pid) for name, pid in config['nodes'].items()}
    vips = list(config['vips'])
    links = {name: in_netns(pid, lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)) for name, pid in nodes.items()}
    client = int(config['client'])

    def wire():
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
        s.bind(('eth0', ETH_P_ARP))
        return s

    arp = in_netns(client, wire)
    arp.setblocking(False)
    start = time.monotonic()
    n, seq = 0, 0
    while True:
        if n % 10 == 0 and not all(os.path.exists(f'/proc/{pid}') for pid in list(nodes.values()) + [client]):
            return
        t = time.time()
        for vip in vips:
            try:
                arp.send(arp_probe(vip))
            except OSError:
                pass  # the client's link is down: no answer this time
        sample = {'t': round(t * 1000, 1), 'nodes': {}, 'arp': {v: [] for v in vips}, 'garp': {v: [] for v in vips}}
        for name, pid in nodes.items():
            seq += 2
            try:
                addr = [[a, label] for a, label in ipv4_addresses(links[name], seq) if a in vips]
                linked = ['eth0'] if carrier(links[name], seq + 1, 'eth0') else []
                svc = [s for s in ip_vs(pid) if s[0] in vips]
            except OSError:
                continue
            sample['nodes'][name] = {'addr': addr, 'carrier': linked, 'svc': svc}
        # Answers to the probes for the rest of the slot (most of it: the kernel answers in well under
        # 1 ms), and whatever is queued already when reading the nodes took the whole slot.
        deadline = start + (n + 0.8) * interval
        while True:
            if not select.select([arp], [], [], max(deadline - time.monotonic(), 0))[0]:
                if time.monotonic() >= deadline:
                    break
                continue
            try:
                frame = arp.recv(128)
            except BlockingIOError:
                continue
            if len(frame) < 42:
                continue
            op = struct.unpack_from('!H', frame, 20)[0]
            sha, spa = frame[22:28].hex(':'), socket.inet_ntoa(frame[28:32])
            if spa not in vips:
                continue
            if op == 2 and frame[0:6] == PROBE_MAC:
                if sha not in sample['arp'][spa]:
                    sample['arp'][spa].append(sha)
            elif frame[38:42] == frame[28:32] and sha not in sample['garp'][spa]:
                sample['garp'][spa].append(sha)  # gratuitous: sender and target address both the VIP
        sys.stdout.write(json.dumps(sample, separators=(',', ':')) + '\n')
        sys.stdout.flush()
        n += 1
        behind = time.monotonic() - (start + n * interval)
        if behind > 0:
            n += int(behind / interval) + 1
        time.sleep(max(start + n * interval - time.monotonic(), 0))


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit('usage: sampler.py INTERVAL_MS JSON')
    main(int(sys.argv[1]) / 1000, json.loads(sys.argv[2]))
