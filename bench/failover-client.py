# The failover benchmark's client (bench/failover.ts runs it in the lab client's namespace): one new
# HTTP request through the VIP every INTERVAL ms, each on its own schedule, so that a request that
# hangs does not delay the next one. Each gets TIMEOUT ms, less than TCP's first SYN retransmission
# (1 s), so that no request can be rescued by a retransmission after the path came back.
# One line per request, written when it ends: send time (epoch s), ok|fail, ms, real or reason.
# usage: python3 failover-client.py VIP PORT INTERVAL_MS TIMEOUT_MS
import asyncio
import sys
import time


async def request(vip: str, port: int, timeout: float) -> None:
    sent = time.time()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(vip, port), timeout)
        try:
            writer.write(b'GET / HTTP/1.0\r\nHost: bench\r\n\r\n')
            remaining = timeout - (time.time() - sent)
            data = await asyncio.wait_for(reader.read(), max(remaining, 0.001))
        finally:
            writer.close()
        head, _, body = data.partition(b'\r\n\r\n')
        status = head.split(b'\r\n', 1)[0].split()
        if len(status) >= 2 and status[1] == b'200':
            outcome = ('ok', body.decode('latin-1').strip() or '-')
        else:
            outcome = ('fail', 'status:' + b'_'.join(status).decode('latin-1'))
    except asyncio.TimeoutError:
        outcome = ('fail', 'timeout')
    except OSError as err:
        outcome = ('fail', (err.strerror or type(err).__name__).replace(' ', '_'))
    print(f'{sent:.6f} {outcome[0]} {(time.time() - sent) * 1000:.1f} {outcome[1]}', flush=True)


async def main(vip: str, port: int, interval: float, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = set()
    n = 0
    while True:
        task = asyncio.create_task(request(vip, port, timeout))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        n += 1
        # A fixed grid, not "interval after the last one": a slow loop does not stretch the schedule.
        await asyncio.sleep(max(start + n * interval - loop.time(), 0))


if __name__ == '__main__':
    if len(sys.argv) != 5:
        sys.exit('usage: failover-client.py VIP PORT INTERVAL_MS TIMEOUT_MS')
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) / 1000, int(sys.argv[4]) / 1000))
