"""The platform outbox: a Zalo or Messenger message that fails is retried, or shown to the agent as not sent.

In this process against the fake platform APIs (tests/fakes/): what each error code does to a
stored message (retried with back-off, refused at once with its reason, waited out for a rate
limit), that a new worker resumes what a stopped one left, that two workers never send a message
twice (SQLite and PostgreSQL), and that the console marks the line. Last, on the whole stack: a
customer who blocked the page, an agent's reply, and "chưa gửi được" on the agent's console.
"""

import asyncio
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
import sqlalchemy as sa

from bot.outbox import OutboxStore, line_key, new_claim
from bot.sandbox import ADMIN_PASSWORD, DeskAgent, LiveStream, eventually
from bot.schema import OUTBOX_FAILED, OUTBOX_PENDING, OUTBOX_SENT, outbox_table
from connectors import messenger, zalo
from connectors.messenger_client import SendApi
from connectors.outbox import Outbox, RetryPolicy
from connectors.zalo_client import TokenStore, ZaloClient, ZaloConfig
from tests.databases import KINDS, project_database
from tests.fakes.messenger_api import (
    OUTSIDE_WINDOW,
    RATE_LIMIT,
    TEMPORARY,
    USER_UNAVAILABLE,
    FakeMessengerApi,
    signature,
    text_event,
    webhook_post,
)
from tests.fakes.zalo_api import NOT_FOLLOWER, NOT_INTERACTING, RATE_LIMITED, FakeZaloApi

APP_ID, APP_SECRET, OA_SECRET = "4208372650153791023", "zalo-app-secret-for-tests", "zalo-oa-secret-for-tests"
PAGE_TOKEN = "EAAGpage-token-for-outbox-tests"
# quick enough for a test, the same shape as the defaults
FAST = RetryPolicy(first_wait_seconds=0.05, max_wait_seconds=0.2, max_attempts=4, lease_seconds=5, poll_seconds=0.05)


@pytest.fixture(params=KINDS)
def database(request, tmp_path: Path) -> str:
    return project_database(request, tmp_path, "platform_outbox")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cskh.db'}"


@pytest.fixture
def zalo_api() -> Iterator[FakeZaloApi]:
    with FakeZaloApi(APP_ID, APP_SECRET) as api:
        yield api


@pytest.fixture
def graph() -> Iterator[FakeMessengerApi]:
    with FakeMessengerApi(PAGE_TOKEN) as api:
        yield api


def engine_of(url: str) -> sa.engine.Engine:
    return sa.create_engine(url, future=True)


CLIENTS: list[ZaloClient | SendApi] = []  # closed by ``run`` at the end of each scenario
T = TypeVar("T")


