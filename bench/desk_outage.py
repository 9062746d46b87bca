"""``make bench-desk-outage``: customers writing to agents while the desk is down for a minute, under load.

The scaled stack (bot/scaled.py: 2 Rasa replicas and 2 action servers behind nginx, the desk; PostgreSQL,
Redis and RabbitMQ of this machine, in a database, a Redis db and a queue of the run's own). An agent logs in,
50 customers ask for a person (their hand-offs wait in the queue), the desk is stopped, and every customer
writes a message every few seconds until it is started again. Counted in the desk's transcripts, by each
customer text sent: received, duplicated, missing; also what RabbitMQ held when the desk came back and how long
the desk took to have everything. The desk's timer, whose first tick reads back from Rasa what a restarted desk
missed, is set past the measurement: only the event stream can deliver.
"""

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import aiohttp
import sqlalchemy as sa

from bot.processes import Stack
from bot.sandbox import ADMIN_PASSWORD, DeskAgent, delete_event_queue, isolated_settings
from bot.scaled import Scale, running_scaled_stack
from bot.settings import Settings, current_settings
from bot.training import ensure_model

ASK_FOR_A_PERSON = "cho gặp nhân viên tư vấn giúp mình, đơn DH{number:06d}"
DRAIN_TIMEOUT = 180.0


@dataclass(frozen=True)
class Outcome:
    sent: int  # customer messages sent while the desk was down, each its own text
    held: int  # messages waiting in RabbitMQ when the desk came back (with the hand-off turns' latest lines)
    received: int  # sent texts found in the desk's transcripts
    duplicated: int  # copies beyond the first
    drained_seconds: float  # from the desk answering again to the last text stored

    @property
    def missing(self) -> int:
        return self.sent - self.received

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, held in RabbitMQ at restart {self.held}, received {self.received}, "
            f"duplicated {self.duplicated}, missing {self.missing}; all stored {self.drained_seconds:.1f} s after "
            "the desk was back"
        )


async def _say_all(url: str, said: list[tuple[str, str]], pause: float) -> list[int]:
    """Each (sender, text) in order per sender, every sender at once, ``pause`` s between a sender's messages:
    the HTTP statuses."""
    by_sender: dict[str, list[str]] = {}
    for sender, text in said:
        by_sender.setdefault(sender, []).append(text)
    statuses: list[int] = []

    async def one(session: aiohttp.ClientSession, sender: str, texts: list[str]) -> None:
        for text in texts:
            async with session.post(url, json={"sender": sender, "message": text}) as reply:
                await reply.read()
                statuses.append(reply.status)
            await asyncio.sleep(pause)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        await asyncio.gather(*(one(session, sender, texts) for sender, texts in by_sender.items()))
    return statuses


async def _ready_in(rabbitmq_url: str, queue: str) -> int:
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        declared = await (await connection.channel()).declare_queue(queue, durable=True, passive=True)
        return declared.declaration_result.message_count or 0


def _copies(engine: sa.engine.Engine, texts: list[str]) -> dict[str, int]:
    """How many times each of ``texts`` is in the desk's transcripts as the customer's."""
    query = sa.text(
        "SELECT text, count(*) FROM handoff_messages WHERE role = 'customer' AND text = ANY(:t) GROUP BY text"
    )
    with engine.connect() as connection:
        return {text: count for text, count in connection.execute(query, {"t": texts}).all()}


def desk_outage(
    settings: Settings, stack: Stack, engine: sa.engine.Engine, conversations: int, outage_seconds: float,
    messages_each: int,
) -> Outcome:  # fmt: skip
    """``conversations`` customers handed to a person, then the desk down for ``outage_seconds`` while each
    writes ``messages_each`` messages; what the desk has once it is back."""
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    run = uuid.uuid4().hex[:8]
    senders = [f"outage-{run}-{number}" for number in range(conversations)]
    agent = DeskAgent(settings.desk_url, "admin", ADMIN_PASSWORD)  # online: hand-offs are queued, not refused
    assert agent.status == 200, f"the agent could not log in (HTTP {agent.status})"
    asks = [(sender, ASK_FOR_A_PERSON.format(number=number)) for number, sender in enumerate(senders)]
    assert set(asyncio.run(_say_all(url, asks, 0))) == {200}
    waiting = len(agent.queue()["waiting"])
    assert waiting >= conversations, f"only {waiting} of {conversations} customers are waiting for a person"

    desks = [role for role in stack.services if role.startswith("desk")]  # every instance: the desk is down
    for role in desks:
        stack.kill(role)
    down = time.monotonic()
    said = [(sender, f"khách {sender} nhắn tin số {index}") for index in range(messages_each) for sender in senders]
    statuses = asyncio.run(_say_all(url, said, outage_seconds / messages_each))
    assert set(statuses) == {200}, statuses
    time.sleep(max(0.0, outage_seconds - (time.monotonic() - down)))
    held = asyncio.run(_ready_in(settings.rabbitmq_url, settings.event_queue))
    for role in desks:
        stack.start(role, stack.services[role])
    for role in desks:
        stack.wait_ready(role, 120)
    back = time.monotonic()

    texts = [text for _, text in said]
    deadline = back + DRAIN_TIMEOUT
    while len(copies := _copies(engine, texts)) < len(texts) and time.monotonic() < deadline:
        time.sleep(0.2)
    drained = time.monotonic() - back
    time.sleep(2)  # a late duplicate would show now
    copies = _copies(engine, texts)
    duplicated = sum(count - 1 for count in copies.values())
    return Outcome(len(texts), held, len(copies), duplicated, drained)


@contextmanager
def outage_stack(workdir: Path, model: Path, pg_url: str, redis_url: str) -> Iterator[tuple[Settings, Stack]]:
    """The scaled stack on ``pg_url`` (created if missing) and ``redis_url``, its events in a queue of its own
    (deleted afterwards); the desk's timer (and so its start-up catch-up scan) an hour away."""
    settings = isolated_settings(workdir, desk_tick_seconds=3600.0)
    try:
        with running_scaled_stack(settings, model, Scale(pg_url, redis_url), workdir / "run",
                                  workdir / "logs") as stack:  # fmt: skip
            yield settings, stack
    finally:
        delete_event_queue(settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--outage", type=float, default=60.0, help="seconds the desk is down")
    parser.add_argument("--messages", type=int, default=6, help="each customer's messages during the outage")
    args = parser.parse_args()
    settings = current_settings()
    pg_url = settings.bench_pg_url.rsplit("/", 1)[0] + f"/cskh_outage_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg2://", 1), future=True)
    with (
        tempfile.TemporaryDirectory() as folder,
        outage_stack(Path(folder), ensure_model(), pg_url, settings.bench_redis_url) as (stack_settings, stack),
    ):
        outcome = desk_outage(stack_settings, stack, engine, args.conversations, args.outage, args.messages)
    engine.dispose()
    _drop_database(pg_url)
    print(f"desk down {args.outage:.0f} s, {args.conversations} customers waiting for a person:")
    print(outcome)


def _drop_database(pg_url: str) -> None:
    name = pg_url.rsplit("/", 1)[1]
    admin_url = pg_url.replace("postgresql://", "postgresql+psycopg2://", 1).rsplit("/", 1)[0] + "/postgres"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    main()
