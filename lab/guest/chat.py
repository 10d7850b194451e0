# One TCP connection to ADDRESS:PORT kept for the whole run (lab/echo.ts runs it in the client): a
# numbered line every INTERVAL_MS, its echo awaited (TCP retransmits through an outage), one log line
# per echo; the first error ends it. Lines (lab kernel clock, ms):
#   <t> connected <local port> | <t> echo <seq> <round trip ms> | <t> error <name> <message>
# usage: python3 chat.py ADDRESS PORT INTERVAL_MS
import socket
import sys
import time

address, port, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) / 1000
try:
    s = socket.create_connection((address, port), timeout=10)
except Exception as e:
    print('%d error %s %s' % (time.time() * 1000, type(e).__name__, e), flush=True)
    sys.exit(1)
s.settimeout(300)
print('%d connected %d' % (time.time() * 1000, s.getsockname()[1]), flush=True)
seq, buf = 0, b''
while True:
    seq += 1
    t0 = time.time()
    try:
        s.sendall(b'%d\n' % seq)
        while b'\n' not in buf:
            d = s.recv(4096)
            if not d:
                raise EOFError('closed by the peer')
            buf += d
        line, buf = buf.split(b'\n', 1)
        if int(line) != seq:
            raise ValueError('echo %r for %d' % (line, seq))
        print('%d echo %d %d' % (t0 * 1000, seq, (time.time() - t0) * 1000), flush=True)
    except Exception as e:
        print('%d error %s %s' % (time.time() * 1000, type(e).__name__, e), flush=True)
        sys.exit(1)
    time.sleep(interval)
