"""The scaled-out stack for real: 2 Rasa replicas and 2 action servers behind nginx, trackers in
PostgreSQL, locks in Redis. Load through the balancer, then the failures it must survive.

PostgreSQL is reached through a TCP proxy the test can cut, and Redis is a
redis-server of the test's own, so both can really go away and come back.
"""

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
import sqlalchemy as sa

from bot.sandbox import delete_event_queue, eventually, free_port, isolated_settings
from bot.scaled import PROMETHEUS_TARGETS, Scale, running_scaled_stack
from tests.fakes.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow  # starts the bot's servers or loads the trained model

QUESTIONS = [
    "phí ship về Hà Nội bao nhiêu", "bao lâu thì nhận được hàng", "shop có cho đổi size không",
    "hoan tien mat bao lau", "bảo hành bao lâu vậy", "có trả góp không ạ", "cửa hàng ở đâu vậy shop",
    "mấy giờ shop mở cửa", "có mã giảm giá không", "xuất hóa đơn được không",
]  # fmt: skip


def start_redis(port: int, folder: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def listening() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    eventually(listening, timeout=10, interval=0.1, describe=lambda: "redis-server is not listening")
    return server


@pytest.fixture(scope="module")
def scaled(trained_model: Path, postgres_url: str, tmp_path_factory):
    if not shutil.which("redis-server") or not Path("/usr/sbin/nginx").exists():
        pytest.fail("redis-server and nginx are needed: run `make scale-deps`")
    workdir = tmp_path_factory.mktemp("scaled")
    settings = isolated_settings(workdir)
    proxy = TcpProxy("127.0.0.1", 5432)
    database = postgres_url.rsplit("/", 1)[1]
    redis_port = free_port()
    redis = start_redis(redis_port, workdir)
    scale = Scale(f"postgresql://postgres@127.0.0.1:{proxy.port}/{database}", f"redis://127.0.0.1:{redis_port}/0")
    state = {"settings": settings, "proxy": proxy, "redis": redis, "redis_port": redis_port, "workdir": workdir,
             "engine": sa.create_engine(postgres_url, future=True)}  # fmt: skip
    try:
        with running_scaled_stack(settings, trained_model, scale, workdir / "run", workdir / "logs") as stack:
            state["stack"] = stack
            yield state
    finally:
        # the Redis test restarts redis-server and puts the new process in the dict it was given
        state["redis"].terminate()
        state["redis"].wait()
        proxy.close()
        delete_event_queue(settings)


async def chat(url: str, conversations: int, messages: int, pause: float = 0.0) -> dict[str, list[tuple[int, Any]]]:
    """Each conversation sends its messages one after another (``pause`` seconds apart); all at once.

    A reply that is not JSON (nginx's own error page) is kept as its text, so a failure shows it.
    """
    results: dict[str, list[tuple[int, Any]]] = defaultdict(list)

    async def one(session: aiohttp.ClientSession, sender: str) -> None:
        for index in range(messages):
            message = f"{QUESTIONS[index % len(QUESTIONS)]} ({index})"
            async with session.post(url, json={"sender": sender, "message": message}) as reply:
                text = await reply.text()
                try:
                    results[sender].append((reply.status, json.loads(text)))
                except ValueError:
                    results[sender].append((reply.status, text[:200]))
            await asyncio.sleep(pause)

    connector = aiohttp.TCPConnector(limit=conversations)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=600)) as session:
        await asyncio.gather(*(one(session, f"load-{uuid.uuid4().hex[:12]}") for _ in range(conversations)))
    return results


def user_texts(engine: sa.engine.Engine, senders: list[str]) -> dict[str, list[str]]:
    """What each REST sender said, read from its conversation (``web:<sender>``, bot/senders.py)."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT sender_id, data FROM events WHERE type_name = 'user' AND sender_id = ANY(:s) ORDER BY id"),
            {"s": [f"web:{sender}" for sender in senders]},
        ).all()
    texts: dict[str, list[str]] = defaultdict(list)
    for sender, data in rows:
        texts[sender.removeprefix("web:")].append(json.loads(data)["text"])
    return texts


def test_200_conversations_of_10_messages_at_once_are_all_answered_in_order(scaled) -> None:
    url = f"{scaled['settings'].rasa_url}/webhooks/rest/webhook"
    results = asyncio.run(chat(url, 200, 10))
    assert len(results) == 200
    for replies in results.values():
        assert [status for status, _ in replies] == [200] * 10
        assert all(body and all(m.get("text") for m in body) for _, body in replies)
    stored = user_texts(scaled["engine"], list(results))
    expected = [f"{q} ({i})" for i, q in enumerate(QUESTIONS)]
    assert {sender: texts for sender, texts in stored.items() if texts != expected} == {}
    assert len(stored) == 200
    # every turn was answered by the bot exactly as the customer saw it: no event lost or doubled
    with scaled["engine"].connect() as connection:
        bots = dict(connection.execute(sa.text(
            "SELECT sender_id, count(*) FROM events WHERE type_name = 'bot' AND sender_id = ANY(:s) GROUP BY sender_id"
        ), {"s": [f"web:{sender}" for sender in results]}).all())  # fmt: skip
    assert {s: n for s, n in bots.items() if n != sum(len(body) for _, body in results[s.removeprefix("web:")])} == {}


def test_prometheus_reaches_every_replica_on_its_own_port_and_never_one_through_the_balancer(scaled) -> None:
    settings = scaled["settings"]
    bearer = {"Authorization": f"Bearer {settings.metrics_token}"}
    groups = json.loads((scaled["workdir"] / "run" / PROMETHEUS_TARGETS).read_text())
    targets = {group["labels"]["role"]: group["targets"] for group in groups}
    assert {role: len(found) for role, found in targets.items()} == {"rasa": 2, "actions": 2, "desk": 1}

    def scrape() -> dict[str, requests.Response]:
        return {target: requests.get(f"http://{target}/metrics", headers=bearer, timeout=10)
                for found in targets.values() for target in found}  # fmt: skip

    def rest_turns(pages: dict[str, requests.Response]) -> list[float]:
        return [metric_value(pages[target].text, 'cskh_messages_total{channel="rest"}') for target in targets["rasa"]]

    before = rest_turns(scrape())
    results = asyncio.run(chat(f"{settings.rasa_url}/webhooks/rest/webhook", 20, 2))
    assert [status for replies in results.values() for status, _ in replies] == [200] * 40
    pages = scrape()
    assert {target: page.status_code for target, page in pages.items()} == dict.fromkeys(pages, 200)
    turns = [after - earlier for after, earlier in zip(rest_turns(pages), before, strict=True)]
    assert sum(turns) == 40 and all(turns)  # each message counted once, by the replica that answered it
    models = [
        {line.split("{", 1)[1] for line in pages[target].text.splitlines() if line.startswith("cskh_model_info{")}
        for target in targets["rasa"]
    ]  # fmt: skip
    assert len(models[0]) == 1 and models[0] == models[1]  # every replica on the same model
    # through nginx, a scrape would read one replica picked at random: refused
    assert requests.get(f"{settings.rasa_url}/metrics", headers=bearer, timeout=10).status_code == 404


def metric_value(text: str, sample: str) -> float:
    """One sample's value from a /metrics page (0 when absent)."""
    return sum(float(line.rpartition(" ")[2]) for line in text.splitlines() if line.rpartition(" ")[0] == sample)


