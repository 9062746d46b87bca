"""The customer panel of a conversation: who this customer is to the shop, from what the desk already holds.

"This customer" is the same sender on the same channel, and anyone whose verified phone is theirs: the phone
of an order they proved with the full number (bot/ownership.py keeps which conversation proved which order;
the order system says whose phone that is). Another conversation counts as theirs when it proved, with the
full number, an order of that same phone; tickets likewise, or when filed with that order proven.

Nothing is said about an order this customer has not proven: the orders listed are their own proofs, and a
ticket's order number shows only when this very conversation's sender proved it. Past conversations are listed,
with links, when the agent may see them (bot/desk/search.py ``visible_to``); the others are only counted.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.desk.accounts import Agent
from bot.desk.queue import Handoff
from bot.desk.search import HANDOFF_STATUS_LABELS, aware, visible_to
from bot.orders.backend import OrderBackend
from bot.orders.model import Order, OrderBackendError, format_vnd
from bot.ownership import ProofMethod
from bot.privacy import mask_phone
from bot.schema import handoffs_table, tickets_table
from bot.schema import ownership_proofs_table as proofs_table
from bot.support import issue_type_or_fallback
from bot.tickets import SHOP_TIMEZONE
from bot.tickets import STATUS_LABELS as TICKET_STATUS_LABELS

MAX_ORDERS = 10  # proven orders looked up in the order system for one page view
MAX_PHONE_CANDIDATES = 20  # other conversations with the phone as contact, checked against their proofs
MAX_ROWS = 20  # conversations, tickets and ratings listed


@dataclass
class CustomerPanel:
    """What the panel shows; every list newest first."""

    phone: str | None = None  # the verified phone, masked
    conversations: list[dict[str, Any]] = field(default_factory=list)
    hidden_conversations: int = 0  # theirs, but in other agents' hands
    tickets: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    csat: list[dict[str, Any]] = field(default_factory=list)
    orders_unavailable: bool = False  # the order system did not answer


class _Orders:
    """Order look-ups for one panel, each number asked once, at most ``MAX_ORDERS`` + candidates' proofs."""

    def __init__(self, backend: OrderBackend) -> None:
        self._backend, self.unavailable = backend, False
        self._found: dict[str, Order | None] = {}

    def get(self, number: str) -> Order | None:
        if number not in self._found and not self.unavailable:
            try:
                self._found[number] = self._backend.get(number)
            except OrderBackendError:
                self.unavailable = True
        return self._found.get(number)


def _proofs(connection: sa.engine.Connection, senders: list[str]) -> list[Any]:
    return connection.execute(
        sa.select(proofs_table).where(proofs_table.c.conversation_id.in_(senders))
        .order_by(proofs_table.c.proven_at.desc())
    ).all()  # fmt: skip


def _phone_senders(
    connection: sa.engine.Connection, handoff: Handoff, full: list[Any], phones: set[str], orders: _Orders
) -> set[str]:
    """Other senders whose verified phone is one of ``phones``."""
    proof, same, by_phone = proofs_table.c, [p.order_number for p in full], ProofMethod.FULL_PHONE.value
    senders = set(connection.execute(
        sa.select(proof.conversation_id).where(proof.order_number.in_(same), proof.method == by_phone)
    ).scalars())  # fmt: skip
    with_contact = sa.union(
        sa.select(handoffs_table.c.sender_id.label("sender")).where(handoffs_table.c.contact_phone.in_(phones)),
        sa.select(tickets_table.c.sender_id.label("sender")).where(tickets_table.c.contact_phone.in_(phones)),
    )
    candidates = [s for s in connection.execute(with_contact).scalars() if s not in senders and s != handoff.sender_id]
    for candidate in candidates[:MAX_PHONE_CANDIDATES]:
        theirs = [p for p in _proofs(connection, [candidate]) if p.method == ProofMethod.FULL_PHONE.value]
        if any((order := orders.get(p.order_number)) is not None and order.phone in phones for p in theirs[:3]):
            senders.add(candidate)
    senders.discard(handoff.sender_id)
    return senders


