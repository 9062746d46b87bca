"""Agent accounts, console sessions and who is online.

Passwords are hashed with Argon2id at OWASP's parameters (19 MiB, 2 passes, 1
lane). Chosen over scrypt at OWASP's N=2^17: that costs 128 MiB and ~0.33 s per
attempt here, and every login attempt, unknown names included, must pay it, so
a burst of logins would take the desk's memory; Argon2id costs 19 MiB and ~17 ms
for comparable resistance. Hashes made with older parameters (scrypt N=2^14,
weaker Argon2) still verify and are replaced at the next successful login.
Session cookies are random and only their SHA-256 is stored, so a leaked
database holds no usable login. Sessions live in the project database:
restarting the console logs nobody out.
"""

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from bot.migrations import ensure_schema
from bot.schema import AGENT_AWAY, AGENT_BUSY, AGENT_ONLINE, DEFAULT_CAPACITY, agents_table, sessions_table

AGENT, ADMIN = "agent", "admin"
SESSION_IDLE = timedelta(minutes=60)
SESSION_MAX = timedelta(hours=12)
ONLINE_WINDOW = timedelta(seconds=90)
FIRST_ADMIN = "admin"
STATUSES = (AGENT_ONLINE, AGENT_BUSY, AGENT_AWAY)
MAX_CAPACITY = 50  # more conversations at once than anyone can follow is a typo, not a policy
# OWASP Password Storage Cheat Sheet, Argon2id: m=19 MiB, t=2, p=1
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)


@dataclass(frozen=True)
class Agent:
    username: str
    display_name: str
    role: str
    status: str = AGENT_ONLINE
    capacity: int = DEFAULT_CAPACITY


@dataclass(frozen=True)
class Presence:
    """An agent as their colleagues and admins see them: status, and whether their console is open now."""

    username: str
    display_name: str
    role: str
    status: str
    capacity: int
    connected: bool


@dataclass(frozen=True)
class Session:
    agent: Agent
    csrf_token: str


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _agent_fields(row: Any) -> tuple[str, str, str, str, int]:
    return row.username, row.display_name, row.role, row.status, row.capacity


def _agent(row: Any) -> Agent:
    return Agent(*_agent_fields(row))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_password(password: str) -> str:
    """An Argon2id hash string (``$argon2id$v=19$m=...,t=...,p=...$salt$hash``): parameters travel with it."""
    return _HASHER.hash(password)