def test_a_long_conversation_still_reaches_its_actions_through_the_balancer(scaled) -> None:
    """Rasa posts the whole conversation to the actions: soon past nginx's default 16 kB body buffer,
    which run as root spilled into a temp file its workers could not write (a 500 for every action)."""
    url = f"{scaled['settings'].rasa_url}/webhooks/rest/webhook"
    # paced under the guard's burst limit for one sender (10 in 10 s)
    results = asyncio.run(chat(url, 1, 12, pause=1.1))
    [(sender, replies)] = results.items()
    assert all(status == 200 and body for status, body in replies), replies
    with scaled["engine"].connect() as connection:
        size = connection.execute(sa.text("SELECT sum(length(data)) FROM events WHERE sender_id = :s"),
                                  {"s": f"web:{sender}"}).scalar_one()  # fmt: skip
    assert size > 32_000  # about what Rasa sends with each action call now

    async def order_status() -> tuple[int, list]:
        message = {"sender": sender, "message": "kiểm tra đơn DH123456"}
        async with aiohttp.ClientSession() as session, session.post(url, json=message) as reply:
            return reply.status, await reply.json(content_type=None)

    status, body = asyncio.run(order_status())
    assert status == 200 and "số điện thoại" in " ".join(m.get("text", "") for m in body)


def test_postgresql_going_away_gets_an_apology_not_silence_and_service_resumes(scaled) -> None:
    url = f"{scaled['settings'].rasa_url}/webhooks/rest/webhook"
    scaled["proxy"].cut()
    try:
        results = asyncio.run(chat(url, 1, 1))
        [(status, body)] = next(iter(results.values()))
        assert status == 200 and "đang bận" in body[0]["text"]  # told to try again, not left waiting
    finally:
        scaled["proxy"].restore()
    time.sleep(1)
    results = asyncio.run(chat(url, 1, 2))
    assert all(status == 200 and body for status, body in next(iter(results.values())))


def test_redis_going_away_gets_an_apology_not_silence_and_service_resumes(scaled) -> None:
    url = f"{scaled['settings'].rasa_url}/webhooks/rest/webhook"
    scaled["redis"].terminate()
    scaled["redis"].wait()
    try:
        results = asyncio.run(chat(url, 1, 1))
        [(status, body)] = next(iter(results.values()))
        assert status == 200 and "đang bận" in body[0]["text"]
    finally:
        scaled["redis"] = start_redis(scaled["redis_port"], scaled["workdir"])
    results = asyncio.run(chat(url, 1, 2))
    assert all(status == 200 and body for status, body in next(iter(results.values())))


def test_a_replica_killed_under_load_loses_nothing(scaled) -> None:
    """Last in the module: rasa-1 stays dead after it (nginx sends everything to rasa-2), as bringing it
    back would cost 20 s for no test."""
    stack, url = scaled["stack"], f"{scaled['settings'].rasa_url}/webhooks/rest/webhook"

    async def load_and_kill() -> dict:
        task = asyncio.create_task(chat(url, 20, 10))
        await asyncio.sleep(2)
        os.killpg(stack.processes["rasa-1"].pid, signal.SIGKILL)
        return await task

    results = asyncio.run(load_and_kill())
    assert all(status == 200 for replies in results.values() for status, _ in replies), results
    stored = user_texts(scaled["engine"], list(results))
    for sender in results:
        # nginx retries a request the dead replica never answered: each message is there, in order
        expected = [f"{q} ({i})" for i, q in enumerate(QUESTIONS)]
        answers = [[m.get("text", "")[:40] for m in body] for _, body in results[sender]]
        assert list(dict.fromkeys(stored[sender])) == expected, answers
