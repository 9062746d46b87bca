"""A sanic app served by the test process on a loopback port, in a thread of its own."""

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sanic import Sanic


@contextmanager
def served(app: Sanic, port: int, host: str = "127.0.0.1") -> Iterator[None]:
    """Runs ``app`` with its listeners on ``host``:``port`` until the block exits."""
    loop = asyncio.new_event_loop()
    ready, stop = threading.Event(), asyncio.Event()

    async def serve() -> None:
        server = await app.create_server(host=host, port=port, return_asyncio_server=True)
        await server.startup()
        await server.before_start()
        await server.after_start()
        ready.set()
        await stop.wait()
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(30), f"{app.name} did not start"
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
