"""The Facebook Messenger channel: real Rasa, action and desk processes against a fake Send API.

Facebook's side is tests/fakes/messenger_api.py: signed webhook posts in, a
Send API that validates what the bot sends and records it per person. The
pure parts (splitting, quick replies, the messaging window, Send API errors)
are tested directly, without the stack.
"""

import asyncio
import hashlib
import hmac
import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from PIL import Image
from rasa.core.channels.channel import register
from sanic import Sanic

from bot.sandbox import ADMIN_PASSWORD, DeskAgent, eventually, free_port
from bot.settings import Settings, settings_in_force
from connectors.core import split_text
from connectors.messenger import (
    TEXT_ONLY,
    MessagingWindow,
    MessengerInput,
    MessengerOutput,
    Refusal,
    delivery,
    last_inbound_table,
    outbox_for,
)
from connectors.messenger_client import MAX_TEXT, MORE_CHOICES, SendApi, asked_wait, with_quick_replies
from connectors.outbox import Attempt
from tests.fakes.messenger_api import (
    INVALID_TOKEN,
    OUTSIDE_WINDOW,
    RATE_LIMIT,
    TEMPORARY,
    USER_UNAVAILABLE,
    FakeMessengerApi,
    attachment_event,
    echo_event,
    postback_event,
    receipt_event,
    signature,
    text_event,
    webhook_post,
)
from tests.test_product_questions import ask

PAGE_ID = "104857600123456"
UNSUPPORTED = "Mình chỉ nhận ảnh (JPG, PNG, WEBP, GIF) và tệp PDF, bạn gửi lại giúp mình nhé."
APP_SECRET = "app-secret-for-tests"
VERIFY_TOKEN = "verify-token-for-tests"
PAGE_TOKEN = "EAAGpage-token-for-tests"


# --- without the stack ------------------------------------------------------------------------------------


def test_long_text_is_split_at_paragraphs_then_sentences_then_words() -> None:
    paragraph = "Shop giao hàng toàn quốc trong 2 đến 4 ngày làm việc. " * 20  # about 1,080 characters
    pieces = split_text(f"{paragraph.strip()}\n\n{paragraph.strip()}\n\n{paragraph.strip()}", MAX_TEXT)
    assert len(pieces) == 3 and all(len(p) <= MAX_TEXT for p in pieces)
    assert all(p.endswith("ngày làm việc.") for p in pieces)  # whole paragraphs

    one_paragraph = split_text(paragraph * 3, MAX_TEXT)
    assert all(len(p) <= MAX_TEXT and p.endswith(".") for p in one_paragraph)  # whole sentences

    words = split_text("hàng " * 900, MAX_TEXT)
    assert all(len(p) <= MAX_TEXT and p.endswith("hàng") for p in words)  # whole words
    assert " ".join(words).split() == ["hàng"] * 900

    assert split_text("x" * 4500, MAX_TEXT) == ["x" * 2000, "x" * 2000, "x" * 500]
    assert split_text("  Chào bạn!  ", MAX_TEXT) == ["Chào bạn!"]


def test_buttons_become_at_most_13_quick_replies_and_the_rest_a_numbered_list() -> None:
    buttons = [{"title": f"Chủ đề số {n} về giao hàng nhanh", "payload": f'/topic{{"n":{n}}}'} for n in range(1, 16)]
    text, replies = with_quick_replies("Bạn chọn chủ đề nhé:", buttons)
    assert len(replies) == 13
    assert all(r["content_type"] == "text" and len(r["title"]) <= 20 for r in replies)
    assert replies[0] == {"content_type": "text", "title": "Chủ đề số 1 về giao…", "payload": '/topic{"n":1}'}
    assert text == (
        f"Bạn chọn chủ đề nhé:\n\n{MORE_CHOICES}\n"
        "14. Chủ đề số 14 về giao hàng nhanh\n15. Chủ đề số 15 về giao hàng nhanh"
    )
    assert with_quick_replies("Chọn nhé", [{"title": "Có", "payload": "/affirm"}]) == (
        "Chọn nhé",
        [{"content_type": "text", "title": "Có", "payload": "/affirm"}],
    )


