"""Rasa's SQL tracker store, made to fail loudly.

Rasa wraps every tracker store in ``FailSafeTrackerStore``: when the database
cannot be read it carries on with an empty conversation, and when it cannot be
written it keeps the turn in memory only. The customer gets an answer that
forgot the conversation, and the message is silently lost. This subclass
notes which customers' turns hit a storage error, so the channel can answer
with an apology and ask them to send again instead (connectors/rest.py), and
it checks pooled connections before use, so a restarted database costs no
message.

Publishing to the event broker is cheaper too (docs/BENCHMARKS.md): the new
events are found by counting the stored ones, as ``save`` does, instead of
Rasa's re-reading and deserialising the whole stored conversation on every
turn; and with ``publish_paused_only: true`` only the turns of conversations
a human holds (paused, or pausing/resuming in this turn) are published, since
the desk is the broker's only consumer.

Conversations stored before sender ids were namespaced per channel (bot/senders.py)
are renamed when the store starts, once per database.
"""

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import ConversationPaused, ConversationResumed, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.database import database_url, engine_for
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


class StrictSQLTrackerStore(SQLTrackerStore):
    """``type: bot.rasa_plugins.tracking.StrictSQLTrackerStore`` in endpoints.yml, with SQLTrackerStore's settings."""

    engine: sa.engine.Engine  # SQLTrackerStore's, replaced in __init__ by one that checks connections before use

    def __init__(self, *args: Any, publish_paused_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.publish_paused_only = publish_paused_only
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        namespace_stored_senders(self.engine, engine_for(database_url()))

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        try:
            return await super().retrieve(sender_id)
        except Exception:
            storage_failures.add(sender_id)
            raise

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        if self.event_broker is None:
            return
        if self.publish_paused_only and not _held_by_a_human(tracker):
            return
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await super().save(tracker)
        except Exception:
            storage_failures.add(tracker.sender_id)
            raise
