"""The project database's migrations: a database made by the last release without them (a frozen dump
in tests/data/release_590a427, made by that release's own stores) is upgraded by `cskh db upgrade`
and keeps every row; the migrations make exactly bot/schema.py's tables; processes starting together
upgrade one database without failing; an older backup restores and upgrades.

Stays true as revisions are added: the dumps are that release's, and every check compares with head.
"""

import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot import migrations, schema
from bot.admin import cli
from bot.database import engine_for, project_engine
from bot.desk.accounts import AccountStore
from bot.desk.queue import HandoffQueue
from bot.paths import PROJECT_ROOT
from bot.settings import Settings
from bot.tickets import TicketStore
from connectors.messenger import MessagingWindow

POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432"
RELEASE = Path(__file__).parent / "data" / "release_590a427"
# what the dumps hold: tickets, hand-offs (one closed with its transcript, one waiting), an agent
RELEASE_TICKETS = [
    ("TK-20261204-0001", "web:khach-1", "Đơn DH1001 giao chậm 5 ngày", True, None),
    ("TK-20261204-0002", "zalo:8812", "Hỏi về hoá đơn đỏ", False, "agent_request"),
]


@pytest.fixture
def new_postgres() -> Iterator[Callable[[], str]]:
    """Makes throw-away databases on the machine's PostgreSQL (conftest's postgres_url is one per session)."""
    admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT", future=True)
    names: list[str] = []

    def new() -> str:
        names.append(f"cskh_migrations_{uuid.uuid4().hex[:8]}")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{names[-1]}"'))
        return f"{POSTGRES}/{names[-1]}"

    try:
        yield new
    finally:
        with admin.connect() as connection:
            for name in names:
                engine_for(f"{POSTGRES}/{name}").dispose()
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def cskh(settings: Settings, *args: str) -> int:
    return cli.main(["--as", "ops", *args], settings)


def load_release(url: str) -> None:
    """The database the last release without migrations left, from its dump."""
    engine = sa.create_engine(url, future=True)
    try:
        if engine.dialect.name == "sqlite":
            Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(engine.url.database) as connection:
                connection.executescript((RELEASE / "project.sqlite.sql").read_text(encoding="utf-8"))
        else:
            with engine.begin() as connection:
                connection.exec_driver_sql((RELEASE / "project.postgresql.sql").read_text(encoding="utf-8"))
    finally:
        engine.dispose()  # the dump's session settings stay with its connection


def differences(engine: sa.engine.Engine, metadata: sa.MetaData = schema.metadata) -> list:
    """What alembic's autogenerate finds between the database and ``metadata`` (project tables only)."""
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts=migrations.CONTEXT_OPTIONS), metadata)


def tickets(engine: sa.engine.Engine) -> list[tuple]:
    table = schema.tickets_table
    query = sa.select(table.c.code, table.c.sender_id, table.c.description, table.c.order_verified,
                      table.c.handoff_reason).order_by(table.c.code)  # fmt: skip
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def assert_release_rows_kept(engine: sa.engine.Engine) -> None:
    """What an agent and an admin would look for after the upgrade is all still there."""
    assert tickets(engine) == RELEASE_TICKETS
    queue = HandoffQueue(engine)
    waiting = queue.open_for("zalo:8812")
    assert waiting is not None and waiting.status == schema.WAITING and waiting.reason == "complaint"
    closed = queue.get(1)
    assert closed is not None and closed.status == schema.CLOSED and closed.claimed_by == "lan"
    assert closed.mood is not None and closed.mood["label"] == "upset"
    assert [(m.role, m.text) for m in queue.messages(closed.id)] == [
        ("user", "cho mình gặp nhân viên"), ("bot", "Dạ, bạn chờ chút nhé."), ("agent", "Chào bạn, mình là Lan."),
    ]  # fmt: skip
    assert AccountStore(engine).authenticate("lan", "mat-khau-cua-lan") is not None  # she still logs in


def test_the_migrations_make_exactly_the_tables_of_bot_schema(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'new.db'}")
    assert migrations.upgrade(engine) == migrations.Upgrade(None, migrations.head(), adopted=False)
    found = differences(engine)
    assert found == [], (
        "bot/schema.py and the migrations disagree: write a revision for this change "
        f'(`cskh db revision "what changed"`, docs/OPERATIONS.md, "Upgrading"):\n{found}'
    )


