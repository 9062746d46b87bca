"""What the action server, the desk, Rasa's event broker and the channels say to each other, in one place.

They are separate processes that talk JSON over HTTP: the actions ask the desk for a person
(``POST /api/handoffs``) and send CSAT ratings, the event broker forwards conversation events,
and the desk writes into the customer's conversation through Rasa's HTTP API (bot messages tagged
with ``DESK_SOURCE``, the resume events). Each side used to spell these shapes and strings itself;
here both sides import them, and ``read_*`` turns what arrives into the typed shape or refuses it.

This module imports nothing from bot/desk, actions or connectors, so any of them can import it.
"""

import time
from collections.abc import Mapping
from typing import Any, Literal, TypedDict

from bot.text.normalize import strip_diacritics

# --- the desk's service API (bearer token), called by the actions and the event broker -------------

HANDOFFS_PATH = "/api/handoffs"
EVENTS_PATH = "/api/events"
CSAT_PATH = "/api/csat"

TranscriptRole = Literal["customer", "bot"]
CUSTOMER: TranscriptRole = "customer"
BOT: TranscriptRole = "bot"
# Rasa's tracker events that make up a transcript (the event broker forwards only these)
TRANSCRIPT_EVENTS = frozenset({"user", "bot"})


class TranscriptLine(TypedDict):
    """One message before the hand-off; ``sent_at`` is Rasa's timestamp of the event, so the event broker's
    later copy of the same message is recognised by (role, sent_at)."""

    role: TranscriptRole
    text: str
    sent_at: float


class Mood(TypedDict):
    """The bot's reading of the customer's mood (bot/text/sentiment.py)."""

    label: str
    score: float
    cues: list[str]


class HandoffRequest(TypedDict):
    """What the actions send when a customer should talk to a person (``POST HANDOFFS_PATH``)."""

    channel: str
    sender_id: str
    reason: str
    summary: str
    slots: dict[str, Any]  # what the bot collected, phone and e-mail masked
    contact_phone: str | None  # in full: the number the shop calls back
    transcript: list[TranscriptLine]
    mood: Mood | None  # the most upset message of the session


HandoffStatus = Literal["queued", "active", "closed", "no_agent", "unreachable"]
HANDOFF_QUEUED: HandoffStatus = "queued"  # waiting for an agent
HANDOFF_ACTIVE: HandoffStatus = "active"  # already talking to one
DESK_CLOSED: HandoffStatus = "closed"  # outside the desk's hours
NO_AGENT_ONLINE: HandoffStatus = "no_agent"  # within hours, nobody online
# never sent by the desk: what the actions conclude when it did not answer
DESK_UNREACHABLE: HandoffStatus = "unreachable"
WITH_A_PERSON = frozenset({HANDOFF_QUEUED, HANDOFF_ACTIVE})
NOBODY_NOW = frozenset({DESK_CLOSED, NO_AGENT_ONLINE})


class HandoffAnswer(TypedDict, total=False):
    """The desk's answer to a ``HandoffRequest``: queued with what to tell the customer, or why not and when
    the shop calls back."""

    status: HandoffStatus
    text: str  # queued, active: the customer's place and wait
    handoff_id: int
    position: int
    eta_minutes: int | None  # None: no agent online to estimate from
    opens: str  # closed: when agents are back
    callback: str  # closed, no_agent: when the shop answers


class CsatRating(TypedDict):
    """The customer's 1-5 rating of the agent conversation (``POST CSAT_PATH``); answered ``{"recorded": bool}``."""

    sender_id: str
    score: int


class MalformedMessageError(ValueError):
    """A message that does not have the protocol's shape; the text says what was expected."""


HANDOFF_REQUIRED = ("channel", "sender_id", "reason", "summary")


def read_handoff_request(body: Any) -> HandoffRequest:
    """The request as the desk acts on it; malformed transcript lines and moods are dropped, not fatal."""
    if not isinstance(body, Mapping) or any(not isinstance(body.get(f), str) or not body[f] for f in HANDOFF_REQUIRED):
        raise MalformedMessageError(f"JSON object with {', '.join(HANDOFF_REQUIRED)} expected")
    slots, phone, mood = body.get("slots"), body.get("contact_phone"), body.get("mood")
    return HandoffRequest(
        channel=body["channel"],
        sender_id=body["sender_id"],
        reason=body["reason"],
        summary=body["summary"],
        slots=dict(slots) if isinstance(slots, Mapping) else {},
        contact_phone=phone if isinstance(phone, str) and phone else None,
        transcript=[line for line in body.get("transcript") or [] if _is_transcript_line(line)],
        mood=_mood(mood),
    )


def _is_transcript_line(line: Any) -> bool:
    return (
        isinstance(line, Mapping)
        and line.get("role") in (CUSTOMER, BOT)
        and isinstance(line.get("text"), str)
        and isinstance(line.get("sent_at"), (int, float))
    )


def _mood(mood: Any) -> Mood | None:
    if not isinstance(mood, Mapping) or not isinstance(mood.get("label"), str):
        return None
    try:
        score = float(mood.get("score") or 0)
    except (TypeError, ValueError):
        return None
    cues = [cue for cue in mood.get("cues") or [] if isinstance(cue, str)]
    return Mood(label=mood["label"], score=score, cues=cues)


