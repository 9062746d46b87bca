"""What Zalo and Messenger do the same way (connectors/core.py), each test run on both.

In-process: the channel's blueprint is mounted on a sanic app as Rasa mounts it; the platform's
API is its fake on loopback (tests/fakes); the project database and the tracker store are real,
PostgreSQL behind a TCP proxy when a test takes one of them away. Rasa itself is stood in for by
``LittleRasa``: it keeps each conversation in the project's tracker store behind Rasa's own
fail-safe wrapper, as Rasa does, and answers what it heard.
"""

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest
import requests
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from sanic import Sanic

from bot.rasa_plugins.tracking import StrictSQLTrackerStore
from bot.sandbox import free_port, widget_customer
from bot.settings import Settings, settings_in_force
from bot.shop_policy import render_text
from connectors import dedupe, messenger
from connectors.core import PushChannel, split_text
from connectors.guard import NO_ANSWER
from connectors.messenger import MessengerInput
from connectors.messenger_client import MAX_TEXT
from connectors.webchat import WebChatInput
from connectors.zalo import ZaloInput
from connectors.zalo_client import ZaloConfig
from tests.fakes.messenger_api import FakeMessengerApi, signature, text_event, webhook_post
from tests.fakes.tcp_proxy import TcpProxy
from tests.fakes.zalo_api import FakeZaloApi

PAGE_ID, APP_SECRET, PAGE_TOKEN = "104857600123456", "fb-app-secret-for-tests", "EAAGpage-token-for-tests"
ZALO_APP_ID, ZALO_APP_SECRET, ZALO_OA_SECRET = "5508372650153791099", "zalo-app-secret", "zalo-oa-secret"


class Platform(Protocol):
    """One platform as a customer and the shop see it: a webhook to post to, the replies its API received."""

    name: str
    text_limit: int

    def channel(self) -> PushChannel: ...

    def webhook_request(self, sender: str, text: str, message_id: str) -> tuple[bytes, dict[str, str]]: ...

    def replies(self, sender: str) -> list[str]: ...

    def new_sender(self) -> str: ...


class Messenger:
    name = "messenger"
    text_limit = MAX_TEXT

    def __init__(self, api: FakeMessengerApi) -> None:
        self.api = api

    def channel(self) -> PushChannel:
        return MessengerInput("verify-token", APP_SECRET, PAGE_TOKEN, self.api.graph_url)

    def webhook_request(self, sender: str, text: str, message_id: str) -> tuple[bytes, dict[str, str]]:
        raw = webhook_post(PAGE_ID, [text_event(sender, text, PAGE_ID, mid=message_id)])
        return raw, {"X-Hub-Signature-256": signature(APP_SECRET, raw)}

    def replies(self, sender: str) -> list[str]:
        return self.api.texts(sender)

    def new_sender(self) -> str:
        return f"{uuid.uuid4().int % 10**16:016d}"


class Zalo:
    name = "zalo"
    text_limit = ZaloConfig().text_limit

    def __init__(self, api: FakeZaloApi) -> None:
        self.api = api

    def channel(self) -> PushChannel:
        return ZaloInput(ZaloConfig(
            app_id=ZALO_APP_ID, app_secret=ZALO_APP_SECRET, oa_secret_key=ZALO_OA_SECRET,
            access_token=self.api.access_token, refresh_token=self.api.refresh_token,
            api_url=self.api.url, oauth_url=self.api.url,
        ))  # fmt: skip

    def webhook_request(self, sender: str, text: str, message_id: str) -> tuple[bytes, dict[str, str]]:
        timestamp = str(int(time.time() * 1000))
        event = {
            "app_id": ZALO_APP_ID, "event_name": "user_send_text", "sender": {"id": sender},
            "recipient": {"id": "1032900368545911432"}, "message": {"text": text, "msg_id": message_id},
            "timestamp": timestamp,
        }  # fmt: skip
        raw = json.dumps(event, ensure_ascii=False).encode()
        mac = hashlib.sha256(ZALO_APP_ID.encode() + raw + timestamp.encode() + ZALO_OA_SECRET.encode()).hexdigest()
        return raw, {"X-ZEvent-Signature": f"mac={mac}"}

    def replies(self, sender: str) -> list[str]:
        return self.api.texts(sender)

    def new_sender(self) -> str:
        return str(uuid.uuid4().int % 10**19).rjust(19, "1")


