# bench/agent.ts runs this in the director's namespaces: for each run, the untimed PREPARE, then a
# quiet wire, then ACTION, timed from just before it is started to the first gratuitous ARP for VIP
# from MAC that reaches the peer's eth0 (a packet socket in the peer's network namespace; the
# kernel's receive time stamp, SO_TIMESTAMPNS) and to the action's exit (a pidfd). One clock: the
# host kernel's CLOCK_REALTIME, shared by every namespace.
# Both run with this process's environment (the benchmark gives it exactly pacemaker-execd's).
# One JSON line per timed run: {"arp_ms": float or null, "exit_ms": float, "code": int}.
# usage: python3 first-arp.py JSON
#   JSON {"peer_pid": N, "vip": A, "mac": M, "runs": N, "warmup": N, "prepare": [...], "action": [...],
#         "quiet_ms": N, "arp_timeout_ms": N}
import ctypes
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000
ETH_P_ARP = 0x0806
SO_TIMESTAMPNS = 35
libc = ctypes.CDLL(None, use_errno=True)


def setns(fd: int) -> None:
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), 'setns')


def peer_socket(pid: int) -> socket.socket:
    """A packet socket for ARP on eth0 of the network namespace of pid (it stays bound there)."""
    home = os.open('/proc/self/ns/net', os.O_RDONLY)
    target = os.open(f'/proc/{pid}/ns/net', os.O_RDONLY)
    try:
        setns(target)
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
        s.bind(('eth0', ETH_P_ARP))
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        return s
    finally:
        setns(home)
        os.close(home)
        os.close(target)


def gratuitous(frame: bytes, vip: bytes, mac: bytes) -> bool:
    """An ARP request or reply from mac announcing vip (sender and target address both vip)."""
    if len(frame) < 42:
        return False
    _, ptype, _, _, _ = struct.unpack_from('!HHBBH', frame, 14)
    sha, spa, tpa = frame[22:28], frame[28:32], frame[38:42]
    return ptype == 0x0800 and sha == mac and spa == vip and tpa == vip


def about_vip(frame: bytes, vip: bytes) -> bool:
    return len(frame) >= 42 and frame[28:32] == vip


def receive(sock: socket.socket):
    """One frame and its kernel receive time (ns, CLOCK_REALTIME)."""
    frame, ancdata, _, _ = sock.recvmsg(2048, socket.CMSG_SPACE(16))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = struct.unpack('=qq', data[:16])
            return frame, sec * 1_000_000_000 + nsec
    return frame, time.time_ns()


def quiet(sock: socket.socket, vip: bytes, quiet_ms: int, limit_ms: int) -> None:
    """Waits until no ARP about vip has been seen for quiet_ms (an earlier sender still running)."""
    end = time.monotonic() + limit_ms / 1000
    last = time.monotonic()
    while time.monotonic() < end:
        left = quiet_ms / 1000 - (time.monotonic() - last)
        if left <= 0:
            return
        r, _, _ = select.select([sock], [], [], left)
        if r:
            frame, _ = receive(sock)
            if about_vip(frame, vip):
                last = time.monotonic()
    raise SystemExit(f'first-arp: ARPs about the VIP still on the wire after {limit_ms} ms')


def one(sock: socket.socket, config: dict, vip: bytes, mac: bytes) -> dict:
    prep = subprocess.run(config['prepare'], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if prep.returncode != 0:
        raise SystemExit(f'first-arp: prepare {config["prepare"]} exited {prep.returncode}')
    quiet(sock, vip, config['quiet_ms'], 10_000)
    t0 = time.time_ns()
    p = subprocess.Popen(config['action'], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pidfd = os.pidfd_open(p.pid)
    arp_ns = exit_ns = None
    deadline = time.monotonic() + config['arp_timeout_ms'] / 1000
    try:
        while exit_ns is None or (arp_ns is None and time.monotonic() < deadline):
            wait = [pidfd] if exit_ns is None else []
            if arp_ns is None:
                wait.append(sock)
            r, _, _ = select.select(wait, [], [], max(deadline - time.monotonic(), 0) if exit_ns is not None else None)
            if pidfd in r:
                exit_ns = time.time_ns()
            if sock in r:
                frame, at = receive(sock)
                if arp_ns is None and gratuitous(frame, vip, mac):
                    arp_ns = at
    finally:
        os.close(pidfd)
    code = p.wait()
    return {'arp_ms': None if arp_ns is None else (arp_ns - t0) / 1e6, 'exit_ms': (exit_ns - t0) / 1e6, 'code': code}


def main(config: dict) -> None:
    vip = socket.inet_aton(config['vip'])
    mac = bytes.fromhex(config['mac'].replace(':', ''))
    sock = peer_socket(int(config['peer_pid']))
    for i in range(config['warmup'] + config['runs']):
        r = one(sock, config, vip, mac)
        if i >= config['warmup']:
            print(json.dumps(r), flush=True)


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: first-arp.py JSON')
    main(json.loads(sys.argv[1]))
