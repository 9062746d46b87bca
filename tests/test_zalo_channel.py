"""The Zalo OA channel against the real stack (Rasa, action server, desk) with Zalo's API faked on loopback.

Webhooks are signed the documented way (SHA-256 of app id, raw body, timestamp and
secret); the bot's replies are read from what the fake OA API received. One stack
serves the whole module; each test has customers of its own.
"""

import asyncio
import hashlib
import io
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from PIL import Image
from sanic import Sanic

from bot.database import engine_for
from bot.sandbox import ADMIN_PASSWORD, DeskAgent, eventually, free_port
from bot.schema import zalo_last_interaction_table
from bot.settings import CHANNEL_ENV_DEFAULTS, Settings, settings_in_force
from connectors.zalo import ChoiceStore, ZaloInput, ZaloOutput, chosen
from connectors.zalo_client import TokenStore, ZaloClient, ZaloConfig, tokens_table
from tests.databases import KINDS, project_database
from tests.fakes.zalo_api import EXPIRED_TOKEN, INVALID_TOKEN, NOT_INTERACTING, RATE_LIMITED, FakeZaloApi
from tests.test_outbox import run, zalo_outbox
from tests.test_product_questions import ask

APP_ID = "4208372650153791023"
OA_ID = "1032900368545911432"
APP_SECRET = "zalo-app-secret-for-tests"
OA_SECRET = "zalo-oa-secret-for-tests"
SHIPPING_FEE = "20.000đ"  # in the answer to any shipping-fee question (data/shop/policy.yml)
GREETING = "Chào bạn! Mình là trợ lý ảo"


def now_ms(offset_seconds: float = 0) -> str:
    return str(int((time.time() + offset_seconds) * 1000))


def sign(raw: bytes, timestamp: str, secret: str = OA_SECRET) -> str:
    """``X-ZEvent-Signature`` as Zalo computes it: mac=sha256(app_id + body + timestamp + secret)."""
    return "mac=" + hashlib.sha256(APP_ID.encode() + raw + timestamp.encode() + secret.encode()).hexdigest()


def text_event(user_id: str, text: str, msg_id: str | None = None, timestamp: str | None = None) -> dict[str, Any]:
    return {
        "app_id": APP_ID, "user_id_by_app": "55" + user_id[2:], "event_name": "user_send_text",
        "sender": {"id": user_id}, "recipient": {"id": OA_ID},
        "message": {"text": text, "msg_id": msg_id or uuid.uuid4().hex}, "timestamp": timestamp or now_ms(),
    }  # fmt: skip


def media_event(user_id: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "app_id": APP_ID, "user_id_by_app": "55" + user_id[2:], "event_name": f"user_send_{kind}",
        "sender": {"id": user_id}, "recipient": {"id": OA_ID}, "timestamp": now_ms(),
        "message": {"msg_id": uuid.uuid4().hex, "text": "", "attachments": [{"type": kind, "payload": payload}]},
    }  # fmt: skip


def follow_event(user_id: str) -> dict[str, Any]:
    return {
        "app_id": APP_ID, "oa_id": OA_ID, "user_id_by_app": "55" + user_id[2:], "event_name": "follow",
        "source": "oa_profile", "follower": {"id": user_id}, "timestamp": now_ms(),
    }  # fmt: skip


@dataclass
class ZaloStack:
    settings: Settings
    workdir: Path
    api: FakeZaloApi
    user_ids: list[str] = field(default_factory=list)

    def post(self, event: dict[str, Any], secret: str = OA_SECRET) -> requests.Response:
        raw = json.dumps(event, ensure_ascii=False).encode()
        who = event.get("follower") or event.get("sender") or {}
        if secret == OA_SECRET and who.get("id") != OA_ID:  # Zalo itself knows when the user interacted
            self.api.user_interacted(who["id"], int(event["timestamp"]) / 1000)
        return self.post_raw(raw, sign(raw, event["timestamp"], secret))

    def post_raw(self, raw: bytes, signature: str | None) -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-ZEvent-Signature"] = signature
        return requests.post(f"{self.settings.rasa_url}/webhooks/zalo/webhook", data=raw, headers=headers, timeout=10)

    def user(self) -> "ZaloUser":
        # from the OS, not ``random``: training and model loading in this process seed ``random``, so two
        # modules sharing the stack would otherwise draw the same Zalo user
        user_id = str(10**18 + secrets.randbelow(9 * 10**18))
        self.user_ids.append(user_id)
        return ZaloUser(self, user_id)

    def database(self) -> sa.engine.Engine:
        return sa.create_engine(f"sqlite:///{self.workdir / 'cskh.db'}", future=True)

    def user_texts(self, user_id: str) -> list[str]:
        """What the customer said, as Rasa recorded it."""
        reply = requests.get(
            f"{self.settings.rasa_url}/conversations/zalo:{user_id}/tracker",
            params={"token": self.settings.rasa_token}, timeout=10,
        )  # fmt: skip
        reply.raise_for_status()
        return [e["text"] for e in reply.json()["events"] if e["event"] == "user"]


