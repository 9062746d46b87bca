"""Shared fixtures: the model is trained at most once per session (cached by hash)."""

import ipaddress
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sanic import Sanic

from bot.database import engine_for
from bot.desk.accounts import MAX_CAPACITY, AccountStore
from bot.evaluation import model_parser
from bot.processes import Stack
from bot.sandbox import processes_in, stack_in
from bot.settings import Settings, settings_in_force
from bot.training import ensure_model

# Several sanic apps start inside the test process (the console, a channel's blueprint). Sanic rewrites
# its Http methods at each start ("touch-up") and, outside test mode, rewrites its own rewrite, which
# fails ("KeyError: 'read'") for the second app; test mode keeps the originals to start from.
Sanic.test_mode = True

# `make test-fast` runs ``-m "not slow"`` and must start no server and load no model: a test that asks
# for one of these without the slow mark would quietly make the fast tier slow, so it is refused here.
NEED_THE_STACK = {"trained_model", "parse", "channels_stack", "bot_stack", "desk_stack", "stack_shop", "browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    unmarked = [
        item.nodeid
        for item in items
        if NEED_THE_STACK & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("slow")
    ]
    if unmarked:
        listed = "\n".join(unmarked)
        raise pytest.UsageError(f"mark these @pytest.mark.slow (they need servers or the model):\n{listed}")


@pytest.fixture(scope="session")
def trained_model() -> Path:
    return ensure_model()


@pytest.fixture(scope="session")
def parse(trained_model: Path) -> Callable[[str], dict[str, Any]]:
    """The trained model's NLU in this process, loaded once for every test that reads its predictions."""
    return model_parser(trained_model)


@pytest.fixture
def settings_under_tmp(tmp_path: Path) -> Iterator[Settings]:
    """Every file under ``tmp_path``, in force for the channels and actions a test runs in its own process."""
    with settings_in_force(Settings.under(tmp_path)) as settings:
        yield settings


@pytest.fixture(scope="session")
def bot_stack(trained_model: Path, tmp_path_factory) -> Iterator[Settings]:
    """The bot as `make run` starts it, on the embedded demo shop."""
    with stack_in(tmp_path_factory.mktemp("stack"), trained_model) as settings:
        yield settings


def admin_takes_every_test_customer(settings: Settings) -> None:
    """A shared stack's admin is the agent of one test after another, and conversations earlier tests
    leave open count against its capacity (bot/desk/accounts.py): it gets the most the desk allows."""
    assert AccountStore(engine_for(settings.database_url)).set_capacity("admin", MAX_CAPACITY)


@pytest.fixture(scope="session")
def desk_stack(trained_model: Path, tmp_path_factory) -> Iterator[tuple[Settings, Path, Stack]]:
    """A stack of its own for the human-desk tests: their agents being online must not change other tests."""
    workdir = tmp_path_factory.mktemp("desk-stack")
    with processes_in(workdir, trained_model) as (settings, stack):
        admin_takes_every_test_customer(settings)
        yield settings, workdir, stack


@dataclass(frozen=True)
class ChannelsStack:
    """A stack with Zalo and Messenger switched on against their loopback fakes."""

    settings: Settings
    workdir: Path
    zalo_api: Any
    messenger_api: Any


@pytest.fixture(scope="session")
def channels_stack(trained_model: Path, tmp_path_factory) -> Iterator[ChannelsStack]:
    """One stack for the Zalo, Messenger and door tests (each customer of theirs is new): Zalo's and
    Facebook's APIs faked on loopback, the machine itself a trusted proxy so the doors' tests can
    speak for other client addresses with X-Forwarded-For."""
    from tests.fakes.messenger_api import FakeMessengerApi
    from tests.fakes.zalo_api import FakeZaloApi
    from tests.test_messenger_channel import APP_SECRET as FB_APP_SECRET
    from tests.test_messenger_channel import PAGE_TOKEN, VERIFY_TOKEN
    from tests.test_zalo_channel import APP_ID, APP_SECRET, OA_SECRET

    workdir = tmp_path_factory.mktemp("channels")
    with FakeZaloApi(APP_ID, APP_SECRET) as zalo, FakeMessengerApi(PAGE_TOKEN) as facebook:
        facebook.human_agent_permission = True
        env = {
            "ZALO_APP_ID": APP_ID, "ZALO_APP_SECRET": APP_SECRET, "ZALO_OA_SECRET_KEY": OA_SECRET,
            "ZALO_ACCESS_TOKEN": zalo.access_token, "ZALO_REFRESH_TOKEN": zalo.refresh_token,
            "ZALO_API_URL": zalo.url, "ZALO_OAUTH_URL": zalo.url,
            "FB_VERIFY_TOKEN": VERIFY_TOKEN, "FB_APP_SECRET": FB_APP_SECRET,
            "FB_PAGE_ACCESS_TOKEN": PAGE_TOKEN, "FB_GRAPH_URL": facebook.graph_url,
            "FB_COMMENT_COMPLAINTS": "desk",  # complaints under posts go to the desk (tests/test_messenger_comments.py)
            "CSKH_MEDIA_PRIVATE_HOSTS": "127.0.0.1",  # the fakes' CDNs: private addresses are refused otherwise
            "ZALO_RATE_LIMIT_WAIT_SECONDS": "1",  # Zalo's minute, shortened (tests/test_zalo_channel.py proves it)
            "FB_HUMAN_AGENT": "1",  # the page passed App Review for Human Agent (tests/test_messenger_channel.py)
        }  # fmt: skip
        trusted = (ipaddress.ip_network("127.0.0.1"),)
        with processes_in(workdir, trained_model, env, trusted_proxies=trusted) as (settings, _):
            admin_takes_every_test_customer(settings)
            yield ChannelsStack(settings, workdir, zalo, facebook)


CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Debian's chromium (installed by `make setup`), headless; Playwright never downloads a browser.

    Module-scoped: Playwright's sync API keeps an event loop running in the main thread while it
    is open, which would break every later test that calls ``asyncio.run``.
    """
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` (installs Debian's chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def stack_shop(bot_stack: Settings):
    """The demo shop the running stack reads, to look up what a customer would know."""
    from bot.orders.demo_shop import DemoShop

    return DemoShop.open(Path(bot_stack.tracker_db).parent / "demo_shop.db")


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A new database on the machine's PostgreSQL (127.0.0.1:5432, trust auth), dropped afterwards."""
    import uuid

    import sqlalchemy as sa

    name = f"cskh_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT", future=True
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away database shared by the session's tests."""
    with throwaway_postgres() as url:
        yield url


@pytest.fixture(scope="module")
def own_postgres_url() -> Iterator[str]:
    """A throw-away database of the module's own: for tests whose tickets or hand-offs others would count."""
    with throwaway_postgres() as url:
        yield url
