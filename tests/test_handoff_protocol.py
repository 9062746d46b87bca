"""The hand-off contract between the actions, the desk and the channels (bot/handoff_protocol.py).

The action's real request goes over HTTP to the desk's real service API, served in this process
(tests/console_server.py), so the two sides cannot drift apart unnoticed; the desk's messages are
read back the way Rasa and the REST inbox read them.
"""

import ast
import asyncio
import time
from pathlib import Path

from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed, Event
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import collected_details, hand_off, summary, transcript
from bot.desk.accounts import AccountStore
from bot.desk.queue import HandoffQueue
from bot.handoff_protocol import desk_message, resume_events
from connectors.rest import desk_messages
from tests.console_server import console_server

SENDER = "web:protocol-1"


def upset_customer() -> Tracker:
    """A customer who reported a wrong item, gave a phone, got annoyed and asked for a person."""
    started = time.time() - 60
    angry = {"label": "angry", "score": 5.5, "cues": ["lâu quá", "!!!"]}
    events = [
        {"event": "user", "text": "đơn DH123456 giao sai màu", "timestamp": started,
         "parse_data": {"intent": {"name": "report_issue"}, "mood": {"label": "neutral", "score": 0.0, "cues": []}}},
        {"event": "bot", "text": "Bạn cho mình xin số điện thoại đặt hàng nhé.", "timestamp": started + 1},
        {"event": "user", "text": "chờ lâu quá!!! cho gặp nhân viên", "timestamp": started + 2,
         "parse_data": {"intent": {"name": "request_human"}, "mood": angry}},
    ]  # fmt: skip
    slots = {"order_number": "DH123456", "issue_type": "wrong_item", "contact_phone": "0912345678"}
    return Tracker(SENDER, slots, events[-1]["parse_data"], events, False, None, {}, "action_listen")


def test_the_actions_handoff_request_arrives_whole_at_the_desk(tmp_path) -> None:
    customer = upset_customer()
    with console_server(tmp_path) as desk:
        agents = AccountStore(desk.engine)
        agents.add_agent("lan", "a-long-password-1", "Lan")
        agents.seen("lan")
        dispatcher = CollectingDispatcher()
        events = asyncio.run(hand_off(dispatcher, customer, "customer_request"))
        queue = HandoffQueue(desk.engine)
        handoff = queue.open_for(SENDER)
        lines = queue.messages(handoff.id)

    assert any(event["event"] == "pause" for event in events)  # queued: the bot stays silent
    assert "vị trí số 1" in dispatcher.messages[0]["text"]
    assert (handoff.channel, handoff.reason) == ("rest", "customer_request")
    assert handoff.summary == summary(customer, "customer_request")
    assert handoff.slots == collected_details(customer) and handoff.slots["phone"] != "0912345678"
    assert handoff.contact_phone == "0912345678"  # in full only where the shop calls back
    assert handoff.mood["label"] == "angry" and handoff.mood["cues"] == ["lâu quá", "!!!"]
    assert [(m.role, m.text, m.sent_at) for m in lines] == [
        (line["role"], line["text"], line["sent_at"]) for line in transcript(customer)
    ]
    assert [m.role for m in lines] == ["customer", "bot", "customer"]


def test_what_the_desk_writes_reaches_the_customer_signed_and_the_bot_listens_again() -> None:
    written = [desk_message("Chào bạn, mình là Lan.", agent="Lan"), *resume_events(), desk_message("Cảm ơn bạn!")]
    as_rasa_reads_them = [Event.from_parameters(event) for event in written]
    assert [type(e) for e in as_rasa_reads_them] == [BotUttered, ConversationResumed, ActionExecuted, BotUttered]
    assert as_rasa_reads_them[2].action_name == "action_listen"
    inbox = desk_messages(as_rasa_reads_them, since=0)
    assert [(m["text"], m.get("agent")) for m in inbox] == [("Chào bạn, mình là Lan.", "Lan"), ("Cảm ơn bạn!", None)]
    # the bot's own answers are not the desk's: the inbox leaves them to the webhook's reply
    assert desk_messages([BotUttered("Dạ, bạn cần gì ạ?", timestamp=time.time())], since=0) == []


def test_the_protocol_depends_on_none_of_its_parties() -> None:
    source = Path(__file__).parents[1] / "bot" / "handoff_protocol.py"
    imported = {
        name
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
        for name in (
            [alias.name for alias in node.names] if isinstance(node, ast.Import)
            else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        )
    }  # fmt: skip
    assert not {name for name in imported if name.startswith(("bot.desk", "actions", "connectors"))}
