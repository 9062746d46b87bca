"""The project's own database: SQLite under the var dir by default, PostgreSQL by configuration.

``CSKH_DATABASE_URL`` (``Settings.database_url``) takes any SQLAlchemy URL (e.g.
``postgresql+psycopg2://postgres@127.0.0.1:5432/cskh``).
"""

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

from bot.paths import private_var_dir
from bot.settings import Settings, current_settings

# a pooled connection unused this long is checked before use (``ping_when_idle``)
IDLE_BEFORE_PING = 1.0


def database_url() -> str:
    """The current settings' project database, for the channels and the tracker store Rasa builds."""
    return current_settings().database_url


def project_engine(settings: Settings) -> sa.engine.Engine:
    """The project database of ``settings``; its var dir is created private first, as the default
    SQLite file lives there."""
    if settings.database_url.startswith("sqlite:///"):
        private_var_dir(settings.var_dir)
    return engine_for(settings.database_url)


@lru_cache(maxsize=8)
def engine_for(url: str) -> sa.engine.Engine:
    """One engine (and pool) per URL per process."""
    if url.startswith("sqlite:///"):
        # wait for a concurrent writer instead of failing at once
        return sa.create_engine(url, future=True, connect_args={"timeout": 15})
    engine = sa.create_engine(url, future=True)
    ping_when_idle(engine, IDLE_BEFORE_PING)
    return engine


def ping_when_idle(engine: sa.engine.Engine, idle_seconds: float) -> None:
    """Checks a pooled connection before use only when it sat unused for ``idle_seconds``: a database server
    restarted while the pool was quiet costs no request, and a busy server, whose connections come back within
    milliseconds, no round trip per checkout (SQLAlchemy's ``pool_pre_ping`` pings on every one: 10% of a Rasa
    replica's time under load). SQLAlchemy's pool events, as its "disconnect handling" documentation shows."""
    idle_since = "cskh_idle_since"

    def note_idle(_dbapi_connection: Any, record: Any) -> None:
        record.info[idle_since] = time.monotonic()

    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(idle_since)
        idle = since is not None and time.monotonic() - since >= idle_seconds
        if idle and not engine.dialect.do_ping(dbapi_connection):
            raise sa.exc.DisconnectionError("the pooled connection is gone")  # the pool opens a new one

    sa.event.listen(engine, "checkin", note_idle)
    sa.event.listen(engine, "checkout", ping_if_idle)


def tracker_url(tracker_db: str) -> str:
    """Rasa's tracker store as a database URL: ``TRACKER_DB`` is a SQLite path or already a URL."""
    return tracker_db if "://" in tracker_db else f"sqlite:///{tracker_db}"


def tracker_engine(tracker_db: str) -> sa.engine.Engine:
    """Rasa's tracker store (its ``events`` table), read for analytics."""
    return engine_for(tracker_url(tracker_db))


def masked_url(url: str) -> str:
    """``url`` with its password replaced by ``***``, for banners and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}"))


@contextmanager
def set_up_alone(database: Path) -> Iterator[None]:
    """Holds an exclusive lock beside the SQLite file ``database`` while its tables are made and seeded:
    servers that start together (two desks, N replicas) would otherwise race to create and seed it, and
    the loser dies with "table already exists" or seeds twice."""
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(database.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
