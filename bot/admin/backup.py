"""``cskh backup`` / ``cskh restore``: the project database and Rasa's conversations into a folder and back.

SQLite files are copied with SQLite's online backup API, so a backup taken while the bot runs is a
consistent snapshot, not a torn file copy. PostgreSQL databases are written with ``pg_dump``'s custom
format and read back with ``pg_restore --clean`` (the client tools of the server's major version);
a password in the URL goes to them in ``PGPASSWORD``, never on a command line others can read.

A restore replaces what the databases hold: stop the bot first (README, "Admins"). Models, the
training data and the var dir's admin files are files; copy them as files.
"""

import json
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bot.database import tracker_url
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
            _postgres(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", str(source)],
                      database.url)  # fmt: skip
        restored.append(database.name)
    return restored


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while another process writes ``source``."""
    target.touch(mode=0o600)  # created owner-only: conversations and phone numbers are nobody else's business
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
        live.backup(copy)


def _postgres(command: list[str], url: str) -> None:
    """Runs a PostgreSQL client tool on the database at ``url`` (an SQLAlchemy URL)."""
    tool = command[0]
    if shutil.which(tool) is None:
        raise BackupError(f"Không tìm thấy {tool}: cài gói postgresql-client cùng phiên bản với máy chủ.")
    parts = urlsplit(url)
    password = parts.password
    netloc = parts.netloc.rsplit("@", 1)
    if password is not None:
        netloc[0] = netloc[0].split(":", 1)[0]
    plain = urlunsplit(parts._replace(scheme="postgresql", netloc="@".join(netloc)))
    extra = {"PGPASSWORD": password} if password else {}
    result = subprocess.run(
        [*command, f"--dbname={plain}"], capture_output=True, text=True, env=inherited_environment(extra)
    )
    if result.returncode != 0:
        raise BackupError(f"{tool} báo lỗi: {result.stderr.strip()[-500:]}")