def test_agents_may_answer_for_7_days_with_the_human_agent_tag_the_bot_for_24_hours() -> None:
    now = datetime.now(timezone.utc)
    assert delivery(False, now - timedelta(hours=23), now) == ("RESPONSE", None)
    assert isinstance(delivery(False, now - timedelta(hours=30), now), Refusal)  # automated: never past 24 h
    assert delivery(True, now - timedelta(hours=23), now) == ("RESPONSE", None)
    assert delivery(True, now - timedelta(hours=30), now) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert isinstance(delivery(True, now - timedelta(hours=30), now, human_agent=False), Refusal)
    assert isinstance(delivery(True, now - timedelta(days=8), now), Refusal)
    assert delivery(True, None, now) == ("RESPONSE", None)  # no record: Facebook decides


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path: Path) -> Iterator[sa.engine.Engine]:
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'window.db'}", future=True)
    else:
        engine = sa.create_engine(request.getfixturevalue("postgres_url"), future=True)
    yield engine
    engine.dispose()


def test_the_last_message_time_never_moves_back(database: sa.engine.Engine) -> None:
    window, now = MessagingWindow(database), datetime.now(timezone.utc)
    assert window.last_inbound("psid-1") is None
    window.record("psid-1", now - timedelta(hours=2))
    window.record("psid-1", now)
    window.record("psid-1", now - timedelta(hours=5))  # a late redelivery
    assert window.last_inbound("psid-1") == now


@pytest.fixture
def graph() -> Iterator[FakeMessengerApi]:
    with FakeMessengerApi(PAGE_TOKEN) as api:
        yield api


def test_send_api_errors_say_whether_sending_again_can_help(graph: FakeMessengerApi, caplog) -> None:
    caplog.set_level(logging.INFO)
    psid = "psid-5551234567"

    async def scenario() -> list[Attempt]:
        api = SendApi(graph.graph_url, PAGE_TOKEN)
        results = []
        graph.fail_next(RATE_LIMIT, retry_after=30)
        results.append(await api.send_message(psid, {"text": "một"}))
        for error in (TEMPORARY, USER_UNAVAILABLE, OUTSIDE_WINDOW, INVALID_TOKEN):
            graph.fail_next(error)
            results.append(await api.send_message(psid, {"text": "hai"}))
        wrong_token = SendApi(graph.graph_url, "EAAGnot-the-token")
        results.append(await wrong_token.send_message(psid, {"text": "ba"}))
        results.append(await api.send_message(psid, {"text": "bốn"}))
        await api.close()
        await wrong_token.close()
        return results

    results = asyncio.run(scenario())
    assert [(r.delivered, r.retriable) for r in results] == [
        (False, True), (False, True), (False, False), (False, False), (False, False), (False, False), (True, False)
    ]  # fmt: skip
    assert results[0].wait_seconds == 30 and results[0].code == "messenger:613"
    assert [r.code for r in results[2:6]] == [
        "messenger:551/1545041", "messenger:10/2018278", "messenger:190", "messenger:190"
    ]  # fmt: skip
    assert "chặn trang" in results[2].reason and "quá thời hạn" in results[3].reason
    assert graph.texts(psid) == ["bốn"] and graph.calls == 7  # no retry inside the client: the outbox decides
    assert "cannot receive messages now" in caplog.text and "refused the message" in caplog.text
    assert "token is invalid or expired" in caplog.text
    assert PAGE_TOKEN not in caplog.text and "not-the-token" not in caplog.text and psid not in caplog.text


def test_facebooks_wait_is_read_from_retry_after_or_the_usage_header() -> None:
    usage = {"1234": [{"type": "messenger", "call_count": 100, "estimated_time_to_regain_access": 3}]}
    assert asked_wait({"Retry-After": "12"}) == 12
    assert asked_wait({"X-Business-Use-Case-Usage": json.dumps(usage)}) == 180
    assert asked_wait({"X-Business-Use-Case-Usage": "not json", "Retry-After": "soon"}) == 0


