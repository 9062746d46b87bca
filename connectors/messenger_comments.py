"""Comments on the page's posts and live videos, answered privately in Messenger.

The page's ``feed`` webhook field posts ``{"object": "page", "entry": [{"id": <page id>, "changes": [{"field":
"feed", "value": {"item": "comment", "verb": "add", "comment_id", "post_id", "parent_id", "from": {"id", "name"},
"message", "created_time"}}]}]}`` to the Messenger webhook, signed like every post (connectors/messenger.py).
Only new comments (``verb: add``) by people count: the page's own (``from.id`` is the entry's page id), edits,
removals, reactions and posts are acknowledged and left alone.

What a comment asks is read by bot/text/comments.py:

- a price, stock or size question, or "ib"/"inbox": ONE private reply (Send API, ``recipient: {comment_id}``)
  with a greeting and the answer when there is one (``ProductAnswer``: the catalog's price and stock of the product
  the comment names or its post sells, connectors/comment_products.py), else an invitation to continue in
  Messenger. Facebook allows one private reply per comment within 7 days of it
  (developers.facebook.com/docs/messenger-platform/discovery/private-replies) and nothing more until the
  person answers. Each comment id is recorded (connectors/dedupe.py) before the webhook's 200, so a
  redelivery or a second replica never replies twice; the reply itself goes through the outbox
  (connectors/outbox.py), retried on rate limits (a live video brings many comments at once), and a
  refusal such as 10900 (already replied) is final.
- a complaint (the mood rules of bot/text/sentiment.py): left alone, or, with ``comment_complaints: desk``,
  a private reply that apologises and a hand-off to the desk.
- anything else (praise, friends tagged, spam): nothing.

Facebook answers a private reply with the person's PSID (``recipient_id``). From then on the person is the
ordinary Messenger conversation ``fb:<psid>``: the private reply is written into that conversation as the
bot's message, and when they answer in Messenger their message arrives on the same webhook with that PSID,
so Rasa continues the same conversation. A complaint's hand-off names that conversation too, and pauses the
bot in it, so the person's answer reaches the agent. Optionally the page also answers publicly under the
comment (``comment_public_reply``, e.g. "Shop đã inbox bạn ạ"; off when empty).
"""

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.events import BotUttered, ConversationPaused, Event

from bot.handoff_protocol import (
    BOT,
    CUSTOMER,
    HANDOFFS_PATH,
    WITH_A_PERSON,
    HandoffRequest,
    Mood,
    TranscriptLine,
    read_handoff_answer,
)
from bot.privacy import mask_id, redact
from bot.senders import namespaced
from bot.settings import current_settings
from bot.text.comments import COMPLAINT, QUESTION, read_comment
from bot.text.sentiment import score_mood
from connectors.core import json_object
from connectors.messenger_client import MAX_TEXT, SendApi
from connectors.outbox import Attempt, Outbox

logger = logging.getLogger(__name__)

CHANNEL = "messenger"
PRIVATE_REPLY_WINDOW = timedelta(days=7)
DESK_TIMEOUT_SECONDS = 5.0
COMMENT_ID = re.compile(r"[0-9]+(_[0-9]+)*")  # a Graph id: it goes into a URL path
GREETING = "Chào {name}, cảm ơn bạn đã quan tâm sản phẩm của shop!"
INVITATION = (
    "Shop nhắn riêng cho bạn về sản phẩm bạn hỏi dưới bài viết. Bạn cho mình biết mẫu, size hoặc màu bạn cần, "
    "mình báo giá và tình trạng còn hàng ngay nhé."
)
APOLOGY = (
    "Chào {name}, shop rất tiếc vì bạn chưa hài lòng. Bạn nhắn cho shop ở đây (kèm mã đơn nếu có), "
    "nhân viên sẽ hỗ trợ bạn ngay nhé."
)
DESK_SUMMARY = "Khách phàn nàn trong bình luận Facebook: “{text}”"


