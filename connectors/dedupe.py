"""Platforms redeliver webhooks they think failed: each message is answered once.

Seen message ids live in the project database (SQLite by default, PostgreSQL in
the scaled-out setup), so two Rasa replicas receiving the same redelivery
still answer it once: the insert of a (channel, message id) pair succeeds for
exactly one of them.

A channel records an id before it acknowledges the webhook (connectors/core.py): when the
database fails, ``first_time`` raises and nothing is recorded, so the platform's resend is
handled as new.
"""

from datetime import datetime, timedelta, timezone
from functools import lru_cache

import sqlalchemy as sa

from bot.database import database_url, engine_for
from bot.migrations import ensure_schema
from bot.schema import seen_messages_table as seen_table

KEEP_FOR = timedelta(days=3)  # longer than any platform retries (Messenger: up to 36 h)
PRUNE_EVERY = timedelta(hours=1)


class SeenMessages:
    """Remembers which platform message ids were already handled."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        self._pruned_at: datetime | None = None
        ensure_schema(engine)

    def first_time(self, channel: str, message_id: str) -> bool:
        """True the first time this id is seen on this channel, False for every redelivery."""
        now = datetime.now(timezone.utc)
        prune = self._pruned_at is None or now - self._pruned_at > PRUNE_EVERY
        try:
            with self._engine.begin() as connection:
                connection.execute(seen_table.insert().values(channel=channel, message_id=message_id, seen_at=now))
                if prune:  # in the same transaction: an id is never recorded unless this call returns True
                    connection.execute(seen_table.delete().where(seen_table.c.seen_at < now - KEEP_FOR))
        except sa.exc.IntegrityError:
            return False
        if prune:
            self._pruned_at = now
        return True


@lru_cache(maxsize=1)
def seen_messages() -> SeenMessages:
    """The store for this process's project database."""
    return SeenMessages(engine_for(database_url()))
