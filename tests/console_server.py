"""The desk's sanic app served in this test process, on a loopback port, without Rasa or training.

For attacks on the console door that need real HTTP (cookies, client addresses, live streams) but
not the bot: starts in well under a second, and the test can change the console's timings in place.
"""

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from sanic import Sanic

from bot.sandbox import DeskAgent, isolated_settings
from bot.settings import settings_in_force
from tests.served import served


class ConsoleServer:
    """Where the console listens and the database it uses."""

    def __init__(self, url: str, engine: sa.engine.Engine) -> None:
        self.url, self.engine = url, engine

    def login(self, username: str, password: str, address: str | None = None) -> tuple[requests.Session, str, int]:
        """The desk's one client, logged in from ``address`` (sent as X-Forwarded-For by the trusted proxy):
        its HTTP session, its CSRF token ("" when refused) and the login's status."""
        agent = DeskAgent(self.url, username, password, address)
        return agent.http, agent.csrf, agent.status


@contextmanager
def console_server(workdir: Path, trusted_proxies: str = "127.0.0.1", **changes: Any) -> Iterator[ConsoleServer]:
    """The desk app on its own SQLite database; 127.0.0.1 is its trusted proxy, so tests pick client addresses.
    ``changes`` to its settings (where Rasa listens, for a test that stands in for it)."""
    from bot.console_app import create_app

    settings = isolated_settings(
        workdir,
        **{
            "rasa_token": "unused", "desk_token": "desk-token-for-tests", "desk_tick_seconds": 3600.0,
            "trusted_proxies": (ipaddress.ip_network(trusted_proxies),), **changes,
        },
    )  # fmt: skip
    # the admin pages' retraining and audit log, which run in this process, ask for the current settings
    with pytest.MonkeyPatch.context() as patch, settings_in_force(settings):
        patch.setattr(Sanic, "test_mode", True)  # one app per test module in the same process
        app = create_app(settings)
        with served(app, settings.desk_port):
            sqlite = settings.database_url.startswith("sqlite")
            engine = sa.create_engine(
                settings.database_url, future=True, connect_args={"timeout": 15} if sqlite else {}
            )
            try:
                yield ConsoleServer(settings.desk_url, engine)
            finally:
                engine.dispose()
