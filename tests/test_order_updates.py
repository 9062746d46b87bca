"""Order updates: an order's new status reaches the customers who proved it, by each platform's rules.

In this process, against the fake Zalo and Messenger APIs (tests/fakes/): ``cskh orders set-status`` on the
demo shop, then the channel's outbox worker as the Rasa server runs it. A Zalo customer inside the OA's
interaction window gets a consultation text, one outside it a ZNS template message to the order's phone with the
template and parameters of notices.yml; a customer who said "ngừng nhận thông báo" gets nothing (skipped on the
admin page); a ZNS refusal shows as failed; Messenger past 24 hours is skipped unless a tag is allowed. Last, the
shop's signed webhook on the desk: a bad signature is refused, a good one notifies once.
"""

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from bot.admin import cli
from bot.database import engine_for
from bot.messaging_windows import LastInteractions
from bot.order_updates import NoticeConfig, OrderUpdates
from bot.ownership import OwnershipLedger, ProofMethod
from bot.sandbox import ADMIN_PASSWORD, DeskAgent
from bot.schema import messenger_last_inbound_table
from bot.settings import Settings, settings_in_force
from bot.text.opt_out import asks_to_resume, asks_to_stop
from connectors import messenger, zalo
from connectors.messenger_client import SendApi
from connectors.notice_words import STOPPED, notice_wish_reply
from connectors.outbox import Outbox, RetryPolicy
from connectors.zalo_client import TokenStore, ZaloClient, ZaloConfig
from tests.console_server import console_server
from tests.fakes.messenger_api import FakeMessengerApi
from tests.fakes.zalo_api import FakeZaloApi

APP_ID, APP_SECRET, OA_SECRET = "4208372650153791023", "zalo-app-secret-for-tests", "zalo-oa-secret-for-tests"
PAGE_TOKEN = "EAAGpage-token-for-order-updates"
FAST = RetryPolicy(first_wait_seconds=0.05, max_wait_seconds=0.2, max_attempts=3, lease_seconds=5, poll_seconds=0.05)
ORDER, PHONE_84 = "DH123456", "84912345678"  # the demo shop's order with phone 0912345678 (bot/orders/demo_shop.py)
DELIVERED_TEMPLATE = "318523"  # notices.yml: delivered -> order_code, customer_name
DAY = 24 * 3600


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.under(tmp_path)


@pytest.fixture
def zalo_api() -> Iterator[FakeZaloApi]:
    with FakeZaloApi(APP_ID, APP_SECRET) as api:
        api.zns_templates = {DELIVERED_TEMPLATE: {"order_code", "customer_name"}}
        yield api


def interacted(settings: Settings, user_id: str, at: float) -> None:
    """The Zalo user last wrote to the OA at ``at``, as the channel records it."""
    LastInteractions(engine_for(settings.database_url)).record_zalo(user_id, datetime.fromtimestamp(at, timezone.utc))


def proved(settings: Settings, conversation_id: str, order: str = ORDER) -> None:
    OwnershipLedger(engine_for(settings.database_url)).attempt(conversation_id, order, True, ProofMethod.FULL_PHONE)


def set_status(settings: Settings, status: str, order: str = ORDER) -> str:
    """``cskh orders set-status`` as an admin types it; what it printed."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["--as", "admin", "orders", "set-status", order, status], settings) == 0
    return out.getvalue()


def deliver(outbox: Outbox, clients: list[Any]) -> None:
    """The channel's worker rounds, as the Rasa server runs them, until nothing is due."""

    async def rounds() -> None:
        try:
            for _ in range(40):
                if not await outbox.run_due():
                    await asyncio.sleep(0.05)
                    if not await outbox.run_due():
                        return
        finally:
            for client in clients:
                await client.close()

    asyncio.run(rounds())


def deliver_zalo(settings: Settings, api: FakeZaloApi) -> None:
    config = ZaloConfig(app_id=APP_ID, app_secret=APP_SECRET, oa_secret_key=OA_SECRET, api_url=api.url,
                        oauth_url=api.url, zns_url=api.url, timeout_seconds=2.0)  # fmt: skip
    engine = engine_for(settings.database_url)
    client = ZaloClient(config, TokenStore(engine, APP_ID, api.access_token, api.refresh_token, ""))
    outbox = zalo.outbox_for(client, engine)
    outbox.policy = FAST
    deliver(outbox, [client])


def admin_lines(settings: Settings) -> list[Any]:
    return OrderUpdates(engine_for(settings.database_url), NoticeConfig.load(settings.notices_config)).recent()