def test_a_send_api_that_hangs_or_is_down_costs_a_timeout_not_an_error(graph: FakeMessengerApi, caplog) -> None:
    async def scenario() -> list[bool]:
        slow = SendApi(graph.graph_url, PAGE_TOKEN, timeout=0.3)
        down = SendApi(f"http://127.0.0.1:{free_port()}/v19.0", PAGE_TOKEN)
        graph.hang_seconds = 1.0
        sent = await slow.send_message("psid-slow", {"text": "alo"})
        results = [sent.delivered or not sent.retriable]
        results.append(await down.sender_action("psid-down", "typing_on"))
        graph.hang_seconds = 0
        await slow.close()
        await down.close()
        return results

    assert asyncio.run(scenario()) == [False, False]
    assert "unreachable (TimeoutError)" in caplog.text and "unreachable (ClientConnectorError)" in caplog.text
    assert PAGE_TOKEN not in caplog.text


def test_a_failed_piece_stops_the_rest_of_a_long_message(graph: FakeMessengerApi, tmp_path: Path) -> None:
    async def scenario() -> None:
        api = SendApi(graph.graph_url, PAGE_TOKEN)
        output = MessengerOutput(outbox_for(api, sa.create_engine(f"sqlite:///{tmp_path / 'cskh.db'}", future=True)))
        graph.fail_next(USER_UNAVAILABLE)
        await output.send_text_message("psid-gone", "Dài lắm. " * 600)
        await output.send_text_message("psid-here", "Dài lắm. " * 600)
        await api.close()

    asyncio.run(scenario())
    assert graph.calls == 1 + 3
    assert [len(t) <= MAX_TEXT for t in graph.texts("psid-here")] == [True, True, True]


def test_a_product_picture_goes_after_the_words_as_an_image_message(graph: FakeMessengerApi, tmp_path: Path) -> None:
    async def scenario() -> None:
        api = SendApi(graph.graph_url, PAGE_TOKEN)
        output = MessengerOutput(outbox_for(api, sa.create_engine(f"sqlite:///{tmp_path / 'cskh.db'}", future=True)))
        await output.send_response(
            "fb:psid-1",
            {
                "text": "Nồi chiên không dầu 5L giá 1.290.000đ.",
                "image": "https://bot.shop.example/webhooks/socketio/products/n.png",
            },
        )
        # without a public URL the picture is a path Facebook cannot fetch: the words alone
        await output.send_response(
            "fb:psid-2", {"text": "Quạt đứng giá 890.000đ.", "image": "/webhooks/socketio/q.png"}
        )
        await api.close()

    asyncio.run(scenario())
    first, picture = graph.messages("psid-1")
    assert first["message"]["text"] == "Nồi chiên không dầu 5L giá 1.290.000đ."
    link = "https://bot.shop.example/webhooks/socketio/products/n.png"
    assert picture["message"]["attachment"] == {"type": "image", "payload": {"url": link, "is_reusable": True}}
    assert [m["message"] for m in graph.messages("psid-2")] == [{"text": "Quạt đứng giá 890.000đ."}]


def answered(question: str, folder: Path, public_url: str) -> dict[str, Any]:
    """The product action's message (actions/product_answers.py) on the demo catalog under ``folder``."""
    with settings_in_force(Settings.under(folder, public_url=public_url)):
        message, _ = ask(question)
    return message


