"""The human desk's behaviour, independent of HTTP: what happens when a handoff
opens, a customer writes, an agent claims, replies, hands back or closes, and
when nobody accepts in time.

Every message to the customer goes through Rasa (``RasaClient.append``), so it
is delivered on the customer's channel and recorded in their tracker. A state
change that the customer must hear about (close, hand-back) only happens once
Rasa took the message: a conversation is never left paused without a human.

Several desk instances may run this at once on one database (the scaled stack):
every timer's work is claimed in the database first (bot/desk/queue.py), so the
customer hears each notice once, whichever instance sweeps first or survives.
"""

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.desk import texts
from bot.desk.accounts import AccountStore, Agent
from bot.desk.hours import DeskConfig, DeskConfigFile
from bot.desk.live import QUEUE_TOPIC, LiveHub, agent_topic, handoff_topic
from bot.desk.queue import ACTIVE, AGENT, BOT, CUSTOMER, NOTE, WAITING, Handoff, HandoffQueue, estimate_wait_minutes
from bot.desk.rasa_client import RasaClient, RasaUnavailableError
from bot.desk.ticket_news import NewTickets
from bot.handoff_protocol import (
    DESK_CLOSED,
    HANDOFF_ACTIVE,
    HANDOFF_QUEUED,
    NO_AGENT_ONLINE,
    TRANSCRIPT_EVENTS,
    HandoffAnswer,
    HandoffRequest,
    Mood,
    SentFile,
    agent_of,
    ask_callback_phone_events,
    desk_file_message,
    desk_message,
    file_of,
    leaves_queue,
    resume_events,
    transcript_text,
)
from bot.observability.metrics import desk_metrics
from bot.schema import AGENT_AWAY, AGENT_ONLINE
from bot.support import issue_type_or_fallback
from bot.tickets import TicketStore

logger = logging.getLogger(__name__)

MAX_REPLY = 2000
SUGGESTIONS = 3
# agent assist shows an answer only when the model is this sure the question is that FAQ topic
# (P(intent faq) x P(topic | faq)); a doubtful suggestion costs an agent more than none
SUGGESTION_MIN_CONFIDENCE = 0.5
# messages that ask nothing an FAQ answers: the hand-off request itself, small talk, yes/no, form answers
NOT_A_QUESTION = frozenset({
    "request_human", "greet", "goodbye", "thank", "affirm", "deny", "rate_service", "bot_challenge", "inform",
})  # fmt: skip
# how far back agent assist looks for the customer's question
SUGGESTION_LOOKBACK = 6
# how long the instance sending an expired conversation's resume has it to itself: longer than a call to
# Rasa may take (bot/desk/rasa_client.py), short enough that a customer whose desk died soon hears from another
RESUME_LEASE = timedelta(seconds=30)


class DeskError(Exception):
    """A request the desk refuses; the message is shown to the agent as is."""


class AtCapacityError(DeskError):
    """The agent already talks in as many conversations as an admin allowed them."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _known_mood(mood: Mood | None) -> Mood | None:
    """The bot's mood of the customer, kept only when the console shows it, with a few short cues."""
    if mood is None or mood["label"] not in texts.MOOD_LABELS:
        return None
    return Mood(label=mood["label"], score=mood["score"], cues=[cue[:40] for cue in mood["cues"]][:8])