def test_a_zalo_customer_inside_the_window_gets_a_consultation_message(settings, zalo_api) -> None:
    proved(settings, "zalo:5001")
    interacted(settings, "5001", time.time() - 3600)
    printed = set_status(settings, "delivered")
    assert "Thông báo cho 1 khách" in printed
    deliver_zalo(settings, zalo_api)
    assert zalo_api.texts("5001") == [
        "Đơn DH123456 đã giao thành công. Cảm ơn bạn đã mua hàng, có gì chưa ổn bạn cứ nhắn mình nhé."
    ]
    assert zalo_api.zns_sent == []
    assert [(line.route, line.outcome) for line in admin_lines(settings)] == [("consultation", "sent")]


def test_outside_the_window_a_zns_template_goes_to_the_orders_phone(settings, zalo_api) -> None:
    proved(settings, "zalo:5002")
    interacted(settings, "5002", time.time() - 3 * DAY)  # past the 48 h window
    set_status(settings, "delivered")
    deliver_zalo(settings, zalo_api)
    assert zalo_api.texts("5002") == []
    [sent] = zalo_api.zns_to(PHONE_84)
    assert sent["template_id"] == DELIVERED_TEMPLATE
    assert sent["template_data"] == {"order_code": ORDER, "customer_name": "Nguyễn Thị Lan"}
    assert sent["tracking_id"]
    [line] = admin_lines(settings)
    assert (line.route, line.outcome, line.phone) == ("zns", "sent", "84*******78")


def test_a_customer_who_opted_out_gets_nothing_and_it_is_recorded_as_skipped(settings, zalo_api) -> None:
    proved(settings, "zalo:5003")
    interacted(settings, "5003", time.time())
    with settings_in_force(settings):  # the Rasa server's own settings name its database
        assert asyncio.run(notice_wish_reply("zalo:5003", "Ngừng nhận thông báo nhé")) == STOPPED
    set_status(settings, "delivered")
    deliver_zalo(settings, zalo_api)
    assert zalo_api.texts("5003") == [] and zalo_api.zns_sent == []
    [line] = admin_lines(settings)
    assert (line.outcome, line.reason) == ("skipped", "Khách đã yêu cầu ngừng nhận thông báo.")
    with settings_in_force(settings):  # and back on
        asyncio.run(notice_wish_reply("zalo:5003", "nhận lại thông báo"))
    set_status(settings, "returned")
    deliver_zalo(settings, zalo_api)
    assert zalo_api.texts("5003") == [
        "Đơn DH123456 đang được hoàn về shop. Bạn cần hỗ trợ gì thêm thì cứ nhắn mình nhé."
    ]


def test_the_opt_out_words_are_recognised_on_the_whole_message() -> None:
    for said in ("ngừng nhận thông báo", "Không nhận tin nữa", "huỷ đăng ký", "hủy đăng ký nha", "huy dang ky",
                 "mình không muốn nhận thông báo nữa"):  # fmt: skip
        assert asks_to_stop(said), said
    for said in ("huỷ đơn DH123456", "huỷ đăng ký thành viên giúp mình", "khi nào nhận được hàng", "huỷ"):
        assert not asks_to_stop(said), said
    assert asks_to_resume("Nhận lại thông báo") and not asks_to_resume("ngừng nhận thông báo")


def test_a_zns_refusal_is_shown_as_failed_with_its_reason(settings, zalo_api) -> None:
    zalo_api.zns_templates = {}  # the template of notices.yml is not (or no longer) approved for the OA
    proved(settings, "zalo:5004")
    set_status(settings, "delivered")  # never interacted: ZNS
    deliver_zalo(settings, zalo_api)
    assert zalo_api.zns_errors == [(PHONE_84, -109)]
    [line] = admin_lines(settings)
    assert line.outcome == "failed" and "Mẫu ZNS không tồn tại" in line.reason


def test_a_spent_zns_quota_fails_the_message_without_retrying(settings, zalo_api) -> None:
    zalo_api.zns_quota = 0
    proved(settings, "zalo:5005")
    set_status(settings, "delivered")
    deliver_zalo(settings, zalo_api)
    assert zalo_api.zns_errors == [(PHONE_84, -115)]
    assert admin_lines(settings)[0].reason == "Tài khoản ZNS của OA đã hết hạn mức hoặc số dư."


