"""Live news of tickets, for the tickets page (bot/admin/tickets_page.py and static/tickets_live.js): a ticket
was filed, assigned, commented, set pending, resolved or moved with its conversation.

What the desk changes it announces on the live hub at once (shared with the other desk instances). What the
action server files goes straight into the project database, so each desk instance notices new codes at its
timer (bot/desk/service.py ``tick``) and tells only its own streams: every instance notices them by itself.
The news names the ticket and the change, nothing of the customer; the page fetches what it shows.
"""

from datetime import datetime, timedelta
from typing import Literal

from bot.desk.live import LiveHub
from bot.tickets import SHOP_TIMEZONE, TicketStore

TICKETS_TOPIC = "tickets"
TICKET_EVENT = "ticket"
Change = Literal["created", "assigned", "commented", "pending", "resolved", "moved"]


def ticket_changed(hub: LiveHub, code: str, change: Change) -> None:
    """Tells every open tickets page, on every desk instance, that ``code`` changed."""
    hub.publish(TICKETS_TOPIC, TICKET_EVENT, {"code": code, "change": change})


class NewTickets:
    """Notices the tickets filed since the last look (today's and yesterday's codes, so midnight loses none)."""

    def __init__(self, tickets: TicketStore, hub: LiveHub) -> None:
        self._tickets, self._hub = tickets, hub
        self._known: set[str] | None = None  # None until the first look, which only learns what exists

    def check(self) -> list[str]:
        """The codes new since the last look, each announced to this instance's streams."""
        recent = self._tickets.codes_since(datetime.now(SHOP_TIMEZONE) - timedelta(days=1))
        new = [] if self._known is None else sorted(recent - self._known)
        self._known = recent
        for code in new:
            self._hub.publish_here(TICKETS_TOPIC, TICKET_EVENT, {"code": code, "change": "created"})
        return new
