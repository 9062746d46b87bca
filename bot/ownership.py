"""Who proved which order is theirs, and how often someone failed to — in the project database.

Two rules live here, server-side, so that no conversation state can bend them:

- A proof binds one conversation to one order number, with how it was given (the full phone number,
  or only its last 4 digits). A state-changing action asks the ledger, at the moment it acts, whether
  *this* conversation proved *this* order the way that action needs. A tracker that merely says
  "verified" proves nothing.
- Failed proofs are counted per order number, across every conversation, sender and channel, in a
  sliding window. Leaving the form, starting a new conversation or switching channel resets nothing:
  after ``max_failures`` in ``window`` the order is locked and only a person can help.

Attempts on one order are serialised by a row lock on that order's row in ``ownership_orders`` (SQLite
serialises every writer anyway), so concurrent guesses from many senders or several action servers each
see the others and the limit holds exactly.
"""

from datetime import datetime, timedelta, timezone
from enum import Enum

import sqlalchemy as sa

from bot.migrations import ensure_schema
from bot.schema import ownership_attempts_table as attempts_table
from bot.schema import ownership_orders_table as orders_table
from bot.schema import ownership_proofs_table as proofs_table


class ProofMethod(str, Enum):
    """How ownership was shown; only the full phone number allows changing an order."""

    FULL_PHONE = "phone"
    LAST_DIGITS = "last4"


class Outcome(str, Enum):
    PROVEN = "proven"
    WRONG = "wrong"
    LOCKED = "locked"


def _now() -> datetime:
    return datetime.now(timezone.utc)


class OwnershipLedger:
    """Proofs and failed attempts per order number."""

    def __init__(
        self,
        engine: sa.engine.Engine,
        *,
        max_failures: int = 5,
        window: timedelta = timedelta(hours=1),
        proof_lifetime: timedelta = timedelta(hours=1),
    ) -> None:
        self._engine = engine
        self.max_failures, self.window, self.proof_lifetime = max_failures, window, proof_lifetime
        ensure_schema(engine)

    def _failures_since(self, connection: sa.engine.Connection, order_number: str, since: datetime) -> int:
        query = sa.select(sa.func.count()).where(
            attempts_table.c.order_number == order_number,
            attempts_table.c.attempted_at >= since,
            attempts_table.c.succeeded.is_(False),
        )
        return int(connection.execute(query).scalar() or 0)

    def is_locked(self, order_number: str) -> bool:
        """True while the order has had too many failed proofs in the window."""
        with self._engine.connect() as connection:
            return self._failures_since(connection, order_number, _now() - self.window) >= self.max_failures

    @staticmethod
    def _hold(connection: sa.engine.Connection, order_number: str, now: datetime) -> None:
        """Takes the order's row lock until the transaction ends (creating the row on first use)."""
        touch = orders_table.update().where(orders_table.c.order_number == order_number).values(last_attempt_at=now)
        if connection.execute(touch).rowcount == 0:
            try:
                with connection.begin_nested():
                    connection.execute(orders_table.insert().values(order_number=order_number, last_attempt_at=now))
            except sa.exc.IntegrityError:  # another attempt created it first
                connection.execute(touch)

    def attempt(self, conversation_id: str, order_number: str, matches: bool, method: ProofMethod) -> Outcome:
        """Records one proof attempt and says whether it counts.

        ``matches`` is whether the answer fits the order; it is not looked at once the order is locked,
        so a locked order tells a guesser nothing, even about a right guess.
        """
        now = _now()
        with self._engine.begin() as connection:
            self._hold(connection, order_number, now)
            # attempts older than the window no longer count: drop them so the table stays small
            connection.execute(
                attempts_table.delete().where(
                    attempts_table.c.order_number == order_number, attempts_table.c.attempted_at < now - self.window
                )
            )
            locked = self._failures_since(connection, order_number, now - self.window) >= self.max_failures
            succeeded = matches and not locked
            connection.execute(
                attempts_table.insert().values(
                    order_number=order_number, conversation_id=conversation_id, attempted_at=now, succeeded=succeeded
                )
            )
            if locked:
                return Outcome.LOCKED
            if not succeeded:
                return Outcome.WRONG
            connection.execute(
                proofs_table.delete().where(
                    proofs_table.c.conversation_id == conversation_id, proofs_table.c.order_number == order_number
                )
            )
            connection.execute(
                proofs_table.insert().values(
                    conversation_id=conversation_id, order_number=order_number, method=method.value, proven_at=now
                )
            )
        return Outcome.PROVEN

    def proven(self, conversation_id: str, order_number: str | None, *, full_phone: bool) -> bool:
        """Did this conversation prove this order recently enough, in a way strong enough for the step?"""
        if not order_number:
            return False
        query = sa.select(proofs_table.c.method, proofs_table.c.proven_at).where(
            proofs_table.c.conversation_id == conversation_id, proofs_table.c.order_number == order_number
        )
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return False
        proven_at = row.proven_at if row.proven_at.tzinfo else row.proven_at.replace(tzinfo=timezone.utc)
        if _now() - proven_at > self.proof_lifetime:
            return False
        return row.method == ProofMethod.FULL_PHONE.value or not full_phone