@pytest.fixture(params=["messenger", "zalo"])
def platform(request) -> Iterator[Platform]:
    if request.param == "messenger":
        with FakeMessengerApi(PAGE_TOKEN) as api:
            yield Messenger(api)
    else:
        with FakeZaloApi(ZALO_APP_ID, ZALO_APP_SECRET) as api:
            yield Zalo(api)


@contextmanager
def project_database(tmp_path: Path, url: str | None = None) -> Iterator[None]:
    """The channels' project database for the test: SQLite under ``tmp_path`` unless ``url`` names another."""
    settings = Settings.under(tmp_path, database_url=url or f"sqlite:///{tmp_path / 'cskh.db'}")
    with settings_in_force(settings):
        for cached in (dedupe.seen_messages, messenger.messaging_window):
            cached.cache_clear()
        try:
            yield
        finally:
            for cached in (dedupe.seen_messages, messenger.messaging_window):
                cached.cache_clear()


class LittleRasa:
    """Stands in for Rasa's agent: the real tracker store behind Rasa's fail-safe wrapper, and an echo."""

    def __init__(self, store: TrackerStore, slow: dict[str, float] | None = None) -> None:
        self.store = FailSafeTrackerStore(store)
        self.slow = slow or {}
        self.heard: list[tuple[str, str]] = []  # (tracker key, text), in the order turns finished
        self.answer: Callable[[str], str] = lambda text: f"Đã nhận: {text}"

    async def __call__(self, message: UserMessage) -> None:
        await asyncio.sleep(self.slow.get(message.text, 0))
        tracker = await self.store.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(message.text))
        await message.output_channel.send_response(message.sender_id, {"text": self.answer(message.text)})
        await self.store.save(tracker)
        self.heard.append((message.sender_id, message.text))


def sqlite_trackers(tmp_path: Path) -> StrictSQLTrackerStore:
    return StrictSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "trackers.db"))


class Served:
    """The channel on a running sanic app; ``post`` delivers as the platform does and returns the HTTP status."""

    def __init__(self, platform: Platform, port: int) -> None:
        self.platform, self.port = platform, port

    async def post(self, sender: str, text: str, message_id: str | None = None) -> int:
        raw, headers = self.platform.webhook_request(sender, text, message_id or uuid.uuid4().hex)
        url = f"http://127.0.0.1:{self.port}/webhooks/{self.platform.name}/webhook"
        headers = {"Content-Type": "application/json", **headers}
        reply = await asyncio.to_thread(requests.post, url, data=raw, headers=headers, timeout=10)
        return reply.status_code


@asynccontextmanager
async def served(platform: Platform, rasa: Callable[[UserMessage], Awaitable[Any]]) -> AsyncIterator[Served]:
    app = Sanic(f"core_{platform.name}_{uuid.uuid4().hex[:8]}")
    channel = platform.channel()
    app.blueprint(channel.blueprint(rasa), url_prefix=f"/webhooks/{channel.url_prefix()}")  # as Rasa mounts it
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    try:
        yield Served(platform, port)
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


