"""Rasa's SQL tracker store, made to fail loudly.

Rasa wraps every tracker store in ``FailSafeTrackerStore``: when the database
cannot be read it carries on with an empty conversation, and when it cannot be
written it keeps the turn in memory only. The customer gets an answer that
forgot the conversation, and the message is silently lost. This subclass
notes which customers' turns hit a storage error, so the channel can answer
with an apology and ask them to send again instead (connectors/rest.py), and
it checks pooled connections before use, so a restarted database costs no
message.
"""

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker

# Senders whose last turn could not be read or written; the channel takes them out.
storage_failures: set[str] = set()


class StrictSQLTrackerStore(SQLTrackerStore):
    """``type: bot.tracking.StrictSQLTrackerStore`` in endpoints.yml, with SQLTrackerStore's settings."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        try:
            return await super().retrieve(sender_id)
        except Exception:
            storage_failures.add(sender_id)
            raise

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await super().save(tracker)
        except Exception:
            storage_failures.add(tracker.sender_id)
            raise
