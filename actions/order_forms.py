"""Validation of the three order forms: status, cancellation and issue report.

Every form ends itself (``required_slots`` returns nothing more to ask) when a
limit is reached: an unknown order number three times, ownership not proven
three times, the order locked after too many failed proofs, or the order
system down. The submit action then explains and offers a human, so a
customer is never stuck answering the same question.

Ownership is bound to one order number in the project database
(bot/ownership.py): naming another order clears what was proven and what was
confirmed, and a proof made for an order earlier in the conversation is
reused only if it is strong enough for this form (cancelling needs the full
phone number; reading the status accepts its last 4 digits).
"""

import asyncio
import logging
import re
from abc import abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.attachments import GOT_IT_FOR_TICKET, sent_in, what
from actions.confirmation import read_confirmation, slot_before_latest_message
from actions.order_lookup import find_order
from actions.services import ownership_ledger, shared_finder, shop_teencode
from bot.orders.model import Order, OrderBackendError
from bot.ownership import Outcome, ProofMethod
from bot.support import issue_types
from bot.text.confirm import Reply, classify_reply
from bot.text.entities import normalize_order_number, normalize_phone

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # the first try and two retries
MAX_DESCRIPTION = 2000
_BARE_ORDER_DIGITS = re.compile(r"^\s*#?\s*(\d{6})\s*$")
MIN_DESCRIPTION_WORDS = 5  # fewer words only name the problem ("giao thiếu hàng"): ask for details

Slots = dict[str, Any]
# what belongs to one order and must not survive a change of order number
ORDER_BOUND_SLOTS = (
    "ownership_answer", "ownership_failures", "order_not_cancellable", "order_locked", "confirm_cancel",
    "confirm_ticket", "confirm_unclear", "contact_phone",
)  # fmt: skip


def _count(tracker: Tracker, slot: str) -> int:
    return int(tracker.get_slot(slot) or 0)


def limits_reached(tracker: Tracker) -> bool:
    """True when the form must stop asking and let the submit action explain."""
    return (
        bool(tracker.get_slot("order_backend_down"))
        or _count(tracker, "order_lookup_failures") >= MAX_ATTEMPTS
        or _count(tracker, "ownership_failures") >= MAX_ATTEMPTS
        or bool(tracker.get_slot("order_not_cancellable"))
        or bool(tracker.get_slot("order_locked"))
    )


def parse_order_number(value: Any) -> str | None:
    """ "dh-123456", "#DH 123456" or, when asked for it, just "123456"."""
    text = str(value or "")
    found = [e.value for e in shared_finder().find(text) if e.entity == "order_number"]
    if found:
        return found[0]
    bare = _BARE_ORDER_DIGITS.match(text)
    return f"DH{bare.group(1)}" if bare else normalize_order_number(text)


