"""`cskh backup` and `cskh restore`: a restored database holds exactly what the backed-up one held.

SQLite through SQLite's online backup API (taken while another connection is writing), PostgreSQL
through pg_dump/pg_restore on the machine's server (127.0.0.1:5432).
"""

import json
import stat
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.admin import cli
from bot.database import engine_for, project_engine, tracker_engine
from bot.settings import Settings
from bot.tickets import TicketStore

POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432"
# the part of Rasa's tracker store (its ``events`` table) that a backup must keep
EVENTS = sa.Table(
    "events", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("sender_id", sa.String(255)),
    sa.Column("data", sa.Text),
)  # fmt: skip


def cskh(settings: Settings, *args: str) -> int:
    return cli.main(["--as", "ops", *args], settings)


def fill(settings: Settings, tickets: int) -> None:
    """Tickets in the project database and a conversation in the tracker store, as a running bot leaves them."""
    store = TicketStore(project_engine(settings))
    for number in range(tickets):
        store.create(channel="rest", sender_id=f"web:c{number}", issue_type="late_delivery",
                     description=f"đơn giao chậm số {number}", contact_phone="0912345678")  # fmt: skip
    trackers = tracker_engine(settings.tracker_db)
    EVENTS.metadata.create_all(trackers)
    with trackers.begin() as connection:
        connection.execute(EVENTS.insert().values(sender_id="web:c0", data='{"text": "chào shop"}'))


def contents(settings: Settings) -> dict[str, list[tuple]]:
    with project_engine(settings).connect() as connection:
        tickets = connection.execute(
            sa.text("SELECT code, description, contact_phone FROM tickets ORDER BY code")
        ).all()
    with tracker_engine(settings.tracker_db).connect() as connection:
        events = connection.execute(sa.text("SELECT sender_id, data FROM events ORDER BY id")).all()
    return {"tickets": [tuple(row) for row in tickets], "events": [tuple(row) for row in events]}


def test_a_sqlite_backup_taken_while_the_bot_writes_restores_into_a_fresh_install(tmp_path: Path, capsys) -> None:
    running = Settings.under(tmp_path / "running")
    fill(running, tickets=5)
    stop = threading.Event()

    def the_bot_keeps_writing() -> None:
        while not stop.is_set():
            fill(running, 1)

    writing = threading.Thread(target=the_bot_keeps_writing)
    writing.start()
    try:
        assert cskh(running, "backup", str(tmp_path / "backup")) == 0
    finally:
        stop.set()
        writing.join()
    assert "2 cơ sở dữ liệu" in capsys.readouterr().out
    files = json.loads((tmp_path / "backup" / "manifest.json").read_text())["files"]
    assert files == {"project": "project.sqlite", "trackers": "trackers.sqlite"}
    assert all(stat.S_IMODE((tmp_path / "backup" / name).stat().st_mode) == 0o600 for name in files.values())

    fresh = Settings.under(tmp_path / "fresh")
    assert cskh(fresh, "restore", str(tmp_path / "backup")) == 0
    assert stat.S_IMODE(Path(fresh.tracker_db).stat().st_mode) == 0o600
    restored = contents(fresh)
    assert len(restored["tickets"]) >= 5 and restored["events"][0] == ("web:c0", '{"text": "chào shop"}')
    assert restored["tickets"] == contents(running)["tickets"][: len(restored["tickets"])]  # a prefix: a snapshot


@pytest.fixture
def two_postgres_databases() -> Iterator[tuple[str, str]]:
    admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT", future=True)
    names = [f"cskh_backup_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with admin.connect() as connection:
        for name in names:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES}/{names[0]}", f"{POSTGRES}/{names[1]}"
    finally:
        for url in (f"{POSTGRES}/{name}" for name in names):
            engine_for(url).dispose()
        with admin.connect() as connection:
            for name in names:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_postgresql_backup_restores_into_another_database(tmp_path: Path, two_postgres_databases) -> None:
    source_url, target_url = two_postgres_databases
    running = Settings.under(tmp_path / "running", database_url=source_url, tracker_db=source_url)
    fill(running, tickets=3)
    assert cskh(running, "backup", str(tmp_path / "backup")) == 0
    assert (tmp_path / "backup" / "project.pgdump").stat().st_size > 0

    other = Settings.under(tmp_path / "other", database_url=target_url, tracker_db=target_url)
    TicketStore(project_engine(other)).create(channel="rest", sender_id="web:x", issue_type="other", description="cũ")
    assert cskh(other, "restore", str(tmp_path / "backup")) == 0
    assert contents(other) == contents(running)  # what the target held before is replaced, not merged


def test_restoring_a_folder_that_is_no_backup_says_so_and_changes_nothing(tmp_path: Path, capsys) -> None:
    settings = Settings.under(tmp_path / "running")
    fill(settings, tickets=1)
    before = contents(settings)
    (tmp_path / "not-a-backup").mkdir()
    assert cskh(settings, "restore", str(tmp_path / "not-a-backup")) == 1
    assert "không phải một bản sao lưu" in capsys.readouterr().err
    assert contents(settings) == before
