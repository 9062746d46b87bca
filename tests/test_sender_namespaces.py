"""Conversations stored before sender ids had a channel namespace keep working after the upgrade.

An old-style tracker database is written with Rasa's own SQLTrackerStore (raw Zalo ids, PSIDs
and REST senders as keys, including a REST client that once wrote under a Zalo user's id);
then the project's tracker store starts on it, as Rasa does at start-up.
"""

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.desk.queue import HandoffQueue, handoffs_table
from bot.rasa_plugins.tracking import StrictSQLTrackerStore
from bot.senders import namespaced, platform_id

ZALO_USER = "8439210577312890123"


def said(store: SQLTrackerStore, sender: str) -> list[tuple[str, str]]:
    tracker = asyncio.run(store.retrieve(sender))
    if tracker is None:
        return []
    return [(e.text, e.input_channel) for e in tracker.events if isinstance(e, UserUttered)]


@pytest.fixture()
def old_databases(tmp_path: Path, settings_under_tmp) -> tuple[Path, sa.engine.Engine]:
    trackers = tmp_path / "trackers.db"
    project = settings_under_tmp.database_url
    old = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(trackers))
    conversations = {
        ZALO_USER: [("alo shop", "zalo"), ("đơn DH123456 của mình đâu", "zalo")],
        "1598327364": [("cho mình hỏi phí ship", "messenger")],
        "abc123": [("xin chào", "rest")],
        "web:abc123": [("một client REST cũ đặt tên như vậy", "rest")],
        f"zalo:{ZALO_USER}": [("kẻ gian đoán id", "rest")],
        "f00dcafe": [("chào shop", "socketio")],
    }
    for sender, messages in conversations.items():
        tracker = DialogueStateTracker(sender, [])
        for text, channel in messages:
            tracker.update(UserUttered(text, input_channel=channel))
        asyncio.run(old.save(tracker))
    engine = sa.create_engine(project, future=True)
    desk = HandoffQueue(engine)
    for channel, sender in (("zalo", ZALO_USER), ("rest", "abc123"), ("messenger", "1598327364")):
        desk.open(channel=channel, sender_id=sender, reason="customer_request", summary="", slots={}, transcript=[])
    return trackers, engine


def test_old_conversations_are_renamed_into_their_channel_once(old_databases) -> None:
    trackers, project = old_databases
    store = StrictSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(trackers))

    assert said(store, f"zalo:{ZALO_USER}") == [("alo shop", "zalo"), ("đơn DH123456 của mình đâu", "zalo")]
    assert said(store, "fb:1598327364") == [("cho mình hỏi phí ship", "messenger")]
    assert said(store, "web:abc123") == [("xin chào", "rest")]
    assert said(store, "web:f00dcafe") == [("chào shop", "socketio")]
    # what REST clients wrote under names that now belong to others stays in the web's namespace
    assert said(store, "web:web:abc123") == [("một client REST cũ đặt tên như vậy", "rest")]
    assert said(store, f"web:zalo:{ZALO_USER}") == [("kẻ gian đoán id", "rest")]
    assert said(store, ZALO_USER) == [] and said(store, "abc123") == []
    with project.connect() as connection:
        handoffs = dict(connection.execute(sa.select(handoffs_table.c.channel, handoffs_table.c.sender_id)).all())
    assert handoffs == {"zalo": f"zalo:{ZALO_USER}", "rest": "web:abc123", "messenger": "fb:1598327364"}

    # every later start (and every other replica) finds it done: nothing is renamed twice
    again = StrictSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(trackers))
    assert said(again, f"zalo:{ZALO_USER}") == said(store, f"zalo:{ZALO_USER}")
    assert said(again, f"zalo:zalo:{ZALO_USER}") == [] and said(again, "web:web:web:abc123") == []
    with project.connect() as connection:
        assert sorted(connection.execute(sa.select(handoffs_table.c.sender_id)).scalars()) == sorted(handoffs.values())


def test_a_channel_sends_to_the_platform_id_and_never_strips_another_channels_prefix() -> None:
    assert namespaced("zalo", ZALO_USER) == f"zalo:{ZALO_USER}"
    assert platform_id("zalo", f"zalo:{ZALO_USER}") == ZALO_USER
    assert platform_id("messenger", "fb:1598327364") == "1598327364"
    # a widget session the client named "zalo:…" is still that widget's room, not a Zalo user
    assert platform_id("socketio", namespaced("socketio", f"zalo:{ZALO_USER}")) == f"zalo:{ZALO_USER}"
    assert namespaced("rest", "web:x") == "web:web:x"