async def look_up(number: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> tuple[Order | None, Slots]:
    """The order, or the slots that record why not (and what was said)."""
    try:
        order = await find_order(tracker, number)
    except OrderBackendError as error:
        logger.warning("order lookup failed: %s", error)
        return None, {"order_number": number, "order_backend_down": True}
    if order is None:
        failures = _count(tracker, "order_lookup_failures") + 1
        if failures < MAX_ATTEMPTS:
            dispatcher.utter_message(response="utter_order_not_found", order_number=number)
        return None, {"order_number": None, "order_lookup_failures": failures}
    return order, {"order_number": order.number}


class OrderNumberValidation(FormValidationAction):
    """Shared checks: a well-formed, existing order number, then ownership by phone."""

    @abstractmethod
    def name(self) -> str:
        """Each form's own validation action name."""

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return [] if limits_reached(tracker) else domain_slots

    #: whether this form's step needs the full phone number (a change) or also accepts its last 4 digits
    needs_full_phone = False

    async def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        number = parse_order_number(value)
        if number is None:
            dispatcher.utter_message(response="utter_order_number_format")
            return {"order_number": None}
        slots: Slots = {}
        previous = slot_before_latest_message(tracker, "order_number")
        if previous and number != previous:
            # a different order: nothing proven or agreed for the previous one carries over
            slots.update(dict.fromkeys(ORDER_BOUND_SLOTS))
        if await asyncio.to_thread(ownership_ledger().is_locked, number):
            return {**slots, "order_number": number, "order_locked": True}
        order, found = await look_up(number, dispatcher, tracker)
        slots.update(found)
        if order is not None:
            slots.update(self.on_order_found(order))
            if await asyncio.to_thread(
                ownership_ledger().proven, tracker.sender_id, number, full_phone=self.needs_full_phone
            ):
                slots.update({"ownership_answer": "verified", **self.on_ownership_proven(order)})
        return slots

    def on_order_found(self, order: Order) -> Slots:
        """Extra slots to set once the order is known."""
        return {}

    async def validate_ownership_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        number = tracker.get_slot("order_number")
        answer = str(value or "")
        method = offered_proof(answer)
        if method is None or (method is ProofMethod.LAST_DIGITS and self.needs_full_phone):
            return self._not_proven(dispatcher, tracker, method)
        try:
            order = await find_order(tracker, number) if number else None
        except OrderBackendError:
            return {"order_backend_down": True}
        if order is None:
            return self._not_proven(dispatcher, tracker, method)
        matches = order.phone_matches(answer, last_digits_ok=method is ProofMethod.LAST_DIGITS)
        outcome = await asyncio.to_thread(ownership_ledger().attempt, tracker.sender_id, order.number, matches, method)
        if outcome is Outcome.LOCKED:
            return {"ownership_answer": None, "order_locked": True}
        if outcome is Outcome.PROVEN:
            return {"ownership_answer": "verified", **self.on_ownership_proven(order)}
        return self._not_proven(dispatcher, tracker, method)

    def _not_proven(self, dispatcher: CollectingDispatcher, tracker: Tracker, method: ProofMethod | None) -> Slots:
        failures = _count(tracker, "ownership_failures") + 1
        if failures < MAX_ATTEMPTS:
            if self.needs_full_phone and method is not ProofMethod.FULL_PHONE:
                reply = "utter_ownership_need_full_phone"
            elif method is None:
                # "tạm biệt" or "giao thiếu hàng" is not a wrong number: ask again instead of saying it does not match
                reply = "utter_ownership_need_phone"
            else:
                reply = "utter_ownership_mismatch"
            dispatcher.utter_message(response=reply, order_number=tracker.get_slot("order_number"))
        return {"ownership_answer": None, "ownership_failures": failures}

    def on_ownership_proven(self, order: Order) -> Slots:
        """Extra slots to set once the customer proved the order is theirs."""
        return {}


def offered_proof(answer: str) -> ProofMethod | None:
    """What kind of proof an answer offers: a whole phone number, its last 4 digits, or none."""
    if normalize_phone(answer):
        return ProofMethod.FULL_PHONE
    digits = "".join(c for c in answer if c.isdigit())
    return ProofMethod.LAST_DIGITS if len(digits) == 4 else None


def not_a_description(text: str) -> bool:
    """A phone number or a bare "yes" answers another question; it describes no problem."""
    if normalize_phone(text) and len(text.split()) <= 4:
        return True
    return classify_reply(text, teencode=shop_teencode()) is Reply.YES


def description_in(text: str) -> str | None:
    """The customer's own words when they say more than the problem's name; None for a button or a few words."""
    if text.startswith("/"):
        return None
    words = [w for w in text.split() if parse_order_number(w) is None]
    if len(words) < MIN_DESCRIPTION_WORDS or not_a_description(text):
        return None
    return " ".join(text.split())[:MAX_DESCRIPTION]


class ValidateOrderStatusForm(OrderNumberValidation):
    def name(self) -> str:
        return "validate_order_status_form"


class ValidateCancelOrderForm(OrderNumberValidation):
    needs_full_phone = True

    def name(self) -> str:
        return "validate_cancel_order_form"

    def on_ownership_proven(self, order: Order) -> Slots:
        # told right after ownership, before asking to confirm a cancellation that cannot happen
        return {} if order.status.cancellable else {"order_not_cancellable": True}

    async def validate_confirm_cancel(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return read_confirmation("confirm_cancel", "cancel", value, dispatcher, tracker)


class ValidateIssueReportForm(OrderNumberValidation):
    def name(self) -> str:
        return "validate_issue_report_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        """A picture or file is no answer to the question asked: it is acknowledged (the ticket gets it when
        filed) and the question asked again, whatever the marker text filled in."""
        sent = sent_in(tracker.latest_message)
        if not sent:
            return await super().run(dispatcher, tracker, domain)
        dispatcher.utter_message(text=GOT_IT_FOR_TICKET.format(what=what(sent)))
        emptied = {*tracker.slots_to_validate(), tracker.get_slot("requested_slot")} - {None, "requested_slot"}
        return [SlotSet(slot, None) for slot in sorted(emptied)]

    def on_ownership_proven(self, order: Order) -> Slots:
        # only the proven owner's number is offered back (masked) as the contact; nobody else sees it
        return {"contact_phone": order.phone}

    async def validate_issue_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        # the words that named the type often describe the problem too: not asked a second time
        typed = str((tracker.latest_message or {}).get("text") or "")
        described = {"issue_description": description_in(typed)} if description_in(typed) else {}
        if value in issue_types():
            return {"issue_type": value, **described}
        found = [e.value for e in shared_finder().find(str(value or "")) if e.entity == "issue_type"]
        if found:
            return {"issue_type": found[0], **described}
        if not_a_description(str(value or "")):
            # "đúng rồi" or a phone number names no problem: the type is asked again
            return {"issue_type": None}
        # free text that names no known type: keep it as the start of the description
        return {"issue_type": "other", "issue_description": str(value)[:MAX_DESCRIPTION] if value else None}

    async def validate_issue_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        text = " ".join(str(value or "").split())
        if not_a_description(text):
            dispatcher.utter_message(response="utter_description_not_an_answer")
            return {"issue_description": None}
        if len(text) < 5:
            dispatcher.utter_message(response="utter_description_too_short")
            return {"issue_description": None}
        return {"issue_description": text[:MAX_DESCRIPTION]}

    async def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        phone = normalize_phone(str(value or ""))
        if phone is None:
            dispatcher.utter_message(response="utter_phone_format")
        return {"contact_phone": phone}

    async def validate_confirm_ticket(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return read_confirmation("confirm_ticket", "ticket", value, dispatcher, tracker)
