"""Shared fixtures: the model is trained at most once per session (cached by hash)."""

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sanic import Sanic

from bot.processes import Stack, running_stack
from bot.settings import Settings, settings_in_force
from bot.training import ensure_model

# Several sanic apps start inside the test process (the console, a channel's blueprint). Sanic rewrites
# its Http methods at each start ("touch-up") and, outside test mode, rewrites its own rewrite, which
# fails ("KeyError: 'read'") for the second app; test mode keeps the originals to start from.
Sanic.test_mode = True

ADMIN_PASSWORD = "admin-password-for-tests"
# Tests must not depend on the time of day they run at: agents work around the clock.
ALWAYS_OPEN_DESK = """
timezone: Asia/Ho_Chi_Minh
business_hours: {mon: ["00:00", "24:00"], tue: ["00:00", "24:00"], wed: ["00:00", "24:00"],
  thu: ["00:00", "24:00"], fri: ["00:00", "24:00"], sat: ["00:00", "24:00"], sun: ["00:00", "24:00"]}
average_handle_minutes: 6
accept_timeout_minutes: 5
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def trained_model() -> Path:
    return ensure_model()


@contextmanager
def stack_in(workdir: Path, model: Path, extra_env: dict[str, str] | None = None, **changes) -> Iterator[Settings]:
    """The real Rasa, action and desk servers on free loopback ports, their data under ``workdir``;
    ``changes`` to the settings, ``extra_env`` for what Rasa reads itself (channel credentials)."""
    with processes_in(workdir, model, extra_env, **changes) as (settings, _):
        yield settings


@contextmanager
def processes_in(
    workdir: Path, model: Path, extra_env: dict[str, str] | None = None, **changes
) -> Iterator[tuple[Settings, Stack]]:
    """``stack_in`` with the processes themselves, for tests that stop or restart one."""
    settings = isolated_settings(workdir, **changes)
    with running_stack(settings, model, log_dir=workdir / "logs", extra_env=extra_env) as stack:
        yield settings, stack


def isolated_settings(workdir: Path, **changes) -> Settings:
    """Every file under ``workdir``, free loopback ports, per-test tokens, an always-open desk that ticks
    every second, and a known first-admin password; then ``changes``."""
    workdir.mkdir(parents=True, exist_ok=True)
    desk_config = workdir / "desk.yml"
    desk_config.write_text(ALWAYS_OPEN_DESK, encoding="utf-8")
    return Settings.under(
        workdir,
        **{
            "rasa_port": free_port(),
            "action_port": free_port(),
            "desk_port": free_port(),
            "rasa_token": "test-token-" + workdir.name,
            "desk_token": "desk-token-" + workdir.name,
            "desk_config": desk_config,
            "desk_tick_seconds": 1.0,
            "admin_password": ADMIN_PASSWORD,
            **changes,
        },
    )


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


@pytest.fixture(scope="session")
def desk_stack(trained_model: Path, tmp_path_factory) -> Iterator[tuple[Settings, Path, Stack]]:
    """A stack of its own for the human-desk tests: their agents being online must not change other tests."""
    workdir = tmp_path_factory.mktemp("desk-stack")
    with processes_in(workdir, trained_model) as (settings, stack):
        yield settings, workdir, stack


CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Debian's chromium (installed by `make browser`), headless; Playwright never downloads a browser.

    Module-scoped: Playwright's sync API keeps an event loop running in the main thread while it
    is open, which would break every later test that calls ``asyncio.run``.
    """
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def stack_shop(bot_stack: Settings):
    """The demo shop the running stack reads, to look up what a customer would know."""
    from bot.orders.demo_shop import DemoShop

    return DemoShop.open(Path(bot_stack.tracker_db).parent / "demo_shop.db")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away database on the machine's PostgreSQL (127.0.0.1:5432, trust auth)."""
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
