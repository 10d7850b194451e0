# The lab's load generator (lab/load.ts starts it in the client's namespace): one new HTTP request
# to ADDRESS:PORT every INTERVAL_MS on a fixed schedule, whatever the previous ones do, each with its
# own TIMEOUT_MS limit. A new connection per request, so IPVS schedules each one.
# One line per request, written when it ends (so not in send order):
#   <sent, ms since the epoch> ok|fail <latency ms> <real that answered | reason> <client's ARP entry for ADDRESS | ->
# Times are the lab kernel's clock (this process runs on it).
# usage: python3 load.py ADDRESS PORT INTERVAL_MS TIMEOUT_MS
import asyncio
import sys
import time


def arp_entry(address: str) -> str:
    # /proc/net/arp, not `ip neigh`: no process per request.
    try:
        with open('/proc/net/arp') as f:
            for line in f.read().splitlines()[1:]:
                c = line.split()
                if len(c) >= 4 and c[0] == address and c[2] != '0x0':
                    return c[3]
    except OSError:
        pass
    return '-'


async def request(address: str, port: int, timeout: float) -> None:
    sent = time.time()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(address, port), timeout)
        try:
            writer.write(b'GET / HTTP/1.0\r\nHost: lab\r\n\r\n')
            data = await asyncio.wait_for(reader.read(), max(timeout - (time.time() - sent), 0.001))
        finally:
            writer.close()
        head, _, body = data.partition(b'\r\n\r\n')
        status = head.split(b'\r\n', 1)[0].split()
        if len(status) >= 2 and status[1] == b'200':
            outcome = ('ok', (body.decode('latin-1').split() or ['-'])[0])
        else:
            outcome = ('fail', 'status:' + b'_'.join(status).decode('latin-1'))
    except asyncio.TimeoutError:
        outcome = ('fail', 'timeout')
    except OSError as err:
        outcome = ('fail', (err.strerror or type(err).__name__).replace(' ', '_'))
    print(f'{sent * 1000:.1f} {outcome[0]} {(time.time() - sent) * 1000:.1f} {outcome[1]} {arp_entry(address)}', flush=True)


async def main(address: str, port: int, interval: float, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = set()
    n = 0
    while True:
        task = asyncio.create_task(request(address, port, timeout))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        n += 1
        # A fixed grid, not "interval after the last one": a slow request does not stretch the schedule;
        # a late loop skips the slots it missed rather than bursting to catch up.
        behind = loop.time() - (start + n * interval)
        if behind > 0:
            n += int(behind / interval) + 1
        await asyncio.sleep(max(start + n * interval - loop.time(), 0))


if __name__ == '__main__':
    if len(sys.argv) != 5:
        sys.exit('usage: load.py ADDRESS PORT INTERVAL_MS TIMEOUT_MS')
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) / 1000, int(sys.argv[4]) / 1000))
