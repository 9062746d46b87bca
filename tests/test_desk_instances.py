"""Several desk instances on one PostgreSQL database, in this process: each timer's work is done once,
whichever instance sweeps first, and finished by another when the one that began it died; live updates
reach every instance through Redis (the machine's, 127.0.0.1:6379, as the scaled stack uses).

The scaled stack with two real desk processes behind nginx is tests/test_two_desks.py.
"""

import asyncio
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bot.desk.accounts import AccountStore
from bot.desk.hours import DeskConfigFile
from bot.desk.live import LiveHub, RedisLiveHub, live_hub
from bot.desk.queue import HandoffQueue
from bot.desk.service import Desk
from bot.sandbox import ALWAYS_OPEN_DESK, free_port
from bot.schema import handoffs_table
from bot.settings import Settings
from bot.tickets import TicketStore

REDIS = "redis://127.0.0.1:6379/0"


class RecordingRasa:
    """Takes every append, a little slowly (as over HTTP), and remembers who was sent what."""

    def __init__(self) -> None:
        self.appended: list[tuple[str, list[dict]]] = []

    async def append(self, sender_id: str, events: list[dict]) -> None:
        await asyncio.sleep(0.02)
        self.appended.append((sender_id, events))


@pytest.fixture
def desks(own_postgres_url, tmp_path):
    """Two desk instances (own engine, own hub) on the session's PostgreSQL database and one Rasa."""
    config = tmp_path / "desk.yml"
    config.write_text(ALWAYS_OPEN_DESK.replace("accept_timeout_minutes: 5", "accept_timeout_minutes: 0"), "utf-8")
    engines = [sa.create_engine(own_postgres_url, future=True) for _ in range(2)]
    rasa = RecordingRasa()
    made = []
    for engine in engines:
        accounts = AccountStore(engine)
        made.append(Desk(HandoffQueue(engine), accounts, TicketStore(engine), rasa, DeskConfigFile(config), LiveHub()))
    if made[0].accounts.agent("lan") is None:
        made[0].accounts.add_agent("lan", "a-long-password-1", "Lan")
    made[0].accounts.seen("lan")
    yield made, rasa, engines[0]
    for engine in engines:
        engine.dispose()


def open_handoffs(desk: Desk, count: int) -> list[str]:
    """``count`` new customers waiting for a person; their sender ids."""
    senders = [f"web:instances-{uuid.uuid4().hex[:10]}" for _ in range(count)]
    for sender in senders:
        desk.open_handoff({
            "channel": "web", "sender_id": sender, "reason": "customer_request", "summary": "", "slots": {},
            "transcript": [], "mood": None, "contact_phone": "0912345678",
        })  # fmt: skip
    return senders


def at_once(*jobs) -> None:
    """Runs each coroutine function in its own thread and event loop, started together: two processes racing."""
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job) -> None:
        start.wait()
        try:
            asyncio.run(job())
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def resumes(rasa: RecordingRasa, senders: list[str]) -> Counter:
    return Counter(sender for sender, events in rasa.appended if sender in senders and events[0] == {"event": "resume"})


def test_two_instances_sweeping_at_once_expire_and_resume_each_customer_once(desks) -> None:
    (first, second), rasa, engine = desks
    senders = open_handoffs(first, 8)
    at_once(first.expire_overdue, second.expire_overdue)
    assert resumes(rasa, senders) == Counter({sender: 1 for sender in senders})
    with engine.connect() as connection:
        tickets = Counter(connection.execute(sa.text(
            "SELECT sender_id FROM tickets WHERE sender_id = ANY(:s)"), {"s": senders}).scalars())  # fmt: skip
    assert tickets == Counter({sender: 1 for sender in senders})  # one ticket each, named in that one notice
    at_once(first.expire_overdue, second.expire_overdue)
    assert resumes(rasa, senders) == Counter({sender: 1 for sender in senders})  # nothing sent again