def test_a_column_added_to_bot_schema_without_a_revision_is_found(tmp_path: Path) -> None:
    """The guard above can fail: a change to bot/schema.py with no migration shows up as a difference."""
    engine = engine_for(f"sqlite:///{tmp_path / 'new.db'}")
    migrations.upgrade(engine)
    changed = sa.MetaData()
    for table in schema.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["handoffs"].append_column(sa.Column("resume_due_at", sa.DateTime(timezone=True)))
    assert [(kind, column.name) for kind, _, table, column in differences(engine, changed)] == [
        ("add_column", "resume_due_at")
    ]


def test_cskh_db_upgrade_brings_a_sqlite_database_of_the_last_release_to_head_with_its_rows(
    tmp_path: Path, capsys
) -> None:
    settings = Settings.under(tmp_path)
    load_release(settings.database_url)
    assert cskh(settings, "db", "current") == 0
    assert "chưa có phiên bản" in capsys.readouterr().out

    assert cskh(settings, "db", "upgrade") == 0
    assert f"tạo trước khi có migrations, đã nhận và nâng lên phiên bản {migrations.head()}" in capsys.readouterr().out
    engine = project_engine(settings)
    assert differences(engine) == []
    assert_release_rows_kept(engine)
    assert cskh(settings, "db", "current") == 0
    assert f"phiên bản {migrations.head()} (mới nhất)" in capsys.readouterr().out
    assert cskh(settings, "db", "upgrade") == 0
    assert "không có gì để nâng" in capsys.readouterr().out


def test_a_postgresql_database_of_the_last_release_is_upgraded_and_rasas_table_left_alone(
    tmp_path: Path, new_postgres, capsys
) -> None:
    """The scaled stack's database: Rasa's events and the project's tables side by side."""
    url = new_postgres()
    load_release(url)
    settings = Settings.under(tmp_path, database_url=url, tracker_db=url)
    assert cskh(settings, "db", "upgrade") == 0
    assert "đã nhận và nâng lên" in capsys.readouterr().out
    engine = project_engine(settings)
    assert differences(engine) == []
    assert_release_rows_kept(engine)
    with engine.connect() as connection:
        events = connection.execute(sa.text("SELECT sender_id, data FROM events")).all()
    assert [tuple(row) for row in events] == [("web:khach-1", '{"text": "chào shop"}')]
    assert TicketStore(engine).create(channel="rest", sender_id="web:k2", issue_type="other", description="mới")


def test_a_database_of_a_release_older_still_gets_the_columns_added_since(tmp_path: Path) -> None:
    """Releases before 590a427 lacked four columns, which that release added by hand; the baseline does too."""
    url = f"sqlite:///{tmp_path / 'older.db'}"
    load_release(url)
    with sqlite3.connect(tmp_path / "older.db") as connection:
        for table, column in [("tickets", "order_verified"), ("tickets", "handoff_reason"), ("handoffs", "mood"),
                              ("handoffs", "resume_events")]:  # fmt: skip
            connection.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    engine = engine_for(url)
    assert migrations.upgrade(engine).adopted
    assert differences(engine) == []
    assert [(code, verified) for code, _, _, verified, _ in tickets(engine)] == [
        ("TK-20261204-0001", False), ("TK-20261204-0002", False),
    ]  # fmt: skip  # reports of then count as unverified


def test_a_database_upgraded_by_a_newer_release_is_not_touched(tmp_path: Path, capsys) -> None:
    settings = Settings.under(tmp_path)
    engine = project_engine(settings)
    migrations.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(sa.text(f"UPDATE {migrations.VERSION_TABLE} SET version_num = '0999'"))
    assert cskh(settings, "db", "upgrade") == 1
    assert "phiên bản 0999, bản cskh-bot này không biết" in capsys.readouterr().err
    with pytest.raises(migrations.UpgradeError):
        migrations.upgrade(engine)
    assert migrations.current(engine) == "0999"


