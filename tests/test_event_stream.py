"""The event stream of the scaled stack: Rasa's PikaEventBroker → a durable RabbitMQ queue → the desk.

Real RabbitMQ (127.0.0.1:5672, guest/guest, as on every machine of the project), a queue and exchange of each
test's own. Rasa's side is the broker class Rasa builds from deploy/scaled/endpoints.yml, in this process; the
desk is its sanic app in this process (tests/console_server.py), consuming as it does in the scaled stack.
The whole stack with a desk outage under load is the slow test at the end (and ``make bench-desk-outage``).
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aio_pika
import pytest
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.utils import AvailableEndpoints
from rasa.utils.endpoints import EndpointConfig

from bot.desk.event_consumer import UNREADABLE_SUFFIX
from bot.desk.queue import HandoffQueue
from bot.rasa_plugins.broker import DeskQueueEventBroker
from bot.sandbox import eventually
from bot.scaled import SCALED_ENDPOINTS, Scale, _store_env
from tests.console_server import console_server
from tests.fakes.tcp_proxy import TcpProxy

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/"
REDIS = "redis://127.0.0.1:6379/5"  # the slow test's conversation locks, under senders of its own


@pytest.fixture
def queue_name() -> Iterator[str]:
    """A queue (and fanout exchange) of this test's own, deleted afterwards with its parking queue."""
    name = f"cskh_test_{uuid.uuid4().hex[:12]}"
    yield name

    async def delete() -> None:
        connection = await aio_pika.connect(RABBITMQ)
        async with connection:
            channel = await connection.channel()
            for queue in (name, name + UNREADABLE_SUFFIX):
                await channel.queue_delete(queue)
            await channel.exchange_delete(name)

    asyncio.run(delete())


def sender_of(queue_name: str) -> str:
    """The one customer of a test (its queue is its own), so tests sharing a database never share a hand-off."""
    return f"web:{queue_name}"


def line(queue_name: str, number: int, event: str = "user", **extra: Any) -> dict[str, Any]:
    """A tracker event as Rasa's tracker store publishes it (``sender_id`` added to the event's dict)."""
    text, timestamp = f"tin nhắn số {number}", 1764000000.0 + number
    return {"sender_id": sender_of(queue_name), "event": event, "text": text, "timestamp": timestamp, **extra}


async def rasa_broker(queue_name: str, port: int = 5672) -> DeskQueueEventBroker:
    """The broker as Rasa creates it from deploy/scaled/endpoints.yml's ``event_broker`` section."""
    config = EndpointConfig(
        url=f"amqp://127.0.0.1:{port}/", type="bot.rasa_plugins.broker.DeskQueueEventBroker", port=port,
        username="guest", password="guest", queues=[queue_name], exchange_name=queue_name,
    )  # fmt: skip
    broker = await EventBroker.create(config)
    assert isinstance(broker, DeskQueueEventBroker)
    return broker


def publish(queue_name: str, events: list[dict[str, Any]]) -> None:
    """What a Rasa replica publishes, then closes (waiting for its publishes, as a stopped replica does)."""

    async def run() -> None:
        broker = await rasa_broker(queue_name)
        for event in events:
            broker.publish(event)
        await broker.close()

    asyncio.run(run())


async def ready_in(queue_name: str) -> int:
    """Messages ready in the queue (not counting those delivered and not yet acknowledged)."""
    connection = await aio_pika.connect(RABBITMQ)
    async with connection:
        queue = await (await connection.channel()).declare_queue(queue_name, durable=True, passive=True)
        return queue.declaration_result.message_count or 0


def waiting_in(queue_name: str) -> int:
    return asyncio.run(ready_in(queue_name))


def consumers_on(queue_name: str) -> int:
    """The desks consuming the queue; 0 before the first declared it."""

    async def count() -> int:
        connection = await aio_pika.connect(RABBITMQ)
        async with connection:
            try:
                queue = await (await connection.channel()).declare_queue(queue_name, durable=True, passive=True)
            except aio_pika.exceptions.ChannelNotFoundEntity:
                return 0
            return queue.declaration_result.consumer_count or 0

    return asyncio.run(count())


def open_handoff(engine: sa.engine.Engine, queue_name: str) -> int:
    queue = HandoffQueue(engine)
    return queue.open(channel="rest", sender_id=sender_of(queue_name), reason="Khách yêu cầu gặp nhân viên",
                      summary="DH123456", slots={}, transcript=[]).id  # fmt: skip


