"""Rasa's SQL tracker store, made to fail loudly.

Rasa wraps every tracker store in ``FailSafeTrackerStore``: when the database
cannot be read it carries on with an empty conversation, and when it cannot be
written it keeps the turn in memory only. The customer gets an answer that
forgot the conversation, and the message is silently lost. This subclass
notes which customers' turns hit a storage error, so the channel can answer
with an apology and ask them to send again instead (connectors/rest.py), and
it checks pooled connections to a database server before use when they sat idle, so a
restarted database costs no message.

Publishing to the event broker is cheaper too (docs/BENCHMARKS.md): the new
events are found by counting the stored ones, as ``save`` does, instead of
Rasa's re-reading and deserialising the whole stored conversation on every
turn; and with ``publish_paused_only: true`` only the turns of conversations
a human holds (paused, or pausing/resuming in this turn) are published, since
the desk is the broker's only consumer.

Reading and saving is cheaper as well: the trackers this server answered last stay in memory
while the database still holds what they do (``cached_trackers``, bot/rasa_plugins/recent_trackers.py),
so a turn reads one index entry instead of the whole conversation, and a save neither counts nor checks. On
SQLite, the database is in write-ahead-log mode with ``synchronous=NORMAL``: a commit no longer waits
for the disk (which held up every conversation, the server having one event loop); a crash of the
process loses no committed turn, a power cut may lose the last ones but never corrupts the file.

Conversations stored before sender ids were namespaced per channel (bot/senders.py)
are renamed when the store starts, once per database.
"""

