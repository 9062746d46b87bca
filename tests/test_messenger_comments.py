"""Comments on the page's posts answered privately in Messenger (connectors/messenger_comments.py).

Facebook's side is tests/fakes/messenger_api.py: it knows each comment it was told of, takes one private reply
per comment within 7 days (answering with the person's PSID) and public replies under comments. The channel
runs in this process on a Sanic app for what needs no model; the whole conversation runs on the channels stack.
"""

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from rasa.core.channels.channel import register
from sanic import Sanic

from bot.catalog.demo_catalog import DemoCatalog
from bot.sandbox import ADMIN_PASSWORD, DeskAgent, eventually, free_port
from bot.settings import Settings, settings_in_force
from bot.text.comments import COMPLAINT, OTHER, QUESTION, read_comment
from connectors import dedupe, messenger
from connectors.comment_products import post_products
from connectors.guard import Guard
from connectors.messenger import MessengerInput
from connectors.messenger_client import SendApi
from connectors.messenger_comments import INVITATION, Comment, CommentRules, private_reply_text
from tests.fakes.messenger_api import FakeMessengerApi, feed_post, signed, text_event, webhook_post
from tests.test_messenger_channel import APP_SECRET, PAGE_ID, PAGE_TOKEN, VERIFY_TOKEN

DEMO_POST = f"{PAGE_ID}_555000000000001"  # the demo page's post selling the air fryer (facebook_posts.yml)


def test_price_stock_and_inbox_comments_are_questions_praise_and_spam_are_not_complaints_are() -> None:
    for text in ("giá bn ạ", "Giá?", "ib", "Inbox em với", "còn size M ko", "gia bn shop", "check ib nha", "."):
        assert read_comment(text) == QUESTION, text
    for text in ("Đẹp quá shop ơi ❤️", "@Lan Anh vào xem nè", "gia đình mình thích lắm", "kiếm tiền online tại nhà"):
        assert read_comment(text) == OTHER, text
    for text in ("Giao hàng chậm quá, thất vọng ghê", "shop lừa đảo, hàng tệ quá mà giá thì cao"):
        assert read_comment(text) == COMPLAINT, text


def comment(text: str, name: str = "Nguyễn Thu Trang") -> Comment:
    from datetime import datetime, timezone

    return Comment(PAGE_ID, "1_2", "1", "42", name, text, datetime.now(timezone.utc))


def test_the_private_reply_greets_and_answers_when_the_catalog_can_else_invites() -> None:
    today = private_reply_text(comment("giá bn ạ"), QUESTION, None)  # what the bot answers today: no catalog yet
    assert today == f"Chào bạn Trang, cảm ơn bạn đã quan tâm sản phẩm của shop! {INVITATION}"
    answered = private_reply_text(comment("giá bn ạ"), QUESTION, "Áo thun basic giá 150.000đ, còn size M và L.")
    assert answered.endswith("Áo thun basic giá 150.000đ, còn size M và L.") and INVITATION not in answered
    assert private_reply_text(comment("giá?", name=""), QUESTION, None).startswith("Chào bạn, ")


# --- the channel in this process ---------------------------------------------------------------------------


@pytest.fixture
def graph() -> Iterator[FakeMessengerApi]:
    with FakeMessengerApi(PAGE_TOKEN) as api:
        yield api


@pytest.fixture
def project_db(settings_under_tmp, monkeypatch) -> Iterator[None]:
    guard = Guard(())
    monkeypatch.setattr(messenger, "door_guard", lambda: guard)
    dedupe.seen_messages.cache_clear()
    yield
    dedupe.seen_messages.cache_clear()


def serve(graph: FakeMessengerApi, posts: list[tuple[bytes, dict[str, str]]], wait: Any, **credentials: str) -> list:
    """Mounts the channel as Rasa does, posts each body with its headers, then waits until ``wait()`` holds."""
    app = Sanic(f"comments_{uuid.uuid4().hex[:8]}")
    channel = MessengerInput.from_credentials({
        "verify_token": VERIFY_TOKEN, "app_secret": APP_SECRET, "page_access_token": PAGE_TOKEN,
        "graph_url": graph.graph_url, **credentials,
    })  # fmt: skip
    register([channel], app, "/webhooks/")

    async def run() -> list[int]:
        port = free_port()
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        await server.startup()
        await server.after_start()
        url = f"http://127.0.0.1:{port}/webhooks/messenger/webhook"
        try:
            codes = []
            for raw, headers in posts:
                answer = await asyncio.to_thread(requests.post, url, data=raw, headers=headers, timeout=5)
                codes.append(answer.status_code)
            await asyncio.to_thread(eventually, wait, 10, 0.05)
            await asyncio.sleep(0.3)  # anything more that would (wrongly) be sent has time to arrive
            return codes
        finally:
            await server.before_stop()
            server.close()
            await server.wait_closed()

    return asyncio.run(run())


