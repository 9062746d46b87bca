"""Product questions for the admin: the products customers asked about most, and the questions naming a
product the catalog does not have, grouped like the unanswered messages (bot/admin/unanswered.py).

Read from Rasa's ``events`` table: each product answer's bot event records the products the question
named (bot/catalog/asked.py); the customer's words are those of the product question before it in the
same conversation. A question counts on the day it was asked (shop time); an answer naming several
products ("nồi chiên": two of them) counts each, and a product is shown by the name it had when asked.
"""

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from bot.admin.analytics import TURN_SLACK, day_bounds
from bot.admin.unanswered import Unanswered, group_messages
from bot.catalog.asked import LOOKUP_KEY, lookup_of

PRODUCT_INTENT = "product_question"
SHOWN_PRODUCTS = 10


@dataclass(frozen=True)
class AskedProduct:
    id: str
    name: str
    count: int


@dataclass
class ProductQuestions:
    """What the product answers of a date range found: the top products and the unknown ones."""

    top: list[AskedProduct] = field(default_factory=list)
    unknown: Unanswered = field(default_factory=Unanswered)

    @property
    def unknown_count(self) -> int:
        return sum(group.count for group in self.unknown.groups) + self.unknown.ungrouped


def _lookups(trackers: sa.engine.Engine, start: date, end: date) -> Iterator[tuple[str, dict[str, str]]]:
    """(the customer's question, the products its answer named) for each product answer of the range."""
    since, until = day_bounds(start, end)
    events = sa.table("events", sa.column("id"), sa.column("sender_id"), sa.column("type_name"),
                      sa.column("timestamp"), sa.column("intent_name"), sa.column("data"))  # fmt: skip
    query = (
        sa.select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
        .where(
            events.c.timestamp >= since.timestamp(),
            events.c.timestamp < (until + TURN_SLACK).timestamp(),
            sa.or_(
                sa.and_(events.c.type_name == "user", events.c.intent_name == PRODUCT_INTENT),
                sa.and_(events.c.type_name == "bot", events.c.data.contains(LOOKUP_KEY, autoescape=True)),
            ),
        )
        .order_by(events.c.sender_id, events.c.id)
    )
    sender, question = None, None
    with trackers.connect() as connection:
        for row in connection.execution_options(stream_results=True).execute(query):
            if row.sender_id != sender:
                sender, question = row.sender_id, None
            data = json.loads(row.data or "{}")
            if row.type_name == "user":
                question = (data.get("text") or "") if row.timestamp < until.timestamp() else None
                continue
            named = lookup_of(data)
            if question is not None and named is not None:
                yield question, named
                question = None  # one answer per question


def product_questions(trackers: sa.engine.Engine, start: date, end: date) -> ProductQuestions:
    """The products asked about most in ``start``..``end`` (shop time) and the unknown ones, grouped and masked."""
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    unknown: list[str] = []
    for question, named in _lookups(trackers, start, end):
        if not named:
            unknown.append(question)
        counts.update(named.keys())
        names.update(named)
    top = [AskedProduct(product, names[product], n) for product, n in counts.most_common(SHOWN_PRODUCTS)]
    return ProductQuestions(top, group_messages(unknown))
