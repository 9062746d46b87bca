"""Zalo's and Messenger's rules as the platforms enforce them, in this process against the fakes (tests/fakes/):
Zalo's retries within its horizon, its 48-hour and 7-day windows, its per-minute limit and the two ways its
webhooks are reported to be signed; Messenger's 24-hour window, the Human Agent permission, the objects it posts
besides pages and its temporary errors. Each fake refuses what its platform would, so a rule the channel forgets
fails here. The same rules on the whole stack (the agent told before sending): tests/test_zalo_channel.py and
tests/test_messenger_channel.py.
"""

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
from sanic import Sanic

from bot.messaging_windows import (
    CLOSED,
    HUMAN_ONLY,
    OPEN,
    PAID,
    PAID_ALLOW,
    PAID_BLOCK,
    PAID_WARN,
    UNKNOWN,
    LastInteractions,
    WindowRules,
    messenger_window,
    zalo_window,
)
from bot.outbox import OutboxStore, line_key
from bot.sandbox import free_port
from bot.schema import OUTBOX_FAILED, OUTBOX_SENT
from connectors.messenger import MessagingWindow, MessengerInput, MessengerOutput, Refusal, delivery
from connectors.messenger_client import PERMISSION_REASON, SendApi
from connectors.zalo import ChoiceStore, RejectedError, ZaloInput, ZaloOutput, mac_for
from connectors.zalo_client import ZaloConfig
from tests.fakes.messenger_api import (
    TEMPORARY,
    TEMPORARY_SEND,
    FakeMessengerApi,
    signature,
    text_event,
    webhook_post,
)
from tests.fakes.zalo_api import NOT_INTERACTING, RATE_LIMITED, FakeZaloApi
from tests.test_outbox import FAST, engine_of, messenger_outbox, rows, run, work_until, zalo_outbox

APP_ID, OA_ID = "4208372650153791023", "1032900368545911432"
APP_SECRET, OA_SECRET = "zalo-app-secret-for-tests", "zalo-oa-secret-for-tests"
PAGE_TOKEN = "EAAGpage-token-for-outbox-tests"
FB_APP_SECRET = "fb-app-secret-for-rules"
CAPTURED = Path(__file__).parent / "data" / "zalo_webhooks"


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


