"""``make bench-flood``: what a flood at the customer doors costs everyone else.

The stack as ``make run`` starts it, trusting X-Forwarded-For from 127.0.0.1 (as behind a
reverse proxy on the same machine) so the flooder and the customers have addresses of their
own. Customers send "xin chào"-like questions one at a time, each from its own sender and
address; their round trips are timed first on a quiet server, then while a flooder sends, as
fast as it can over several connections, 1 MB bodies (REST, with and without the trailing
slash, and socket.io polling) and 10 kB messages (REST and socket.io). Printed: the
customers' p50/p99 quiet and during the flood, their ratio (the goal is at most 2×), and what
the flood's requests were answered with.
"""

import argparse
import asyncio
import itertools
import multiprocessing
import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

import aiohttp
import socketio

from bot.sandbox import processes_in
from bot.training import ensure_model

QUESTIONS = ["xin chào", "phí ship nội thành bao nhiêu", "chính sách đổi trả thế nào", "shop mở cửa mấy giờ"]
FLOODER = "192.0.2.66"
MEGABYTE = b'{"sender": "flood", "message": "' + b"x" * 1_000_000 + b'"}'
TEN_KB = "tràn " * 2_000


def pct(latencies: list[float], p: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


async def customers(url: str, count: int) -> list[float]:
    """``count`` customers one after another, each a new sender from a new address: round trips in s."""
    latencies = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        for number in range(count):
            address = f"198.51.{number // 250 % 250}.{number % 250 + 1}"
            body = {"sender": uuid.uuid4().hex, "message": QUESTIONS[number % len(QUESTIONS)]}
            started = time.perf_counter()
            async with session.post(url, json=body, headers={"X-Forwarded-For": address}) as reply:
                await reply.read()
                assert reply.status == 200, reply.status
            latencies.append(time.perf_counter() - started)
    return latencies


async def flood_http(base: str, stop: asyncio.Event, outcomes: Counter) -> None:
    """One connection's worth of 1 MB bodies and 10 kB messages, round robin over the doors."""
    requests = itertools.cycle([
        ("/webhooks/rest/webhook", MEGABYTE), ("/webhooks/rest/webhook/", MEGABYTE),
        ("/socket.io/?EIO=4&transport=polling", MEGABYTE), ("/webhooks/rest/webhook", None),
        ("/webhooks/rest/webhook/", None),
    ])  # fmt: skip
    headers = {"X-Forwarded-For": FLOODER, "Content-Type": "application/json"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        for path, body in requests:
            if stop.is_set():
                return
            data = body or aiohttp.payload.JsonPayload({"sender": uuid.uuid4().hex, "message": TEN_KB})
            kind = "1 MB body" if body else "10 kB message"
            try:
                async with session.post(base + path, data=data, headers=headers) as reply:
                    await reply.read()
                    outcomes[f"{kind} → {reply.status}"] += 1
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:  # the server hung up mid-body
                outcomes[f"{kind} → {type(error).__name__}"] += 1


async def flood_socketio(base: str, stop: asyncio.Event, outcomes: Counter) -> None:
    """10 kB messages over socket.io from the flooder's address, as fast as the socket takes them."""
    while not stop.is_set():
        client = socketio.AsyncClient()
        try:
            await client.connect(
                base, socketio_path="/socket.io", transports=["polling"], headers={"X-Forwarded-For": FLOODER}
            )
            while not stop.is_set():
                await client.emit("user_uttered", {"session_id": uuid.uuid4().hex, "message": TEN_KB})
                outcomes["socket.io 10 kB message sent"] += 1
                await asyncio.sleep(0.001)  # the client queues emits: this is as fast as it really sends them
        except (socketio.exceptions.SocketIOError, aiohttp.ClientError, OSError) as error:
            outcomes[f"socket.io → {type(error).__name__} (reconnecting)"] += 1
        finally:
            await client.eio.disconnect(abort=True)  # socketio's disconnect waits out the long-poll (25 s)


async def flood(base: str, connections: int, stopped: Event, results: Queue) -> None:
    stop = asyncio.Event()
    outcomes: Counter[str] = Counter()
    flooders = [asyncio.create_task(flood_http(base, stop, outcomes)) for _ in range(connections)]
    flooders.append(asyncio.create_task(flood_socketio(base, stop, outcomes)))
    await asyncio.to_thread(stopped.wait)
    stop.set()
    for ended in await asyncio.gather(*flooders, return_exceptions=True):
        if isinstance(ended, BaseException):
            outcomes[f"flooder stopped by {type(ended).__name__}: {ended}"[:60]] += 1
    results.put(dict(outcomes))


def flooder(base: str, connections: int, stopped: Event, results: Queue) -> None:
    """The flood in a process of its own, at the lowest priority: a real flooder's CPU is not the server's
    (here all share one machine), and the customers' client must not wait for it either."""
    os.nice(19)
    asyncio.run(flood(base, connections, stopped, results))


def measured(base: str, count: int, connections: int) -> tuple[list[float], list[float], dict[str, int]]:
    url = f"{base}/webhooks/rest/webhook"
    asyncio.run(customers(url, 10))  # warm-up
    quiet = asyncio.run(customers(url, count))
    stopped = multiprocessing.Event()
    results: Queue[dict[str, int]] = multiprocessing.Queue()
    process = multiprocessing.Process(target=flooder, args=(base, connections, stopped, results))
    process.start()
    time.sleep(3)  # the flood is on before the first customer arrives
    during = asyncio.run(customers(url, count))
    stopped.set()
    outcomes = results.get(timeout=60)
    process.join(timeout=30)
    return quiet, during, outcomes


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200, help="timed customer messages, quiet and flooded")
    parser.add_argument("--connections", type=int, default=8, help="flooding HTTP connections (plus one socket.io)")
    args = parser.parse_args(argv)
    model = ensure_model()
    trust_loopback = {"CSKH_TRUSTED_PROXIES": "127.0.0.1"}
    with (
        tempfile.TemporaryDirectory(prefix="cskh-flood-") as workdir,
        processes_in(Path(workdir), model, trust_loopback) as (settings, _),
    ):
        quiet, during, outcomes = measured(settings.rasa_url, args.customers, args.connections)
    print(f"another customer, quiet: p50 {statistics.median(quiet) * 1000:6.1f} ms  p99 {pct(quiet, 0.99):6.1f} ms")
    print(f"another customer, flood: p50 {statistics.median(during) * 1000:6.1f} ms  p99 {pct(during, 0.99):6.1f} ms")
    ratio = pct(during, 0.99) / pct(quiet, 0.99)
    print(f"flood p99 / quiet p99: {ratio:.2f}x ({'within' if ratio <= 2 else 'OVER'} the 2x goal)")
    for outcome, count in sorted(outcomes.items()):
        print(f"  flood: {outcome:40s} {count:7d}")


if __name__ == "__main__":
    main()