def customer_panel(engine: sa.engine.Engine, backend: OrderBackend, handoff: Handoff, agent: Agent) -> CustomerPanel:
    """The panel of ``handoff`` as ``agent`` may see it."""
    panel, orders = CustomerPanel(), _Orders(backend)
    h, t = handoffs_table, tickets_table
    with engine.connect() as connection:
        mine = _proofs(connection, [handoff.sender_id])
        for proof in mine[:MAX_ORDERS]:
            order = orders.get(proof.order_number)
            if order is not None:
                panel.orders.append({
                    "number": order.number, "status": order.status.label, "total": format_vnd(order.total),
                    "proven_at": aware(proof.proven_at),
                    "method": "SĐT đầy đủ" if proof.method == ProofMethod.FULL_PHONE.value else "4 số cuối SĐT",
                })  # fmt: skip
        full = [p for p in mine[:MAX_ORDERS] if p.method == ProofMethod.FULL_PHONE.value]
        phones = {order.phone for p in full if (order := orders.get(p.order_number)) is not None}
        senders = _phone_senders(connection, handoff, full, phones, orders) if phones else set()
        panel.phone = mask_phone(sorted(phones)[0]) if phones else None
        same_customer = sa.and_(h.c.sender_id == handoff.sender_id, h.c.channel == handoff.channel)
        theirs = sa.or_(same_customer, h.c.sender_id.in_(senders))
        visible = sa.case((visible_to(agent), True), else_=False).label("visible")
        conversations = connection.execute(
            sa.select(h.c.id, h.c.channel, h.c.status, h.c.created_at, h.c.closed_at, h.c.csat, h.c.sender_id, visible)
            .where(theirs).order_by(h.c.created_at.desc(), h.c.id.desc()).limit(MAX_ROWS + 1)
        ).all()  # fmt: skip
        proven_orders = [p.order_number for p in full]
        ticket_rows = connection.execute(
            sa.select(t).where(sa.or_(
                sa.and_(t.c.sender_id == handoff.sender_id, t.c.channel == handoff.channel), t.c.sender_id.in_(senders),
                sa.and_(t.c.order_verified.is_(True), t.c.order_number.in_(proven_orders)),
            )).order_by(t.c.created_at.desc()).limit(MAX_ROWS)
        ).all()  # fmt: skip
    for row in conversations:
        if row.csat is not None:
            panel.csat.append({"score": row.csat, "at": aware(row.closed_at or row.created_at), "id": row.id,
                               "visible": bool(row.visible)})  # fmt: skip
        if row.id == handoff.id:
            continue
        if not row.visible:
            panel.hidden_conversations += 1
            continue
        if len(panel.conversations) < MAX_ROWS:
            panel.conversations.append({
                "id": row.id, "channel": row.channel, "status": HANDOFF_STATUS_LABELS.get(row.status, row.status),
                "at": aware(row.created_at), "by_phone": row.sender_id != handoff.sender_id,
            })  # fmt: skip
    own_orders = {proof.order_number for proof in mine}
    panel.tickets = [_ticket(row, own_orders) for row in ticket_rows]
    panel.orders_unavailable = orders.unavailable
    return panel


def _ticket(row: Any, own_orders: set[str]) -> dict[str, Any]:
    """A ticket as the panel lists it: its order number only when this very customer proved that order."""
    created: datetime = aware(row.created_at, SHOP_TIMEZONE)
    return {
        "code": row.code, "status": TICKET_STATUS_LABELS.get(row.status, row.status), "at": created,
        "issue": issue_type_or_fallback(row.issue_type).label,
        "order_number": row.order_number if row.order_verified and row.order_number in own_orders else None,
    }  # fmt: skip
