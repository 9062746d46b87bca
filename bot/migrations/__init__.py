"""The project database's schema, brought to the newest Alembic revision (``versions/``) before use.

``bot/schema.py`` says what the tables are now; each revision says how a database of the release
before gets there, so a column added in a new release reaches every existing database. The stores
call ``ensure_schema`` (an upgrade once per engine per process); ``make run``, ``make run-scaled`` and
``cskh db upgrade`` call ``upgrade`` and say what it did. Every upgrade holds the database's write
lock (SQLite's ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock) from reading the revision to the
commit: processes starting together upgrade one after another, the later ones find nothing to do.

Revision 0001 is the schema of the last release without migrations, and also adopts a database that
release (or an older one) made with ``create_all``. Rasa's own tables (``events``) are Rasa's: never
compared, never migrated. Adding a revision: docs/OPERATIONS.md, "Upgrading".
"""

import tempfile
import threading
import weakref
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from bot.schema import metadata

SCRIPTS = Path(__file__).parent
# not alembic's default name: the project database may be shared (Rasa's tables, a shop's own)
VERSION_TABLE = "cskh_schema_version"
# pg_advisory_xact_lock's key for "the cskh schema is being upgraded" (any fixed bigint unique to this use)
POSTGRES_LOCK = 0x63736B68_73636D61  # "cskhscma"


def _project_tables_only(name: str | None, type_: str, parent_names: Any) -> bool:
    """Autogenerate's filter: tables that are not the project's (Rasa's ``events``) are none of its business."""
    return type_ != "table" or name in metadata.tables


# how env.py configures alembic, and how the schema test compares the database with bot/schema.py
CONTEXT_OPTIONS: dict[str, Any] = {
    "version_table": VERSION_TABLE,
    "render_as_batch": True,  # SQLite alters a table by copying it: alembic's batch mode does that
    "include_name": _project_tables_only,
    "compare_type": True,
    "compare_server_default": True,
}


class UpgradeError(RuntimeError):
    """The database is at a revision this release does not know: a newer release upgraded it."""

    def __init__(self, revision: str) -> None:
        self.revision = revision
        super().__init__(
            f"The project database is at revision {revision}, which this release does not know: a newer release "
            "upgraded it. Run that release, or restore the backup taken before the upgrade (docs/OPERATIONS.md)."
        )


@dataclass(frozen=True)
class Upgrade:
    """What ``upgrade`` did: the revision before (None: none recorded) and after."""

    before: str | None
    after: str
    adopted: bool  # the project's tables were there without a revision: made by a release before migrations

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def describe(self, database: str) -> str:
        """One line for the operator starting the bot (``database`` without its password)."""
        if self.adopted:
            return f"Project database {database}: made before migrations, now at revision {self.after}"
        if self.before is None:
            return f"Project database {database}: created at revision {self.after}"
        if self.changed:
            return f"Project database {database}: upgraded from revision {self.before} to {self.after}"
        return f"Project database {database}: at revision {self.after}, nothing to upgrade"


def _config(connection: sa.engine.Connection | None = None) -> Config:
    """Alembic's configuration, from code: no alembic.ini to ship or find."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.set_main_option("file_template", "v%%(rev)s_%%(slug)s")  # valid module names: v0002_due_times.py
    config.attributes["connection"] = connection
    return config


def _scripts() -> ScriptDirectory:
    return _scripts_at(str(SCRIPTS))


@lru_cache(maxsize=2)
def _scripts_at(location: str) -> ScriptDirectory:
    """The revisions, read once per process: a store on a database already at head costs one query."""
    return ScriptDirectory(location)


def head() -> str:
    """The newest revision: what bot/schema.py describes."""
    revision = _scripts().get_current_head()
    assert revision is not None, "bot/migrations/versions has no revision"
    return revision


def _check_known(revision: str | None) -> None:
    """A database upgraded by a newer release than this one is not touched (nothing here knows its schema)."""
    if revision is None:
        return
    try:
        _scripts().get_revision(revision)
    except CommandError as error:
        raise UpgradeError(revision) from error


def _revision(connection: sa.engine.Connection) -> str | None:
    return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def current(engine: sa.engine.Engine) -> str | None:
    """The revision ``engine``'s database is at; None for a new one or one made before migrations."""
    with engine.connect() as connection:
        return _revision(connection)


def _begin_locked(connection: sa.engine.Connection) -> None:
    """Begins the upgrade's transaction holding the database's write lock, before the revision is read."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # waits out another writer (the engine's busy timeout)
    elif connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_LOCK})


def _private_sqlite_file(engine: sa.engine.Engine) -> None:
    """A new SQLite file is created owner-only: it holds phone numbers and conversations."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        path = Path(database)
        if path.parent.is_dir():
            path.touch(mode=0o600, exist_ok=True)


def upgrade(engine: sa.engine.Engine) -> Upgrade:
    """Brings ``engine``'s database to the newest revision (creating it when new) in one locked transaction."""
    _private_sqlite_file(engine)
    newest, found = head(), set()
    with engine.connect() as connection:
        before = _revision(connection)
        connection.rollback()
        if before != newest:  # only then the lock: a database at head is not write-locked by every process start
            _begin_locked(connection)
            before = _revision(connection)  # another process may have upgraded it meanwhile
            if before != newest:
                _check_known(before)
                found = set(sa.inspect(connection).get_table_names()) & set(metadata.tables)
                command.upgrade(_config(connection), "head")
            connection.commit()
    _ensured.add(engine)
    return Upgrade(before, newest, adopted=before is None and bool(found))


_ensured: "weakref.WeakSet[sa.engine.Engine]" = weakref.WeakSet()
_ensuring = threading.Lock()


def ensure_schema(engine: sa.engine.Engine) -> None:
    """What every store calls first: ``upgrade`` once per engine per process, nothing after."""
    if engine in _ensured:
        return
    with _ensuring:
        if engine not in _ensured:
            upgrade(engine)


def new_revision(message: str) -> Path:
    """Writes the next revision file with what bot/schema.py has that the newest revision lacks
    (alembic's autogenerate against a scratch database at head); read and edit it before committing."""
    with tempfile.TemporaryDirectory() as folder:
        engine = sa.create_engine(f"sqlite:///{folder}/head.db", future=True)
        try:
            upgrade(engine)
            with engine.connect() as connection:
                script = command.revision(
                    _config(connection), message, autogenerate=True, rev_id=f"{int(head()) + 1:04d}"
                )
        finally:
            engine.dispose()
    _scripts_at.cache_clear()
    assert script is not None and not isinstance(script, list)
    return Path(script.path)
