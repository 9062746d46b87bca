"""The project's own database: SQLite under var/ by default, PostgreSQL by configuration.

``CSKH_DATABASE_URL`` takes any SQLAlchemy URL (e.g.
``postgresql+psycopg2://postgres@127.0.0.1:5432/cskh``).
"""

import os
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

from bot.paths import VAR_DIR, private_var_dir


def database_url() -> str:
    """The configured URL, or the embedded SQLite file."""
    return os.environ.get("CSKH_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'cskh.db'}"


@lru_cache(maxsize=4)
def engine_for(url: str) -> sa.engine.Engine:
    """One engine (and pool) per URL per process."""
    if url.startswith("sqlite:///"):
        private_var_dir()
        # wait for a concurrent writer instead of failing at once
        return sa.create_engine(url, future=True, connect_args={"timeout": 15})
    return sa.create_engine(url, future=True, pool_pre_ping=True)


def tracker_engine(tracker_db: str) -> sa.engine.Engine:
    """Rasa's tracker store (its ``events`` table), read for analytics: a SQLite path or a database URL."""
    return engine_for(tracker_db if "://" in tracker_db else f"sqlite:///{tracker_db}")


def masked_url(url: str) -> str:
    """``url`` with its password replaced by ``***``, for banners and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}"))
