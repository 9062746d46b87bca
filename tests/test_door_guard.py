"""The door guard in-process: whose address counts, bounded memory, and Messenger's door.

The network-level attacks are in tests/test_doors.py; these are the parts a flood or a
spoofed header would exploit that need no server.
"""

import asyncio
import ipaddress
import uuid
from datetime import datetime, timezone
from typing import Any

import pytest

from bot.database import database_url, engine_for
from connectors import dedupe, messenger
from connectors.guard import BURST, TOO_FAST, TOO_LONG, BurstLimiter, Guard
from connectors.messenger import Inbound, MessengerOutput, _answer_one
from connectors.outbox import DELIVERED, Attempt, Outbox


def test_x_forwarded_for_counts_only_from_a_trusted_proxy() -> None:
    alone = Guard(())
    assert alone.address("203.0.113.5", "10.9.8.7") == "203.0.113.5"  # a client cannot choose its address
    behind = Guard((ipaddress.ip_network("127.0.0.1/32"),))
    assert behind.address("127.0.0.1", "10.9.8.7, 203.0.113.5") == "203.0.113.5"
    assert behind.address("198.51.100.1", "203.0.113.5") == "198.51.100.1"


def test_made_up_senders_never_grow_the_limiter_without_bound() -> None:
    limiter = BurstLimiter(burst=BURST, seconds=10, max_tracked=1_000)
    for _ in range(20_000):
        assert limiter.allow(uuid.uuid4().hex) is None
    assert len(limiter) == 1_000


def test_a_burst_is_told_to_slow_down_once_then_dropped_quietly() -> None:
    guard = Guard(())
    for _ in range(BURST):
        assert guard.check("zalo:1", "alo") is None
    first, second = guard.check("zalo:1", "alo"), guard.check("zalo:1", "alo")
    assert (first.text, first.worth_answering, first.status) == (TOO_FAST, True, 429)
    assert second.worth_answering is False
    assert guard.check("zalo:2", "alo") is None  # another customer is not slowed


class FakeSendApi:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_message(self, recipient_id: str, message: dict[str, Any], *_: Any) -> Attempt:
        self.sent.append((recipient_id, message["text"]))
        return DELIVERED

    async def sender_action(self, recipient_id: str, action: str) -> bool:
        return True


@pytest.fixture()
def project_db(settings_under_tmp, monkeypatch):
    guard = Guard(())  # a fresh count for this test
    monkeypatch.setattr(messenger, "door_guard", lambda: guard)
    for cached in (dedupe.seen_messages, messenger.messaging_window):
        cached.cache_clear()
    yield
    for cached in (dedupe.seen_messages, messenger.messaging_window):
        cached.cache_clear()


def outbox(api: FakeSendApi) -> Outbox:
    """The channel's outbox in the test's project database."""
    return messenger.outbox_for(api, engine_for(database_url()))


def test_an_over_long_messenger_message_is_answered_politely_and_never_parsed(project_db) -> None:
    api, parsed = FakeSendApi(), []

    async def on_new_message(message: Any) -> None:
        parsed.append((message.sender_id, message.text))
        await message.output_channel.send_response(message.sender_id, {"text": "Phí ship 20.000đ"})

    def inbound(text: str) -> Inbound:
        return Inbound("1598327364", uuid.uuid4().hex, text, datetime.now(timezone.utc))

    asyncio.run(_answer_one(api, outbox(api), inbound("hàng " * 600), on_new_message))
    asyncio.run(_answer_one(api, outbox(api), inbound("phí ship bao nhiêu"), on_new_message))
    assert parsed == [("fb:1598327364", "phí ship bao nhiêu")]  # Rasa knows the person by the namespaced id
    assert api.sent == [("1598327364", TOO_LONG), ("1598327364", "Phí ship 20.000đ")]  # sent to the PSID


def test_agent_replies_reach_the_platform_id_not_the_tracker_key(project_db) -> None:
    api = FakeSendApi()
    asyncio.run(MessengerOutput(outbox(api)).send_response("fb:1598327364", {"text": "Chào bạn"}))
    assert api.sent == [("1598327364", "Chào bạn")]
