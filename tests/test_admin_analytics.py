"""Analytics on seeded conversations whose counts are known; grouping of unanswered messages."""

import asyncio
import json
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from rasa.core.actions.action import create_bot_utterance
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.product_answers import ActionAnswerProduct
from bot.admin.analytics import SHOP_TIMEZONE, compute, daily_csv
from bot.admin.product_analytics import PRODUCT_INTENT, product_questions
from bot.admin.unanswered import group_similar, unanswered
from bot.desk.queue import HandoffQueue
from bot.settings import Settings, settings_in_force
from bot.tickets import TicketStore

DAY1, DAY2 = date(2026, 11, 20), date(2026, 11, 21)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHOP_TIMEZONE)


def user_event(sender: str, moment: datetime, intent: str, text: str, topic: str | None = None) -> dict:
    parse = {"intent": {"name": intent}}
    if topic:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{topic}"}}}
    return {"sender_id": sender, "type_name": "user", "timestamp": moment.timestamp(), "intent_name": intent,
            "action_name": None, "data": json.dumps({"event": "user", "text": text, "parse_data": parse})}  # fmt: skip


def action_event(sender: str, moment: datetime, action: str) -> dict:
    return {"sender_id": sender, "type_name": "action", "timestamp": moment.timestamp() + 0.1, "intent_name": None,
            "action_name": action, "data": json.dumps({"event": "action", "name": action})}  # fmt: skip


@pytest.fixture
def seeded(tmp_path):
    trackers = sa.create_engine(f"sqlite:///{tmp_path / 'trackers.db'}", future=True)
    SQLTrackerStore.Base.metadata.create_all(trackers)
    rows = [
        user_event("a", at(DAY1, 9), "faq", "phí ship bao nhiêu", "shipping_fee"),
        user_event("a", at(DAY1, 9, 1), "faq", "ship ra Huế nhiêu", "shipping_fee"),
        user_event("b", at(DAY1, 10), "nlu_fallback", "có gói quà ko"),
        action_event("b", at(DAY1, 10), "action_fallback_help"),
        user_event("b", at(DAY1, 10, 1), "request_human", "cho gặp nhân viên"),
        user_event("c", at(DAY1, 23, 30), "greet", "chào shop"),  # 16:30 UTC: still DAY1 in Hà Nội
        user_event("a", at(DAY2, 8), "faq", "hoàn tiền bao lâu", "refund"),
        user_event("d", at(DAY2, 11), "nlu_fallback", "co goi qua khong"),
        action_event("d", at(DAY2, 11), "action_fallback_help"),
        user_event("x", at(DAY2 + timedelta(days=1), 9), "greet", "ngoài khoảng"),
    ]
    with trackers.begin() as connection:
        connection.execute(SQLTrackerStore.SQLEvent.__table__.insert(), rows)
    project = sa.create_engine(f"sqlite:///{tmp_path / 'cskh.db'}", future=True)
    queue = HandoffQueue(project)
    served = queue.open(channel="rest", sender_id="b", reason="customer_request", summary="", slots={}, transcript=[])
    waiting = queue.open(channel="rest", sender_id="d", reason="not_understood", summary="", slots={}, transcript=[])
    opened = at(DAY1, 10, 1).astimezone(timezone.utc)
    with project.begin() as connection:
        table = sa.table("handoffs", sa.column("id"), sa.column("created_at"), sa.column("claimed_at"),
                         sa.column("first_reply_at"), sa.column("closed_at"), sa.column("status"), sa.column("csat"),
                         sa.column("claimed_by"))  # fmt: skip
        connection.execute(table.update().where(table.c.id == served.id).values(
            created_at=opened, claimed_at=opened + timedelta(minutes=2), first_reply_at=opened + timedelta(minutes=3),
            closed_at=opened + timedelta(minutes=10), status="closed", csat=4, claimed_by="lan",
        ))  # fmt: skip
        connection.execute(table.update().where(table.c.id == waiting.id).values(
            created_at=at(DAY2, 11, 1).astimezone(timezone.utc)))  # fmt: skip
    return trackers, project


