"""What the bot says and does when a customer sends a picture or PDF (actions/attachments.py), with rasa-sdk's
Tracker and CollectingDispatcher against a real project database in a temporary folder.

The Rasa server makes the turn (connectors/inbound_files.py): a marker text, the intent ``nlu_fallback``
and the stored files in its metadata; the form's validation or the fallback action answers it.
"""

import asyncio
import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.fallback import ActionFallbackHelp, consecutive_fallbacks
from actions.order_actions import ActionCreateTicket
from actions.order_forms import ValidateIssueReportForm
from bot.settings import Settings, settings_in_force

SENDER = "web:" + "5c" * 16


@pytest.fixture(autouse=True)
def in_force(tmp_path) -> Iterator[Settings]:
    with settings_in_force(Settings.under(tmp_path)) as settings:
        yield settings


def sent_photo(sender: str = SENDER) -> dict[str, Any]:
    """A photo the customer sent, stored as the Rasa server stores it; its user event."""
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 0, 0)).save(out, "PNG")
    stored = services.attachment_store().save(out.getvalue(), "coc.png", channel="socketio", sender_id=sender,
                                              direction="in")  # fmt: skip
    described = {"id": stored.id, "kind": stored.kind, "name": stored.name, "mime": stored.mime}
    text = f"[ảnh #{stored.id}]"
    return {
        "event": "user", "text": text, "metadata": {"attachments": [described]},
        "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 1.0}, "entities": [], "text": text,
                       "metadata": {"attachments": [described]}},
    }  # fmt: skip


def tracker(slots: dict[str, Any], events: list[dict[str, Any]], form: str | None = None) -> Tracker:
    latest = next((e["parse_data"] for e in reversed(events) if e["event"] == "user"), {"text": ""})
    return Tracker(SENDER, slots, latest, events, False, None, {"name": form} if form else {}, "action_listen")


def test_a_photo_during_the_report_is_acknowledged_and_the_question_asked_again() -> None:
    photo = sent_photo()
    slots = {"requested_slot": "issue_description", "issue_description": photo["text"], "order_number": "DH777888"}
    events = [{"event": "active_loop", "name": "issue_report_form"}, photo,
              {"event": "slot", "name": "issue_description", "value": photo["text"]}]  # fmt: skip
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateIssueReportForm().run(dispatcher, tracker(slots, events, "issue_report_form"), {}))
    assert [m["text"] for m in dispatcher.messages] == ["Mình đã nhận được ảnh bạn gửi, mình sẽ đính kèm vào phiếu."]
    assert {"event": "slot", "timestamp": None, "name": "issue_description", "value": None} in result
    assert not any(e.get("value") == photo["text"] for e in result)  # the marker is never the description


def test_the_ticket_filed_gets_the_photos_of_its_report_and_nobody_elses() -> None:
    before = sent_photo()  # sent when the bot offered a report: belongs to it
    during = sent_photo()
    strangers = sent_photo(sender="web:someone-else")  # another conversation's file named here: the row decides
    events = [before, {"event": "active_loop", "name": "issue_report_form"}, during, strangers]
    slots = {"order_number": "DH777888", "issue_type": "damaged", "issue_description": "Cốc vỡ một góc khi nhận hàng",
             "contact_phone": "0987654321", "confirm_ticket": "yes"}  # fmt: skip
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionCreateTicket().run(dispatcher, tracker(slots, events), {}))
    code = dispatcher.messages[0]["ticket_code"]
    attached = {a.id for a in services.attachment_store().of_ticket(code)}
    ids = [e["metadata"]["attachments"][0]["id"] for e in (before, during, strangers)]
    assert attached == set(ids[:2])

    # the next report of the same conversation starts empty
    later = sent_photo()
    again = [*events, {"event": "action", "name": "action_create_ticket"}, later]
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionCreateTicket().run(dispatcher, tracker(slots, again), {}))
    second = dispatcher.messages[0]["ticket_code"]
    assert [a.id for a in services.attachment_store().of_ticket(second)] == [later["metadata"]["attachments"][0]["id"]]


def test_a_photo_outside_a_form_is_acknowledged_with_a_report_and_a_person_on_offer() -> None:
    misunderstood = {"event": "user", "text": "xyz", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    events = [misunderstood, sent_photo()]
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ActionFallbackHelp().run(dispatcher, tracker({}, events), {}))
    [said] = dispatcher.messages
    assert said["text"].startswith("Mình đã nhận được ảnh bạn gửi.")
    assert [b["payload"] for b in said["buttons"]] == ["Mình muốn báo lỗi đơn hàng", "/request_human"]
    assert result == []  # no hand-off forced: the customer chooses
    # a photo is no misunderstanding: the next unclear message is the first, not a reason to hand over
    assert consecutive_fallbacks(tracker({}, [*events, misunderstood])) == 1