# one process starting: imports, says it is ready, upgrades at the go
UPGRADER = """
import sys
import sqlalchemy as sa
from bot import migrations
engine = sa.create_engine(sys.argv[1], future=True, connect_args={"timeout": 15} if "sqlite" in sys.argv[1] else {})
print("ready", flush=True)
sys.stdin.readline()
print(migrations.upgrade(engine).before)
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cskh.db'}"
    return request.getfixturevalue("new_postgres")()


def test_processes_starting_together_upgrade_one_database_one_after_another(new_database: str) -> None:
    """Three servers starting at once on a new database: none fails, exactly one creates the tables."""
    upgraders = [
        subprocess.Popen([sys.executable, "-c", UPGRADER, new_database], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
        for _ in range(3)
    ]  # fmt: skip
    assert [upgrader.stdout.readline() for upgrader in upgraders if upgrader.stdout] == ["ready\n"] * 3
    for upgrader in upgraders:  # all at once
        assert upgrader.stdin is not None
        upgrader.stdin.write("go\n")
        upgrader.stdin.flush()
    results = [upgrader.communicate(timeout=60) for upgrader in upgraders]
    assert [upgrader.returncode for upgrader in upgraders] == [0, 0, 0], [err for _, err in results]
    assert sorted(out.strip() for out, _ in results) == [migrations.head(), migrations.head(), "None"]
    engine = sa.create_engine(new_database, future=True)
    try:
        assert differences(engine) == []
    finally:
        engine.dispose()


def backup_of_the_release(folder: Path, tmp_path: Path) -> None:
    """What `cskh backup` wrote from a bot of release 590a427 (SQLite): the dump as project.sqlite."""
    running = Settings.under(tmp_path / "release")
    load_release(running.database_url)
    assert cskh(running, "backup", str(folder)) == 0


def test_restoring_a_backup_of_the_last_release_upgrades_it(tmp_path: Path, capsys) -> None:
    backup_of_the_release(tmp_path / "backup", tmp_path)
    current = Settings.under(tmp_path / "current")
    TicketStore(project_engine(current)).create(channel="rest", sender_id="web:x", issue_type="other", description="")
    capsys.readouterr()

    assert cskh(current, "restore", str(tmp_path / "backup")) == 0
    assert "đã nhận và nâng lên phiên bản" in capsys.readouterr().out
    engine = project_engine(current)
    assert differences(engine) == []
    assert_release_rows_kept(engine)  # and the ticket written after the backup is gone


def test_a_postgresql_restore_drops_the_tables_an_upgrade_made_after_the_backup(
    tmp_path: Path, new_postgres, capsys
) -> None:
    """pg_restore --clean replaces only what the dump holds: a newer table (here Messenger's, missing from
    an even older release's backup) and the newer revision must not survive the restore."""
    source, target = new_postgres(), new_postgres()
    load_release(source)
    with engine_for(source).begin() as connection:
        connection.execute(sa.text("DROP TABLE messenger_last_inbound"))
    older = Settings.under(tmp_path / "older", database_url=source, tracker_db=source)
    assert cskh(older, "backup", str(tmp_path / "backup")) == 0

    current = Settings.under(tmp_path / "current", database_url=target, tracker_db=target)
    MessagingWindow(project_engine(current)).record("psid-1", datetime.now(timezone.utc))
    capsys.readouterr()
    assert cskh(current, "restore", str(tmp_path / "backup")) == 0
    assert "đã nhận và nâng lên phiên bản" in capsys.readouterr().out
    engine = project_engine(current)
    assert differences(engine) == []
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM messenger_last_inbound")).scalar() == 0
    assert tickets(engine) == RELEASE_TICKETS


def test_cskh_db_revision_writes_the_migration_of_a_new_table(tmp_path: Path, monkeypatch, capsys) -> None:
    """The next developer adds a table to bot/schema.py; the revision written for it creates it."""
    scripts = tmp_path / "migrations"
    shutil.copytree(migrations.SCRIPTS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrations, "SCRIPTS", scripts)
    following = f"{int(migrations.head()) + 1:04d}"
    outbox = sa.Table("outbox", schema.metadata, sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("text", sa.Text, nullable=False))  # fmt: skip
    try:
        assert cskh(Settings.under(tmp_path), "db", "revision", "outbox for platform sends") == 0
        written = scripts / "versions" / f"v{following}_outbox_for_platform_sends.py"
        assert str(written) in capsys.readouterr().out
        assert "op.create_table('outbox'" in written.read_text() or 'op.create_table("outbox"' in written.read_text()
        engine = engine_for(f"sqlite:///{tmp_path / 'next.db'}")
        assert migrations.upgrade(engine).after == following
        assert differences(engine) == []
    finally:
        schema.metadata.remove(outbox)