def test_a_product_answer_is_a_card_where_facebook_can_fetch_its_picture(graph: FakeMessengerApi, tmp_path) -> None:
    card_answer = answered("nồi chiên 5L giá nhiêu", tmp_path, "https://bot.shop.example")
    words_only = answered("nồi chiên 5L giá nhiêu", tmp_path, "http://192.168.1.20:5005")  # not https: not public

    async def scenario() -> None:
        api = SendApi(graph.graph_url, PAGE_TOKEN)
        output = MessengerOutput(outbox_for(api, sa.create_engine(f"sqlite:///{tmp_path / 'cskh.db'}", future=True)))
        await output.send_response("fb:psid-card", card_answer)
        await output.send_response("fb:psid-words", words_only)
        await api.close()

    asyncio.run(scenario())
    words, _ = graph.messages("psid-card")  # the answer, then its card instead of the bare picture
    assert "1.290.000đ" in words["message"]["text"]
    assert graph.cards("psid-card") == [{
        "title": "Nồi chiên không dầu 5L",
        "subtitle": "Đang giảm còn 1.290.000đ (giá gốc 1.490.000đ, giảm 13%) · còn hàng",
        "image_url": "https://bot.shop.example/webhooks/socketio/products/noi-chien-5l.png",
        "buttons": [
            {"type": "postback", "title": "Hỏi thêm", "payload": '/product_question{"product":"noi-chien-5l"}'},
            {"type": "postback", "title": "Gặp nhân viên", "payload": "/request_human"},
        ],
    }]  # fmt: skip
    assert [m["message"] for m in graph.messages("psid-words")] == [{"text": words["message"]["text"]}]


