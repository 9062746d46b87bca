"""Handing a conversation to a human agent.

Every trigger ends here: the customer asking (button or words), a complaint,
two misunderstood messages in a row, a form that failed repeatedly. The desk
service (bot/desk) gets the channel, the customer id, the transcript, the
collected details (phone masked), the reason and a summary, so the agent never
asks again. When the desk queues the customer the bot pauses itself (Rasa's
``ConversationPaused``) and only the agent answers; when nobody can take the
conversation now (closed, no agent online, desk unreachable) the request
becomes a ticket and the customer hears when the shop will call back.
"""

import asyncio
import logging
from typing import Any

import requests
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.callback import answer_later
from actions.mood import conversation_mood
from actions.records import collected_details, reset_form_slots
from actions.services import desk_endpoint
from bot.handoff_protocol import (
    BOT,
    CSAT_PATH,
    CUSTOMER,
    DESK_UNREACHABLE,
    HANDOFFS_PATH,
    TRANSCRIPT_EVENTS,
    WITH_A_PERSON,
    CsatRating,
    HandoffAnswer,
    HandoffRequest,
    TranscriptLine,
    read_handoff_answer,
)

logger = logging.getLogger(__name__)

DESK_TIMEOUT_SECONDS = 3
TRANSCRIPT_LINES = 40
REASON_BY_INTENT = {"request_human": "customer_request", "complain": "complaint"}
REASON_TEXT = {
    "customer_request": "Khách yêu cầu gặp nhân viên.",
    "complaint": "Khách đang không hài lòng.",
    "not_understood": "Bot không hiểu khách hai lần liên tiếp.",
    "form_failed": "Khách không hoàn tất được yêu cầu với bot (mã đơn hoặc thông tin xác minh không khớp).",
}


def transcript(tracker: Tracker) -> list[TranscriptLine]:
    """The latest customer and bot messages, with Rasa's timestamps."""
    lines = [
        TranscriptLine(
            role=CUSTOMER if event["event"] == "user" else BOT, text=event["text"], sent_at=event["timestamp"]
        )
        for event in tracker.events
        if event.get("event") in TRANSCRIPT_EVENTS and event.get("text")
    ]
    return lines[-TRANSCRIPT_LINES:]


def summary(tracker: Tracker, reason: str) -> str:
    """Two or three sentences an agent reads before anything else."""
    details = collected_details(tracker)
    parts = [REASON_TEXT.get(reason, reason)]
    if details.get("order_number"):
        parts.append(f"Đơn hàng: {details['order_number']}.")
    if details.get("issue_type"):
        parts.append(f"Vấn đề: {details['issue_type']}.")
    if details.get("issue_description"):
        parts.append(f"Mô tả: {details['issue_description'][:300]}")
    last = next((line["text"] for line in reversed(transcript(tracker)) if line["role"] == "customer"), None)
    if last:
        parts.append(f"Tin nhắn cuối: “{last[:300]}”")
    return " ".join(parts)


def _ask_desk(request: HandoffRequest) -> HandoffAnswer:
    url, token = desk_endpoint()
    try:
        reply = requests.post(
            f"{url}{HANDOFFS_PATH}",
            json=request,  # type: ignore[arg-type]  # mypy fits a TypedDict to no JSON type of requests'
            headers={"Authorization": f"Bearer {token}"},
            timeout=DESK_TIMEOUT_SECONDS,
        )
        reply.raise_for_status()
        return read_handoff_answer(reply.json())
    except (requests.RequestException, ValueError) as error:
        logger.warning("human desk unreachable: %s", type(error).__name__)
        return HandoffAnswer(status=DESK_UNREACHABLE)


async def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> list[dict[str, Any]]:
    """Queues the customer for an agent (and pauses the bot) or records a ticket; returns the events."""
    request = HandoffRequest(
        channel=tracker.get_latest_input_channel() or "rest",
        sender_id=tracker.sender_id,
        reason=reason,
        summary=summary(tracker, reason),
        slots=collected_details(tracker),
        contact_phone=tracker.get_slot("contact_phone"),
        transcript=transcript(tracker),
        # the most upset message of the session, so the desk can flag (and put first) an angry customer
        mood=conversation_mood(tracker),
    )
    desk = await asyncio.to_thread(_ask_desk, request)
    if desk.get("status") in WITH_A_PERSON:
        dispatcher.utter_message(text=desk["text"])
        return [*reset_form_slots(), ConversationPaused()]
    # nobody can take it now: a ticket, once the customer can be reached (actions/callback.py)
    return answer_later(dispatcher, tracker, desk, reason, request["summary"], request["slots"])


class ActionHandoff(Action):
    """The customer asked for a person, or complained: hand the conversation over."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        upset = (tracker.latest_message.get("mood") or {}).get("label", "neutral") != "neutral"
        if upset or intent == "complain":  # "giao lâu quá, cho gặp nhân viên"; a complaint in a form
            dispatcher.utter_message(response="utter_apology_handoff")
        return await hand_off(dispatcher, tracker, REASON_BY_INTENT.get(intent, "customer_request"))


class ActionRecordCsat(Action):
    """Stores the customer's 1-5 rating of the agent conversation and thanks them."""

    def name(self) -> str:
        return "action_record_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        score = next(tracker.get_latest_entity_values("csat_score"), None)
        if score is None:
            score = next((ch for ch in tracker.latest_message.get("text") or "" if ch in "12345"), None)
        if score is None:
            dispatcher.utter_message(response="utter_ask_csat_again")
            return []
        url, token = desk_endpoint()
        try:
            rating = CsatRating(sender_id=tracker.sender_id, score=int(score))
            reply = await asyncio.to_thread(
                requests.post, f"{url}{CSAT_PATH}",
                json=rating,  # type: ignore[arg-type]  # mypy fits a TypedDict to no JSON type of requests'
                headers={"Authorization": f"Bearer {token}"}, timeout=DESK_TIMEOUT_SECONDS,
            )  # fmt: skip
            nothing_to_rate = reply.ok and reply.json().get("recorded") is False
        except (requests.RequestException, ValueError) as error:
            logger.warning("CSAT not stored: %s", type(error).__name__)
            nothing_to_rate = False
        # a "5" with no agent conversation to rate was not meant as a rating
        dispatcher.utter_message(response="utter_ask_rephrase" if nothing_to_rate else "utter_thanks_for_rating")
        return []
