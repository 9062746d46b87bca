"""Upset customers in the dialogue: the NLU component, the apology and the person offered or given.

In-process: the graph component on Rasa's Message, the actions with rasa-sdk's Tracker and
CollectingDispatcher; the desk is replaced by a function that records what it was sent.
"""

import asyncio
import time

import pytest
import sqlalchemy as sa
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff
from actions.complaint import ActionAnswerComplaint
from actions.handoff import ActionHandoff
from bot.nlu.mood import MoodClassifier
from bot.text.sentiment import score_mood


def parsed(text: str, intent: str, confidence: float = 0.9) -> dict:
    """What the NLU pipeline's classifiers said, then the mood component."""
    message = Message({TEXT: text, INTENT: {"name": intent, "confidence": confidence},
                       INTENT_RANKING_KEY: [{"name": intent, "confidence": confidence}]})  # fmt: skip
    MoodClassifier().process([message])
    return {"intent": message.get(INTENT), "intent_ranking": message.get(INTENT_RANKING_KEY),
            **message.as_dict(only_output_properties=True)}  # fmt: skip


def test_frustration_the_model_read_as_an_faq_becomes_a_complaint() -> None:
    result = parsed("bực mình quá, gọi hotline hoài ko ai nghe", "faq")
    assert result["intent"]["name"] == "complain"
    assert result["intent_ranking"][1]["name"] == "faq"  # the model's guess stays visible
    assert result["mood"]["label"] != "neutral" and "bực mình" in result["mood"]["cues"]


def test_an_upset_request_for_a_person_is_one() -> None:
    assert parsed("đơn DH123456 của mình giao lâu quá, cho gặp nhân viên", "nlu_fallback", 0.4)["intent"]["name"] == (
        "request_human"
    )


def test_calm_questions_and_tasks_keep_their_intent() -> None:
    assert parsed("phí ship bao nhiêu", "faq")["intent"]["name"] == "faq"
    assert parsed("phí ship bao nhiêu", "faq")["mood"]["label"] == "neutral"
    # an annoyed customer answering a form keeps answering it
    assert parsed("0912345678 đó, hỏi hoài bực ghê", "inform")["intent"]["name"] == "inform"


def user(text: str, intent: str) -> dict:
    return {"event": "user", "text": text, "timestamp": time.time(),
            "parse_data": {"intent": {"name": intent}, "mood": score_mood(text).as_dict()}}  # fmt: skip


def run(action, events: list[dict], desk_status: str = "queued") -> tuple[list[dict], list[dict]]:
    """The action's messages and what it sent the desk."""
    sent: list[dict] = []

    def desk(payload: dict) -> dict:
        sent.append(payload)
        return {"status": desk_status, "text": "Bạn đang ở vị trí số 1 trong hàng chờ."}

    tracker = Tracker("web:c1", {}, events[-1]["parse_data"], events, False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    original, handoff._ask_desk = handoff._ask_desk, desk
    try:
        asyncio.run(action.run(dispatcher, tracker, {}))
    finally:
        handoff._ask_desk = original
    return dispatcher.messages, sent


def test_a_first_complaint_gets_an_apology_and_a_person_offered() -> None:
    said, sent = run(ActionAnswerComplaint(), [user("bực mình quá, gọi hotline hoài ko ai nghe", "complain")])
    assert [m["response"] for m in said] == ["utter_apology_offer_human"] and sent == []


def test_a_second_upset_message_goes_to_a_person_with_the_mood() -> None:
    events = [
        user("ship gì mà lâu vl", "complain"), {"event": "bot", "text": "xin lỗi", "timestamp": time.time()},
        user("TRẢ LỜI ĐI CHỨ!!!", "complain"),
    ]  # fmt: skip
    said, [payload] = run(ActionAnswerComplaint(), events)
    assert said[0]["response"] == "utter_apology_handoff" and "vị trí số 1" in said[1]["text"]
    assert payload["reason"] == "complaint" and payload["mood"]["label"] in ("negative", "angry")


def test_an_upset_request_for_a_person_hears_an_apology_and_the_desk_sees_the_mood() -> None:
    said, [payload] = run(ActionHandoff(), [user("đm giao lâu quá, cho gặp nhân viên", "request_human")])
    assert said[0]["response"] == "utter_apology_handoff"
    assert payload["mood"]["label"] == "angry" and "đm" in payload["mood"]["cues"]


def test_a_calm_request_for_a_person_is_not_apologised_for() -> None:
    said, [payload] = run(ActionHandoff(), [user("cho mình gặp nhân viên", "request_human")])
    assert [m.get("response") for m in said] == [None] and payload["mood"]["label"] == "neutral"


@pytest.fixture
def project_db(settings_under_tmp):
    return sa.create_engine(settings_under_tmp.database_url)


def test_a_request_nobody_can_take_becomes_a_ticket_that_remembers_the_reason(project_db) -> None:
    run(ActionHandoff(), [user("cho mình gặp nhân viên", "request_human")], desk_status="unreachable")
    with project_db.connect() as connection:
        assert connection.execute(sa.text("SELECT handoff_reason FROM tickets")).scalars().all() == ["customer_request"]


def test_a_complaint_in_the_middle_of_a_form_is_apologised_for_before_the_person() -> None:
    said, [payload] = run(ActionHandoff(), [user("shop làm ăn như vậy à", "complain")])
    assert said[0]["response"] == "utter_apology_handoff" and payload["reason"] == "complaint"