def test_cards_are_kept_within_the_generic_templates_limits(graph: FakeMessengerApi, tmp_path) -> None:
    button = {"type": "postback", "title": "Xem mẫu này ngay bây giờ nhé", "payload": "/request_human"}
    card = {"title": "Bộ nồi inox " * 10, "subtitle": "Giá 1.000.000đ · còn hàng " * 5,
            "image_url": "https://bot.shop.example/p.png", "buttons": [button] * 4}  # fmt: skip
    bad = {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": [card] * 11}}}

    async def scenario() -> Attempt:
        api = SendApi(graph.graph_url, PAGE_TOKEN)
        output = MessengerOutput(outbox_for(api, sa.create_engine(f"sqlite:///{tmp_path / 'cskh.db'}", future=True)))
        await output.send_response("fb:psid-many", {"text": "Các mẫu bộ nồi:", "elements": [card] * 12})
        refused = await api.send_message("psid-many", bad, "RESPONSE", None)  # as is, Facebook refuses it
        await api.close()
        return refused

    assert not asyncio.run(scenario()).delivered
    cards = graph.cards("psid-many")
    assert len(cards) == 10
    assert all(len(c["title"]) <= 80 and len(c["subtitle"]) <= 80 and len(c["buttons"]) == 3 for c in cards)
    assert {b["title"] for c in cards for b in c["buttons"]} == {"Xem mẫu này ngay bâ…"}


def test_without_its_secrets_the_channel_is_off() -> None:
    app = Sanic(f"messenger_off_{uuid.uuid4().hex[:8]}")
    channel = MessengerInput.from_credentials({"verify_token": "", "app_secret": "", "page_access_token": ""})
    register([channel], app, "/webhooks/")  # as Rasa mounts channels
    base = "/webhooks/messenger"

    async def ask_it() -> tuple[dict, requests.Response, int]:
        port = free_port()
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        await server.startup()
        url = f"http://127.0.0.1:{port}{base}"
        try:
            health = (await asyncio.to_thread(requests.get, f"{url}/", timeout=5)).json()
            raw = webhook_post(PAGE_ID, [text_event("psid-off", "alo", PAGE_ID)])
            headers = {"X-Hub-Signature-256": signature("", raw)}
            posted = await asyncio.to_thread(requests.post, f"{url}/webhook", data=raw, headers=headers, timeout=5)
            verify = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
            verified = await asyncio.to_thread(requests.get, f"{url}/webhook", params=verify, timeout=5)
            return health, posted, verified.status_code
        finally:
            server.close()
            await server.wait_closed()

    health, posted, verified = asyncio.run(ask_it())
    assert health == {"status": "off"}
    assert posted.status_code == 503 and "FB_APP_SECRET" in posted.json()["error"]
    assert verified == 503


# --- with the stack ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def facebook(channels_stack) -> FakeMessengerApi:
    return channels_stack.messenger_api


@pytest.fixture(scope="module")
def stack(channels_stack) -> tuple[Settings, Path]:
    return channels_stack.settings, channels_stack.workdir


def webhook(settings: Settings) -> str:
    return f"{settings.rasa_url}/webhooks/messenger/webhook"


def post(settings: Settings, raw: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    """A webhook post as Facebook signs it, unless ``headers`` say otherwise."""
    if headers is None:
        headers = {"X-Hub-Signature-256": signature(APP_SECRET, raw)}
    headers = {"Content-Type": "application/json", **headers}
    return requests.post(webhook(settings), data=raw, headers=headers, timeout=5)


def user_texts(settings: Settings, psid: str) -> list[str]:
    """What Rasa recorded the person saying."""
    tracker = requests.get(
        f"{settings.rasa_url}/conversations/fb:{psid}/tracker", params={"token": settings.rasa_token}, timeout=10
    ).json()
    return [event["text"] for event in tracker["events"] if event["event"] == "user"]


class Person:
    """Someone writing to the shop's page."""

    def __init__(self, settings: Settings, facebook: FakeMessengerApi) -> None:
        self.settings, self.facebook = settings, facebook
        self.psid = f"{uuid.uuid4().int % 10**16:016d}"

    def send(self, event: dict[str, Any]) -> int:
        """Posts one event; returns how many messages the person had before, to wait for the answer after."""
        before = len(self.facebook.messages(self.psid))
        self.facebook.person_wrote(self.psid)  # Facebook knows when the person last wrote
        reply = post(self.settings, webhook_post(PAGE_ID, [event]))
        assert reply.status_code == 200, reply.text
        return before

    def says(self, text: str, expect: str) -> dict[str, Any]:
        """Sends ``text``, returns the first answer containing ``expect``."""
        before = self.send(text_event(self.psid, text, PAGE_ID))
        return self.facebook.wait_for(self.psid, lambda m: expect in m["message"]["text"], after=before)


@pytest.mark.slow
def test_webhook_verification_echoes_the_challenge_only_for_the_right_token(stack) -> None:
    settings, _ = stack
    ok = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    answer = requests.get(webhook(settings), params=ok, timeout=5)
    assert (answer.status_code, answer.text) == (200, "1158201444")
    for wrong in ({**ok, "hub.verify_token": "guess"}, {**ok, "hub.mode": "unsubscribe"}, {"hub.challenge": "1"}):
        refused = requests.get(webhook(settings), params=wrong, timeout=5)
        assert refused.status_code == 403 and "1158201444" not in refused.text


@pytest.mark.slow
def test_posts_without_a_valid_signature_are_refused_and_never_processed(stack, facebook) -> None:
    settings, _ = stack
    person = Person(settings, facebook)
    forged = webhook_post(PAGE_ID, [text_event(person.psid, "phí ship bao nhiêu", PAGE_ID)])
    tampered = forged.replace(b"ship", b"SHIP")
    sha1_only = {"X-Hub-Signature": "sha1=" + hmac.new(APP_SECRET.encode(), forged, hashlib.sha1).hexdigest()}
    for raw, headers in [
        (forged, {"X-Hub-Signature-256": "sha256=" + "0" * 64}),
        (forged, {}),
        (forged, sha1_only),
        (tampered, {"X-Hub-Signature-256": signature(APP_SECRET, forged)}),
        (forged, {"X-Hub-Signature-256": signature("another-app-secret", forged)}),
    ]:
        assert post(settings, raw, headers).status_code == 403
    person.says("chính sách đổi trả thế nào", "đổi")
    facebook.wait_for_action(person.psid, "typing_off")
    assert user_texts(settings, person.psid) == ["chính sách đổi trả thế nào"]
    assert facebook.actions(person.psid) == ["typing_on", "typing_off"]


@pytest.mark.slow
def test_every_entry_and_every_event_of_a_post_is_answered_echoes_and_receipts_ignored(stack, facebook) -> None:
    settings, _ = stack
    lan, minh, hoa = (Person(settings, facebook) for _ in range(3))
    raw = webhook_post(
        PAGE_ID,
        [text_event(lan.psid, "phí ship về Hà Nội bao nhiêu", PAGE_ID), text_event(minh.psid, "chào shop", PAGE_ID),
         echo_event(minh.psid, "tin nhắn của trang", PAGE_ID), receipt_event(lan.psid, PAGE_ID)],
        [text_event(lan.psid, "chính sách đổi trả thế nào", PAGE_ID),
         postback_event(hoa.psid, "Bao lâu thì nhận được hàng?", "Thời gian giao hàng", PAGE_ID),
         receipt_event(hoa.psid, PAGE_ID, "read")],
    )  # fmt: skip
    assert post(settings, raw).text == "EVENT_RECEIVED"
    facebook.wait_for(lan.psid, lambda m: "20.000đ" in m["message"]["text"])
    facebook.wait_for(lan.psid, lambda m: "đổi" in m["message"]["text"].lower())
    facebook.wait_for(minh.psid, lambda m: "Chào bạn" in m["message"]["text"])
    facebook.wait_for(hoa.psid, lambda m: "ngày" in m["message"]["text"])
    for person, count in ((lan, 2), (minh, 1), (hoa, 1)):
        facebook.wait_for_action(person.psid, "typing_off", count)
        assert facebook.actions(person.psid).count("typing_on") == count  # receipts and echoes start nothing
    assert user_texts(settings, lan.psid) == ["phí ship về Hà Nội bao nhiêu", "chính sách đổi trả thế nào"]
    assert facebook.sent(PAGE_ID) == []  # the page's own echo was not answered


@pytest.mark.slow
def test_the_typing_indicator_is_on_while_the_bot_answers(stack, facebook) -> None:
    settings, _ = stack
    person = Person(settings, facebook)
    person.says("phí ship nội thành bao nhiêu", "20.000đ")
    facebook.wait_for_action(person.psid, "typing_off")
    sent = facebook.sent(person.psid)
    assert sent[0]["sender_action"] == "typing_on" and sent[-1]["sender_action"] == "typing_off"
    assert all(body["messaging_type"] == "RESPONSE" for body in sent[1:-1])


@pytest.mark.slow
def test_a_redelivered_message_is_answered_once(stack, facebook) -> None:
    settings, _ = stack
    person = Person(settings, facebook)
    first = text_event(person.psid, "phí ship về Đà Nẵng bao nhiêu", PAGE_ID, mid="m_" + uuid.uuid4().hex)
    assert post(settings, webhook_post(PAGE_ID, [first])).status_code == 200
    later = text_event(person.psid, "chính sách bảo hành thế nào", PAGE_ID)
    assert post(settings, webhook_post(PAGE_ID, [first, later], [first])).status_code == 200
    facebook.wait_for_action(person.psid, "typing_off", 2)  # one person's posts are answered in order
    assert user_texts(settings, person.psid) == ["phí ship về Đà Nẵng bao nhiêu", "chính sách bảo hành thế nào"]
    assert facebook.actions(person.psid).count("typing_on") == 2


@pytest.mark.slow
def test_not_understood_offers_topics_as_quick_replies_and_a_tap_sends_the_payload(stack, facebook) -> None:
    settings, _ = stack
    person = Person(settings, facebook)
    question = person.says("qwzx plorb vvk", "chưa hiểu")
    replies = question["message"]["quick_replies"]
    assert 0 < len(replies) <= 13 and all(len(r["title"]) <= 20 and r["content_type"] == "text" for r in replies)
    shipping = next(r for r in replies if r["title"] == "Phí giao hàng")
    before = person.send(text_event(person.psid, shipping["title"], PAGE_ID, quick_reply=shipping["payload"]))
    facebook.wait_for(person.psid, lambda m: "20.000đ" in m["message"]["text"], after=before)
    assert user_texts(settings, person.psid)[-1] == shipping["payload"]


@pytest.mark.slow
def test_a_postback_sends_its_payload(stack, facebook) -> None:
    settings, _ = stack
    person = Person(settings, facebook)
    before = person.send(postback_event(person.psid, "Chính sách đổi trả thế nào?", "Đổi trả hàng", PAGE_ID))
    facebook.wait_for(person.psid, lambda m: "đổi" in m["message"]["text"].lower(), after=before)
    assert user_texts(settings, person.psid) == ["Chính sách đổi trả thế nào?"]


@pytest.mark.slow
def test_a_sticker_or_voice_message_gets_a_polite_request_for_text_without_nlu(stack, facebook) -> None:
    settings, _ = stack
    person = Person(settings, facebook)
    person.send(attachment_event(person.psid, PAGE_ID, "image", sticker_id=369239263222822))  # the thumbs-up
    person.send(attachment_event(person.psid, PAGE_ID, "audio"))
    facebook.wait_for_action(person.psid, "typing_off", 2)
    assert facebook.texts(person.psid) == [TEXT_ONLY, TEXT_ONLY]
    assert user_texts(settings, person.psid) == []


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (150, 90, 20)).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.slow
def test_a_photo_is_kept_and_the_bot_offers_a_report_or_a_person(stack, facebook) -> None:
    settings, _ = stack
    person = Person(settings, facebook)
    url = facebook.host_file(jpeg(), "427119370_n.jpg")
    before = person.send(attachment_event(person.psid, PAGE_ID, "image", url=url))
    answer = facebook.wait_for(person.psid, lambda m: "nhận được ảnh" in m["message"]["text"], after=before)
    assert [r["title"] for r in answer["message"]["quick_replies"]] == ["Báo lỗi đơn hàng", "Gặp nhân viên"]
    assert TEXT_ONLY not in facebook.texts(person.psid)
    [said] = user_texts(settings, person.psid)
    assert re.fullmatch(r"\[ảnh #[0-9a-f]{32}\]", said)
    # a PDF that is not one is refused in words, and never reaches the bot
    before = person.send(attachment_event(person.psid, PAGE_ID, "file", url=facebook.host_file(b"MZ\x90\0", "a.pdf")))
    refusal = facebook.wait_for(person.psid, lambda m: "chỉ nhận ảnh" in m["message"]["text"], after=before)
    assert refusal["message"]["text"] == UNSUPPORTED
    assert len(user_texts(settings, person.psid)) == 1


@pytest.mark.slow
def test_a_photo_sent_during_a_hand_off_reaches_the_agent_inline(stack, facebook) -> None:
    settings, _ = stack
    admin = admin_agent(settings)
    person = Person(settings, facebook)
    person.says("cho mình gặp nhân viên về đơn DH135790", "vị trí số")
    row = admin.waiting_for("DH135790")
    admin.claim(row["id"])
    facebook.wait_for(person.psid, lambda m: "Nhân viên CSKH đã tham gia" in m["message"]["text"])
    sent = jpeg()
    person.send(attachment_event(person.psid, PAGE_ID, "image", url=facebook.host_file(sent, "broken.jpg")))
    line = eventually(lambda: next((m["text"] for m in admin.messages(row["id"]) if "[ảnh #" in m["text"]), None),
                      describe=lambda: admin.messages(row["id"]))  # fmt: skip
    picture = admin.http.get(f"{settings.desk_url}/attachments/{line[len('[ảnh #') : -1]}", timeout=10)
    assert picture.status_code == 200 and picture.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(picture.content)).size == (64, 48)
    assert not any("nhận được ảnh" in text for text in facebook.texts(person.psid))  # the bot stays quiet