@dataclass
class ZaloUser:
    zalo: ZaloStack
    id: str

    def send(self, event: dict[str, Any]) -> None:
        reply = self.zalo.post(event)
        assert reply.status_code == 200, reply.text

    def say(self, text: str) -> None:
        self.send(text_event(self.id, text))

    def hears(self, part: str, timeout: float = 20) -> str:
        """The first text the OA sent this customer containing ``part``."""
        return self.zalo.api.wait_for(self.id, lambda text: part in text, timeout)

    def texts(self) -> list[str]:
        return self.zalo.api.texts(self.id)


@pytest.fixture(scope="module")
def zalo(channels_stack) -> ZaloStack:
    return ZaloStack(channels_stack.settings, channels_stack.workdir, channels_stack.zalo_api)


@pytest.mark.slow
def test_a_signed_message_is_answered_and_forged_or_stale_ones_are_refused(zalo: ZaloStack) -> None:
    customer = zalo.user()
    forged = text_event(customer.id, "xin chào")
    assert zalo.post(forged, secret="not-the-secret").status_code == 401
    raw = json.dumps(forged).encode()
    assert zalo.post_raw(raw, None).status_code == 401
    tampered = raw.replace(b"xin ch", b"tam bi")
    assert zalo.post_raw(tampered, sign(raw, forged["timestamp"])).status_code == 401
    stale = text_event(customer.id, "xin chào", timestamp=now_ms(-3 * 3600))  # past Zalo's last retry
    assert zalo.post(stale).status_code == 403

    customer.say("phí ship về Hà Nội bao nhiêu")
    assert SHIPPING_FEE in customer.hears(SHIPPING_FEE)
    assert len(customer.texts()) == 1
    assert zalo.user_texts(customer.id) == ["phí ship về Hà Nội bao nhiêu"]


@pytest.mark.slow
def test_a_receipt_is_acknowledged_and_ignored(zalo: ZaloStack) -> None:
    customer = zalo.user()
    seen = {
        "app_id": APP_ID, "event_name": "user_seen_message", "sender": {"id": OA_ID},
        "recipient": {"id": customer.id}, "message": {"msg_ids": [uuid.uuid4().hex]}, "timestamp": now_ms(),
    }  # fmt: skip
    reply = zalo.post(seen)
    assert reply.status_code == 200 and reply.json() == {"status": "ignored"}


@pytest.mark.slow
def test_a_redelivered_message_is_answered_once(zalo: ZaloStack) -> None:
    customer = zalo.user()
    event = text_event(customer.id, "phí ship về Hà Nội bao nhiêu")
    statuses: list[int] = []
    deliveries = [threading.Thread(target=lambda: statuses.append(zalo.post(event).status_code)) for _ in range(2)]
    for delivery in deliveries:
        delivery.start()
    for delivery in deliveries:
        delivery.join()
    statuses.append(zalo.post(event).status_code)  # and once more, later
    assert statuses == [200, 200, 200]
    customer.say("chính sách đổi trả thế nào")
    customer.hears(SHIPPING_FEE)
    customer.hears("đổi")
    assert sum(SHIPPING_FEE in text for text in customer.texts()) == 1
    assert zalo.user_texts(customer.id) == ["phí ship về Hà Nội bao nhiêu", "chính sách đổi trả thế nào"]


