"""The project's own database: SQLite under the var dir by default, PostgreSQL by configuration.

``CSKH_DATABASE_URL`` (``Settings.database_url``) takes any SQLAlchemy URL (e.g.
``postgresql+psycopg2://postgres@127.0.0.1:5432/cskh``).
"""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

from bot.paths import private_var_dir
from bot.settings import Settings, current_settings


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
    return sa.create_engine(url, future=True, pool_pre_ping=True)


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