async def eventually(check: Callable[[], bool], timeout: float = 15) -> None:
    """Waits (without blocking the server, which runs in this loop) until ``check()`` holds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "did not happen in time"
        await asyncio.sleep(0.05)


def test_a_long_reply_reaches_the_customer_in_parts_within_the_platforms_limit_and_no_word_cut(
    platform: Platform, tmp_path: Path
) -> None:
    sentence = "Đơn hàng của bạn đã được bàn giao cho đơn vị vận chuyển và sẽ đến trong vài ngày tới. "
    long_reply = (sentence * 30).strip() + "\n\n" + (sentence * 25).strip()  # 2,600 then 2,150 characters

    async def scenario() -> list[str]:
        rasa = LittleRasa(sqlite_trackers(tmp_path))
        rasa.answer = lambda _: long_reply
        customer = platform.new_sender()
        async with served(platform, rasa) as door:
            assert await door.post(customer, "đơn của mình đâu rồi") == 200
            await eventually(lambda: "".join(platform.replies(customer)).count("Đơn hàng") == 55)
        return platform.replies(customer)

    with project_database(tmp_path):
        parts = asyncio.run(scenario())
    assert len(parts) == 3 and all(len(part) <= platform.text_limit for part in parts)
    assert all(part.endswith("vài ngày tới.") for part in parts)  # cut between sentences
    assert " ".join(parts).split() == long_reply.split()  # nothing lost, no word cut


def test_split_text_prefers_paragraphs_then_sentences_then_words_and_cuts_only_what_has_no_space() -> None:
    assert split_text("  ngắn thôi  ", 20) == ["ngắn thôi"]
    assert split_text("Câu một.\n\nCâu hai dài hơn.", 20) == ["Câu một.", "Câu hai dài hơn."]
    assert split_text("Một câu. Câu thứ hai nữa", 16) == ["Một câu.", "Câu thứ hai nữa"]
    assert split_text("mot hai ba bon nam sau", 10) == ["mot hai ba", "bon nam", "sau"]
    assert split_text("https://example.vn/" + "a" * 30, 20) == ["https://example.vn/a", "a" * 20, "a" * 9]
    assert split_text("x" * 4500, MAX_TEXT) == ["x" * 2000, "x" * 2000, "x" * 500]


def test_one_customers_messages_are_answered_in_order_while_others_are_answered_meanwhile(
    platform: Platform, tmp_path: Path
) -> None:
    lan, minh = platform.new_sender(), platform.new_sender()

    async def scenario() -> list[tuple[str, str]]:
        rasa = LittleRasa(sqlite_trackers(tmp_path), slow={"cho mình hỏi phí ship": 1.0})
        async with served(platform, rasa) as door:
            assert await door.post(lan, "cho mình hỏi phí ship") == 200
            assert await door.post(lan, "về Hà Nội nhé") == 200
            assert await door.post(minh, "chào shop") == 200
            # the last reply may still be on its way to the platform when Rasa has heard everything
            await eventually(lambda: len(rasa.heard) == 3 and len(platform.replies(lan)) == 2)
        return rasa.heard

    with project_database(tmp_path):
        heard = asyncio.run(scenario())
    prefix = "fb:" if platform.name == "messenger" else "zalo:"
    # Minh did not wait for Lan's slow first message; Lan's second waited for her first
    assert heard == [
        (prefix + minh, "chào shop"), (prefix + lan, "cho mình hỏi phí ship"), (prefix + lan, "về Hà Nội nhé"),
    ]  # fmt: skip
    assert platform.replies(lan) == ["Đã nhận: cho mình hỏi phí ship", "Đã nhận: về Hà Nội nhé"]


def postgres_behind_a_proxy(postgres_url: str) -> tuple[TcpProxy, str]:
    proxy = TcpProxy("127.0.0.1", 5432)
    return proxy, postgres_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")


def test_when_the_dedupe_store_is_down_the_platform_is_asked_to_resend_and_the_resend_is_answered_once(
    platform: Platform, tmp_path: Path, postgres_url: str
) -> None:
    proxy, url = postgres_behind_a_proxy(postgres_url)
    customer, message_id = platform.new_sender(), uuid.uuid4().hex

    async def scenario() -> tuple[list[int], LittleRasa]:
        rasa = LittleRasa(sqlite_trackers(tmp_path))
        async with served(platform, rasa) as door:
            proxy.cut()
            statuses = [await door.post(customer, "phí ship bao nhiêu", message_id)]
            proxy.restore()
            statuses.append(await door.post(customer, "phí ship bao nhiêu", message_id))  # the platform's resend
            statuses.append(await door.post(customer, "phí ship bao nhiêu", message_id))  # and one more
            statuses.append(await door.post(customer, "cảm ơn shop"))
            await eventually(lambda: len(platform.replies(customer)) >= 2)  # one customer's turns run in order
        return statuses, rasa

    with project_database(tmp_path, url):
        statuses, rasa = asyncio.run(scenario())
    assert statuses == [500, 200, 200, 200]
    assert [text for _, text in rasa.heard] == ["phí ship bao nhiêu", "cảm ơn shop"]
    assert platform.replies(customer) == ["Đã nhận: phí ship bao nhiêu", "Đã nhận: cảm ơn shop"]


def test_when_the_tracker_store_fails_during_a_turn_the_customer_hears_an_apology_not_a_forgetful_answer(
    platform: Platform, tmp_path: Path, postgres_url: str
) -> None:
    proxy, url = postgres_behind_a_proxy(postgres_url)
    customer = platform.new_sender()
    apology = render_text(NO_ANSWER)

    async def scenario() -> None:
        async with served(platform, LittleRasa(postgres_trackers(proxy, url))) as door:
            assert await door.post(customer, "đơn DH123456 của mình đâu") == 200
            await eventually(lambda: len(platform.replies(customer)) == 1)
            proxy.cut()
            assert await door.post(customer, "mình muốn huỷ đơn đó") == 200
            await eventually(lambda: len(platform.replies(customer)) == 2)
            proxy.restore()
            assert await door.post(customer, "mình muốn huỷ đơn đó") == 200
            await eventually(lambda: len(platform.replies(customer)) == 3)

    with project_database(tmp_path):
        asyncio.run(scenario())
    assert platform.replies(customer) == [
        "Đã nhận: đơn DH123456 của mình đâu", apology, "Đã nhận: mình muốn huỷ đơn đó",
    ]  # fmt: skip


def postgres_trackers(proxy: TcpProxy, url: str) -> StrictSQLTrackerStore:
    return StrictSQLTrackerStore(
        Domain.empty(), dialect="postgresql", host="127.0.0.1", port=proxy.port, db=url.rsplit("/", 1)[1],
        username="postgres",
    )  # fmt: skip


def test_the_website_widget_apologises_the_same_way_when_the_tracker_store_fails(
    tmp_path: Path, postgres_url: str
) -> None:
    proxy, url = postgres_behind_a_proxy(postgres_url)
    session = uuid.uuid4().hex

    async def chat() -> list[str]:
        app = Sanic(f"core_widget_{uuid.uuid4().hex[:8]}")
        channel = WebChatInput.from_credentials(
            {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}
        )
        app.blueprint(channel.blueprint(LittleRasa(postgres_trackers(proxy, url))), url_prefix="/webhooks/socketio")
        port = free_port()
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        await server.startup()
        try:
            async with widget_customer(f"http://127.0.0.1:{port}", session) as customer:
                proxy.cut()
                await customer.say("đơn DH123456 của mình đâu")
                answers = [await customer.next_reply()]
                proxy.restore()
                await customer.say("đơn DH123456 của mình đâu")
                answers.append(await customer.next_reply())
                return answers
        finally:
            server.close()
            await server.wait_closed()

    with project_database(tmp_path):
        answers = asyncio.run(chat())
    assert answers == [render_text(NO_ANSWER), "Đã nhận: đơn DH123456 của mình đâu"]


def test_an_error_in_a_turn_gets_the_apology_and_the_next_message_is_answered(
    platform: Platform, tmp_path: Path
) -> None:
    customer = platform.new_sender()

    def answer(text: str) -> str:
        if text == "alo":
            raise RuntimeError("action server unreachable")
        return f"Đã nhận: {text}"

    async def scenario() -> None:
        rasa = LittleRasa(sqlite_trackers(tmp_path))
        rasa.answer = answer
        async with served(platform, rasa) as door:
            assert await door.post(customer, "alo") == 200
            assert await door.post(customer, "phí ship bao nhiêu") == 200
            await eventually(lambda: len(platform.replies(customer)) == 2)

    with project_database(tmp_path):
        asyncio.run(scenario())
    assert platform.replies(customer) == [render_text(NO_ANSWER), "Đã nhận: phí ship bao nhiêu"]