def test_a_price_comment_gets_exactly_one_private_reply_however_often_it_is_delivered(graph, project_db) -> None:
    value = graph.add_comment("900001", "giá bn ạ", PAGE_ID)
    raw = feed_post(PAGE_ID, value)
    codes = serve(graph, [(raw, signed(APP_SECRET, raw))] * 3, lambda: graph.private_replies())
    assert codes == [200, 200, 200]
    [reply] = graph.private_replies(value["comment_id"])
    assert reply["message"]["text"].startswith("Chào bạn Trang, cảm ơn bạn đã quan tâm sản phẩm của shop!")
    assert reply["messaging_type"] == "RESPONSE"
    assert graph.public_replies == []  # off unless the shop configures it
    # another replica (a new process, same database) given the redelivery does not reply again either
    serve(graph, [(raw, signed(APP_SECRET, raw))], lambda: True)
    assert len(graph.private_replies(value["comment_id"])) == 1


def test_a_public_reply_goes_under_the_comment_only_when_configured(graph, project_db) -> None:
    value = graph.add_comment("900002", "còn size M ko shop", PAGE_ID)
    raw = feed_post(PAGE_ID, value)
    serve(graph, [(raw, signed(APP_SECRET, raw))], lambda: graph.public_replies,
          comment_public_reply="Shop đã inbox bạn ạ")  # fmt: skip
    assert graph.public_replies == [(value["comment_id"], "Shop đã inbox bạn ạ")]
    assert len(graph.private_replies(value["comment_id"])) == 1


def test_praise_spam_the_pages_own_comments_edits_and_complaints_by_default_get_nothing(graph, project_db) -> None:
    praise = graph.add_comment("900003", "Đẹp quá shop ơi, lần trước mua rất ưng", PAGE_ID)
    spam = graph.add_comment("900004", "Kiếm tiền online tại nhà, nhắn mình", PAGE_ID)
    complaint = graph.add_comment("900005", "Giao hàng chậm quá, thất vọng ghê", PAGE_ID)
    own = graph.add_comment(PAGE_ID, "Giá 150k bạn nhé, bạn ib shop", PAGE_ID)  # the page answering publicly
    edited = {**graph.add_comment("900006", "giá bn ạ", PAGE_ID), "verb": "edited"}
    reaction = {"item": "reaction", "verb": "add", "from": {"id": "900007"}, "reaction_type": "like"}
    asked = graph.add_comment("900008", "ib", PAGE_ID)  # in the same post: answered, and proves the post was read
    raw = feed_post(PAGE_ID, praise, spam, complaint, own, edited, reaction, asked)
    codes = serve(graph, [(raw, signed(APP_SECRET, raw))], lambda: graph.private_replies())
    assert codes == [200]
    assert [r["recipient"]["comment_id"] for r in graph.private_replies()] == [asked["comment_id"]]


def test_unsigned_or_forged_feed_posts_are_refused_and_never_answered(graph, project_db) -> None:
    value = graph.add_comment("900009", "giá bn ạ", PAGE_ID)
    raw = feed_post(PAGE_ID, value)
    forged = {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64}
    codes = serve(graph, [(raw, {"Content-Type": "application/json"}), (raw, forged)], lambda: True)
    assert codes == [403, 403]
    assert graph.private_replies() == []


def test_facebook_refuses_a_second_reply_and_one_after_7_days_the_channel_takes_no_for_an_answer(graph) -> None:
    old = graph.add_comment("900010", "giá bn ạ", PAGE_ID, days_ago=8)
    fresh = graph.add_comment("900011", "giá bn ạ", PAGE_ID)

    async def scenario() -> list[tuple[bool, bool, str | None]]:
        api = SendApi(graph.graph_url, PAGE_TOKEN)
        results = []
        for comment_id in (fresh["comment_id"], fresh["comment_id"], old["comment_id"]):
            attempt, psid = await api.private_reply(comment_id, {"text": "Chào bạn"})
            results.append((attempt.delivered, attempt.retriable, psid))
        await api.close()
        return results

    first, second, late = asyncio.run(scenario())
    assert first == (True, False, graph.psid_of("900011"))  # the PSID, not the comment's from.id
    assert second[:2] == (False, False) and late[:2] == (False, False)
    assert len(graph.private_replies()) == 1