class Desk:
    """Queue, accounts, tickets and Rasa wired together."""

    def __init__(
        self,
        queue: HandoffQueue,
        accounts: AccountStore,
        tickets: TicketStore,
        rasa: RasaClient,
        config_file: DeskConfigFile,
        hub: LiveHub,
    ) -> None:
        self.queue, self.accounts, self.tickets = queue, accounts, tickets
        self.rasa, self.config_file, self.hub = rasa, config_file, hub
        # (model fingerprint, its FAQ answers by topic): a new model brings its own answers
        self._faq_answers: tuple[str, dict[str, str]] = ("", {})
        self._caught_up = False
        self.new_tickets = NewTickets(tickets, hub)  # what the action server files, for the tickets page

    @property
    def config(self) -> DeskConfig:
        return self.config_file.current()

    # --- from the bot -------------------------------------------------------------------------

    def open_handoff(self, request: HandoffRequest) -> HandoffAnswer:
        """Queues the conversation if someone can take it; otherwise says why and when the shop calls back."""
        now = _now()
        named = request.get("slots", {}).get("issue_type_key")
        issue = issue_type_or_fallback(named)
        callback = texts.callback_promise(self.config, now, issue.response_time)
        if not self.config.is_open(now):
            opening = texts.opening_phrase(self.config, now, self.config.next_opening(now))
            return HandoffAnswer(status=DESK_CLOSED, opens=opening, callback=callback)
        agents_online = self.accounts.online_count()
        if agents_online == 0:
            return HandoffAnswer(status=NO_AGENT_ONLINE, callback=callback)
        # none named: the report the customer just filed (the bot clears its slots once the ticket is made)
        ticket = None if named else self.tickets.conversation_ticket(request["sender_id"], now)
        handoff = self.queue.open(
            channel=request["channel"], sender_id=request["sender_id"], reason=request["reason"],
            summary=request["summary"], slots=request["slots"], transcript=request["transcript"],
            contact_phone=request["contact_phone"], mood=_known_mood(request["mood"]),
            expires_at=now + timedelta(minutes=self.config.accept_timeout_minutes),
            team=ticket["team"] if ticket else issue.team,
        )  # fmt: skip
        position = self.queue.position(handoff.id) or 1
        minutes = estimate_wait_minutes(position, agents_online, self.config.average_handle_minutes)
        self.queue.set_told_position(handoff.id, position)
        self.hub.publish(QUEUE_TOPIC, "queue", {"handoff_id": handoff.id})
        if handoff.status == WAITING and handoff.created_at >= now:  # opened now, not a customer asking again
            self.hub.publish(QUEUE_TOPIC, "waiting", {
                "handoff_id": handoff.id, "channel": handoff.channel,
                "reason": texts.REASON_LABELS.get(handoff.reason, handoff.reason),
            })  # fmt: skip
        return HandoffAnswer(
            status=HANDOFF_QUEUED if handoff.status == WAITING else HANDOFF_ACTIVE,
            handoff_id=handoff.id, position=position, eta_minutes=minutes,
            text=texts.QUEUED.format(wait=texts.wait_text(position, minutes)),
        )  # fmt: skip

    async def conversation_event(self, event: dict[str, Any]) -> None:
        """A tracker event from the Rasa event broker: transcript lines of open handoffs."""
        kind, sender_id, text = event.get("event"), event.get("sender_id"), event.get("text")
        if kind not in TRANSCRIPT_EVENTS or not sender_id or not text:
            return
        handoff = self.queue.open_for(sender_id)
        if handoff is None:
            return
        author = agent_of(event.get("metadata"))
        role = CUSTOMER if kind == "user" else AGENT if author else BOT
        if role == AGENT:  # an agent's file: the line names it, as when the desk recorded it itself
            text = transcript_text(text, file_of(event.get("data")))
        sent_at = float(event.get("timestamp") or _now().timestamp())
        if role == CUSTOMER and handoff.status == WAITING and leaves_queue(text):
            self._record(handoff.id, role, text, sent_at)
            await self._customer_cancelled(handoff)
            return
        self._record(handoff.id, role, text, sent_at, author)
        if role == CUSTOMER and handoff.status == ACTIVE and handoff.claimed_by:
            # the line itself goes to the conversation's topic; its agent's other tabs only hear that it came
            self.hub.publish(agent_topic(handoff.claimed_by), "customer_message", {"handoff_id": handoff.id})

    def _record(self, handoff_id: int, role: str, text: str, sent_at: float, author: str | None = None) -> None:
        message = self.queue.add_message(handoff_id, role, text, sent_at, author)
        if message:
            self.hub.publish(handoff_topic(handoff_id), "message", message.as_dict())
            if role == CUSTOMER:
                self.hub.publish(QUEUE_TOPIC, "queue", {"handoff_id": handoff_id})

    async def _customer_cancelled(self, handoff: Handoff) -> None:
        if self.queue.cancel(handoff.id):
            await self._say(handoff, [*resume_events(), desk_message(texts.CANCELLED)])
            self.hub.publish(QUEUE_TOPIC, "queue", {"handoff_id": handoff.id})
            await self.update_positions()

    def record_csat(self, sender_id: str, score: int) -> bool:
        handoff = self.queue.record_csat(sender_id, score)
        if handoff:
            self.hub.publish(handoff_topic(handoff.id), "csat", {"score": score})
        return handoff is not None

    # --- from agents --------------------------------------------------------------------------

    def _own(self, handoff_id: int, agent: Agent) -> Handoff:
        handoff = self.queue.get(handoff_id)
        if handoff is None:
            raise DeskError("Không tìm thấy cuộc trò chuyện này.")
        if handoff.status != ACTIVE or handoff.claimed_by != agent.username:
            raise DeskError("Cuộc trò chuyện này không còn do bạn phụ trách.")
        return handoff

    async def _say(self, handoff: Handoff, events: list[dict[str, Any]]) -> None:
        """Sends events to the customer's conversation and records the bot/agent lines at once."""
        await self.rasa.append(handoff.sender_id, events)
        for event in events:
            if event.get("event") == "bot":
                author = agent_of(event["metadata"])
                text = transcript_text(event["text"], file_of(event.get("data")) if author else None)
                self._record(handoff.id, AGENT if author else BOT, text, event["timestamp"], author)

    def offered_new_customers(self, username: str) -> bool:
        """Whether the agent is alerted to new waiting customers: online (not busy, not away) with room for one more."""
        agent = self.accounts.agent(username)
        return agent is not None and agent.status == AGENT_ONLINE and self.queue.active_count(username) < agent.capacity

    def alerted_to_own_customers(self, username: str) -> bool:
        """Whether the agent hears that a customer wrote in their conversation: not while away."""
        agent = self.accounts.agent(username)
        return agent is not None and agent.status != AGENT_AWAY

    def set_status(self, agent: Agent, status: str) -> None:
        """The agent's own status; every console shows it to colleagues at once."""
        self.accounts.set_status(agent.username, status)
        self.hub.publish(QUEUE_TOPIC, "agents", {"username": agent.username, "status": status})

    async def claim(self, handoff_id: int, agent: Agent) -> Handoff:
        if not self.queue.claim(handoff_id, agent.username, capacity=agent.capacity):
            if self.queue.active_count(agent.username) >= agent.capacity:
                raise AtCapacityError(
                    f"Bạn đang phụ trách {agent.capacity} cuộc trò chuyện, là số tối đa cùng lúc của bạn. "
                    "Bạn đóng hoặc trả bớt một cuộc rồi nhận thêm khách nhé."
                )
            raise DeskError("Cuộc trò chuyện này đã được nhân viên khác nhận hoặc khách đã rời hàng chờ.")
        handoff = self.queue.get_existing(handoff_id)
        if handoff.claimed_at is not None:
            desk_metrics().claimed((handoff.claimed_at - handoff.created_at).total_seconds())
        try:
            await self._say(handoff, [desk_message(texts.AGENT_JOINED.format(agent=agent.display_name))])
        except RasaUnavailableError as error:
            logger.warning("could not tell the customer an agent joined: %s", error)
        self.hub.publish(QUEUE_TOPIC, "queue", {"handoff_id": handoff_id})
        await self.update_positions()
        return handoff

    async def reply(self, handoff_id: int, agent: Agent, text: str) -> None:
        text = text.strip()
        if not text:
            raise DeskError("Tin nhắn trống.")
        if len(text) > MAX_REPLY:
            raise DeskError(f"Tin nhắn dài quá {MAX_REPLY} ký tự, bạn chia nhỏ giúp nhé.")
        handoff = self._own(handoff_id, agent)
        try:
            await self._say(handoff, [desk_message(text, agent=agent.display_name)])
        except RasaUnavailableError as error:
            raise DeskError("Chưa gửi được tin nhắn tới khách (máy chủ bot không phản hồi). Thử lại nhé.") from error
        self.queue.mark_first_reply(handoff_id)

    def owned(self, handoff_id: int, agent: Agent) -> Handoff:
        """The conversation if ``agent`` has it now; ``DeskError`` otherwise (checked before a file is kept)."""
        return self._own(handoff_id, agent)

    async def send_file(self, handoff_id: int, agent: Agent, sent: SentFile, caption: str = "") -> None:
        """An agent's stored picture or PDF, sent on the customer's channel with ``caption`` (or its name)."""
        caption = caption.strip()[:MAX_REPLY] or texts.file_caption(sent["kind"], sent["name"])
        handoff = self._own(handoff_id, agent)
        try:
            await self._say(handoff, [desk_file_message(caption, agent.display_name, sent)])
        except RasaUnavailableError as error:
            raise DeskError("Chưa gửi được tệp tới khách (máy chủ bot không phản hồi). Thử lại nhé.") from error
        self.queue.mark_first_reply(handoff_id)

    async def note(self, handoff_id: int, agent: Agent, text: str) -> None:
        """An internal note: kept with the transcript, never sent to the customer."""
        if not text.strip():
            raise DeskError("Ghi chú trống.")
        self._own(handoff_id, agent)
        self.add_note(handoff_id, text.strip(), agent)

    def add_note(self, handoff_id: int, text: str, agent: Agent) -> None:
        """Writes ``agent``'s internal line to the transcript (and the live page) without any check."""
        self._record(handoff_id, NOTE, text, _now().timestamp(), agent.display_name)

    async def tell(self, handoff: Handoff, text: str) -> None:
        """One line from the desk (the bot's voice) on the customer's channel; RasaUnavailableError if not sent."""
        await self._say(handoff, [desk_message(text)])

    async def hand_back(self, handoff_id: int, agent: Agent) -> None:
        handoff = self._own(handoff_id, agent)
        handed_back = desk_message(texts.HANDED_BACK.format(agent=agent.display_name))
        await self._finish(handoff, [*resume_events(), handed_back])
        self.queue.hand_back(handoff_id, agent.username, "Trả lại cho bot")
        self.hub.publish(QUEUE_TOPIC, "queue", {"handoff_id": handoff_id})

    async def close(self, handoff_id: int, agent: Agent, resolution: str) -> None:
        if not resolution.strip():
            raise DeskError("Bạn ghi kết quả xử lý trước khi đóng nhé.")
        handoff = self._own(handoff_id, agent)
        events = [
            desk_message(texts.CLOSED.format(agent=agent.display_name)),
            *resume_events(),
            desk_message(texts.ASK_CSAT, buttons=texts.csat_buttons()),
        ]
        await self._finish(handoff, events)
        self.queue.close(handoff_id, agent.username, resolution.strip())
        self.hub.publish(QUEUE_TOPIC, "queue", {"handoff_id": handoff_id})

    async def _finish(self, handoff: Handoff, events: list[dict[str, Any]]) -> None:
        try:
            await self._say(handoff, events)
        except RasaUnavailableError as error:
            raise DeskError("Máy chủ bot không phản hồi nên chưa trả được cuộc trò chuyện. Bạn thử lại nhé.") from error

    async def suggestions(self, handoff_id: int) -> list[dict[str, Any]]:
        """Agent assist: FAQ answers for the customer's last real question, with the model's confidence.

        "cho gặp nhân viên" asks nothing: the latest message that is not a hand-off request, small talk,
        a yes/no or a form answer is the question. Answers below ``SUGGESTION_MIN_CONFIDENCE`` are left out.
        """
        said = [m.text for m in reversed(self.queue.messages(handoff_id)) if m.role == CUSTOMER]
        try:
            parsed = {}
            for text in said[:SUGGESTION_LOOKBACK]:
                parsed = await self.rasa.parse(text)
                if (parsed.get("intent") or {}).get("name") not in NOT_A_QUESTION:
                    break
            else:
                return []
            answers = await self._faq_answers_of_live_model()
        except RasaUnavailableError as error:
            logger.warning("no suggestions: %s", error)
            return []
        selector = parsed.get("response_selector") or {}
        ranking = (selector.get("faq") or selector.get("default") or {}).get("ranking") or []
        intents = parsed.get("intent_ranking") or []
        is_faq = next((float(i.get("confidence", 0)) for i in intents if i.get("name") == "faq"), 0.0)
        found = []
        for item in ranking:
            answer = answers.get(item.get("intent_response_key", ""))
            confidence = is_faq * float(item.get("confidence", 0))
            if answer and confidence >= SUGGESTION_MIN_CONFIDENCE:
                found.append({"topic": item["intent_response_key"].split("/", 1)[-1],
                              "confidence": round(confidence, 2), "text": answer})  # fmt: skip
            if len(found) == SUGGESTIONS:
                break
        return found

    async def _faq_answers_of_live_model(self) -> dict[str, str]:
        """The FAQ answers of the model Rasa serves now, fetched again when its fingerprint changed."""
        model = await self.rasa.model_id()
        if self._faq_answers[0] != model:
            responses = await self.rasa.domain_responses()
            answers = {
                key.removeprefix("utter_"): (variants[0].get("text") or "")
                for key, variants in responses.items()
                if key.startswith("utter_faq/") and variants
            }
            self._faq_answers = (model, answers)
        return self._faq_answers[1]

    # --- on a timer ---------------------------------------------------------------------------

    async def update_positions(self) -> None:
        """Tells each waiting customer their new place when it moved up (once, whichever instance saw it)."""
        agents_online = self.accounts.online_count()
        for position, handoff in enumerate(self.queue.waiting(), start=1):
            if handoff.told_position is not None and position >= handoff.told_position:
                continue
            if not self.queue.move_told_position(handoff.id, handoff.told_position, position):
                continue  # another instance tells them
            minutes = estimate_wait_minutes(position, agents_online, self.config.average_handle_minutes)
            try:
                await self._say(handoff, [desk_message(texts.wait_text(position, minutes))])
            except RasaUnavailableError as error:
                logger.warning("queue position not sent: %s", error)
                self.queue.move_told_position(handoff.id, position, handoff.told_position)  # told nothing yet

    async def expire_overdue(self) -> None:
        """Nobody accepted in time: a ticket instead, the promised call-back, and the bot back on."""
        now = _now()
        for handoff in self.queue.due_to_expire(now, timedelta(minutes=self.config.accept_timeout_minutes)):
            resume = [*resume_events(), desk_message(texts.NOBODY_ACCEPTED_NO_TICKET)]
            if not self.queue.expire(handoff.id, resume, leased_until=now + RESUME_LEASE):
                continue  # claimed, cancelled or expired by another instance meanwhile
            issue = issue_type_or_fallback(handoff.slots.get("issue_type_key"))
            try:
                ticket = self.tickets.create(
                    channel=handoff.channel, sender_id=handoff.sender_id, issue_type=issue.key,
                    description=handoff.summary, order_number=handoff.slots.get("order_number"),
                    contact_phone=handoff.contact_phone,
                )  # fmt: skip
            except Exception as error:
                logger.error("ticket for expired handoff %s not saved: %s", handoff.id, type(error).__name__)
            else:
                self.queue.note_ticket(handoff.id, ticket.code)
                callback = texts.callback_promise(self.config, now, issue.response_time)
                text = texts.nobody_accepted(ticket.code, callback, handoff.sender_id, handoff.contact_phone)
                after = []
                if texts.asks_phone(handoff.sender_id, handoff.contact_phone):
                    after = ask_callback_phone_events(ticket.code, callback)
                resume = [*resume_events(), desk_message(text), *after]
                self.queue.set_resume(handoff.id, resume)
            self.hub.publish(QUEUE_TOPIC, "queue", {"handoff_id": handoff.id})
            await self._send_resume(handoff, resume)
        await self._resume_pending()

    async def _send_resume(self, handoff: Handoff, events: list[dict[str, Any]]) -> None:
        """Sends a resume this instance holds; if Rasa does not take it, any instance retries at its next sweep
        (what is still to send is kept in the hand-off's row, so a desk restart only delays it)."""
        try:
            await self._say(handoff, events)
        except RasaUnavailableError as error:
            logger.error("expired handoff %s: customer not resumed yet: %s", handoff.id, error)
            self.queue.release_resume(handoff.id)
        else:
            self.queue.resumed(handoff.id)

    async def _resume_pending(self) -> None:
        """Resumes that nobody is sending: Rasa was down, or the instance that expired them died."""
        now = _now()
        for handoff in self.queue.pending_resumes(now):
            events = self.queue.lease_resume(handoff.id, now, now + RESUME_LEASE)
            if events is not None:
                await self._send_resume(handoff, events)

    async def catch_up(self) -> None:
        """After a desk restart: messages written while the desk was down, read back from Rasa."""
        for handoff in [*self.queue.waiting(), *self.queue.active_agents_handoffs()]:
            since = handoff.created_at.timestamp()
            for event in await self.rasa.events(handoff.sender_id):
                if float(event.get("timestamp") or 0) >= since:
                    await self.conversation_event({**event, "sender_id": handoff.sender_id})
        self._caught_up = True

    async def tick(self) -> None:
        if not self._caught_up:
            try:
                await self.catch_up()
            except RasaUnavailableError as error:
                logger.warning("transcripts not caught up yet: %s", error)
        await self.expire_overdue()
        await self.update_positions()
        self.new_tickets.check()
