"""Whose conversation a message belongs to: every channel has its own namespace of sender ids.

A Zalo user id or a Messenger PSID is no secret (it appears in webhooks, logs and the
platforms' tools), and the REST webhook takes whatever ``sender`` its client sends. If
both were tracker keys as they are, a REST client naming a Zalo user's id would write
into that customer's conversation and read the agent's replies meant for them. So Rasa
only ever sees ``zalo:<user id>``, ``fb:<psid>`` and ``web:<id>`` (REST and the website
widget, whose ids are secrets the browser or client chose), and a channel's output turns
the key back into the platform's own id (``platform_id``).

Conversations stored before namespacing are renamed once, when Rasa's tracker store
starts (``namespace_stored_senders``): each by the channel its messages came in on, with
the desk's hand-offs and the tickets following their conversation.
"""

import contextlib
import json
import logging
import time

import sqlalchemy as sa

from bot.schema import handoffs_table, migrations_table, tickets_table

logger = logging.getLogger(__name__)

WEB, ZALO, FACEBOOK = "web:", "zalo:", "fb:"
PREFIXES = {"rest": WEB, "socketio": WEB, "zalo": ZALO, "messenger": FACEBOOK, "facebook": FACEBOOK}
MIGRATION = "sender_namespaces"
# REST clients and the widget name their conversation in this header when reading their inbox: a
# secret in a URL ends up in proxies' and servers' access logs.
SESSION_HEADER = "X-Chat-Session"


def namespaced(channel: str, platform_sender: str) -> str:
    """The tracker key for ``platform_sender`` on ``channel`` (an input channel's name)."""
    return PREFIXES[channel] + platform_sender


def platform_id(channel: str, sender_id: str) -> str:
    """The id the platform knows the customer by, for sending: the tracker key without its prefix."""
    prefix = PREFIXES[channel]
    return sender_id[len(prefix) :] if sender_id.startswith(prefix) else sender_id


def _prefix_for(channels: set[str]) -> str:
    """A stored conversation's namespace: a platform's if any message came from it (the platform
    vouched for that id; REST messages mixed in were written by whoever guessed it), else the web's."""
    for channel in ("zalo", "messenger", "facebook"):
        if channel in channels:
            return PREFIXES[channel]
    return WEB


def _claim(connection: sa.engine.Connection, name: str) -> None:
    """Marks the migration done inside its own transaction; a second runner fails on the key."""
    connection.execute(migrations_table.insert().values(name=name, done_at=time.time()))


def _done(engine: sa.engine.Engine, name: str) -> bool:
    # created at the same moment by another replica: fine
    # only this table: ``engine`` may be the tracker database, which holds no project tables
    with contextlib.suppress(sa.exc.IntegrityError, sa.exc.ProgrammingError):
        migrations_table.create(engine, checkfirst=True)
    with engine.connect() as connection:
        found = connection.execute(sa.select(migrations_table.c.name).where(migrations_table.c.name == name))
        return found.first() is not None


def _rename(connection: sa.engine.Connection, table: sa.Table, renames: dict[str, str], *where: object) -> None:
    """Longest ids first: each new id is its old one plus a prefix, so it never meets an id still to rename."""
    width = table.c.sender_id.type.length or 255
    for old in sorted(renames, key=len, reverse=True):
        if len(renames[old]) <= width:  # longer ones could not be reached under the new limits anyway
            statement = table.update().where(table.c.sender_id == old, *where).values(sender_id=renames[old])
            connection.execute(statement)


def _rename_conversations(engine: sa.engine.Engine) -> dict[str, str]:
    """Renames every stored conversation in Rasa's ``events`` table; old id → new id."""
    name = f"{MIGRATION}:events"
    if not sa.inspect(engine).has_table("events") or _done(engine, name):
        return {}
    events = sa.Table("events", sa.MetaData(), autoload_with=engine)
    try:
        with engine.begin() as connection:
            _claim(connection, name)
            channels: dict[str, set[str]] = {}
            for sender in connection.execute(sa.select(events.c.sender_id).distinct()).scalars():
                channels[sender] = set()
            users = sa.select(events.c.sender_id, events.c.data).where(events.c.type_name == "user")
            for sender, data in connection.execute(users):
                try:
                    channels[sender].add(str(json.loads(data or "{}").get("input_channel")))
                except ValueError:
                    continue
            renames = {old: _prefix_for(seen) + old for old, seen in channels.items()}
            _rename(connection, events, renames)
    except sa.exc.IntegrityError:  # another replica claimed it first and did the work
        return {}
    logger.info("sender ids namespaced for %d stored conversations", len(renames))
    return renames


def _rename_records(engine: sa.engine.Engine, renames: dict[str, str]) -> None:
    """Hand-offs and tickets follow their conversation (or, if it is gone, their channel)."""
    name = f"{MIGRATION}:records"
    tables = [t for t in (handoffs_table, tickets_table) if sa.inspect(engine).has_table(t.name)]
    if _done(engine, name):
        return
    try:
        with engine.begin() as connection:
            _claim(connection, name)
            for table in tables:
                pairs = connection.execute(sa.select(table.c.sender_id, table.c.channel).distinct()).all()
                for channel in {channel for _, channel in pairs}:
                    olds = [sender for sender, each in pairs if each == channel]
                    new = {old: renames.get(old) or PREFIXES.get(channel, WEB) + old for old in olds}
                    _rename(connection, table, new, table.c.channel == channel)
    except sa.exc.IntegrityError:
        return


def namespace_stored_senders(tracker_engine: sa.engine.Engine, project_engine: sa.engine.Engine) -> None:
    """Once per database, whichever Rasa replica starts first: conversations stored with raw ids are renamed."""
    renames = _rename_conversations(tracker_engine)
    _rename_records(project_engine, renames)
