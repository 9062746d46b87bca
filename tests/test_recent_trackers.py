"""The tracker store's memory of recent conversations (bot/rasa_plugins/recent_trackers.py) never shows a
customer an outdated conversation: what another replica stored, what a failed turn did not store and a new
model's slots are all seen on the next message; and what it stores is what Rasa's own store reads back."""

import asyncio
from pathlib import Path

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    SessionStarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_plugins import tracking
from bot.rasa_plugins.tracking import StrictSQLTrackerStore

SENDER = "web:customer-1"


def _store(database: Path, domain: Domain | None = None) -> StrictSQLTrackerStore:
    return StrictSQLTrackerStore(domain or Domain.empty(), dialect="sqlite", db=str(database), cached_trackers=10)


async def _turn(store: StrictSQLTrackerStore, text: str, answer: str) -> DialogueStateTracker:
    tracker = await store.get_or_create_tracker(SENDER)
    tracker.update(UserUttered(text))
    tracker.update(BotUttered(answer))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    return tracker


def _said(tracker: DialogueStateTracker | None) -> list[str]:
    assert tracker is not None
    return [e.text for e in tracker.events if isinstance(e, (UserUttered, BotUttered))]


def test_turns_another_replica_stored_are_in_the_conversation_on_the_next_message(tmp_path: Path) -> None:
    async def scenario() -> None:
        one, two = _store(tmp_path / "t.db"), _store(tmp_path / "t.db")
        await _turn(one, "chào shop", "Chào bạn!")
        await _turn(one, "phí ship bao nhiêu", "20.000đ")
        await _turn(two, "giao mấy ngày", "1–2 ngày")
        await _turn(one, "cảm ơn", "Dạ không có gì ạ!")
        expected = ["chào shop", "Chào bạn!", "phí ship bao nhiêu", "20.000đ", "giao mấy ngày", "1–2 ngày",
                    "cảm ơn", "Dạ không có gì ạ!"]  # fmt: skip
        assert _said(await one.retrieve(SENDER)) == expected
        assert _said(await two.retrieve(SENDER)) == expected
        # and stored once each, as Rasa's own store reads them
        assert (
            _said(await SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db")).retrieve(SENDER))
            == expected
        )

    asyncio.run(scenario())


def test_what_a_failed_turn_did_not_store_is_not_remembered(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = _store(tmp_path / "t.db")
        await _turn(store, "chào shop", "Chào bạn!")
        await _turn(store, "phí ship bao nhiêu", "20.000đ")
        failed = await store.retrieve(SENDER)
        assert failed is not None
        failed.update(UserUttered("kiểm tra đơn DH123456"))  # the turn ends here, unsaved
        assert _said(await store.retrieve(SENDER)) == ["chào shop", "Chào bạn!", "phí ship bao nhiêu", "20.000đ"]

    asyncio.run(scenario())


def test_a_new_models_slots_apply_from_its_first_turn(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = _store(tmp_path / "t.db")
        await _turn(store, "chào shop", "Chào bạn!")
        await _turn(store, "phí ship bao nhiêu", "20.000đ")
        store.domain = Domain.from_dict({"slots": {"order_number": {"type": "text", "mappings": []}}})
        tracker = await store.retrieve(SENDER)
        assert tracker is not None and "order_number" in tracker.slots

    asyncio.run(scenario())


def test_a_replica_catches_up_with_the_turns_another_stored_and_with_its_new_session(tmp_path: Path) -> None:
    async def scenario() -> None:
        one, two = _store(tmp_path / "t.db"), _store(tmp_path / "t.db")
        await _turn(one, "chào shop", "Chào bạn!")
        kept = await _turn(two, "phí ship bao nhiêu", "20.000đ")
        await _turn(one, "giao mấy ngày", "1–2 ngày")
        one_tracker = await one.retrieve(SENDER)
        one_tracker.update(ConversationPaused())  # the desk takes over, through replica one
        await one.save(one_tracker)
        caught_up = await two.retrieve(SENDER)
        assert caught_up is kept  # the kept conversation, brought up to date, not read again in full
        assert _said(caught_up)[-2:] == ["giao mấy ngày", "1–2 ngày"] and caught_up.is_paused()
        # a new session stored by replica one: replica two reads the conversation as Rasa does, from it
        one_tracker = await one.retrieve(SENDER)
        one_tracker.update(ConversationResumed())
        one_tracker.update(ActionExecuted("action_session_start"))
        one_tracker.update(SessionStarted())
        await one.save(one_tracker)
        fresh = await two.retrieve(SENDER)
        rasas = await SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db")).retrieve(SENDER)
        assert fresh is not kept and _said(fresh) == _said(rasas) == [] and not fresh.is_paused()

    asyncio.run(scenario())


def _rows_read(plan: dict) -> int:
    """The rows every node of a PostgreSQL plan produced or threw away."""
    own = int(plan.get("Actual Rows", 0)) + int(plan.get("Rows Removed by Filter", 0))
    return own + sum(_rows_read(child) for child in plan.get("Plans", []))


def test_a_new_customers_first_message_does_not_read_every_stored_event(own_postgres_url: str) -> None:
    # the attack: a busy shop's table grows, and every new customer's first message paid for all of it
    # (22 ms at 87,000 events, the primary key walked backwards) before the stamp read the sender's own rows
    database = own_postgres_url.rsplit("/", 1)[1]
    store = StrictSQLTrackerStore(Domain.empty(), dialect="postgresql", host="127.0.0.1", db=database,
                                  username="postgres", cached_trackers=10)  # fmt: skip
    events = StrictSQLTrackerStore.SQLEvent.__table__
    with store.engine.begin() as connection:
        rows = [{"sender_id": f"web:old-{n % 500}", "type_name": "action", "data": "{}"} for n in range(20_000)]
        connection.execute(events.insert(), rows)
        connection.execute(sa.text("ANALYZE events"))
        for sender in ("web:new-customer", "web:old-1"):
            query = tracking._NEWEST_EVENT.params(sender_id=sender).compile(
                store.engine, compile_kwargs={"literal_binds": True}
            )
            explained = connection.execute(sa.text(f"EXPLAIN (ANALYZE, FORMAT JSON) {query}"))
            assert _rows_read(explained.scalar()[0]["Plan"]) <= 100, sender
    store.engine.dispose()