def run(scenario: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` that closes the platform clients the scenario made."""

    async def closing() -> T:
        try:
            return await scenario
        finally:
            while CLIENTS:
                await CLIENTS.pop().close()

    return asyncio.run(closing())


def zalo_outbox(
    url: str, api: FakeZaloApi, tokens: tuple[str, str] | None = None, app_id: str = APP_ID, **config: Any
) -> Outbox:
    """The Zalo channel's outbox as a Rasa process builds it, with the test's quick retry policy."""
    settings = ZaloConfig(app_id=app_id, app_secret=APP_SECRET, oa_secret_key=OA_SECRET, api_url=api.url,
                          oauth_url=api.url, timeout_seconds=1.0, **config)  # fmt: skip
    access, refresh = tokens or (api.access_token, api.refresh_token)
    engine = engine_of(url)
    client = ZaloClient(settings, TokenStore(engine, app_id, access, refresh, ""))
    CLIENTS.append(client)
    outbox = zalo.outbox_for(client, engine)
    outbox.policy = FAST
    return outbox


def messenger_outbox(url: str, graph: FakeMessengerApi, token: str = PAGE_TOKEN) -> Outbox:
    api = SendApi(graph.graph_url, token, timeout=1.0)
    CLIENTS.append(api)
    outbox = messenger.outbox_for(api, engine_of(url))
    outbox.policy = FAST
    return outbox


def fb_part(text: str) -> dict[str, Any]:
    return {"message": {"text": text}, "messaging_type": "RESPONSE", "tag": None}


def rows(url: str) -> dict[str, Any]:
    """Each conversation's last outbox row."""
    engine = engine_of(url)
    with engine.connect() as connection:
        found = connection.execute(sa.select(outbox_table).order_by(outbox_table.c.id)).all()
    engine.dispose()
    return {row.conversation_id: row for row in found}


async def work_until(outbox: Outbox, done, timeout: float = 10) -> None:
    """Runs the worker's rounds until ``done()``."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the outbox did not finish in time"
        if not await outbox.run_due():
            await asyncio.sleep(0.02)


def test_a_failed_send_is_retried_with_back_off_until_delivered(sqlite_url, zalo_api, graph) -> None:
    zalo_api.http_status_next = [502, 503]  # Zalo's gateway down twice
    graph.fail_next(TEMPORARY, times=2)  # Facebook's "retry your request later", twice

    async def scenario() -> None:
        on_zalo, on_messenger = zalo_outbox(sqlite_url, zalo_api), messenger_outbox(sqlite_url, graph)
        await on_zalo.send("zalo:9001", [{"text": "Chào bạn"}], 100.5)
        await on_messenger.send("fb:9002", [fb_part("Chào bạn")], 200.5)
        pending = rows(sqlite_url)
        assert pending["zalo:9001"].status == pending["fb:9002"].status == OUTBOX_PENDING
        assert pending["zalo:9001"].error_code == "http:502" and pending["fb:9002"].error_code == "messenger:2"
        assert zalo_api.texts("9001") == graph.texts("9002") == []
        await work_until(on_zalo, lambda: zalo_api.texts("9001"))
        await work_until(on_messenger, lambda: graph.texts("9002"))

    run(scenario())
    sent = rows(sqlite_url)
    assert zalo_api.texts("9001") == graph.texts("9002") == ["Chào bạn"]
    assert (sent["zalo:9001"].status, sent["zalo:9001"].attempts) == (OUTBOX_SENT, 3)
    assert (sent["fb:9002"].status, sent["fb:9002"].attempts) == (OUTBOX_SENT, 3)
    assert OutboxStore(engine_of(sqlite_url)).undelivered("zalo:9001") == {}


def test_a_refusal_fails_the_message_at_once_with_the_reason_for_the_agent(sqlite_url, zalo_api, graph) -> None:
    zalo_api.fail_for["blocked"] = NOT_FOLLOWER
    zalo_api.fail_for["silent"] = NOT_INTERACTING
    graph.fail_for("gone", USER_UNAVAILABLE)
    graph.fail_for("late", OUTSIDE_WINDOW)

    async def scenario() -> None:
        on_zalo, on_messenger = zalo_outbox(sqlite_url, zalo_api), messenger_outbox(sqlite_url, graph)
        # an OA whose tokens are dead: Zalo refuses the message, then the refresh
        dead_token = zalo_outbox(sqlite_url, zalo_api, tokens=("zat-revoked", "zrt-spent"), app_id="9999")
        for user in ("blocked", "silent"):
            await on_zalo.send(f"zalo:{user}", [{"text": "Dạ mình kiểm tra rồi ạ"}], 1.0)
        await dead_token.send("zalo:anyone", [{"text": "Dạ mình kiểm tra rồi ạ"}], 2.0)
        for psid in ("gone", "late"):
            await on_messenger.send(f"fb:{psid}", [fb_part("Dạ mình kiểm tra rồi ạ")], 3.0)
        await messenger_outbox(sqlite_url, graph, "EAAGnot-the-token").send("fb:anyone", [fb_part("Dạ")], 4.0)
        assert await on_zalo.run_due() == await on_messenger.run_due() == 0  # nothing left to retry

    calls = graph.calls
    run(scenario())
    failed = rows(sqlite_url)
    assert {key: (row.status, row.attempts) for key, row in failed.items()} == dict.fromkeys(failed, (OUTBOX_FAILED, 1))
    assert {key: row.error_code for key, row in failed.items()} == {
        "zalo:blocked": "zalo:-213", "zalo:silent": "zalo:-230", "zalo:anyone": "zalo:token",
        "fb:gone": "messenger:551/1545041", "fb:late": "messenger:10/2018278", "fb:anyone": "messenger:190",
    }  # fmt: skip
    assert "bỏ quan tâm" in failed["zalo:blocked"].error_reason
    assert "7 ngày" in failed["zalo:silent"].error_reason
    assert "cấp quyền lại" in failed["zalo:anyone"].error_reason
    assert "chặn trang" in failed["fb:gone"].error_reason
    assert "quá thời hạn" in failed["fb:late"].error_reason
    assert "cấp mã mới" in failed["fb:anyone"].error_reason
    assert [error for user, error in zalo_api.sends if user in ("blocked", "silent")] == [NOT_FOLLOWER, NOT_INTERACTING]
    assert graph.calls - calls == 3  # one request each, none retried
    assert OutboxStore(engine_of(sqlite_url)).undelivered("fb:gone")[line_key(3.0)].status == OUTBOX_FAILED


def test_a_rate_limit_is_waited_out_as_long_as_the_platform_asks(sqlite_url, zalo_api, graph) -> None:
    graph.fail_next(RATE_LIMIT, retry_after=1)
    zalo_api.fail_next.append(RATE_LIMITED)

    async def scenario() -> tuple[float, float]:
        on_zalo = zalo_outbox(sqlite_url, zalo_api, rate_limit_wait_seconds=1.0)  # Zalo's limit is per minute
        on_messenger = messenger_outbox(sqlite_url, graph)
        started = time.monotonic()
        await on_messenger.send("fb:busy", [fb_part("Dạ vâng")], 1.0)
        await on_zalo.send("zalo:busy", [{"text": "Dạ vâng"}], 1.0)
        waiting = rows(sqlite_url)
        assert waiting["fb:busy"].next_attempt_at - time.time() > 0.8  # not the policy's 0.05 s: Facebook's 1 s
        assert waiting["zalo:busy"].next_attempt_at - time.time() > 0.8
        await asyncio.sleep(0.3)
        assert await on_messenger.run_due() == await on_zalo.run_due() == 0  # not due yet
        await work_until(on_messenger, lambda: graph.texts("busy"))
        messenger_after = time.monotonic() - started
        await work_until(on_zalo, lambda: zalo_api.texts("busy"))
        return messenger_after, time.monotonic() - started

    messenger_after, zalo_after = run(scenario())
    assert messenger_after >= 1.0 and zalo_after >= 1.0
    assert graph.texts("busy") == zalo_api.texts("busy") == ["Dạ vâng"]
    assert [error for user, error in zalo_api.sends if user == "busy"] == [RATE_LIMITED, 0]


def test_retries_end_after_the_last_attempt_with_how_many_were_made(sqlite_url, zalo_api) -> None:
    zalo_api.http_status_next = [502] * 10

    async def scenario() -> None:
        outbox = zalo_outbox(sqlite_url, zalo_api)
        await outbox.send("zalo:9003", [{"text": "Chào bạn"}], 1.0)
        await work_until(outbox, lambda: rows(sqlite_url)["zalo:9003"].status == OUTBOX_FAILED)

    run(scenario())
    row = rows(sqlite_url)["zalo:9003"]
    assert row.attempts == FAST.max_attempts and row.error_code == "http:502"
    assert row.error_reason == f"Không kết nối được tới Zalo. Đã thử {FAST.max_attempts} lần."
    assert zalo_api.texts("9003") == []


def test_a_new_worker_sends_what_a_stopped_one_left_pending(sqlite_url, zalo_api) -> None:
    zalo_api.http_status_next = [502]
    store = OutboxStore(engine_of(sqlite_url))
    # a server that died in the middle of a send: the row is held, its lease running out
    store.add("zalo", "zalo:9005", [{"text": "Phần 1"}, {"text": "Phần 2"}], 5.0, new_claim(), lease_seconds=0.3)

    async def before_the_restart() -> None:
        await zalo_outbox(sqlite_url, zalo_api).send("zalo:9004", [{"text": "Chào bạn"}], 4.0)

    run(before_the_restart())
    assert rows(sqlite_url)["zalo:9004"].status == OUTBOX_PENDING

    async def after_the_restart() -> None:
        outbox = zalo_outbox(sqlite_url, zalo_api)
        outbox.start()  # as the channel does when the Rasa server starts
        deadline = time.monotonic() + 10
        while not (zalo_api.texts("9004") and len(zalo_api.texts("9005")) == 2) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await outbox.stop()

    run(after_the_restart())
    assert zalo_api.texts("9004") == ["Chào bạn"] and zalo_api.texts("9005") == ["Phần 1", "Phần 2"]
    assert {row.status for row in rows(sqlite_url).values()} == {OUTBOX_SENT}


def test_one_conversations_messages_leave_in_order_behind_a_pending_one(sqlite_url, graph) -> None:
    graph.fail_next(TEMPORARY)

    async def scenario() -> None:
        outbox = messenger_outbox(sqlite_url, graph)
        await outbox.send("fb:9006", [fb_part("Một")], 1.0)
        await outbox.send("fb:9006", [fb_part("Hai")], 2.0)  # queued behind "Một", not sent ahead of it
        await outbox.send("fb:9007", [fb_part("Khác")], 3.0)  # someone else's: not held up
        assert graph.texts("9006") == [] and graph.texts("9007") == ["Khác"]
        await work_until(outbox, lambda: len(graph.texts("9006")) == 2)

    run(scenario())
    assert graph.texts("9006") == ["Một", "Hai"]


def test_two_workers_never_send_one_message_twice(database: str, graph: FakeMessengerApi) -> None:
    graph.hang_seconds = 0.01
    store = OutboxStore(engine_of(database))
    conversations = [f"fb:{uuid.uuid4().hex[:12]}" for _ in range(30)]
    for number, conversation in enumerate(conversations):
        # due at once, as rows a restarted server finds: whichever worker claims one sends it
        store.add("messenger", conversation, [fb_part(f"Tin {number}")], float(number), new_claim(), 0)

    async def work() -> None:
        api = SendApi(graph.graph_url, PAGE_TOKEN, timeout=5.0)
        outbox = messenger.outbox_for(api, engine_of(database))
        try:
            await work_until(outbox, lambda: len(graph.texts_to_anyone()) >= len(conversations), timeout=30)
        finally:
            await api.close()

    def worker() -> None:  # a replica of its own: its own thread, event loop and connection pool
        asyncio.run(work())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(graph.texts_to_anyone()) == sorted(f"Tin {n}" for n in range(len(conversations)))
    assert {row.status for row in rows(database).values()} == {OUTBOX_SENT}
    assert {row.attempts for row in rows(database).values()} == {2}  # the first holder's, then one worker's


# --- the agent's console ----------------------------------------------------------------------------------


class ConsoleDesk:
    """The desk in this process, an agent who claimed a Messenger customer, and a Rasa stand-in that stores
    each reply's outbox row as the channel does before Rasa answers the desk: failed or pending as told."""

    def __init__(self, server: Any, rasa: Any) -> None:
        from bot.desk.accounts import AccountStore
        from bot.desk.queue import HandoffQueue

        self.server, self.store = server, OutboxStore(server.engine)
        AccountStore(server.engine).add_agent("lan", "lan-password-123", "Lan")
        self.handoff_id = HandoffQueue(server.engine).open(
            channel="messenger", sender_id="fb:9008", reason="customer_request", summary="Khách hỏi đơn DH123456",
            slots={}, transcript=[{"role": "customer", "text": "đơn của mình đâu", "sent_at": 1.0}],
        ).id  # fmt: skip
        self.agent = DeskAgent(server.url, "lan", "lan-password-123")
        self.agent.claim(self.handoff_id)
        self.outcome: dict[str, tuple[str, str]] = {}  # reply text -> (status, reason) of its row
        self.rows: dict[str, int] = {}  # reply text -> its row
        rasa.on_append = self._stored_by_rasa

    def _stored_by_rasa(self, conversation: str, events: list[dict[str, Any]]) -> None:
        for event in events:
            status, reason = self.outcome.get(event.get("text", ""), (OUTBOX_SENT, ""))
            if status == OUTBOX_FAILED:
                self.store.add_failed("messenger", conversation, event["timestamp"], "messenger:551/1545041", reason)
            elif status == OUTBOX_PENDING:
                held = self.store.add("messenger", conversation, [fb_part("x")], event["timestamp"], new_claim(), 30)
                assert held is not None
                self.store.retry_at(held, time.time() + 30, "messenger:613", reason)
                self.rows[event["text"]] = held.id

    def last_try_fails(self, text: str, reason: str) -> None:
        """The worker gives up on the reply ``text``."""
        with self.server.engine.begin() as connection:
            connection.execute(
                outbox_table.update().where(outbox_table.c.id == self.rows[text])
                .values(status=OUTBOX_FAILED, error_reason=reason)
            )  # fmt: skip


@pytest.fixture
def console_desk(tmp_path: Path) -> Iterator[ConsoleDesk]:
    from tests.console_server import console_server
    from tests.test_desk_console import RASA_TOKEN, FakeRasa

    with FakeRasa() as rasa, console_server(tmp_path, rasa_port=int(rasa.url.rsplit(":", 1)[1]),
                                            rasa_token=RASA_TOKEN) as server:  # fmt: skip
        yield ConsoleDesk(server, rasa)


def test_the_console_marks_a_reply_not_sent_and_updates_it_live(console_desk: ConsoleDesk) -> None:
    desk, lan, handoff_id = console_desk, console_desk.agent, console_desk.handoff_id
    page_url = f"{desk.server.url}/handoffs/{handoff_id}"
    desk.outcome["Dạ đơn của bạn đang giao ạ"] = (OUTBOX_FAILED, "Khách đã chặn trang.")
    assert lan.post(handoff_id, "reply", text="Dạ đơn của bạn đang giao ạ").json() == {"ok": True}
    line = next(m for m in lan.messages(handoff_id) if m["text"] == "Dạ đơn của bạn đang giao ạ")
    assert line["delivery"] == {"status": OUTBOX_FAILED, "reason": "Khách đã chặn trang."}
    assert "chưa gửi được: Khách đã chặn trang." in lan.http.get(page_url).text
    assert [m for m in lan.messages(handoff_id) if "delivery" in m] == [line]

    stream = LiveStream(lan, handoff_id)
    time.sleep(0.5)  # connected
    desk.outcome["Bạn chờ mình chút nhé"] = (OUTBOX_PENDING, "Facebook đang giới hạn số tin.")
    assert lan.post(handoff_id, "reply", text="Bạn chờ mình chút nhé").json() == {"ok": True}
    live = eventually(
        lambda: next((data for _, event, data in stream.events
                      if event == "message" and data["text"] == "Bạn chờ mình chút nhé"), None),
        describe=lambda: stream.events,
    )  # fmt: skip
    assert live["delivery"]["status"] == OUTBOX_PENDING
    assert "đang gửi lại…" in lan.http.get(page_url).text
    desk.last_try_fails("Bạn chờ mình chút nhé", "Facebook đang giới hạn số tin. Đã thử 10 lần.")
    change = eventually(
        lambda: next((data for _, event, data in stream.events if event == "delivery"), None), timeout=8,
        describe=lambda: stream.events,
    )  # fmt: skip
    reason = "Facebook đang giới hạn số tin. Đã thử 10 lần."
    assert change == {"id": live["id"], "status": OUTBOX_FAILED, "reason": reason}


@pytest.mark.slow
def test_in_the_browser_a_reply_being_retried_turns_into_not_sent(console_desk: ConsoleDesk, browser) -> None:
    desk = console_desk
    page = browser.new_page()
    page.goto(f"{desk.server.url}/login")
    page.fill("input[name=username]", "lan")
    page.fill("input[name=password]", "lan-password-123")
    page.click("button[type=submit]")
    page.goto(f"{desk.server.url}/handoffs/{desk.handoff_id}")

    desk.outcome["Bạn chờ mình chút nhé"] = (OUTBOX_PENDING, "Facebook đang giới hạn số tin.")
    page.fill("#reply-text", "Bạn chờ mình chút nhé")
    page.click("#reply-form button[type=submit]")
    line = page.locator(".msg.agent", has_text="Bạn chờ mình chút nhé")
    line.locator(".delivery.pending", has_text="đang gửi lại…").wait_for(timeout=5_000)
    desk.last_try_fails("Bạn chờ mình chút nhé", "Facebook đang giới hạn số tin. Đã thử 10 lần.")
    failed = line.locator(".delivery.failed")
    failed.wait_for(timeout=8_000)
    assert failed.text_content() == "chưa gửi được: Facebook đang giới hạn số tin. Đã thử 10 lần."
    page.reload()  # and so it stays
    assert "chưa gửi được" in page.locator(".msg.agent", has_text="Bạn chờ mình chút nhé").text_content()
    page.close()


# --- on the whole stack -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_agents_reply_to_a_customer_who_blocked_the_page_shows_as_not_sent(channels_stack) -> None:
    from tests.test_messenger_channel import APP_SECRET as FB_APP_SECRET
    from tests.test_messenger_channel import PAGE_ID

    settings, facebook = channels_stack.settings, channels_stack.messenger_api
    psid = f"{uuid.uuid4().int % 10**16:016d}"
    raw = webhook_post(PAGE_ID, [text_event(psid, "cho mình gặp nhân viên về đơn DH135790", PAGE_ID)])
    posted = requests.post(f"{settings.rasa_url}/webhooks/messenger/webhook", data=raw, timeout=10,
                           headers={"Content-Type": "application/json",
                                    "X-Hub-Signature-256": signature(FB_APP_SECRET, raw)})  # fmt: skip
    assert posted.status_code == 200
    admin = DeskAgent(settings.desk_url, "admin", ADMIN_PASSWORD)
    handoff_id = admin.waiting_for("DH135790", timeout=30)["id"]
    admin.claim(handoff_id)
    facebook.wait_for(psid, lambda m: "Nhân viên CSKH đã tham gia" in m["message"]["text"])

    facebook.fail_for(psid, USER_UNAVAILABLE)  # the customer blocks the page
    assert admin.post(handoff_id, "reply", text="Dạ đơn DH135790 đang được giao ạ").json() == {"ok": True}
    line = eventually(
        lambda: next((m for m in admin.messages(handoff_id) if m["text"] == "Dạ đơn DH135790 đang được giao ạ"
                      and m.get("delivery")), None),
        timeout=10, describe=lambda: admin.messages(handoff_id),
    )  # fmt: skip
    assert line["delivery"]["status"] == OUTBOX_FAILED and "chặn trang" in line["delivery"]["reason"]
    page = admin.http.get(f"{settings.desk_url}/handoffs/{handoff_id}", timeout=10).text
    assert "chưa gửi được: Khách hiện không nhận được tin nhắn" in page
    assert not any("DH135790 đang được giao" in text for text in facebook.texts(psid))
    facebook.fail_for(psid, None)
    admin.post(handoff_id, "close", resolution="Khách đã chặn trang")
    logs = (channels_stack.workdir / "logs" / "rasa.log").read_text(encoding="utf-8", errors="replace")
    assert psid not in logs


@pytest.mark.slow
def test_an_agents_reply_to_a_zalo_customer_who_left_the_oa_shows_as_not_sent(channels_stack) -> None:
    from tests.test_zalo_channel import ZaloStack

    zalo = ZaloStack(channels_stack.settings, channels_stack.workdir, channels_stack.zalo_api)
    admin = DeskAgent(zalo.settings.desk_url, "admin", ADMIN_PASSWORD)
    customer = zalo.user()
    customer.say("cho mình gặp nhân viên về đơn DH975310")
    customer.hears("vị trí số")
    handoff_id = admin.waiting_for("DH975310", timeout=30)["id"]
    admin.claim(handoff_id)
    customer.hears("đã tham gia")

    zalo.api.fail_for[customer.id] = NOT_FOLLOWER  # the customer unfollows (blocks) the OA
    assert admin.post(handoff_id, "reply", text="Dạ đơn DH975310 mai tới ạ").json() == {"ok": True}
    line = next(m for m in admin.messages(handoff_id) if m["text"] == "Dạ đơn DH975310 mai tới ạ")
    assert line["delivery"]["status"] == OUTBOX_FAILED and "bỏ quan tâm" in line["delivery"]["reason"]
    assert "chưa gửi được: Khách chưa quan tâm" in admin.http.get(f"{zalo.settings.desk_url}/handoffs/{handoff_id}",
                                                                  timeout=10).text  # fmt: skip
    assert [error for user, error in zalo.api.sends if user == customer.id][-1] == NOT_FOLLOWER
    del zalo.api.fail_for[customer.id]
    admin.post(handoff_id, "close", resolution="Khách đã bỏ quan tâm OA")