import json
from itertools import islice
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import (
    ConversationPaused,
    ConversationResumed,
    Event,
    SessionStarted,
    UserUttered,
    deserialise_events,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.database import IDLE_BEFORE_PING, database_url, engine_for, ping_when_idle
from bot.rasa_plugins.recent_trackers import RecentTrackers
from bot.senders import namespace_stored_senders

# Senders whose last turn could not be read or written; the channel takes them out.
storage_failures: set[str] = set()


def _held_by_a_human(tracker: DialogueStateTracker) -> bool:
    """Paused now, or paused or resumed since the customer's last message (this turn)."""
    if tracker.is_paused():
        return True
    for event in reversed(tracker.events):
        if isinstance(event, (ConversationPaused, ConversationResumed)):
            return True
        if isinstance(event, UserUttered):
            return False
    return False


def _commit_without_waiting_for_the_disk(connection: Any, _record: Any) -> None:
    """SQLite's write-ahead log, synced at checkpoints only (see the module's docstring)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# a Core statement built once: the ORM's query costs several times the lookup itself
_EVENTS = SQLTrackerStore.SQLEvent.__table__
# "id + 0", not "id": PostgreSQL answers max(id) by walking the primary key backwards until a row of this sender
# turns up, every event stored since (all of them for a new customer: 22 ms at 87,000 events, growing with the
# table); on the expression it reads the sender's own rows through their index (0.07 ms)
_NEWEST_EVENT = sa.select(sa.func.max(_EVENTS.c.id + 0)).where(_EVENTS.c.sender_id == sa.bindparam("sender_id"))
_NEWER_EVENTS = (
    sa.select(_EVENTS.c.id, _EVENTS.c.data)
    .where(_EVENTS.c.sender_id == sa.bindparam("sender_id"), _EVENTS.c.id > sa.bindparam("stamp"))
    .order_by(_EVENTS.c.id)
)


class StrictSQLTrackerStore(SQLTrackerStore):
    """``type: bot.rasa_plugins.tracking.StrictSQLTrackerStore`` in endpoints.yml, with SQLTrackerStore's settings."""

    engine: sa.engine.Engine  # SQLTrackerStore's, replaced in __init__ by one that checks idle connections

    def __init__(self, *args: Any, publish_paused_only: bool = False, cached_trackers: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.publish_paused_only = publish_paused_only
        self.recent = RecentTrackers(cached_trackers)
        url = self.engine.url
        self.engine.dispose()
        if url.get_backend_name() == "sqlite":
            # one file on this machine: connections are kept (SQLAlchemy 1.4 opens one per session)
            self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False})
            sa.event.listen(self.engine, "connect", _commit_without_waiting_for_the_disk)
        else:
            self.engine = sa.create_engine(url, **create_engine_kwargs(url))
            ping_when_idle(self.engine, IDLE_BEFORE_PING)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        namespace_stored_senders(self.engine, engine_for(database_url()))

    def _stamp(self, session: sa.orm.Session, sender_id: str) -> int | None:
        """The id of the conversation's newest stored event (bot/rasa_plugins/recent_trackers.py)."""
        return session.execute(_NEWEST_EVENT, {"sender_id": sender_id}).scalar()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        try:
            if not self.recent.size:
                return await super().retrieve(sender_id)
            kept = self.recent.intact(sender_id, self.domain)
            tracker = self._caught_up(sender_id, *kept) if kept else None
            if tracker is None:
                with self.session_scope() as session:
                    stamp = self._stamp(session, sender_id)
                # read after the stamp: a turn stored in between makes the entry older than it is, never newer
                tracker = await super().retrieve(sender_id)
                if tracker is not None:
                    self.recent.keep(tracker, stamp, self.domain)
            return tracker
        except Exception:
            storage_failures.add(sender_id)
            raise

    def _caught_up(
        self, sender_id: str, tracker: DialogueStateTracker, stamp: int | None
    ) -> DialogueStateTracker | None:
        """The kept tracker with the events stored after it (another replica's turns, the desk's messages)
        applied, as Rasa's ``retrieve`` applies them; None when one of them starts a new session, which
        ``retrieve`` reads alone. One indexed query, usually answering nothing."""
        with self.session_scope() as session:
            rows = session.execute(
                _NEWER_EVENTS, {"sender_id": sender_id, "stamp": -1 if stamp is None else stamp}
            ).all()
        newer = deserialise_events([json.loads(row.data) for row in rows])
        if any(isinstance(event, SessionStarted) for event in newer):
            return None
        for event in newer:
            tracker.update(event)
        if rows:
            self.recent.keep(tracker, rows[-1].id, self.domain)
        return tracker

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        if self.event_broker is None:
            return
        if self.publish_paused_only and not _held_by_a_human(tracker):
            return
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's ``SQLTrackerStore.save``, except that the events already stored are known without
        counting them when ``tracker`` is the one kept; the tracker is kept as saved."""
        sender_id = tracker.sender_id
        try:
            await self.stream_events(tracker)
            kept = self.recent.stored(tracker, self.domain)
            with self.session_scope() as session:
                if kept is None:
                    new_events, stamp = list(self._additional_events(session, tracker)), None
                else:
                    new_events, stamp = list(islice(tracker.events, kept[0], None)), kept[1]
                if new_events:
                    # one executemany, not the ORM's unit of work (an INSERT per row to learn its id: 8% of
                    # the server's CPU); the newest id is read back in the same transaction, under the
                    # conversation's lock
                    session.execute(_EVENTS.insert(), [self._row(sender_id, event) for event in new_events])
                    stamp = self._stamp(session, sender_id)
                session.commit()
        except Exception:
            storage_failures.add(sender_id)
            self.recent.forget(sender_id)
            raise
        if kept is None or any(isinstance(event, SessionStarted) for event in new_events):
            self.recent.forget(sender_id)  # a tracker ``retrieve`` would not return as it is
        else:
            self.recent.keep(tracker, stamp, self.domain)

    @staticmethod
    def _row(sender_id: str, event: Event) -> dict[str, Any]:
        """An event's row as Rasa's ``save`` stores it."""
        data = event.as_dict()
        return {
            "sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"), "data": json.dumps(data),
        }  # fmt: skip