def test_figures_match_the_seeded_conversations(seeded) -> None:
    figures = compute(*seeded, DAY1, DAY2)
    assert [(d.conversations, d.contained, d.handoffs, d.messages, d.fallbacks) for d in figures.days] == [
        (3, 2, 1, 5, 1), (2, 1, 1, 2, 1),
    ]  # fmt: skip
    assert figures.conversations == 5
    assert (figures.containment, figures.handoff_rate) == (pytest.approx(0.6), pytest.approx(0.4))
    assert figures.fallback_rate == pytest.approx(2 / 7)
    assert figures.top_faq == [("shipping_fee", 2), ("refund", 1)]
    assert dict(figures.handoff_reasons) == {"customer_request": 1, "not_understood": 1}
    assert figures.csat_average == 4 and figures.csat_distribution == {1: 0, 2: 0, 3: 0, 4: 1, 5: 0}
    assert (figures.wait_minutes_median, figures.first_response_minutes_median) == (2.0, 3.0)
    assert figures.first_contact_resolution == 1.0


def test_a_narrower_range_counts_only_its_days_and_exports_them(seeded) -> None:
    figures = compute(*seeded, DAY2, DAY2)
    assert figures.conversations == 2 and figures.top_faq == [("refund", 1)]
    rows = daily_csv(figures).decode("utf-8-sig").splitlines()
    assert rows == ["ngay,hoi_thoai,bot_tu_xu_ly,chuyen_nhan_vien,tin_nhan,khong_hieu", "2026-11-21,2,1,1,2,1"]


def test_unanswered_messages_are_grouped_by_meaning_with_counts(seeded) -> None:
    trackers, _ = seeded
    [group] = unanswered(trackers, DAY1, DAY2).groups
    assert group.count == 2 and set(group.texts) == {"có gói quà ko", "co goi qua khong"}


def test_grouping_keeps_different_needs_apart() -> None:
    groups = group_similar([
        "có gói quà ko", "co goi qua khong", "shop gói quà được không", "có gói quà ko",
        "shop có bán sỉ không", "shop có bán sỉ ko ạ", "shop có tuyển cộng tác viên không", "/greet",
    ])  # fmt: skip
    assert [(g.count, sorted(g.texts)) for g in groups] == [
        (4, sorted(["co goi qua khong", "có gói quà ko", "shop gói quà được không"])),
        (2, sorted(["shop có bán sỉ ko ạ", "shop có bán sỉ không"])),
        (1, ["shop có tuyển cộng tác viên không"]),
    ]


# --- what counts as "not understood", on events Rasa's own tracker store wrote -----------------------


def turn(moment: datetime, text: str, intent: str, *actions: str) -> list:
    """A customer message and the actions the bot ran for it, a second apart."""
    said = UserUttered(text, {"name": intent, "confidence": 0.4}, timestamp=moment.timestamp())
    return [said, *(ActionExecuted(a, timestamp=moment.timestamp() + n + 1) for n, a in enumerate(actions)),
            ActionExecuted("action_listen", timestamp=moment.timestamp() + len(actions) + 1)]  # fmt: skip


STORED = {
    # a status check: the order code and the phone are nlu_fallback to the classifier, valid to the form
    "web:form": [
        *turn(at(DAY1, 9), "kiểm tra đơn giúp mình", "check_order_status", "order_status_form"),
        *turn(at(DAY1, 9, 1), "DH123456", "nlu_fallback", "order_status_form"),
        *turn(at(DAY1, 9, 2), "0912345678", "nlu_fallback", "order_status_form", "action_order_status"),
    ],
    # a real miss, then a confident answer the customer rejects, then one they accept
    "web:miss": [
        *turn(at(DAY1, 10), "có gói quà ko", "nlu_fallback", "action_fallback_help"),
        *turn(at(DAY1, 10, 1), "shop có bán áo size XXL không", "faq", "utter_faq"),
        *turn(at(DAY1, 10, 2), "không phải, ý mình là áo size XXL", "deny", "utter_anything_else"),
        *turn(at(DAY1, 10, 3), "phí ship bao nhiêu", "faq", "utter_faq"),
        *turn(at(DAY1, 10, 4), "ok cảm ơn", "thank", "utter_you_are_welcome"),
    ],
}


@pytest.fixture
def stored(tmp_path):
    trackers = SQLTrackerStore(dialect="sqlite", db=str(tmp_path / "trackers.db"))
    for sender, events in STORED.items():
        asyncio.run(trackers.save(DialogueStateTracker.from_events(sender, [SessionStarted(), *events])))
    trackers.engine.dispose()
    project = sa.create_engine(f"sqlite:///{tmp_path / 'cskh.db'}", future=True)
    HandoffQueue(project)
    return sa.create_engine(f"sqlite:///{tmp_path / 'trackers.db'}", future=True), project


def test_only_fallbacks_and_rejected_answers_count_as_not_understood(stored) -> None:
    figures = compute(*stored, DAY1, DAY1)
    assert figures.totals["messages"] == 8
    assert figures.days[0].fallbacks == 2  # "có gói quà ko" and the XXL answer; never the code or the phone
    assert figures.fallback_rate == pytest.approx(2 / 8)


