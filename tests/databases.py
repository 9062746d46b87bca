"""The project database a parametrised store test runs on: a fresh SQLite file, or the session's PostgreSQL
database, migrated to the newest revision and with the test's tables emptied (a dropped table would not be
made again: the database is already at that revision)."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import migrations

KINDS = ["sqlite", "postgresql"]


def project_database(request: pytest.FixtureRequest, folder: Path, *emptied: str) -> str:
    """The URL of the ``request.param`` database (one of ``KINDS``), ``emptied`` tables truncated on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{folder / 'cskh.db'}"
    url: str = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url, future=True)
    migrations.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {', '.join(emptied)} RESTART IDENTITY"))
    engine.dispose()
    return url


def engine_on(url: str) -> sa.engine.Engine:
    """An engine as the stores get one; SQLite waits for a busy file rather than failing."""
    return sa.create_engine(url, future=True, connect_args={"timeout": 15} if url.startswith("sqlite") else {})