def read_handoff_answer(body: Any) -> HandoffAnswer:
    """The desk's answer as the actions use it; anything they could not act on counts as ``DESK_UNREACHABLE``."""
    if not isinstance(body, Mapping):
        return HandoffAnswer(status=DESK_UNREACHABLE)
    status = body.get("status")
    if status in WITH_A_PERSON and isinstance(body.get("text"), str):
        return HandoffAnswer(**body)
    if status in NOBODY_NOW and isinstance(body.get("callback"), str):
        return HandoffAnswer(**body)
    return HandoffAnswer(status=DESK_UNREACHABLE)


# --- a waiting customer leaving the queue: the desk closes the hand-off, the REST channel waits for its answer

# What the customer may type while waiting to leave the queue (compared without diacritics).
CANCEL_WORDS = frozenset({"huy", "thoi", "thoi khong can", "khong can nua", "thoi khong can nua", "huy yeu cau"})


def leaves_queue(text: str) -> bool:
    """Whether a waiting customer's message asks to stop waiting ("huỷ", "Thôi!", "không cần nữa")."""
    return " ".join(strip_diacritics(text).lower().replace("!", " ").replace(".", " ").split()) in CANCEL_WORDS


# --- the desk writing into a conversation through Rasa's HTTP API ---------------------------------

# metadata of a bot message the desk sent: the REST inbox serves only these, the channels sign with the agent
SOURCE_KEY = "source"
DESK_SOURCE = "desk"
AGENT_KEY = "agent"


def desk_message(text: str, agent: str | None = None, buttons: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A bot event from the desk, tagged with its source and, for an agent's reply, the agent's name."""
    metadata: dict[str, Any] = {SOURCE_KEY: DESK_SOURCE}
    if agent:
        metadata[AGENT_KEY] = agent
    return {
        "event": "bot", "text": text, "timestamp": time.time(),
        "data": {"buttons": buttons} if buttons else {}, "metadata": metadata,
    }  # fmt: skip


class SentFile(TypedDict):
    """A file an agent sent, as the bot event carries it (``data.attachment``): the channels fetch the bytes by
    ``id`` from the attachment store (bot/attachments.py) and deliver them their platform's way."""

    id: str
    kind: str  # image | file
    mime: str
    name: str


ATTACHMENT_KEY = "attachment"  # Rasa's own key of a bot utterance's attachment
# how a transcript line names the file it showed the customer (agents' lines only): "[ảnh:<id>] " or "[tệp:<id>] "
FILE_LINE = "[{label}:{id}] "
FILE_LABELS = {"image": "ảnh", "file": "tệp"}


def desk_file_message(text: str, agent: str, sent: SentFile) -> dict[str, Any]:
    """An agent's picture or PDF: a bot event with the file in ``data.attachment`` and ``text`` as its caption."""
    event = desk_message(text, agent=agent)
    event["data"] = {ATTACHMENT_KEY: dict(sent)}
    return event


def file_of(message: Mapping[str, Any] | None) -> SentFile | None:
    """The agent's file in a bot message (a channel's ``send_response`` message or an event's ``data``), if any."""
    found = (message or {}).get(ATTACHMENT_KEY)
    if not isinstance(found, Mapping) or not all(isinstance(found.get(k), str) for k in ("id", "kind", "mime", "name")):
        return None
    if found["kind"] not in ("image", "file"):
        return None
    return SentFile(id=found["id"], kind=found["kind"], mime=found["mime"], name=found["name"])


def transcript_text(text: str, sent: SentFile | None) -> str:
    """The transcript line of a bot message: its text, led by the file's id when it carried one."""
    return text if sent is None else FILE_LINE.format(label=FILE_LABELS[sent["kind"]], id=sent["id"]) + text


def sent_by_desk(metadata: Mapping[str, Any] | None) -> bool:
    """Whether a bot message's metadata marks it as the desk's (an agent's reply, a queue update, CSAT)."""
    return (metadata or {}).get(SOURCE_KEY) == DESK_SOURCE


def agent_of(metadata: Mapping[str, Any] | None) -> str | None:
    """The agent who wrote a message, or None for the bot's and the desk's own words."""
    return (metadata or {}).get(AGENT_KEY) or None


def resume_events() -> list[dict[str, Any]]:
    """The bot takes over again: resumed, and listening, so the next customer message is predicted on as a
    fresh turn (the pause cut the turn short before ``action_listen``)."""
    return [{"event": "resume"}, {"event": "action", "name": "action_listen"}]


def ask_callback_phone_events(ticket_code: str, callback: str) -> list[dict[str, Any]]:
    """The bot, resumed, takes the customer's next message as the phone to call back about ``ticket_code``
    (``callback_form``, actions/callback.py), instead of telling a web customer how to leave one."""
    pending = {"ticket_code": ticket_code, "callback": callback}
    return [
        {"event": "slot", "name": "handoff_pending", "value": pending},
        {"event": "active_loop", "name": "callback_form"},
        {"event": "slot", "name": "requested_slot", "value": "contact_phone"},
    ]