@dataclass(frozen=True)
class Comment:
    """A person's new comment under one of the page's posts or live videos."""

    page_id: str
    comment_id: str
    post_id: str
    author_id: str  # app-scoped, not the PSID: only the private reply's answer tells that
    author_name: str
    text: str
    created_at: datetime


def _created_at(value: Any, now: datetime) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return min(datetime.fromtimestamp(value, timezone.utc), now)
    return now


def page_comments(payload: dict[str, Any], now: datetime | None = None) -> list[Comment]:
    """Every new comment by a person in a webhook post; the page's own, edits and removals left out."""
    now = now or datetime.now(timezone.utc)
    found = []
    for entry in payload.get("entry") or []:
        entry = json_object(entry)
        page_id = str(entry.get("id") or "")
        for change in entry.get("changes") or []:
            change = json_object(change)
            value = json_object(change.get("value"))
            author = json_object(value.get("from"))
            comment_id, text = str(value.get("comment_id") or ""), value.get("message")
            if (
                change.get("field") != "feed" or value.get("item") != "comment" or value.get("verb") != "add"
                or not COMMENT_ID.fullmatch(comment_id) or not isinstance(text, str) or not text.strip()
                or not author.get("id") or str(author["id"]) == page_id
            ):  # fmt: skip
                continue
            created_at = _created_at(value.get("created_time"), now)
            post_id, name = str(value.get("post_id") or ""), str(author.get("name") or "")
            found.append(Comment(page_id, comment_id, post_id, str(author["id"]), name, text, created_at))
    return found


ProductAnswer = Callable[[Comment], Awaitable[str | None]]


async def no_product_answer(_: Comment) -> str | None:
    """No answer: the reply invites the person to continue in Messenger. The channel plugs in the catalog's
    (connectors/comment_products.py)."""
    return None


def private_reply_text(comment: Comment, kind: str, answer: str | None) -> str:
    """The one message the person gets: a greeting and the answer, or the invitation; an apology for a complaint."""
    name = comment.author_name.split()[-1] if comment.author_name.split() else "bạn"
    name = "bạn" if name == "bạn" else f"bạn {name}"
    if kind == COMPLAINT:
        return APOLOGY.format(name=name)[:MAX_TEXT]
    return f"{GREETING.format(name=name)} {answer or INVITATION}"[:MAX_TEXT]


@dataclass(frozen=True)
class CommentRules:
    """What the shop wants done with comments (credentials.yml, from Settings' environment)."""

    public_reply: str = ""  # also answered publicly under the comment; off when empty
    complaints_to_desk: bool = False

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any]) -> "CommentRules":
        complaints = str(credentials.get("comment_complaints") or "ignore").strip().lower()
        return cls(str(credentials.get("comment_public_reply") or "").strip(), complaints == "desk")