def ago(**delta: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(**delta)


# --- the windows themselves ---------------------------------------------------------------------------------


def test_zalo_replies_are_free_for_48_hours_billable_up_to_7_days_then_refused() -> None:
    now = datetime.now(timezone.utc)
    assert zalo_window(None, now, PAID_WARN).state == UNKNOWN  # no record: Zalo decides
    assert zalo_window(now - timedelta(hours=47), now, PAID_BLOCK) == zalo_window(now, now, PAID_WARN)
    assert zalo_window(now - timedelta(hours=47), now, PAID_BLOCK).state == OPEN
    warned = zalo_window(now - timedelta(days=3), now, PAID_WARN)
    assert (warned.state, warned.blocked) == (PAID, False) and "tính phí" in warned.notice
    allowed = zalo_window(now - timedelta(days=3), now, PAID_ALLOW)
    assert (allowed.state, allowed.blocked, allowed.notice) == (PAID, False, "")
    blocked = zalo_window(now - timedelta(days=3), now, PAID_BLOCK)
    assert blocked.blocked and "không được gửi" in blocked.notice
    closed = zalo_window(now - timedelta(days=8), now, PAID_ALLOW)
    assert (closed.state, closed.blocked) == (CLOSED, True) and "7 ngày" in closed.notice


def test_messenger_agents_answer_past_24_hours_only_with_the_human_agent_permission() -> None:
    now = datetime.now(timezone.utc)
    assert messenger_window(now - timedelta(hours=23), now, human_agent=False).state == OPEN
    without = messenger_window(now - timedelta(hours=30), now, human_agent=False)
    assert (without.state, without.blocked) == (HUMAN_ONLY, True) and "Human Agent" in without.notice
    granted = messenger_window(now - timedelta(hours=30), now, human_agent=True)
    assert (granted.state, granted.blocked) == (HUMAN_ONLY, False) and "HUMAN_AGENT" in granted.notice
    assert messenger_window(now - timedelta(days=8), now, human_agent=True).blocked
    # what the channel sends: automated messages never past 24 h, agents tagged only with the permission
    assert delivery(False, now - timedelta(hours=23), now) == ("RESPONSE", None)
    assert isinstance(late := delivery(False, now - timedelta(hours=30), now), Refusal) and "tự động" in late.reason
    assert delivery(True, now - timedelta(hours=30), now, human_agent=True) == ("MESSAGE_TAG", "HUMAN_AGENT")
    refused = delivery(True, now - timedelta(hours=30), now, human_agent=False)
    assert isinstance(refused, Refusal) and refused.code == "messenger:no-human-agent"


def test_the_last_interaction_never_moves_back(sqlite_url: str) -> None:
    interactions, now = LastInteractions(engine_of(sqlite_url)), datetime.now(timezone.utc)
    interactions.record_zalo("u1", now - timedelta(hours=2))
    interactions.record_zalo("u1", now)
    interactions.record_zalo("u1", now - timedelta(hours=5))  # a retried event keeps its first time
    assert interactions.zalo("u1") == now and interactions.zalo("u2") is None
    assert interactions.window("zalo", "u1", WindowRules()).state == OPEN
    assert interactions.window("socketio", "web-1", WindowRules()) is None


# --- Zalo ---------------------------------------------------------------------------------------------------


def zalo_output(url: str, api: FakeZaloApi, paid: str) -> tuple[ZaloOutput, LastInteractions]:
    outbox, engine = zalo_outbox(url, api), engine_of(url)
    interactions = LastInteractions(engine)
    return ZaloOutput(outbox, ChoiceStore(engine), 2000, interactions, WindowRules(zalo_paid=paid)), interactions


@pytest.mark.parametrize("paid", [PAID_WARN, PAID_BLOCK])
def test_a_zalo_message_past_the_window_is_not_sent_and_the_agent_reads_why(sqlite_url, zalo_api, paid) -> None:
    async def scenario() -> None:
        output, interactions = zalo_output(sqlite_url, zalo_api, paid)
        for user, when in (("recent", ago(hours=1)), ("billable", ago(days=3)), ("gone", ago(days=8))):
            interactions.record_zalo(user, when)
            zalo_api.user_interacted(user, when.timestamp())
            await output.send_text_message(user, "Chào bạn", timestamp=1.0, agent="Lan")

    run(scenario())
    found = rows(sqlite_url)
    assert zalo_api.texts("recent") == ["Lan: Chào bạn"] and found["zalo:recent"].status == OUTBOX_SENT
    assert zalo_api.texts("gone") == [] and found["zalo:gone"].status == OUTBOX_FAILED
    assert "7 ngày" in found["zalo:gone"].error_reason
    if paid == PAID_WARN:  # sent, and Zalo counts it as billable
        assert zalo_api.texts("billable") == ["Lan: Chào bạn"] and zalo_api.billable == ["billable"]
    else:
        assert zalo_api.texts("billable") == [] and "tính phí" in found["zalo:billable"].error_reason
    assert [user for user, _ in zalo_api.sends] == ["recent", "billable"][: 2 if paid == PAID_WARN else 1]


def test_the_zalo_fake_refuses_past_7_days_as_zalo_does(sqlite_url, zalo_api) -> None:
    zalo_api.user_interacted("silent", time.time() - 8 * 24 * 3600)

    async def scenario() -> None:
        await zalo_outbox(sqlite_url, zalo_api).send("zalo:silent", [{"text": "Chào bạn"}], 1.0)

    run(scenario())  # a channel without the window check (or a record) still meets Zalo's refusal
    assert zalo_api.sends == [("silent", NOT_INTERACTING)] and rows(sqlite_url)["zalo:silent"].error_code == "zalo:-230"


def test_after_a_rate_limit_nothing_is_sent_to_zalo_for_a_whole_minute(sqlite_url, zalo_api) -> None:
    zalo_api.rate_limit_per_minute = 1

    async def scenario() -> None:
        outbox = zalo_outbox(sqlite_url, zalo_api, rate_limit_wait_seconds=ZaloConfig().rate_limit_wait_seconds)
        for user in ("first", "second", "third"):
            await outbox.send(f"zalo:{user}", [{"text": "Dạ vâng"}], 1.0)
        assert await outbox.run_due() == 0  # nothing due within the minute

    started = time.time()
    run(scenario())
    assert zalo_api.sends == [("first", 0), ("second", RATE_LIMITED)]  # the third never reached Zalo
    waiting = rows(sqlite_url)
    assert ZaloConfig().rate_limit_wait_seconds == 60
    for user in ("second", "third"):
        assert waiting[f"zalo:{user}"].next_attempt_at - started >= 59
        assert "mỗi phút" in waiting[f"zalo:{user}"].error_reason


def signed(raw: bytes, timestamp: str, first: str, secret: str) -> str:
    return mac_for(first, raw, timestamp, secret)


def event_body(age_seconds: float = 0) -> tuple[bytes, str]:
    timestamp = str(int((time.time() - age_seconds) * 1000))
    event = {
        "app_id": APP_ID, "event_name": "user_send_text", "sender": {"id": "8812"}, "recipient": {"id": OA_ID},
        "message": {"text": "alo", "msg_id": uuid.uuid4().hex}, "timestamp": timestamp,
    }  # fmt: skip
    return json.dumps(event).encode(), timestamp


def zalo_channel(**config: Any) -> ZaloInput:
    return ZaloInput(ZaloConfig(app_id=APP_ID, app_secret=APP_SECRET, oa_secret_key=OA_SECRET, oa_id=OA_ID,
                                **config))  # fmt: skip


def test_zalo_retries_are_accepted_up_to_the_retry_horizon(settings_under_tmp) -> None:
    channel = zalo_channel()
    for age in (0, 20 * 60, 110 * 60):  # the first delivery, a retry at 20 min, Zalo's last retry
        raw, timestamp = event_body(age)
        assert channel.verified_event(raw, signed(raw, timestamp, APP_ID, OA_SECRET))["timestamp"] == timestamp
    for age, why in ((3 * 3600, "older than Zalo's retries"), (-600, "future")):
        raw, timestamp = event_body(age)
        with pytest.raises(RejectedError) as rejected:
            channel.verified_event(raw, signed(raw, timestamp, APP_ID, OA_SECRET))
        assert rejected.value.status == 403 and why in rejected.value.reason


def test_the_zalo_signature_terms_are_configurable_and_the_log_names_the_match(settings_under_tmp, caplog) -> None:
    caplog.set_level(logging.INFO, logger="connectors.zalo")
    raw, timestamp = event_body()
    by_oa_and_app_secret = signed(raw, timestamp, OA_ID, APP_SECRET)
    by_app_and_oa_secret = signed(raw, timestamp, APP_ID, OA_SECRET)
    default = zalo_channel()
    default.verified_event(raw, by_oa_and_app_secret)
    assert "matched with oa_id + app_secret" in caplog.text
    default.verified_event(raw, by_app_and_oa_secret)
    assert "matched with app_id + oa_secret_key" in caplog.text
    narrowed = zalo_channel(mac_signed_with="app_secret", mac_first_terms="oa_id")
    narrowed.verified_event(raw, by_oa_and_app_secret)
    with pytest.raises(RejectedError) as rejected:
        narrowed.verified_event(raw, by_app_and_oa_secret)
    assert rejected.value.status == 401
    with pytest.raises(RejectedError):
        default.verified_event(raw, signed(raw, timestamp, APP_ID, "another-secret"))
    assert APP_SECRET not in caplog.text and OA_SECRET not in caplog.text


def captured_events() -> list[Path]:
    return sorted(CAPTURED.glob("*.json"))


@pytest.mark.skipif(not captured_events(), reason="no real Zalo webhook captured yet (tests/data/zalo_webhooks)")
@pytest.mark.parametrize("path", captured_events(), ids=lambda path: path.stem)
def test_a_captured_real_zalo_event_verifies(path: Path, settings_under_tmp, caplog) -> None:
    """A real event (see tests/data/zalo_webhooks/README.md) verifies with the terms it names, and no others."""
    caplog.set_level(logging.INFO, logger="connectors.zalo")
    captured = json.loads(path.read_text(encoding="utf-8"))
    raw = captured["raw_body"].encode()
    channel = ZaloInput(ZaloConfig(**captured["config"], max_age_seconds=10**12))  # recorded long ago
    channel.verified_event(raw, captured["signature"])
    assert f"matched with {captured['matched']}" in caplog.text


# --- Messenger ----------------------------------------------------------------------------------------------


def test_past_24_hours_automated_messages_stay_unsent_and_agents_need_the_permission(sqlite_url, graph) -> None:
    window = MessagingWindow(engine_of(sqlite_url))
    window.record("late", ago(hours=30))
    graph.person_wrote("late", ago(hours=30).timestamp())

    async def scenario() -> None:
        outbox = messenger_outbox(sqlite_url, graph)
        without = MessengerOutput(outbox, window, human_agent=False)
        await without.send_text_message("late", "Bạn đánh giá cuộc trò chuyện giúp mình nhé", timestamp=1.0)
        await without.send_text_message("late", "Xin lỗi bạn vì trả lời muộn", timestamp=2.0, agent="Lan")
        assert rows(sqlite_url)["fb:late"].status == OUTBOX_FAILED and graph.calls == 0  # Facebook never asked
        graph.human_agent_permission = True  # App Review granted it, and the shop switched FB_HUMAN_AGENT on
        await MessengerOutput(outbox, window, human_agent=True).send_text_message(
            "late", "Xin lỗi bạn vì trả lời muộn", timestamp=3.0, agent="Lan"
        )

    run(scenario())
    [tagged] = graph.messages("late")
    assert (tagged["messaging_type"], tagged["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert tagged["message"]["text"] == "Lan: Xin lỗi bạn vì trả lời muộn"
    engine = engine_of(sqlite_url)
    undelivered = OutboxStore(engine).undelivered("fb:late")
    assert "tự động" in undelivered[line_key(1.0)].reason and "Human Agent" in undelivered[line_key(2.0)].reason
    engine.dispose()


def test_the_messenger_fake_refuses_what_facebook_would(graph) -> None:
    graph.person_wrote("late", ago(hours=30).timestamp())
    graph.person_wrote("gone", ago(days=8).timestamp())

    async def scenario() -> list[Any]:
        api = SendApi(graph.graph_url, PAGE_TOKEN)
        try:
            tries = [await api.send_message("late", {"text": "một"})]  # RESPONSE past 24 h
            tries.append(await api.send_message("late", {"text": "hai"}, "MESSAGE_TAG", "HUMAN_AGENT"))
            graph.human_agent_permission = True
            tries.append(await api.send_message("late", {"text": "ba"}, "MESSAGE_TAG", "HUMAN_AGENT"))
            tries.append(await api.send_message("gone", {"text": "bốn"}, "MESSAGE_TAG", "HUMAN_AGENT"))
            return tries
        finally:
            await api.close()

    response, no_permission, tagged, too_late = asyncio.run(scenario())
    assert (response.code, response.retriable) == ("messenger:10/2018278", False)
    assert (no_permission.code, no_permission.reason) == ("messenger:10", PERMISSION_REASON)
    assert tagged.delivered and too_late.code == "messenger:10/2018278"
    assert graph.texts("late") == ["ba"] and graph.texts("gone") == []


def test_temporary_send_errors_are_retried_with_back_off(sqlite_url, graph) -> None:
    graph.fail_next(TEMPORARY_SEND)
    graph.fail_next(TEMPORARY)

    async def scenario() -> None:
        outbox = messenger_outbox(sqlite_url, graph)
        started = time.monotonic()
        await outbox.send("fb:patient", [{"message": {"text": "Dạ vâng"}, "messaging_type": "RESPONSE"}], 1.0)
        assert rows(sqlite_url)["fb:patient"].error_code == "messenger:1200"
        await work_until(outbox, lambda: graph.texts("patient"))
        assert time.monotonic() - started >= FAST.first_wait_seconds / 2 + FAST.first_wait_seconds  # waited twice

    run(scenario())
    row = rows(sqlite_url)["fb:patient"]
    assert (row.status, row.attempts) == (OUTBOX_SENT, 3) and graph.texts("patient") == ["Dạ vâng"]


def test_posts_about_other_objects_are_acknowledged_and_ignored(settings_under_tmp) -> None:
    app = Sanic(f"messenger_objects_{uuid.uuid4().hex[:8]}")
    channel = MessengerInput("verify", FB_APP_SECRET, PAGE_TOKEN, f"http://127.0.0.1:{free_port()}/v19.0")
    handled: list[str] = []

    async def on_new_message(message: Any) -> None:
        handled.append(message.text)

    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/messenger")

    async def post_them() -> list[tuple[int, str]]:
        port = free_port()
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        await server.startup()
        answers = []
        try:
            page_post = json.loads(webhook_post("1234", [text_event("psid-1", "alo", "1234")]))
            for kind in ("instagram", "user", "permissions"):
                raw = json.dumps({**page_post, "object": kind}).encode()
                reply = await asyncio.to_thread(
                    requests.post, f"http://127.0.0.1:{port}/webhooks/messenger/webhook", data=raw,
                    headers={"X-Hub-Signature-256": signature(FB_APP_SECRET, raw)}, timeout=5,
                )  # fmt: skip
                answers.append((reply.status_code, reply.text))
        finally:
            server.close()
            await server.wait_closed()
        return answers

    assert asyncio.run(post_them()) == [(200, "EVENT_RECEIVED")] * 3
    assert handled == []