def _verify_scrypt(password: str, stored: str) -> bool:
    """Hashes made before Argon2id (``scrypt$n$r$p$salt$hash``), accepted until their owner next logs in."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or int(n) > 2**17:  # an absurd cost in a tampered row must not stall the desk
            return False
        candidate = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32,
            maxmem=256 * 1024 * 1024,
        )  # fmt: skip
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate, base64.b64decode(digest))


def verify_password(password: str, stored: str) -> bool:
    if stored.startswith("scrypt$"):
        return _verify_scrypt(password, stored)
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True for hashes made with an older scheme or weaker parameters than today's."""
    if stored.startswith("scrypt$"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against for unknown names, so they cost the same work as a wrong password (no enumeration)."""
    return hash_password(secrets.token_urlsafe(16))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountStore:
    """Agents and their sessions in the project database."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        ensure_schema(engine)

    def add_agent(self, username: str, password: str, display_name: str, role: str = AGENT) -> Agent:
        if role not in (AGENT, ADMIN):
            raise ValueError(f"role must be {AGENT} or {ADMIN}")
        if len(password) < 10:
            raise ValueError("password must have at least 10 characters")
        with self._engine.begin() as connection:
            connection.execute(
                agents_table.insert().values(
                    username=username, display_name=display_name, role=role,
                    password_hash=hash_password(password), created_at=_now(),
                )
            )  # fmt: skip
        return Agent(username, display_name, role)

    def has_agents(self) -> bool:
        with self._engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(agents_table)).scalar_one() > 0

    def agent(self, username: str) -> Agent | None:
        with self._engine.connect() as connection:
            row = connection.execute(sa.select(agents_table).where(agents_table.c.username == username)).first()
        return _agent(row) if row else None

    def authenticate(self, username: str, password: str) -> Agent | None:
        """The agent when the password matches, upgrading an old hash on the way.

        Unknown names are checked against one dummy hash of today's parameters: the same work as a
        wrong password, so the answer's timing does not tell which names exist.
        """
        with self._engine.connect() as connection:
            row = connection.execute(sa.select(agents_table).where(agents_table.c.username == username)).first()
        if not verify_password(password, row.password_hash if row else _dummy_hash()) or row is None:
            return None
        if needs_rehash(row.password_hash):
            with self._engine.begin() as connection:
                connection.execute(
                    agents_table.update()
                    .where(agents_table.c.username == username, agents_table.c.password_hash == row.password_hash)
                    .values(password_hash=hash_password(password))
                )
        return _agent(row)

    def start_session(self, agent: Agent) -> tuple[str, Session]:
        """A new cookie value and its session."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = _now()
        with self._engine.begin() as connection:
            connection.execute(
                sessions_table.insert().values(
                    token_hash=_token_hash(token), username=agent.username, csrf_token=csrf,
                    created_at=now, expires_at=now + SESSION_IDLE,
                )
            )  # fmt: skip
        self.seen(agent.username)
        return token, Session(agent, csrf)

    def session(self, token: str | None, touch: bool = True) -> Session | None:
        """The live session for a cookie, extended while in use; None when unknown or expired.

        ``touch=False`` only checks (a live stream's re-check): an open tab must not keep a session
        alive past its idle limit nor mark its agent present.
        """
        if not token:
            return None
        now = _now()
        with self._engine.begin() as connection:
            row = connection.execute(
                sa.select(
                    sessions_table,
                    agents_table.c.display_name,
                    agents_table.c.role,
                    agents_table.c.status,
                    agents_table.c.capacity,
                )
                .join(agents_table, agents_table.c.username == sessions_table.c.username)
                .where(sessions_table.c.token_hash == _token_hash(token))
            ).first()
            if row is None:
                return None
            if _utc(row.expires_at) <= now or _utc(row.created_at) + SESSION_MAX <= now:
                connection.execute(sessions_table.delete().where(sessions_table.c.token_hash == row.token_hash))
                return None
            if not touch:
                return Session(_agent(row), row.csrf_token)
            connection.execute(
                sessions_table.update()
                .where(sessions_table.c.token_hash == row.token_hash)
                .values(expires_at=min(now + SESSION_IDLE, _utc(row.created_at) + SESSION_MAX))
            )
        self.seen(row.username)
        return Session(_agent(row), row.csrf_token)

    def end_session(self, token: str | None) -> None:
        if token:
            with self._engine.begin() as connection:
                connection.execute(sessions_table.delete().where(sessions_table.c.token_hash == _token_hash(token)))

    def seen(self, username: str) -> None:
        """Marks the agent present (any console request or the live stream's heartbeat)."""
        with self._engine.begin() as connection:
            connection.execute(
                agents_table.update().where(agents_table.c.username == username).values(last_seen=_now())
            )

    def offline(self, username: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(agents_table.update().where(agents_table.c.username == username).values(last_seen=None))

    def agents(self) -> list[Agent]:
        """Every account, by username (the admin's agents page, a transfer's choices)."""
        with self._engine.connect() as connection:
            rows = connection.execute(sa.select(agents_table).order_by(agents_table.c.username)).all()
        return [Agent(row.username, row.display_name, row.role) for row in rows]

    def online_usernames(self) -> set[str]:
        """Agents seen in the console within the last ``ONLINE_WINDOW``: those a conversation may be passed to."""
        with self._engine.connect() as connection:
            return set(
                connection.execute(
                    sa.select(agents_table.c.username).where(agents_table.c.last_seen >= _now() - ONLINE_WINDOW)
                ).scalars()
            )

    def online_count(self) -> int:
        """Agents seen in the console within the last ``ONLINE_WINDOW`` who are not away: an away agent's open
        tab must not promise a waiting customer a human who is not there."""
        with self._engine.connect() as connection:
            return connection.execute(
                sa.select(sa.func.count())
                .select_from(agents_table)
                .where(agents_table.c.last_seen >= _now() - ONLINE_WINDOW, agents_table.c.status != AGENT_AWAY)
            ).scalar_one()

    def set_status(self, username: str, status: str) -> None:
        """The agent's own choice in the console's header (``STATUSES``)."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        with self._engine.begin() as connection:
            connection.execute(agents_table.update().where(agents_table.c.username == username).values(status=status))

    def set_capacity(self, username: str, capacity: int) -> bool:
        """An admin's limit on the agent's conversations at once; False when there is no such agent."""
        if not 1 <= capacity <= MAX_CAPACITY:
            raise ValueError(f"capacity must be 1 to {MAX_CAPACITY}")
        with self._engine.begin() as connection:
            changed = connection.execute(
                agents_table.update().where(agents_table.c.username == username).values(capacity=capacity)
            ).rowcount
        return changed == 1

    def roster(self) -> list[Presence]:
        """Every agent with their status and whether their console is open now, by display name."""
        recent = _now() - ONLINE_WINDOW
        with self._engine.connect() as connection:
            rows = connection.execute(sa.select(agents_table).order_by(agents_table.c.display_name)).all()
        return [Presence(*_agent_fields(row), bool(row.last_seen) and _utc(row.last_seen) >= recent) for row in rows]


def _kept_password(path: Path) -> str:
    """The generated password in ``path``, written there whole (a link of a finished file) by whichever
    instance came first, so a second one never reads half of it or replaces it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(12))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


def ensure_first_admin(store: AccountStore, password: str | None, password_file: Path) -> str | None:
    """Creates the ``admin`` account on first start; returns its password when it was generated.

    The password is ``password`` (``CSKH_ADMIN_PASSWORD``) or is generated and kept in
    ``password_file`` (mode 600, in the var dir) so ``make run`` can point at it. Desk instances
    starting together (the scaled stack) agree on one kept password and one of them creates the account.
    """
    if not store.has_agents():
        if not password:
            password = _kept_password(password_file)
        with contextlib.suppress(sa.exc.IntegrityError):  # another instance created it a moment ago, alike
            store.add_agent(FIRST_ADMIN, password, "CSKH", role=ADMIN)
    if password_file.exists():
        return password_file.read_text().strip()
    return None