def test_an_old_comment_is_not_answered_and_bursts_of_comments_are_limited(graph, project_db) -> None:
    old = graph.add_comment("900012", "giá bn ạ", PAGE_ID, days_ago=8)
    many = [graph.add_comment("900013", f"giá mẫu {n} bn ạ", PAGE_ID) for n in range(15)]
    raw = feed_post(PAGE_ID, old, *many)
    serve(graph, [(raw, signed(APP_SECRET, raw))], lambda: len(graph.private_replies()) >= 10)
    replied = {r["recipient"]["comment_id"] for r in graph.private_replies()}
    assert old["comment_id"] not in replied
    assert len(replied) == 10  # the door guard's burst for one person, as for their messages


def test_comment_rules_come_from_credentials() -> None:
    assert CommentRules.from_credentials({}) == CommentRules("", False)
    configured = {"comment_public_reply": " Shop đã inbox bạn ạ ", "comment_complaints": "desk"}
    assert CommentRules.from_credentials(configured) == CommentRules("Shop đã inbox bạn ạ", True)


# --- the catalog's answer in the private reply ---------------------------------------------------------------


def reply_to(graph: FakeMessengerApi, text: str, post_id: str | None = DEMO_POST) -> str:
    """The private reply's text to a new comment ``text`` under ``post_id``, through the channel in this process."""
    value = graph.add_comment(f"{uuid.uuid4().int % 10**15}", text, PAGE_ID, post_id=post_id)
    raw = feed_post(PAGE_ID, value)
    serve(graph, [(raw, signed(APP_SECRET, raw))], lambda: graph.private_replies(value["comment_id"]))
    [reply] = graph.private_replies(value["comment_id"])
    return reply["message"]["text"]


def test_the_demo_maps_a_post_to_the_air_fryer() -> None:
    assert post_products(Settings.from_environment({}).facebook_posts) == {DEMO_POST: "noi-chien-5l"}


def test_giá_bn_under_the_air_fryer_post_gets_its_live_price_and_stock(graph, project_db, settings_under_tmp) -> None:
    said = reply_to(graph, "giá bn ạ")
    assert said.startswith("Chào bạn Trang, cảm ơn bạn đã quan tâm sản phẩm của shop! Nồi chiên không dầu 5L")
    assert "1.290.000đ" in said and "còn hàng" in said and INVITATION not in said
    # the shop sells the last black one: the next comment's reply says so, read from the catalog at reply time
    DemoCatalog.open(settings_under_tmp.demo_catalog_db).set_stock("NC5-0", 0)
    later = reply_to(graph, ".")
    assert "1.290.000đ" in later and "tạm hết hàng" in later and "còn hàng" not in later


def test_a_comment_naming_a_product_is_answered_about_that_one_anywhere(graph, project_db) -> None:
    said = reply_to(graph, "quạt đứng còn ko shop, giá bn", post_id=None)  # under a post the shop did not list
    assert "Quạt đứng tiết kiệm điện giá 890.000đ, còn hàng." in said
    assert "Bàn" not in said and "Nồi chiên" not in said
    assert reply_to(graph, "đèn ngủ gỗ giá sao ạ", post_id=DEMO_POST).count("Đèn ngủ") == 1  # the words win
    # naming a kind the shop sells in two sizes: both, with their prices
    both = reply_to(graph, "nồi chiên giá bn ạ", post_id=None)
    assert "990.000đ" in both and "1.290.000đ" in both and "mẫu nào" in both
    # a comment about no product under an unlisted post: the invitation, as before
    assert reply_to(graph, "ib", post_id=None).endswith(INVITATION)


def test_with_the_catalog_down_the_reply_is_the_polite_invitation(graph, tmp_path, monkeypatch) -> None:
    down = Settings.under(tmp_path, catalog_api_url="http://127.0.0.1:9/catalog", catalog_api_timeout=0.5)
    guard = Guard(())
    monkeypatch.setattr(messenger, "door_guard", lambda: guard)
    dedupe.seen_messages.cache_clear()
    with settings_in_force(down):
        said = reply_to(graph, "giá bn ạ")
    dedupe.seen_messages.cache_clear()
    assert said == f"Chào bạn Trang, cảm ơn bạn đã quan tâm sản phẩm của shop! {INVITATION}"


# --- with the stack: the conversation continues in Messenger ------------------------------------------------


