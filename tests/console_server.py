"""The desk's sanic app served in this test process, on a loopback port, without Rasa or training.

For attacks on the console door that need real HTTP (cookies, client addresses, live streams) but
not the bot: starts in well under a second, and the test can change the console's timings in place.
"""

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from sanic import Sanic

from bot.settings import Settings
from tests.conftest import ADMIN_PASSWORD, ALWAYS_OPEN_DESK, free_port
from tests.desk_clients import CSRF_BODY, CSRF_FIELD


class ConsoleServer:
    """Where the console listens and the database it uses."""

    def __init__(self, url: str, engine: sa.engine.Engine) -> None:
        self.url, self.engine = url, engine

    def login(self, username: str, password: str, address: str | None = None) -> tuple[requests.Session, str, int]:
        """A browser-like login, as seen from ``address`` (sent as X-Forwarded-For by the trusted proxy).

        Returns the HTTP session, its CSRF token ("" when refused) and the login's status.
        """
        http = requests.Session()
        if address:
            http.headers["X-Forwarded-For"] = address
        page = http.get(f"{self.url}/login", timeout=10)
        reply = http.post(
            f"{self.url}/login", timeout=30,
            data={"username": username, "password": password, "csrf_token": CSRF_FIELD.search(page.text).group(1)},
        )  # fmt: skip
        found = CSRF_BODY.search(reply.text)
        return http, found.group(1) if found else "", reply.status_code


@contextmanager
def console_server(workdir: Path, trusted_proxies: str = "127.0.0.1") -> Iterator[ConsoleServer]:
    """The desk app on its own SQLite database; 127.0.0.1 is its trusted proxy, so tests pick client addresses."""
    from bot.desk.app import create_app

    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "desk.yml").write_text(ALWAYS_OPEN_DESK, encoding="utf-8")
    database = f"sqlite:///{workdir / 'cskh.db'}"
    settings = Settings(
        host="127.0.0.1", rasa_port=free_port(), action_port=free_port(), rasa_token="unused",
        tracker_db=str(workdir / "trackers.db"), desk_port=free_port(), desk_token="desk-token-for-tests",
    )  # fmt: skip
    with pytest.MonkeyPatch.context() as env:
        env.setattr(Sanic, "test_mode", True)  # one app per test module in the same process
        for name, value in {
            "CSKH_DATABASE_URL": database, "CSKH_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "CSKH_DESK_CONFIG": str(workdir / "desk.yml"), "CSKH_DESK_TICK_SECONDS": "3600",
            "CSKH_TRUSTED_PROXIES": trusted_proxies,
        }.items():  # fmt: skip
            env.setenv(name, value)
        app = create_app(settings)
        loop = asyncio.new_event_loop()
        ready, stop = threading.Event(), None

        async def serve() -> None:
            nonlocal stop
            stop = asyncio.Event()
            server = await app.create_server(host="127.0.0.1", port=settings.desk_port, return_asyncio_server=True)
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
        assert ready.wait(30), "the console did not start"
        engine = sa.create_engine(database, future=True, connect_args={"timeout": 15})
        try:
            yield ConsoleServer(settings.desk_url, engine)
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(10)
            engine.dispose()