class CommentReplies:
    """Private replies to comments through the channel's outbox, then what follows a delivered one."""

    def __init__(self, api: SendApi, rules: CommentRules, answer: ProductAnswer = no_product_answer) -> None:
        self.api, self.rules, self.answer = api, rules, answer
        self.agent: Any = None  # Rasa's agent, set when the server starts: writes into the person's conversation

    async def handle(self, comment: Comment, outbox: Outbox) -> None:
        """One admitted comment: answered privately, or left alone."""
        kind = read_comment(comment.text)
        if kind != QUESTION and not (kind == COMPLAINT and self.rules.complaints_to_desk):
            logger.debug("messenger: comment %s left alone (%s)", mask_id(comment.comment_id), kind)
            return
        if datetime.now(timezone.utc) - comment.created_at > PRIVATE_REPLY_WINDOW:
            logger.info("messenger: comment %s is older than 7 days, no private reply", mask_id(comment.comment_id))
            return
        answer = await self.answer(comment) if kind == QUESTION else None
        text = private_reply_text(comment, kind, answer)
        part = {
            "comment_id": comment.comment_id, "message": {"text": text}, "kind": kind, "comment": comment.text[:1000],
            "author_name": comment.author_name[:100], "created_at": comment.created_at.timestamp(),
        }  # fmt: skip
        await outbox.send(namespaced(CHANNEL, f"comment:{comment.comment_id}"), [part], None)

    async def deliver(self, part: dict[str, Any]) -> Attempt:
        """The outbox's send of a private reply; once Facebook took it, the follow-ups (never retried)."""
        attempt, psid = await self.api.private_reply(part["comment_id"], part["message"])
        if attempt.delivered:
            try:
                await self._follow_up(part, psid)
            except Exception as error:  # the reply is out: a failed follow-up must not send it again
                logger.error("messenger: follow-up of comment %s failed (%s)", mask_id(part["comment_id"]),
                             type(error).__name__)  # fmt: skip
        return attempt

    async def _follow_up(self, part: dict[str, Any], psid: str | None) -> None:
        if self.rules.public_reply:
            await self.api.comment_reply(part["comment_id"], self.rules.public_reply)
        if psid is None:
            logger.warning("messenger: Facebook named no PSID for the reply to comment %s", mask_id(part["comment_id"]))
            return
        sender = namespaced(CHANNEL, psid)
        reply = BotUttered(part["message"]["text"], metadata={"facebook_comment_id": part["comment_id"]})
        await self._record(sender, reply)
        if part["kind"] == COMPLAINT and await _hand_off(sender, part, reply.timestamp):
            await self._record(sender, ConversationPaused())  # the person's answer goes to the agent
        logger.info("messenger: comment %s answered privately; continues as %s", mask_id(part["comment_id"]),
                    mask_id(psid))  # fmt: skip

    async def _record(self, sender: str, event: Event) -> None:
        """An event of ``sender``'s conversation (the private reply as the bot's first message, the pause of a
        hand-off), after the session start Rasa runs for a new conversation. Rasa reads events back in the order
        of their timestamps, so each is stamped (again) once the session start is in: a session start after a
        pause would undo it."""
        agent = self.agent
        if agent is None or agent.processor is None:
            return
        async with agent.lock_store.lock(sender):
            tracker = await agent.processor.fetch_tracker_with_initial_session(sender, CollectingOutputChannel())
            event.timestamp = time.time()
            tracker.update(event)
            await agent.processor.save_tracker(tracker)


async def _hand_off(sender: str, part: dict[str, Any], replied_at: float) -> bool:
    """Asks the desk for a person, as the actions do for a complaint in chat; True when one will take it."""
    settings = current_settings()
    mood = score_mood(part["comment"]).as_dict()
    request = HandoffRequest(
        channel=CHANNEL, sender_id=sender, reason="complaint",
        summary=DESK_SUMMARY.format(text=part["comment"][:300]), slots={}, contact_phone=None,
        transcript=[TranscriptLine(role=CUSTOMER, text=part["comment"], sent_at=float(part["created_at"])),
                    TranscriptLine(role=BOT, text=part["message"]["text"], sent_at=replied_at)],
        mood=Mood(label=mood["label"], score=mood["score"], cues=mood["cues"]),
    )  # fmt: skip
    try:
        timeout = aiohttp.ClientTimeout(total=DESK_TIMEOUT_SECONDS)
        headers = {"Authorization": f"Bearer {settings.desk_token}"}
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.post(f"{settings.desk_url}{HANDOFFS_PATH}", json=request, headers=headers) as reply,
        ):
            reply.raise_for_status()
            answer = read_handoff_answer(await reply.json(content_type=None))
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        logger.warning("messenger: the desk did not take the complaint of %s (%s)", mask_id(sender),
                       redact(type(error).__name__))  # fmt: skip
        return False
    return answer.get("status") in WITH_A_PERSON