def stored_pair(zalo: ZaloStack) -> tuple[str, str]:
    engine = zalo.database()
    with engine.connect() as connection:
        row = connection.execute(sa.select(tokens_table).where(tokens_table.c.app_id == APP_ID)).one()
    engine.dispose()
    return row.access_token, row.refresh_token


@pytest.mark.slow
def test_a_refused_token_is_refreshed_once_and_the_new_pair_kept(zalo: ZaloStack) -> None:
    api = zalo.api
    for make_unusable, error in ((api.revoke_access_token, INVALID_TOKEN), (api.expire_access_token, EXPIRED_TOKEN)):
        customer = zalo.user()
        calls, spent = api.refresh_calls, api.refresh_token
        make_unusable()
        customer.say("phí ship nội thành bao nhiêu")
        assert SHIPPING_FEE in customer.hears(SHIPPING_FEE)
        assert api.refresh_calls == calls + 1
        assert spent in api.used_refresh_tokens
        assert stored_pair(zalo) == (api.access_token, api.refresh_token)
        assert [e for user, e in api.sends if user == customer.id] == [error, 0]


@pytest.mark.slow
def test_an_access_token_past_its_expiry_is_refreshed_before_sending(zalo: ZaloStack) -> None:
    engine = zalo.database()
    with engine.begin() as connection:
        connection.execute(tokens_table.update().values(expires_at=time.time() - 1))
    engine.dispose()
    customer, calls = zalo.user(), zalo.api.refresh_calls
    customer.say("phí ship nội thành bao nhiêu")
    customer.hears(SHIPPING_FEE)
    assert zalo.api.refresh_calls == calls + 1
    assert [e for user, e in zalo.api.sends if user == customer.id] == [0]  # no refused attempt first
    assert stored_pair(zalo) == (zalo.api.access_token, zalo.api.refresh_token)


@pytest.mark.slow
def test_a_rate_limit_is_waited_out_once_and_an_unreachable_customer_given_up(zalo: ZaloStack) -> None:
    customer = zalo.user()
    zalo.api.fail_next.append(RATE_LIMITED)
    customer.say("phí ship nội thành bao nhiêu")
    customer.hears(SHIPPING_FEE)
    assert [e for user, e in zalo.api.sends if user == customer.id] == [RATE_LIMITED, 0]

    gone = zalo.user()
    zalo.api.unreachable_users.add(gone.id)
    gone.say("phí ship nội thành bao nhiêu")
    eventually(lambda: any(user == gone.id for user, _ in zalo.api.sends), timeout=20, interval=0.1)
    customer.say("chính sách đổi trả thế nào")  # the bot carries on; nothing retried meanwhile
    customer.hears("đổi")
    assert [e for user, e in zalo.api.sends if user == gone.id] == [NOT_INTERACTING]


