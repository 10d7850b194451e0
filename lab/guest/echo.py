# An echo server (lab/echo.ts runs it on the real servers): one thread per connection, bytes sent back.
# IPv4, or with `ipv6` IPv6 only (beside the IPv4 one on the same port).
# usage: python3 echo.py PORT [ipv6]
import socket
import sys
import threading

if sys.argv[2:] == ['ipv6']:
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    any_address = '::'
else:
    s = socket.socket()
    any_address = '0.0.0.0'
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((any_address, int(sys.argv[1])))
s.listen(64)


def serve(c):
    with c:
        while True:
            d = c.recv(4096)
            if not d:
                return
            c.sendall(d)


while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