def test_requests_for_a_person_that_became_tickets_are_handoffs_with_their_reason(stored) -> None:
    trackers, project = stored
    tickets = TicketStore(project)
    tickets.create(channel="web", sender_id="web:miss", issue_type="other", description="ngoài giờ",
                   handoff_reason="complaint")  # fmt: skip
    tickets.create(channel="web", sender_id="web:form", issue_type="late_delivery", description="giao trễ")
    day = datetime.now(SHOP_TIMEZONE).date()
    figures = compute(trackers, project, day, day)
    assert dict(figures.handoff_reasons) == {"complaint": 1} and figures.totals["handoffs"] == 1


# --- product questions: their own topic, the products asked about most, the unknown ones ---------------------


def product_turn(moment: datetime, text: str) -> list:
    """A product question answered by the real action from the demo catalog, stored as Rasa stores its reply
    (the action's message made a BotUttered by Rasa's own code, extra keys as metadata)."""
    tracker = Tracker("customer", {}, {"intent": {"name": PRODUCT_INTENT}, "entities": [], "text": text}, [], False,
                      None, {}, "action_listen")  # fmt: skip
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAnswerProduct().run(dispatcher, tracker, {}))
    replies = [create_bot_utterance({k: v for k, v in m.items() if v}) for m in dispatcher.messages]
    for reply in replies:
        reply.timestamp = moment.timestamp() + 2
    said = UserUttered(text, {"name": PRODUCT_INTENT, "confidence": 0.9}, timestamp=moment.timestamp())
    return [said, ActionExecuted("action_answer_product", timestamp=moment.timestamp() + 1), *replies,
            ActionExecuted("action_listen", timestamp=moment.timestamp() + 3)]  # fmt: skip


ASKED = {
    "web:p1": [(at(DAY1, 9), "nồi chiên 5L giá nhiêu"), (at(DAY1, 9, 1), "quạt đứng còn hàng không")],
    "web:p2": [(at(DAY1, 11), "noi chien 5l con hang ko"), (at(DAY1, 11, 1), "máy rửa bát âm tủ giá bao nhiêu")],
    "web:p3": [(at(DAY2, 8), "may rua bat am tu bao tien"), (at(DAY2, 8, 1), "nồi chiên bao nhiêu tiền")],
}


@pytest.fixture
def asked(tmp_path):
    with settings_in_force(Settings.under(tmp_path)):  # the demo catalog the action reads
        conversations = {sender: [e for moment, text in turns for e in product_turn(moment, text)]
                         for sender, turns in ASKED.items()}  # fmt: skip
    conversations["web:faq"] = turn(at(DAY1, 10), "phí ship bao nhiêu", "faq", "utter_faq")
    trackers = SQLTrackerStore(dialect="sqlite", db=str(tmp_path / "trackers.db"))
    for sender, events in conversations.items():
        asyncio.run(trackers.save(DialogueStateTracker.from_events(sender, [SessionStarted(), *events])))
    trackers.engine.dispose()
    project = sa.create_engine(f"sqlite:///{tmp_path / 'cskh.db'}", future=True)
    HandoffQueue(project)
    return sa.create_engine(f"sqlite:///{tmp_path / 'trackers.db'}", future=True), project


def test_product_questions_are_a_topic_of_their_own(asked) -> None:
    assert compute(*asked, DAY1, DAY2).intent_topics == {"product_question": 6}
    assert compute(*asked, DAY2, DAY2).intent_topics == {"product_question": 2}


def test_the_products_asked_about_most_come_from_what_the_answers_found(asked) -> None:
    trackers, _ = asked
    found = product_questions(trackers, DAY1, DAY2)
    assert [(p.id, p.name, p.count) for p in found.top] == [
        ("noi-chien-5l", "Nồi chiên không dầu 5L", 3), ("quat-dung", "Quạt đứng tiết kiệm điện", 1),
        ("noi-chien-3-5l", "Nồi chiên không dầu 3.5L", 1),
    ]  # fmt: skip
    [group] = found.unknown.groups
    assert group.count == 2 and set(group.texts) == {"máy rửa bát âm tủ giá bao nhiêu", "may rua bat am tu bao tien"}
    assert found.unknown_count == 2
    day2 = product_questions(trackers, DAY2, DAY2)
    assert [(p.id, p.count) for p in day2.top] == [("noi-chien-5l", 1), ("noi-chien-3-5l", 1)]
    assert day2.unknown_count == 1