@pytest.mark.slow
def test_a_long_agent_message_reaches_zalo_in_parts_cut_between_sentences(zalo: ZaloStack) -> None:
    customer = zalo.user()
    customer.say("phí ship nội thành bao nhiêu")
    customer.hears(SHIPPING_FEE)
    sentence = "Đơn hàng của bạn đã được bàn giao cho đơn vị vận chuyển và sẽ đến trong vài ngày tới. "
    long_text = (sentence * 30).strip() + "\n\n" + (sentence * 20).strip()  # 2,600 then 1,700 characters
    agent_message = {
        "event": "bot", "text": long_text, "timestamp": time.time(),
        "metadata": {"source": "desk", "agent": "Lan"},
    }  # fmt: skip
    # the way the desk delivers agents' replies: Rasa picks the channel the customer wrote on, no webhook behind it
    reply = requests.post(
        f"{zalo.settings.rasa_url}/conversations/zalo:{customer.id}/tracker/events",
        params={"token": zalo.settings.rasa_token, "output_channel": "latest", "execute_side_effects": "true"},
        json=[agent_message], timeout=20,
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    customer.hears("Lan: Đơn hàng")
    eventually(lambda: "".join(customer.texts()).count("Đơn hàng của bạn") >= 50, interval=0.1, describe=customer.texts)
    parts = customer.texts()[1:]
    assert len(parts) == 3 and all(len(part) <= 2000 for part in parts)
    assert parts[0].startswith("Lan: ") and all(part.endswith("tới.") for part in parts)
    assert " ".join(parts).split() == ("Lan: " + long_text).split()  # nothing lost, no word cut


@pytest.mark.slow
def test_buttons_become_a_numbered_list_and_a_number_picks_one(zalo: ZaloStack) -> None:
    customer = zalo.user()
    customer.say("xin chào")
    greeting = customer.hears(GREETING)
    assert "1. Phí giao hàng\n2. Kiểm tra đơn hàng\n3. Chính sách đổi trả" in greeting
    customer.say(" 1 ")
    customer.hears(SHIPPING_FEE)
    customer.say("xin chào")
    eventually(lambda: sum(GREETING in text for text in customer.texts()) >= 2, 20, 0.1, describe=customer.texts)
    customer.say("số 2")
    customer.hears("mã đơn hàng")
    assert zalo.user_texts(customer.id) == [
        "xin chào", "Phí giao hàng bao nhiêu?", "xin chào", "Kiểm tra đơn hàng giúp mình",
    ]  # fmt: skip


@pytest.mark.slow
def test_a_new_follower_is_greeted_once(zalo: ZaloStack) -> None:
    customer = zalo.user()
    follow = follow_event(customer.id)
    customer.send(follow)
    customer.send(follow)  # redelivered
    assert "1. Phí giao hàng" in customer.hears(GREETING)
    customer.say("phí ship nội thành bao nhiêu")
    customer.hears(SHIPPING_FEE)
    assert sum(GREETING in text for text in customer.texts()) == 1


@pytest.mark.slow
def test_stickers_and_voice_get_a_polite_request_to_type(zalo: ZaloStack) -> None:
    customer = zalo.user()
    customer.send(media_event(customer.id, "sticker", {"id": "b1c2", "url": "https://zalo-api.zadn.vn/sticker"}))
    customer.send(media_event(customer.id, "audio", {"url": "https://voice.zdn.vn/test/a.aac"}))
    for kind in ("nhãn dán", "tin nhắn thoại"):
        answer = customer.hears(f"nhận được {kind}")
        assert "chỉ đọc được tin nhắn chữ" in answer and "gặp nhân viên" in answer
    assert zalo.user_texts(customer.id) == []  # nothing reached the NLU


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 60, 200)).save(out, "JPEG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


@pytest.mark.slow
def test_a_photo_and_a_pdf_are_kept_and_the_bot_offers_a_report_or_a_person(zalo: ZaloStack) -> None:
    customer = zalo.user()
    photo = zalo.api.host_file(jpeg(), "cup.jpg")
    customer.send(media_event(customer.id, "image", {"url": photo, "thumbnail": photo}))
    offer = customer.hears("nhận được ảnh bạn gửi")
    assert "1. Báo lỗi đơn hàng" in offer and "2. Gặp nhân viên" in offer
    pdf = {"url": zalo.api.host_file(PDF, "hoa-don.pdf"), "name": "hoá đơn.pdf", "size": str(len(PDF)), "type": "pdf"}
    customer.send(media_event(customer.id, "file", pdf))
    customer.hears("nhận được tệp bạn gửi")
    said = zalo.user_texts(customer.id)
    assert len(said) == 2 and said[0].startswith("[ảnh #") and said[1].startswith("[tệp hoá đơn.pdf #")
    assert not any("chỉ đọc được tin nhắn chữ" in text for text in customer.texts())


@pytest.mark.slow
def test_a_conversation_from_faq_to_an_agent_on_zalo(zalo: ZaloStack) -> None:
    agent = DeskAgent(zalo.settings.desk_url, "admin", ADMIN_PASSWORD)  # online before the customer asks
    assert agent.status == 200
    customer = zalo.user()
    customer.say("phí ship về Hà Nội bao nhiêu")
    customer.hears(SHIPPING_FEE)
    customer.say("kiểm tra đơn DH123456")
    customer.hears("số điện thoại")
    customer.say("0912345678")
    assert "DH123456" in customer.hears("đang giao")
    customer.say("cho mình gặp nhân viên")
    customer.hears("vị trí số")

    [row] = eventually(lambda: [r for r in agent.queue()["waiting"] if r["channel"] == "zalo"], describe=agent.queue)
    agent.claim(row["id"])
    customer.hears("đã tham gia")

    photo = zalo.api.host_file(jpeg(), "parcel.jpg")
    customer.send(media_event(customer.id, "image", {"url": photo}))  # with an agent, it goes to the agent
    line = eventually(lambda: next((m["text"] for m in agent.messages(row["id"]) if "[ảnh #" in m["text"]), None),
                      describe=lambda: agent.messages(row["id"]))  # fmt: skip
    picture = agent.http.get(f"{zalo.settings.desk_url}/attachments/{line[len('[ảnh #') : -1]}", timeout=10)
    assert picture.status_code == 200 and Image.open(io.BytesIO(picture.content)).size == (64, 48)
    assert agent.post(row["id"], "reply", text="Chào bạn, mình kiểm tra đơn DH123456 ngay nhé").json() == {"ok": True}
    assert customer.hears("kiểm tra đơn DH123456 ngay") == "CSKH: Chào bạn, mình kiểm tra đơn DH123456 ngay nhé"
    assert not any("chỉ đọc được tin nhắn chữ" in text for text in customer.texts())

    assert agent.post(row["id"], "close", resolution="Đã báo tình trạng đơn").json()["ok"]
    question = customer.hears("đánh giá")
    assert "\n5. 5 ⭐" in question
    customer.say("5")
    customer.hears("Cảm ơn bạn đã đánh giá")


def test_only_a_bare_number_in_range_picks_a_button() -> None:
    buttons = [{"title": "Có", "payload": "/affirm"}, {"title": "Không", "payload": "/deny"}]
    for answer in ("1", " 1 ", "1.", "số 1", "Số 1", "so 1", "chọn 1"):
        assert chosen(answer, buttons) == "/affirm", answer
    for answer in ("3", "0", "đơn 1", "1 cái", "0912345678"):
        assert chosen(answer, buttons) == answer
    assert chosen("2", []) == "2"


def test_a_product_answer_shows_its_picture_where_zalo_can_fetch_it(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'cskh.db'}"
    with settings_in_force(Settings.under(tmp_path, public_url="https://bot.shop.example")):
        card_answer, _ = ask("quạt đứng tiết kiệm điện giá sao")
    with settings_in_force(Settings.under(tmp_path, public_url="")):  # only the widget can show the picture
        words_only, _ = ask("quạt đứng tiết kiệm điện giá sao")
    with FakeZaloApi(APP_ID, APP_SECRET) as api:

        async def scenario() -> bool:
            output = ZaloOutput(zalo_outbox(url, api), ChoiceStore(engine_for(url)), 2000)
            await output.send_response("zalo:7001", card_answer)
            await output.send_response("zalo:7002", words_only)
            client = replica(url, api, api.access_token, api.refresh_token)
            try:  # a picture Zalo could not fetch is refused (-201)
                return (await client.send_picture("7003", "http://192.168.1.20:5005/products/q.png")).delivered
            finally:
                await client.close()

        assert run(scenario()) is False
        [words] = api.texts("7001")  # the answer, then its picture: no link as text
        assert "Quạt đứng tiết kiệm điện giá 890.000đ" in words
        assert api.pictures_to("7001") == ["https://bot.shop.example/webhooks/socketio/products/quat-dung.png"]
        assert api.texts("7002") == [words] and api.pictures_to("7002") == []


@pytest.fixture(params=KINDS)
def database(request, tmp_path) -> str:
    return project_database(request, tmp_path, "zalo_tokens")


def replica(database: str, api: FakeZaloApi, access_token: str, refresh_token: str) -> ZaloClient:
    """A client as one Rasa process builds it, the environment's pair being the two tokens."""
    config = ZaloConfig(app_id=APP_ID, app_secret=APP_SECRET, oa_secret_key=OA_SECRET, api_url=api.url,
                        oauth_url=api.url, timeout_seconds=1.0)  # fmt: skip
    return ZaloClient(config, TokenStore(sa.create_engine(database, future=True), APP_ID, access_token, refresh_token))


def send_all(*sends: tuple[ZaloClient, str, str]) -> list[bool]:
    """Sends concurrently, as separate processes would; closes the clients."""

    async def run() -> list[bool]:
        try:
            attempts = await asyncio.gather(*(client.send_text(user, text) for client, user, text in sends))
            return [attempt.delivered for attempt in attempts]
        finally:
            for client, _, _ in sends:
                await client.close()

    return asyncio.run(run())


def stored_tokens(database: str) -> tuple[str, str, float | None]:
    engine = sa.create_engine(database, future=True)
    with engine.connect() as connection:
        row = connection.execute(sa.select(tokens_table)).one()
    engine.dispose()
    return row.access_token, row.refresh_token, row.lease_until


def test_two_replicas_refreshing_at_once_spend_the_refresh_token_once(database: str) -> None:
    with FakeZaloApi(APP_ID, APP_SECRET) as api:
        first, second = (replica(database, api, api.access_token, api.refresh_token) for _ in range(2))
        api.revoke_access_token()
        api.refresh_delay = 0.3  # both find the token refused while the first refresh is still under way
        assert send_all((first, "u0", "chào bạn"), (second, "u1", "chào bạn")) == [True, True]
        assert api.refresh_calls == 1
        assert api.texts("u0") == api.texts("u1") == ["chào bạn"]
        assert stored_tokens(database) == (api.access_token, api.refresh_token, None)


def test_a_refused_refresh_gives_up_and_leaves_the_next_try_free(database: str) -> None:
    with FakeZaloApi(APP_ID, APP_SECRET) as api:
        assert send_all((replica(database, api, "zat-never-issued", "zrt-never-issued"), "u0", "chào")) == [False]
        assert api.refresh_calls == 1 and api.texts("u0") == []
        assert stored_tokens(database) == ("zat-never-issued", "zrt-never-issued", None)  # no lease left behind
        assert send_all((replica(database, api, "zat-never-issued", "zrt-never-issued"), "u0", "chào")) == [False]
        assert api.refresh_calls == 2


def test_after_a_refused_refresh_the_shops_new_pair_from_the_environment_is_used(database: str) -> None:
    with FakeZaloApi(APP_ID, APP_SECRET) as api:
        assert send_all((replica(database, api, "zat-old", "zrt-old"), "u0", "chào")) == [False]
        # the shop authorizes the OA again and restarts with the new pair
        assert send_all((replica(database, api, api.access_token, api.refresh_token), "u0", "chào")) == [True]
        assert stored_tokens(database) == (api.access_token, api.refresh_token, None)
        # a replica still started with the old pair (a rolling deploy) keeps using the working one
        assert send_all((replica(database, api, "zat-old", "zrt-old"), "u1", "chào")) == [True]
        assert api.texts("u0") == api.texts("u1") == ["chào"]


def test_a_hanging_zalo_api_fails_the_send_after_the_timeout_without_raising(tmp_path) -> None:
    with FakeZaloApi(APP_ID, APP_SECRET) as api:
        api.hang_seconds = 2
        started = time.monotonic()
        database = f"sqlite:///{tmp_path / 'cskh.db'}"
        assert send_all((replica(database, api, api.access_token, api.refresh_token), "u0", "chào")) == [False]
        assert time.monotonic() - started < 2


def test_without_app_id_or_secret_the_channel_is_off(monkeypatch, settings_under_tmp) -> None:
    from rasa.shared.utils.io import read_config_file

    from bot.paths import CREDENTIALS_FILE

    for name, default in CHANNEL_ENV_DEFAULTS.items():
        monkeypatch.setenv(name, default)  # what bot.processes gives Rasa when the shop set nothing
    channel = ZaloInput.from_credentials(read_config_file(str(CREDENTIALS_FILE))["connectors.zalo.ZaloInput"])
    assert channel.get_output_channel() is None

    async def never(_: Any) -> None:
        raise AssertionError("a message reached Rasa")

    app = Sanic(f"zalo_off_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(never), url_prefix="/webhooks/zalo")

    async def post_to_it() -> tuple[int, dict]:
        port = free_port()
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        await server.startup()
        try:
            raw = json.dumps(text_event("1234567890123456789", "xin chào")).encode()
            reply = await asyncio.to_thread(
                requests.post, f"http://127.0.0.1:{port}/webhooks/zalo/webhook", data=raw,
                headers={"X-ZEvent-Signature": "mac=whatever"}, timeout=10,
            )  # fmt: skip
            return reply.status_code, reply.json()
        finally:
            server.close()
            await server.wait_closed()

    status, body = asyncio.run(post_to_it())
    assert status == 503 and "not configured" in body["error"]
    assert not (settings_under_tmp.var_dir / "cskh.db").exists()  # switched off: no database, no tokens, nothing


@pytest.mark.slow
def test_logs_never_hold_a_token_or_a_whole_user_id(zalo: ZaloStack) -> None:
    logs = (zalo.workdir / "logs" / "rasa.log").read_text(encoding="utf-8", errors="replace")
    assert "zalo: access token refreshed" in logs and "zalo: webhook rejected" in logs
    secrets = [zalo.api.access_token, zalo.api.refresh_token, *zalo.api.used_refresh_tokens, APP_SECRET, OA_SECRET]
    leaked = [s for s in [*secrets, *zalo.user_ids] if s in logs]
    assert leaked == []


@pytest.mark.slow
def test_a_retry_within_zalos_horizon_is_answered_once_and_an_older_one_refused(zalo: ZaloStack) -> None:
    customer = zalo.user()
    retried = text_event(customer.id, "phí ship về Hà Nội bao nhiêu", timestamp=now_ms(-20 * 60))
    customer.send(retried)  # first received 20 minutes late: Zalo's retry, signed as the original
    customer.hears(SHIPPING_FEE)
    customer.send(retried)  # and replayed once more
    too_old = text_event(customer.id, "chính sách đổi trả thế nào", timestamp=now_ms(-3 * 3600))
    assert zalo.post(too_old).status_code == 403  # past Zalo's last retry (about 1 h 50 min)
    customer.say("chính sách đổi trả thế nào")
    customer.hears("đổi")
    assert sum(SHIPPING_FEE in text for text in customer.texts()) == 1
    assert zalo.user_texts(customer.id) == ["phí ship về Hà Nội bao nhiêu", "chính sách đổi trả thế nào"]


@pytest.mark.slow
def test_the_agent_sees_zalos_window_and_a_reply_zalo_would_refuse_is_refused_before_sending(zalo: ZaloStack) -> None:
    agent = DeskAgent(zalo.settings.desk_url, "admin", ADMIN_PASSWORD)
    customer = zalo.user()
    customer.say("cho mình gặp nhân viên về đơn DH975310")
    customer.hears("vị trí số")
    handoff_id = agent.waiting_for("DH975310")["id"]
    agent.claim(handoff_id)
    customer.hears("đã tham gia")
    page = f"{zalo.settings.desk_url}/handoffs/{handoff_id}"
    assert 'id="channel-window"' not in agent.http.get(page, timeout=10).text  # within 48 h: nothing to say

    engine = zalo.database()

    def last_interaction(ago: timedelta) -> None:
        when = datetime.now(timezone.utc) - ago
        zalo.api.user_interacted(customer.id, when.timestamp())
        with engine.begin() as connection:
            connection.execute(
                zalo_last_interaction_table.update()
                .where(zalo_last_interaction_table.c.user_id == customer.id)
                .values(interacted_at=when)
            )

    last_interaction(timedelta(days=3))  # billable on most OA packages: the shop's default is to warn
    assert "có thể bị Zalo tính phí" in agent.http.get(page, timeout=10).text
    assert agent.post(handoff_id, "reply", text="Chào bạn, đơn DH975310 đã giao lại rồi nhé").json() == {"ok": True}
    customer.hears("đã giao lại rồi")
    assert customer.id in zalo.api.billable

    last_interaction(timedelta(days=8))  # Zalo refuses consultation messages now (-230)
    assert "7 ngày qua" in agent.http.get(page, timeout=10).text
    refused = agent.post(handoff_id, "reply", text="Bạn còn cần hỗ trợ gì không ạ?")
    assert refused.status_code == 409 and "7 ngày qua" in refused.json()["error"]
    assert not any("còn cần hỗ trợ" in text for text in customer.texts())
    assert [error for user, error in zalo.api.sends if user == customer.id].count(NOT_INTERACTING) == 0
    agent.post(handoff_id, "close", resolution="Đã giao lại đơn")  # its CSAT question is not sent either
    engine.dispose()
