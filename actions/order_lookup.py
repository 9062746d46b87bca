"""The order system as the actions reach it: off the event loop, and read once per customer message.

The backends are blocking (``requests``, SQLite), and the action server runs every action on one
asyncio loop: a call made in the loop would stop every other customer's action until the shop
answered. So each call runs in a worker thread.

One customer message runs several actions (the form's validation, then the submit action), each a
separate call to the action server, and each used to read the order again. The order read for a
message is kept for the rest of that message (keyed by Rasa's message id), so the status told is
the one the ownership check saw and the shop's API is asked once. The next message reads afresh;
a cancellation forgets the order at once. With several action servers behind a balancer a call may
land on another one, which simply reads the order itself.
"""

import asyncio
import time

from rasa_sdk import Tracker

from actions.services import order_backend
from bot.orders.model import Order

# long enough for every action of one message, short enough that nothing piles up
KEEP_SECONDS = 60.0
_read: dict[tuple[str, str, str], tuple[float, Order | None]] = {}


def _message_id(tracker: Tracker) -> str | None:
    """Rasa's id of the customer message this action call belongs to."""
    return (tracker.latest_message or {}).get("message_id")


def _forget_expired(now: float) -> None:
    for key in [key for key, (read_at, _) in _read.items() if now - read_at > KEEP_SECONDS]:
        del _read[key]


async def find_order(tracker: Tracker, number: str) -> Order | None:
    """The order (None when the shop has no such number), read at most once per customer message.

    Raises ``OrderBackendError`` when the order system cannot answer; a failure is not kept.
    """
    message_id = _message_id(tracker)
    key = (tracker.sender_id, message_id or "", number)
    now = time.monotonic()
    if message_id and key in _read and now - _read[key][0] <= KEEP_SECONDS:
        return _read[key][1]
    order = await asyncio.to_thread(lambda: order_backend().get(number))
    if message_id:
        _forget_expired(now)
        _read[key] = (now, order)
    return order


async def cancel_order(number: str, reason: str) -> Order:
    """Cancels in a worker thread; the order read earlier is forgotten, whatever the outcome.

    Raises what the backend raises: ``OrderNotCancellableError``, ``KeyError``, ``OrderBackendError``.
    """
    try:
        return await asyncio.to_thread(lambda: order_backend().cancel(number, reason=reason))
    finally:
        for key in [key for key in _read if key[2] == number]:
            del _read[key]
