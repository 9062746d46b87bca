"""What an agent sees of an upset customer and what agent assist suggests, with the desk in this process.

Rasa is replaced by a stub that answers /model/parse as the trained model does for these messages.
"""

import asyncio

import pytest
import sqlalchemy as sa

from bot.desk.accounts import AccountStore
from bot.desk.console import _queue_row
from bot.desk.hours import DeskConfigFile
from bot.desk.live import LiveHub
from bot.desk.queue import HandoffQueue
from bot.desk.rasa_client import RasaUnavailableError
from bot.desk.service import Desk
from bot.sandbox import ALWAYS_OPEN_DESK
from bot.tickets import TicketStore

SHIPPING = "Phí giao hàng nội thành 20.000đ."
PARSES = {
    "phí ship ra Huế bao nhiêu vậy": ("faq", 0.96, [("shipping_fee", 0.93), ("delivery_time", 0.05)]),
    "chắc tầm 2 ngày hả": ("faq", 0.55, [("delivery_time", 0.7), ("shipping_fee", 0.2)]),
    "cho gặp nhân viên": ("request_human", 0.98, [("change_address", 0.61), ("store_location", 0.2)]),
    "ok": ("affirm", 0.9, [("store_location", 0.5)]),
}


class StubRasa:
    model, shipping = "model-1", SHIPPING  # what the retrain changes: the model and its answers

    async def model_id(self) -> str:
        return self.model

    async def parse(self, text: str) -> dict:
        intent, confidence, topics = PARSES[text]
        ranking = [{"name": intent, "confidence": confidence}, {"name": "other", "confidence": 1 - confidence}]
        return {"intent": ranking[0], "intent_ranking": ranking, "response_selector": {"faq": {"ranking": [
            {"intent_response_key": f"faq/{topic}", "confidence": c} for topic, c in topics]}}}  # fmt: skip

    async def domain_responses(self) -> dict:
        topics = ("delivery_time", "change_address", "store_location")
        others = {f"utter_faq/{t}": [{"text": f"answer {t}"}] for t in topics}
        return others | {"utter_faq/shipping_fee": [{"text": self.shipping}]}


@pytest.fixture
def desk(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'cskh.db'}", future=True)
    (tmp_path / "desk.yml").write_text(ALWAYS_OPEN_DESK, encoding="utf-8")
    accounts = AccountStore(engine)
    accounts.add_agent("lan", "a-long-password-1", "Lan")
    accounts.seen("lan")
    return Desk(HandoffQueue(engine), accounts, TicketStore(engine), StubRasa(), DeskConfigFile(tmp_path / "desk.yml"),
                LiveHub())  # fmt: skip


def ask(desk: Desk, said: list[str], mood: dict | None = None) -> int:
    """Opens a hand-off of a new customer who said ``said``."""
    transcript = [{"role": "customer", "text": text, "sent_at": 1764000000.0 + n} for n, text in enumerate(said)]
    sender = f"web:{len(desk.queue.waiting())}"
    reply = desk.open_handoff({"channel": "web", "sender_id": sender, "reason": "customer_request", "summary": "",
                               "slots": {}, "transcript": transcript, "mood": mood, "contact_phone": None})  # fmt: skip
    return reply["handoff_id"]


def test_suggestions_answer_the_question_before_the_request_for_a_person(desk) -> None:
    handoff_id = ask(desk, ["phí ship ra Huế bao nhiêu vậy", "cho gặp nhân viên"])
    suggestions = asyncio.run(desk.suggestions(handoff_id))
    assert [(s["topic"], s["text"]) for s in suggestions] == [("shipping_fee", SHIPPING)]
    assert suggestions[0]["confidence"] == pytest.approx(0.89, abs=0.01)


def test_after_a_new_model_the_suggestions_are_its_answers(desk) -> None:
    handoff_id = ask(desk, ["phí ship ra Huế bao nhiêu vậy", "cho gặp nhân viên"])
    assert [s["text"] for s in asyncio.run(desk.suggestions(handoff_id))] == [SHIPPING]
    desk.rasa.model, desk.rasa.shipping = "model-2", "Phí giao hàng nội thành nay 15.000đ."  # retrained, swapped
    assert [s["text"] for s in asyncio.run(desk.suggestions(handoff_id))] == ["Phí giao hàng nội thành nay 15.000đ."]


def test_nothing_is_suggested_when_the_model_is_unsure_or_nothing_was_asked(desk) -> None:
    assert asyncio.run(desk.suggestions(ask(desk, ["chắc tầm 2 ngày hả", "cho gặp nhân viên"]))) == []
    assert asyncio.run(desk.suggestions(ask(desk, ["cho gặp nhân viên", "ok"]))) == []


def test_the_queue_flags_an_angry_customer_with_the_words_that_showed_it(desk) -> None:
    angry = ask(desk, ["cho gặp nhân viên"], {"label": "angry", "score": 5.5, "cues": ["đm", "lâu quá", "!!!"]})
    calm = ask(desk, ["phí ship ra Huế bao nhiêu vậy", "cho gặp nhân viên"], {"label": "neutral", "score": 0})
    rows = {row["id"]: row for row in map(_queue_row, desk.queue.waiting())}
    assert (rows[angry]["mood"], rows[angry]["mood_level"]) == ("Rất bực", "angry")
    assert rows[angry]["mood_cues"] == "đm, lâu quá, !!!"
    assert rows[calm]["mood"] == ""


def test_a_mood_of_an_unknown_shape_is_not_stored(desk) -> None:
    handoff_id = ask(desk, ["cho gặp nhân viên"], {"label": "<script>", "cues": ["x"]})
    assert desk.queue.get(handoff_id).mood is None


class RasaThatComesBack(StubRasa):
    """Rasa unreachable until ``up`` is set; records what the desk appends."""

    def __init__(self) -> None:
        self.up, self.appended = False, []

    async def append(self, sender_id: str, events: list) -> None:
        if not self.up:
            raise RasaUnavailableError("connection refused")
        self.appended.append((sender_id, events))


def test_an_expired_customer_is_resumed_even_after_a_desk_restart_while_rasa_was_down(tmp_path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'cskh.db'}", future=True)
    at_once = ALWAYS_OPEN_DESK.replace("accept_timeout_minutes: 5", "accept_timeout_minutes: 0")
    (tmp_path / "desk.yml").write_text(at_once, encoding="utf-8")
    accounts = AccountStore(engine)
    accounts.add_agent("lan", "a-long-password-1", "Lan")
    accounts.seen("lan")

    def start_desk(rasa: RasaThatComesBack) -> Desk:
        return Desk(HandoffQueue(engine), accounts, TicketStore(engine), rasa, DeskConfigFile(tmp_path / "desk.yml"),
                    LiveHub())  # fmt: skip

    rasa = RasaThatComesBack()
    first = start_desk(rasa)
    handoff_id = ask(first, ["cho gặp nhân viên"])
    asyncio.run(first.expire_overdue())  # Rasa is down: the customer cannot be resumed yet
    assert rasa.appended == [] and first.queue.get(handoff_id).status == "expired"

    rasa.up = True
    asyncio.run(start_desk(rasa).expire_overdue())  # a new desk process, nothing in memory from the first
    [(sender, events)] = rasa.appended
    assert sender == first.queue.get(handoff_id).sender_id
    assert events[0] == {"event": "resume"} and "đang bận" in events[2]["text"]
    asyncio.run(start_desk(rasa).expire_overdue())
    assert len(rasa.appended) == 1  # resumed once, not again on the next tick