@pytest.mark.slow
def test_the_persons_messenger_answer_continues_the_conversation_of_their_psid(channels_stack) -> None:
    settings, facebook = channels_stack.settings, channels_stack.messenger_api
    author = f"{uuid.uuid4().int % 10**15}"
    value = facebook.add_comment(author, "giá bn ạ", PAGE_ID, name="Lê Minh")
    raw = feed_post(PAGE_ID, value)
    url = f"{settings.rasa_url}/webhooks/messenger/webhook"
    assert requests.post(url, data=raw, headers=signed(APP_SECRET, raw), timeout=5).status_code == 200
    [reply] = eventually(lambda: facebook.private_replies(value["comment_id"]), 30, 0.1)
    assert reply["message"]["text"].startswith("Chào bạn Minh")
    psid = facebook.psid_of(author)
    tracker_url = f"{settings.rasa_url}/conversations/fb:{psid}/tracker"

    def events() -> list[dict[str, Any]]:
        return requests.get(tracker_url, params={"token": settings.rasa_token}, timeout=10).json()["events"]

    eventually(lambda: any(e["event"] == "bot" for e in events()), 30, 0.1)  # the reply opens fb:<psid>
    answer = webhook_post(PAGE_ID, [text_event(psid, "phí ship về Hà Nội bao nhiêu", PAGE_ID)])
    assert requests.post(url, data=answer, headers=signed(APP_SECRET, answer), timeout=5).status_code == 200
    facebook.wait_for(psid, lambda m: "20.000đ" in m["message"]["text"])
    said = [(e["event"], e.get("text")) for e in events() if e["event"] in ("user", "bot")]
    assert said[0] == ("bot", reply["message"]["text"])  # one conversation: the private reply, then the chat
    assert ("user", "phí ship về Hà Nội bao nhiêu") in said
    # a retry of the comment's webhook changes nothing
    assert requests.post(url, data=raw, headers=signed(APP_SECRET, raw), timeout=5).status_code == 200
    assert len(facebook.private_replies(value["comment_id"])) == 1


@pytest.mark.slow
def test_a_complaint_comment_reaches_the_desk_when_the_shop_wants_it(channels_stack) -> None:
    settings, facebook = channels_stack.settings, channels_stack.messenger_api
    admin = DeskAgent(settings.desk_url, "admin", ADMIN_PASSWORD)  # an agent online: the desk queues hand-offs
    author = f"{uuid.uuid4().int % 10**15}"
    value = facebook.add_comment(author, "Đơn DH777001 giao chậm quá, thất vọng ghê", PAGE_ID, name="Trần Hoa")
    raw = feed_post(PAGE_ID, value)
    url = f"{settings.rasa_url}/webhooks/messenger/webhook"
    assert requests.post(url, data=raw, headers=signed(APP_SECRET, raw), timeout=5).status_code == 200
    [reply] = eventually(lambda: facebook.private_replies(value["comment_id"]), 30, 0.1)
    assert "rất tiếc" in reply["message"]["text"]
    row = admin.waiting_for("DH777001")
    assert row["channel"] == "messenger"
    psid = facebook.psid_of(author)
    admin.claim(row["id"])
    before = len(facebook.messages(psid))
    answer = webhook_post(PAGE_ID, [text_event(psid, "mình muốn đổi đơn DH777001", PAGE_ID)])
    assert requests.post(url, data=answer, headers=signed(APP_SECRET, answer), timeout=5).status_code == 200
    eventually(lambda: "mình muốn đổi đơn DH777001" in [m["text"] for m in admin.messages(row["id"])],
               describe=lambda: admin.messages(row["id"]))  # fmt: skip
    assert not any("chưa hiểu" in t for t in facebook.texts(psid)[before:])  # the bot is paused for the agent
    admin.post(row["id"], "close", resolution="Đã đổi đơn")


@pytest.mark.slow
def test_giá_bn_under_the_air_fryer_post_gets_the_catalogs_live_price_on_the_stack(channels_stack) -> None:
    settings, facebook = channels_stack.settings, channels_stack.messenger_api
    url = f"{settings.rasa_url}/webhooks/messenger/webhook"

    def reply_on_the_stack(text: str) -> str:
        value = facebook.add_comment(f"{uuid.uuid4().int % 10**15}", text, PAGE_ID, name="Lê Minh", post_id=DEMO_POST)
        raw = feed_post(PAGE_ID, value)
        assert requests.post(url, data=raw, headers=signed(APP_SECRET, raw), timeout=5).status_code == 200
        [reply] = eventually(lambda: facebook.private_replies(value["comment_id"]), 30, 0.1)
        return reply["message"]["text"]

    said = reply_on_the_stack("giá bn ạ")
    assert said.startswith("Chào bạn Minh") and "Nồi chiên không dầu 5L" in said
    assert "1.290.000đ" in said and "còn hàng" in said
    catalog = DemoCatalog.open(settings.demo_catalog_db)  # the file the Rasa server reads the catalog from
    catalog.set_stock("NC5-0", 0)
    try:
        sold_out = reply_on_the_stack("còn ko shop")
    finally:
        catalog.set_stock("NC5-0", 9)  # as seeded: the stack is shared with other modules
    assert "tạm hết hàng" in sold_out and "1.290.000đ" in sold_out