def admin_agent(settings: Settings) -> DeskAgent:
    admin = DeskAgent(settings.desk_url, "admin", ADMIN_PASSWORD)
    assert admin.status == 200 and admin.csrf
    return admin


@pytest.mark.slow
def test_an_agent_answers_after_24_hours_with_the_human_agent_tag(stack, facebook) -> None:
    settings, workdir = stack
    admin = admin_agent(settings)
    person = Person(settings, facebook)
    person.says("cho mình gặp nhân viên về đơn DH246810", "vị trí số")
    handoff_id = admin.waiting_for("DH246810")["id"]
    admin.claim(handoff_id)
    facebook.wait_for(person.psid, lambda m: "Nhân viên CSKH đã tham gia" in m["message"]["text"])
    engine = sa.create_engine(f"sqlite:///{workdir / 'cskh.db'}", future=True)

    def last_wrote(ago: timedelta) -> None:
        facebook.person_wrote(person.psid, (datetime.now(timezone.utc) - ago).timestamp())
        with engine.begin() as connection:
            connection.execute(
                last_inbound_table.update()
                .where(last_inbound_table.c.psid == person.psid)
                .values(received_at=datetime.now(timezone.utc) - ago)
            )

    last_wrote(timedelta(hours=30))
    assert admin.post(handoff_id, "reply", text="Xin lỗi bạn vì trả lời muộn, đơn đã được giao lại").json()["ok"]
    tagged = facebook.wait_for(person.psid, lambda m: "trả lời muộn" in m["message"]["text"])
    assert (tagged["messaging_type"], tagged["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert tagged["message"]["text"] == "CSKH: Xin lỗi bạn vì trả lời muộn, đơn đã được giao lại"

    page = admin.http.get(f"{settings.desk_url}/handoffs/{handoff_id}", timeout=10).text
    assert "chỉ nhân viên trả lời được (thẻ HUMAN_AGENT)" in page  # the agent sees the window before writing

    last_wrote(timedelta(days=8))  # too late even for a human: Messenger would refuse, so the desk refuses first
    refused = admin.post(handoff_id, "reply", text="Bạn còn cần hỗ trợ không ạ?")
    assert refused.status_code == 409 and "hơn 7 ngày" in refused.json()["error"]  # the agent knows, before sending
    assert "hơn 7 ngày trước" in admin.http.get(f"{settings.desk_url}/handoffs/{handoff_id}", timeout=10).text
    assert not any(m["text"] == "Bạn còn cần hỗ trợ không ạ?" for m in admin.messages(handoff_id))
    admin.post(handoff_id, "close", resolution="Đã giao lại đơn")
    # the desk's automated closing message and CSAT question are not sent past 24 h: Messenger would refuse them
    assert not any("đánh giá" in text for text in facebook.texts(person.psid))
    assert not any("hỗ trợ không" in text for text in facebook.texts(person.psid))
    engine.dispose()


@pytest.mark.slow
def test_a_whole_conversation_faq_order_status_then_an_agent(stack, facebook) -> None:
    settings, _ = stack
    admin = admin_agent(settings)
    person = Person(settings, facebook)
    person.says("phí ship về Hà Nội bao nhiêu", "20.000đ")
    person.says("kiểm tra đơn DH123456", "số điện thoại")
    status = person.says("0912345678", "đang giao")
    assert "DH123456" in status["message"]["text"]
    queued = person.says("cho mình gặp nhân viên về đơn DH123456", "vị trí số")
    assert queued["messaging_type"] == "RESPONSE"

    row = admin.waiting_for("DH123456")
    assert row["channel"] == "messenger"
    admin.claim(row["id"])
    facebook.wait_for(person.psid, lambda m: "Nhân viên CSKH đã tham gia" in m["message"]["text"])
    assert admin.post(row["id"], "reply", text="Chào bạn, đơn DH123456 sẽ tới trong hôm nay nhé").json()["ok"]
    reply = facebook.wait_for(person.psid, lambda m: m["message"]["text"].startswith("CSKH: "))
    assert reply["message"]["text"] == "CSKH: Chào bạn, đơn DH123456 sẽ tới trong hôm nay nhé"
    assert reply["messaging_type"] == "RESPONSE" and "tag" not in reply
    assert all(len(text) <= MAX_TEXT for text in facebook.texts(person.psid))

    person.send(text_event(person.psid, "cảm ơn shop nhiều", PAGE_ID))  # reaches the agent, not the bot
    eventually(lambda: "cảm ơn shop nhiều" in [m["text"] for m in admin.messages(row["id"])],
               describe=lambda: admin.messages(row["id"]))  # fmt: skip
    admin.post(row["id"], "close", resolution="Đã báo thời gian giao")
    csat = facebook.wait_for(person.psid, lambda m: "đánh giá" in m["message"]["text"])
    assert [r["title"] for r in csat["message"]["quick_replies"]] == [f"{n} ⭐" for n in range(1, 6)]
