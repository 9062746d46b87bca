"""The tracker store's memory of recent conversations (bot/rasa_plugins/recent_trackers.py) never shows a
customer an outdated conversation: what another replica stored, what a failed turn did not store and a new
model's slots are all seen on the next message; and what it stores is what Rasa's own store reads back."""

import asyncio
import time
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

from bot.database import IDLE_BEFORE_PING, engine_for
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


def test_a_database_restarted_while_the_shop_was_quiet_costs_no_message(own_postgres_url: str) -> None:
    """Pooled connections are checked before use when they sat idle (not before every use: a round trip per
    session was 10% of a replica's time under load), so connections the server dropped are replaced."""
    database = own_postgres_url.rsplit("/", 1)[1]
    store = StrictSQLTrackerStore(Domain.empty(), dialect="postgresql", host="127.0.0.1", db=database,
                                  username="postgres", cached_trackers=10)  # fmt: skip
    tracking.storage_failures.discard(SENDER)
    asyncio.run(_turn(store, "phí ship bao nhiêu", "30.000đ"))
    _drop_connections(own_postgres_url)
    time.sleep(IDLE_BEFORE_PING + 0.2)
    asyncio.run(_turn(store, "giao mấy ngày", "2-3 ngày"))
    assert SENDER not in tracking.storage_failures
    assert _said(asyncio.run(store.retrieve(SENDER)))[-2:] == ["giao mấy ngày", "2-3 ngày"]
    store.engine.dispose()


def test_the_project_database_too_survives_a_restart_while_quiet(own_postgres_url: str) -> None:
    engine = engine_for(own_postgres_url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT 1")).scalar() == 1
    _drop_connections(own_postgres_url)
    time.sleep(IDLE_BEFORE_PING + 0.2)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT 2")).scalar() == 2
    engine.dispose()


def _drop_connections(url: str) -> None:
    """What a database restart does to the pooled connections: the server closes them."""
    database = url.rsplit("/", 1)[1]
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        others = "FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
        dropped = connection.execute(sa.text(f"SELECT count(pg_terminate_backend(pid)) {others}"), {"db": database})
        assert dropped.scalar() >= 1
    admin.dispose()