def test_a_resume_begun_by_an_instance_that_died_is_sent_by_another_once_its_lease_ran_out(desks) -> None:
    (first, second), rasa, engine = desks
    [sender] = open_handoffs(first, 1)
    handoff = first.queue.open_for(sender)
    now = datetime.now(timezone.utc)
    # the first instance expired it and died before Rasa took the resume
    assert first.queue.expire(handoff.id, [{"event": "resume"}], leased_until=now + timedelta(seconds=30))
    asyncio.run(second.expire_overdue())
    assert resumes(rasa, [sender]) == Counter()  # the lease still holds: it may be sending right now
    with engine.begin() as connection:  # 30 s later
        connection.execute(
            handoffs_table.update().where(handoffs_table.c.id == handoff.id).values(resume_leased_until=now)
        )
    asyncio.run(second.expire_overdue())
    asyncio.run(second.expire_overdue())
    assert resumes(rasa, [sender]) == Counter({sender: 1})
    assert second.queue.pending_resumes(datetime.now(timezone.utc)) == []


def test_a_customer_moving_up_the_queue_is_told_once_by_two_instances(desks, tmp_path) -> None:
    (first, second), rasa, engine = desks
    (tmp_path / "desk.yml").write_text(ALWAYS_OPEN_DESK, "utf-8")  # nobody expires here
    time.sleep(0.05)
    with engine.begin() as connection:  # only this test's customers wait
        connection.execute(
            handoffs_table.update().where(handoffs_table.c.status == "waiting").values(status="cancelled")
        )
    senders = open_handoffs(first, 4)
    assert first.queue.claim(first.queue.open_for(senders[0]).id, "lan")
    at_once(first.update_positions, second.update_positions)
    told = Counter(sender for sender, events in rasa.appended if "vị trí" in events[0].get("text", ""))
    assert told == Counter({sender: 1 for sender in senders[1:]})


def test_an_update_published_on_one_instance_reaches_the_streams_of_another_within_a_second() -> None:
    async def scenario() -> None:
        channel = f"cskh:desk-live:test-{uuid.uuid4().hex[:8]}"
        here, there, elsewhere = RedisLiveHub(REDIS, channel), RedisLiveHub(REDIS, channel), RedisLiveHub(
            REDIS, channel + "-another-shop")  # fmt: skip
        for hub in (here, there, elsewhere):
            await hub.start()
        try:
            with here.subscribe("queue") as mine, there.subscribe("queue") as theirs, elsewhere.subscribe(
                "queue") as other_shop:  # fmt: skip
                sent = time.monotonic()
                here.publish("queue", "queue", {"handoff_id": 7, "text": "Khách cần hỗ trợ đơn DH123456"})
                update = await asyncio.wait_for(theirs.get(), 1.0)
                assert update == ("queue", {"handoff_id": 7, "text": "Khách cần hỗ trợ đơn DH123456"})
                assert time.monotonic() - sent < 1.0
                await asyncio.sleep(0.3)
                assert mine.qsize() == 1 and theirs.qsize() == 0  # the sender's own streams get it once
                assert other_shop.qsize() == 0
        finally:
            for hub in (here, there, elsewhere):
                await hub.close()

    asyncio.run(scenario())


def test_one_desk_keeps_its_updates_in_process_and_instances_share_only_when_told(tmp_path) -> None:
    alone = Settings.under(tmp_path)
    assert type(live_hub(alone)) is LiveHub
    shared = live_hub(Settings.under(tmp_path, desk_live_url=REDIS))
    same_database = live_hub(Settings.under(tmp_path, desk_live_url=REDIS))
    other_database = live_hub(Settings.under(tmp_path, desk_live_url=REDIS, database_url="sqlite:///elsewhere.db"))
    assert isinstance(shared, RedisLiveHub) and isinstance(same_database, RedisLiveHub)
    assert isinstance(other_database, RedisLiveHub)
    assert shared.channel == same_database.channel != other_database.channel


def test_without_redis_a_desk_still_starts_and_its_own_agents_get_their_updates() -> None:
    async def scenario() -> None:
        hub = RedisLiveHub(f"redis://127.0.0.1:{free_port()}/0", "cskh:desk-live:nowhere")  # nothing listens there
        started = time.monotonic()
        await hub.start()
        assert time.monotonic() - started < 10
        try:
            with hub.subscribe("queue") as mine:
                hub.publish("queue", "queue", {"handoff_id": 3})
                assert await asyncio.wait_for(mine.get(), 1.0) == ("queue", {"handoff_id": 3})
        finally:
            await hub.close()

    asyncio.run(scenario())