def test_the_fake_checks_zns_requests_as_zalo_documents_them(zalo_api) -> None:
    def send(body: dict[str, Any], token: str | None = None) -> int:
        headers = {"access_token": token or zalo_api.access_token}
        return requests.post(f"{zalo_api.url}/message/template", json=body, headers=headers, timeout=5).json()["error"]

    good = {"phone": PHONE_84, "template_id": DELIVERED_TEMPLATE, "tracking_id": "t1",
            "template_data": {"order_code": ORDER, "customer_name": "Lan"}}  # fmt: skip
    assert send(good) == 0
    assert send({**good, "phone": "0912345678"}) == -108
    assert send({**good, "template_id": "999"}) == -109
    assert send({**good, "template_data": {}}) == -111
    assert send({**good, "template_data": {"order_code": ORDER}}) == -112
    assert send(good, token="zat-wrong") == -124


def messenger_settings(settings: Settings, tag: str) -> Settings:
    notices = settings.var_dir / "notices.yml"
    text = Path(settings.notices_config).read_text(encoding="utf-8").replace('  tag: ""', f'  tag: "{tag}"')
    notices.write_text(text, encoding="utf-8")
    return Settings.under(settings.var_dir, notices_config=notices)


@pytest.mark.parametrize("tag", ["", "POST_PURCHASE_UPDATE"])
def test_messenger_past_24_hours_is_skipped_unless_a_tag_is_allowed(settings, tag) -> None:
    settings = messenger_settings(settings, tag)
    engine = engine_for(settings.database_url)
    proved(settings, "fb:7001")
    set_status(settings, "cancelled")  # creates the schema before the window is written
    with engine.begin() as connection:
        connection.execute(messenger_last_inbound_table.insert().values(psid="7001", received_at=sa.func.now()))
        connection.execute(messenger_last_inbound_table.update().values(
            received_at=sa.literal("2020-01-01 00:00:00")))  # fmt: skip
    with FakeMessengerApi(PAGE_TOKEN) as graph:
        set_status(settings, "returned")
        api = SendApi(graph.graph_url, PAGE_TOKEN, timeout=2.0)
        outbox = messenger.outbox_for(api, engine)
        outbox.policy = FAST
        deliver(outbox, [api])
        sent = graph.texts("7001")
    lines = admin_lines(settings)
    if tag:
        assert (lines[0].route, lines[0].outcome) == ("messenger_tag", "sent")
        assert any("hoàn về shop" in text for text in sent)
    else:
        assert (lines[0].route, lines[0].outcome) == ("messenger", "skipped")
        assert "24 giờ" in lines[0].reason and sent == []


def signed(secret: str, body: bytes, timestamp: float | None = None) -> dict[str, str]:
    from bot.desk.order_webhook import signature_for

    stamp = str(int(timestamp or time.time()))
    return {"X-Cskh-Timestamp": stamp, "X-Cskh-Signature": signature_for(secret, stamp, body),
            "Content-Type": "application/json"}  # fmt: skip


def test_the_shops_webhook_needs_its_signature_and_notifies_once(tmp_path: Path) -> None:
    secret = "shop-webhook-secret-for-tests"
    with console_server(tmp_path, order_webhook_secret=secret) as desk:
        engine = desk.engine
        OwnershipLedger(engine).attempt("web:browser-1", ORDER, True, ProofMethod.FULL_PHONE)
        order = {
            "number": ORDER, "status": "shipping", "customer_name": "Nguyễn Thị Lan", "phone": "0912345678",
            "items": [], "total": 199000, "carrier": "GHN", "tracking_code": "GHN626441373", "eta": "2026-11-28",
        }  # fmt: skip
        body = json.dumps({"event_id": "evt-1", "order": order}).encode()
        url = f"{desk.url}/api/order-updates"
        for headers in (
            {"Content-Type": "application/json"},  # not signed
            signed("someone-elses-secret", body),  # signed by someone else
            signed(secret, body, time.time() - 3600),  # replayed an hour later
        ):
            assert requests.post(url, data=body, headers=headers, timeout=5).status_code == 401
        assert requests.post(url, data=body + b" ", headers=signed(secret, body), timeout=5).status_code == 401
        first = requests.post(url, data=body, headers=signed(secret, body), timeout=5)
        assert first.status_code == 200 and first.json()["notices"] == [{"route": "web", "outcome": "queued"}]
        again = requests.post(url, data=body, headers=signed(secret, body), timeout=5)  # the shop retried
        assert again.json()["notices"] == []
        agent = DeskAgent(desk.url, "admin", ADMIN_PASSWORD)
        page = agent.http.get(f"{desk.url}/admin/notifications", timeout=5)
        assert page.status_code == 200 and ORDER in page.text and "Website" in page.text
        assert requests.get(f"{desk.url}/admin/notifications", timeout=5, allow_redirects=False).status_code in (
            302, 303, 401, 403,
        )  # fmt: skip