def transcript(engine: sa.engine.Engine, handoff_id: int) -> list[tuple[str, str]]:
    return [(m.role, m.text) for m in HandoffQueue(engine).messages(handoff_id)]


def desk(workdir: Path, queue_name: str, **changes: Any):
    """The desk app in this process, consuming ``queue_name`` as in the scaled stack."""
    changes = {"rabbitmq_url": RABBITMQ, **changes}
    return console_server(workdir, events_via_rabbitmq=True, event_queue=queue_name, **changes)


def test_what_rasa_publishes_while_the_desk_is_down_reaches_the_transcript_once_it_is_back(tmp_path, queue_name):
    with desk(tmp_path, queue_name) as server:
        handoff_id = open_handoff(server.engine, queue_name)
        eventually(lambda: consumers_on(queue_name) == 1)  # its queue is declared and bound before it stops
    # the desk is down: the customer writes on, the bot answers, Rasa stores slots too
    events = [
        line(queue_name, 1),
        line(queue_name, 2, "bot"),
        line(queue_name, 3, "slot", name="requested_slot", value=None),
        line(queue_name, 4),
    ]
    publish(queue_name, events)
    eventually(lambda: waiting_in(queue_name) == 3)  # the transcript lines only, kept by RabbitMQ for the desk

    with desk(tmp_path, queue_name) as server:
        expected = [("customer", "tin nhắn số 1"), ("bot", "tin nhắn số 2"), ("customer", "tin nhắn số 4")]
        eventually(lambda: transcript(server.engine, handoff_id) == expected, timeout=30, describe=lambda: transcript(
            server.engine, handoff_id))  # fmt: skip
        eventually(lambda: waiting_in(queue_name) == 0)
        # RabbitMQ delivers again what a desk took but did not acknowledge before dying: stored once
        publish(queue_name, events)
        eventually(lambda: waiting_in(queue_name) == 0)
        time.sleep(0.5)
        assert transcript(server.engine, handoff_id) == expected


def test_an_unreadable_message_is_parked_without_holding_up_the_queue_or_landing_in_the_logs(
    tmp_path, queue_name, caplog
):
    caplog.set_level(logging.INFO)
    with desk(tmp_path, queue_name) as server:
        handoff_id = open_handoff(server.engine, queue_name)
        eventually(lambda: consumers_on(queue_name) == 1)

        async def garbage() -> None:
            connection = await aio_pika.connect(RABBITMQ)
            async with connection:
                channel = await connection.channel()
                for body in (b"\xff 0912345678 not json", b'["0912345678"]', b'{"text": "0912345678"}'):
                    await channel.default_exchange.publish(aio_pika.Message(body), routing_key=queue_name)

        asyncio.run(garbage())
        publish(queue_name, [line(queue_name, 1)])
        eventually(lambda: transcript(server.engine, handoff_id) == [("customer", "tin nhắn số 1")], timeout=30)
    assert waiting_in(queue_name) == 0
    assert waiting_in(queue_name + UNREADABLE_SUFFIX) == 3  # kept for an operator to look at
    parked = [r.getMessage() for r in caplog.records if "unreadable message parked" in r.getMessage()]
    assert len(parked) == 3 and parked[-1].endswith("3 so far")
    assert "0912345678" not in caplog.text


