"""What every action may need to leave behind: a ticket, the details for a person, a clean slate of form slots."""

import logging
from typing import Any

import sqlalchemy as sa
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.services import ticket_store
from bot.privacy import mask_email, mask_phone
from bot.support import issue_type_or_fallback
from bot.tickets import Ticket

logger = logging.getLogger(__name__)

FORM_BOOKKEEPING = [
    "ownership_answer", "ownership_failures", "order_lookup_failures", "order_backend_down",
    "order_not_cancellable", "order_locked", "confirm_cancel", "confirm_ticket", "confirm_unclear", "issue_type",
    "issue_description",
]  # fmt: skip


def reset_form_slots() -> list[dict[str, Any]]:
    """Clears what one form run collected, keeping the order number for context."""
    return [SlotSet(slot, None) for slot in FORM_BOOKKEEPING]


def add_ticket_phone(tracker: Tracker, code: str, phone: str) -> bool:
    """Adds the phone to call back to this conversation's ticket ``code``; False (and a log line) if not."""
    try:
        return ticket_store().add_contact_phone(code, tracker.sender_id, phone)
    except sa.exc.SQLAlchemyError as error:
        logger.error("phone not added to ticket: %s", type(error).__name__)
        return False


def file_ticket(
    tracker: Tracker,
    issue_type: str,
    description: str,
    *,
    order_verified: bool = False,
    handoff_reason: str | None = None,
) -> Ticket | None:
    """Persists a ticket; None (and a log line) if it could not be written.

    ``order_verified`` tells the team whether the customer proved the order is theirs; ``handoff_reason``
    marks a request for a person that became a ticket (nobody could take it), for the analytics.
    """
    try:
        return ticket_store().create(
            channel=tracker.get_latest_input_channel() or "rest",
            sender_id=tracker.sender_id,
            issue_type=issue_type,
            description=description,
            order_number=tracker.get_slot("order_number"),
            contact_phone=tracker.get_slot("contact_phone"),
            order_verified=order_verified,
            handoff_reason=handoff_reason,
        )
    except sa.exc.SQLAlchemyError as error:
        logger.error("ticket not saved: %s", type(error).__name__)
        return None


def collected_details(tracker: Tracker) -> dict[str, Any]:
    """What the bot knows, ready to show an agent: phone and e-mail masked."""
    issue_key = tracker.get_slot("issue_type")
    phone = tracker.get_slot("contact_phone") or next(tracker.get_latest_entity_values("phone"), None)
    email = next(tracker.get_latest_entity_values("email"), None)
    details = {
        "order_number": tracker.get_slot("order_number"),
        "issue_type": issue_type_or_fallback(issue_key).label if issue_key else None,
        "issue_type_key": issue_key,
        "issue_description": tracker.get_slot("issue_description"),
        "phone": mask_phone(phone) if phone else None,
        "email": mask_email(email) if email else None,
    }
    return {key: value for key, value in details.items() if value}
