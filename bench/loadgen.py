"""An open-loop HTTP load generator: POSTs at a fixed rate, latency timed from the planned send.

``python -m bench.loadgen URL BODY_FILE --rate R --duration S`` prints one JSON object.

Why not wrk for the fixed-rate figures: Debian's wrk 4 has no constant-rate mode (that is
wrk2), and each of its connections waits for a response before sending again, so a slow
server is simply sent less and its queueing never shows (coordinated omission). Here request
``i`` is due at ``start + i / rate`` whatever happened before; it goes out on a free keep-alive
connection, and its latency runs from when it was due, so time spent waiting for a connection
counts. The same generator measures the trivial endpoint, so its own overhead is in the
baseline too. wrk still measures the maximum throughput, where a closed loop is what we want.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import sys
from urllib.parse import urlsplit

_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return math.nan
    return ordered[max(1, math.ceil(q / 100.0 * len(ordered))) - 1]


async def _load(
    url: str, body: bytes, rate: float, duration: float, warmup: float, connections: int
) -> dict[str, float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (
        f"POST {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[float | None] = asyncio.Queue()
    latencies: list[float] = []
    counts = {"ok": 0, "non2xx": 0, "errors": 0}
    start = loop.time() + 0.2
    measure_from = start + warmup

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        while (due := await queue.get()) is not None:
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                match = _LENGTH.search(head)
                await reader.readexactly(int(match.group(1)) if match else 0)
                status = int(head[9:12])
            except (OSError, asyncio.IncompleteReadError, ValueError):
                counts["errors"] += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            if due >= measure_from:
                latencies.append(loop.time() - due)
                counts["ok" if 200 <= status < 300 else "non2xx"] += 1
        writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    total = int(rate * (warmup + duration))
    for i in range(total):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(start + i / rate)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.wait_for(asyncio.gather(*workers), timeout=120)
    elapsed = loop.time() - measure_from
    latencies.sort()
    return {
        "rate": rate,
        "achieved_rate": len(latencies) / elapsed,
        "requests": len(latencies),
        **counts,
        "p50_ms": 1000 * _percentile(latencies, 50),
        "p90_ms": 1000 * _percentile(latencies, 90),
        "p99_ms": 1000 * _percentile(latencies, 99),
        "max_ms": 1000 * (latencies[-1] if latencies else math.nan),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("url")
    parser.add_argument("body_file")
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--duration", type=float, required=True, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds sent, not measured")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with open(args.body_file, "rb") as f:
        body = f.read()
    result = asyncio.run(
        _load(args.url, body, args.rate, args.duration, args.warmup, args.connections)
    )
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