def test_the_desk_consumes_again_after_its_rabbitmq_connection_drops(tmp_path, queue_name):
    proxy = TcpProxy("127.0.0.1", 5672)
    try:
        with desk(tmp_path, queue_name, rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{proxy.port}/") as server:
            handoff_id = open_handoff(server.engine, queue_name)
            publish(queue_name, [line(queue_name, 1)])
            eventually(lambda: len(transcript(server.engine, handoff_id)) == 1, timeout=30)
            proxy.cut()
            publish(queue_name, [line(queue_name, 2)])
            time.sleep(1)
            proxy.restore()
            eventually(lambda: len(transcript(server.engine, handoff_id)) == 2, timeout=30)
    finally:
        proxy.close()


def test_rasa_keeps_what_it_could_not_publish_until_rabbitmq_is_back_and_logs_no_message(queue_name, caplog):
    proxy = TcpProxy("127.0.0.1", 5672)

    async def run() -> None:
        broker = await rasa_broker(queue_name, proxy.port)
        proxy.cut()
        await asyncio.sleep(0.5)
        broker.publish(line(queue_name, 1))
        await asyncio.sleep(1)
        proxy.restore()
        deadline = time.monotonic() + 30
        while await ready_in(queue_name) < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        await broker.close()

    try:
        asyncio.run(run())
    finally:
        proxy.close()
    assert waiting_in(queue_name) == 1
    assert "tin nhắn số 1" not in caplog.text


def test_a_message_the_database_could_not_take_is_stored_once_it_is_back(tmp_path, queue_name, postgres_url):
    database = postgres_url.rsplit("/", 1)[1]
    proxy = TcpProxy("127.0.0.1", 5432)
    engine = sa.create_engine(postgres_url, future=True)  # the test's own view, not through the proxy
    try:
        url = f"postgresql+psycopg2://postgres@127.0.0.1:{proxy.port}/{database}"
        with desk(tmp_path, queue_name, database_url=url):
            handoff_id = open_handoff(engine, queue_name)
            proxy.cut()
            publish(queue_name, [line(queue_name, 1)])
            time.sleep(2)  # the desk tried, and failed, to store it
            assert transcript(engine, handoff_id) == [] and waiting_in(queue_name) == 0  # it holds the message
        assert waiting_in(queue_name) == 1  # stopped, it gave back what it had not stored
        proxy.restore()
        with desk(tmp_path, queue_name, database_url=url):
            eventually(lambda: transcript(engine, handoff_id) == [("customer", "tin nhắn số 1")], timeout=30)
            eventually(lambda: waiting_in(queue_name) == 0)
    finally:
        proxy.close()
        engine.dispose()


def test_two_desks_share_the_queue_and_store_each_message_once(tmp_path, queue_name, postgres_url):
    with (
        desk(tmp_path / "one", queue_name, database_url=postgres_url) as one,
        desk(tmp_path / "two", queue_name, database_url=postgres_url),
    ):
        handoff_id = open_handoff(one.engine, queue_name)
        events = [line(queue_name, number) for number in range(200)]
        publish(queue_name, events + events[::2])  # every other one twice, as after a desk's crash
        eventually(lambda: len(transcript(one.engine, handoff_id)) == 200, timeout=30,
                   describe=lambda: len(transcript(one.engine, handoff_id)))  # fmt: skip
        eventually(lambda: waiting_in(queue_name) == 0)
        time.sleep(0.5)
        assert sorted(text for _, text in transcript(one.engine, handoff_id)) == sorted(e["text"] for e in events)


def test_rasa_reaches_the_configured_rabbitmq_and_logs_its_address_without_the_password(monkeypatch):
    scale = Scale("postgresql://postgres@127.0.0.1:5432/cskh", "redis://127.0.0.1:6379/0")
    environment = {**_store_env(scale, "amqp://shop:s3cret@mq.internal:5673/cskh"), "CSKH_EVENT_QUEUE": "desk_q",
                   "ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook", "ACTION_SERVER_TOKEN": "t"}  # fmt: skip
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    config = AvailableEndpoints.read_endpoints(str(SCALED_ENDPOINTS)).event_broker
    loop = asyncio.new_event_loop()
    broker = DeskQueueEventBroker(config.url, **config.kwargs, event_loop=loop)
    loop.close()  # never connected: only its configuration is looked at
    assert broker.host == "amqp://mq.internal:5673/cskh"  # what Rasa logs on connecting
    assert broker._configure_url() == "amqp://shop:s3cret@mq.internal:5673/cskh"  # what it connects to
    assert (broker.queues, broker.exchange_name) == (["desk_q"], "desk_q")


@pytest.mark.slow
def test_every_message_written_while_the_desk_was_down_arrives_once_when_it_is_back(
    trained_model, postgres_url, tmp_path
):
    """The scaled stack (2 replicas, RabbitMQ): 50 customers waiting for a person write 4 messages each while
    the desk is down for 20 s (``make bench-desk-outage`` holds it down a full minute). The desk's start-up
    catch-up scan is an hour away (``outage_stack``): what arrives came through the queue."""
    from bench.desk_outage import desk_outage, outage_stack

    database = postgres_url.rsplit("/", 1)[1]
    engine = sa.create_engine(postgres_url, future=True)
    try:
        with outage_stack(tmp_path, trained_model, f"postgresql://postgres@127.0.0.1:5432/{database}", REDIS) as (
            settings,
            stack,
        ):
            outcome = desk_outage(settings, stack, engine, conversations=50, outage_seconds=20, messages_each=4)
    finally:
        engine.dispose()
    assert (outcome.sent, outcome.received, outcome.duplicated) == (200, 200, 0), str(outcome)
    # they waited in RabbitMQ, not in some process's memory (with the hand-off turns' last lines, published late)
    assert outcome.held >= 200
