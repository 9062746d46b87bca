"""``cskh backup`` / ``cskh restore``: the project database and Rasa's conversations into a folder and back.

SQLite files are copied with SQLite's online backup API, so a backup taken while the bot runs is a
consistent snapshot, not a torn file copy. PostgreSQL databases are written with ``pg_dump``'s custom
format and read back with ``pg_restore --clean`` (the client tools of the server's major version);
a password in the URL goes to them in ``PGPASSWORD``, never on a command line others can read.

A restore replaces what the databases hold: stop the bot first (README, "Admins"). On PostgreSQL the
project tables an upgrade made after the backup go too; ``cskh restore`` then upgrades what it restored
to this release's schema (bot/migrations). Models, the training data and the var dir's admin files are
files; copy them as files.
"""

import json
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

from bot import migrations
from bot.database import engine_for, tracker_url
from bot.schema import metadata
from bot.settings import Settings, inherited_environment

MANIFEST = "manifest.json"
SQLITE = "sqlite:///"


class BackupError(RuntimeError):
    """Why a backup or restore could not be done, in words for the admin."""


@dataclass(frozen=True)
class Database:
    name: str  # "project" or "trackers": the file names in the backup folder
    url: str

    @property
    def sqlite_path(self) -> Path | None:
        return Path(self.url.removeprefix(SQLITE)) if self.url.startswith(SQLITE) else None

    @property
    def backup_file(self) -> str:
        return f"{self.name}.sqlite" if self.sqlite_path else f"{self.name}.pgdump"


def databases(settings: Settings) -> list[Database]:
    """The bot's two databases: its own (tickets, hand-offs, accounts...) and Rasa's tracker store."""
    return [Database("project", settings.database_url), Database("trackers", tracker_url(settings.tracker_db))]


def backup(settings: Settings, folder: Path) -> list[Path]:
    """Writes every database of ``settings`` into ``folder`` (created owner-only) with a manifest."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    written: dict[str, str] = {}
    for database in databases(settings):
        target = folder / database.backup_file
        if database.sqlite_path is not None:
            if not database.sqlite_path.exists():
                continue  # nothing written there yet: nothing to keep
            _sqlite_copy(database.sqlite_path, target)
        else:
            _postgres(["pg_dump", "--format=custom", "--no-owner", f"--file={target}"], database.url)
        target.chmod(0o600)
        written[database.name] = target.name
    manifest = {"created": datetime.now(timezone.utc).isoformat(), "files": written}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return [folder / name for name in written.values()]


def restore(settings: Settings, folder: Path) -> list[str]:
    """Replaces the databases of ``settings`` with the backup in ``folder``; the names of those restored."""
    try:
        files = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError) as error:
        raise BackupError(f"{folder} không phải một bản sao lưu của cskh-bot (thiếu {MANIFEST}).") from error
    restored = []
    for database in databases(settings):
        name = files.get(database.name)
        if name is None:
            continue
        source = folder / name
        if name != database.backup_file:
            raise BackupError(
                f"Bản sao lưu {name} không khớp cơ sở dữ liệu hiện tại ({database.backup_file}): "
                "SQLite chỉ khôi phục vào SQLite, PostgreSQL vào PostgreSQL."
            )
        if database.sqlite_path is not None:
            database.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            _sqlite_copy(source, database.sqlite_path)
        else:
            newer = _tables_not_in_dump(database.url, source) if database.name == "project" else []
            _postgres(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", str(source)],
                      database.url)  # fmt: skip
            _drop(database.url, newer)
        restored.append(database.name)
    return restored


def _tables_not_in_dump(url: str, dump: Path) -> list[str]:
    """Project tables (and the schema's revision) the database holds but the backup does not: made by an
    upgrade after the backup. ``pg_restore --clean`` only replaces what the dump has; these go too, or the
    restored database would claim the newer revision (or hold a newer table) over the older schema."""
    listing = _run(["pg_restore", "--list", str(dump)], {})
    dumped = {match.group(1) for match in re.finditer(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", listing, re.MULTILINE)}
    ours = {*metadata.tables, migrations.VERSION_TABLE}
    return sorted(name for name in sa.inspect(engine_for(url)).get_table_names() if name in ours - dumped)


def _drop(url: str, tables: list[str]) -> None:
    with engine_for(url).begin() as connection:
        for table in tables:
            connection.execute(sa.text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while another process writes ``source``."""
    target.touch(mode=0o600)  # created owner-only: conversations and phone numbers are nobody else's business
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
        live.backup(copy)


def _postgres(command: list[str], url: str) -> str:
    """Runs a PostgreSQL client tool on the database at ``url`` (an SQLAlchemy URL)."""
    parts = urlsplit(url)
    password = parts.password
    netloc = parts.netloc.rsplit("@", 1)
    if password is not None:
        netloc[0] = netloc[0].split(":", 1)[0]
    plain = urlunsplit(parts._replace(scheme="postgresql", netloc="@".join(netloc)))
    return _run([*command, f"--dbname={plain}"], {"PGPASSWORD": password} if password else {})


def _run(command: list[str], extra: dict[str, str]) -> str:
    """Runs a PostgreSQL client tool; what it printed."""
    if shutil.which(command[0]) is None:
        raise BackupError(f"Không tìm thấy {command[0]}: cài gói postgresql-client cùng phiên bản với máy chủ.")
    result = subprocess.run(command, capture_output=True, text=True, env=inherited_environment(extra))
    if result.returncode != 0:
        raise BackupError(f"{command[0]} báo lỗi: {result.stderr.strip()[-500:]}")
    return result.stdout
