"""What the bot and the desk did over a date range, from data already kept.

Conversations come from Rasa's own SQL tracker store (table ``events``),
handoffs from the project database. Definitions (shown on the page too):
- a conversation is one customer's messages on one day (shop time);
- contained: no handoff was opened for that customer that day, and no request for a person became a
  ticket (out of hours, nobody online, desk unreachable);
- not understood ("fallback rate"): customer messages the bot answered with its fallback
  (``FALLBACK_ACTIONS``), or whose answer the customer rejected in the next message ("không phải",
  "sai rồi", bot/text/rejection.py) / all customer messages. The NLU intent alone says nothing: a
  phone or an order code typed into a form is ``nlu_fallback`` to the classifier and a valid answer;
- topics: FAQ questions by the topic the bot answered with, and product questions (intent
  ``product_question``, bot/admin/product_analytics.py for which products) as one topic of their own;
- handoff reasons: handoffs queued for an agent and requests for a person that became tickets;
- wait time: handoff opened → claimed by an agent; first response: opened → the agent's first reply;
- first-contact resolution: handoffs an agent closed after which the customer did not ask for a
  human again within 7 days.
"""

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.admin.spreadsheet import csv_bytes
from bot.schema import CLOSED, handoffs_table, tickets_table
from bot.text.rejection import is_rejection

SHOP_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
RECONTACT_WINDOW = timedelta(days=7)
# what the bot does when it did not understand: the rule on nlu_fallback, Rasa's own fallback action
FALLBACK_ACTIONS = frozenset({"action_fallback_help", "action_default_fallback", "utter_ask_rephrase"})
# a rejection is of the answer the bot just gave; a rephrase request or a form question cannot be rejected
NOT_AN_ANSWER = FALLBACK_ACTIONS | {"action_listen", "action_session_start"}
# a turn's actions come a moment after its message; a turn starting just before midnight ends after it
TURN_SLACK = timedelta(minutes=10)
# intents outside the FAQ counted as topics of their own, titled in data/staff/titles.yml's ``intents``
TOPIC_INTENTS = frozenset({"product_question"})


@dataclass
class Day:
    day: date
    conversations: int = 0
    contained: int = 0
    handoffs: int = 0
    messages: int = 0
    fallbacks: int = 0


@dataclass(frozen=True)
class Ticketed:
    """A request for a person that became a ticket (nobody could take it then)."""

    sender_id: str
    created_at: datetime
    handoff_reason: str


@dataclass
class Figures:
    start: date
    end: date
    days: list[Day]
    conversations: int
    containment: float | None
    handoff_rate: float | None
    handoff_reasons: Counter
    fallback_rate: float | None
    top_faq: list[tuple[str, int]]
    intent_topics: Counter  # messages of each of TOPIC_INTENTS
    csat_average: float | None
    csat_distribution: dict[int, int]
    wait_minutes_median: float | None
    first_response_minutes_median: float | None
    first_contact_resolution: float | None
    totals: dict[str, int] = field(default_factory=dict)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _local_day(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, SHOP_TIMEZONE).date()


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, SHOP_TIMEZONE),
        datetime.combine(end + timedelta(days=1), time.min, SHOP_TIMEZONE),
    )


def _faq_topic(data: str | None) -> str | None:
    try:
        selector = (json.loads(data or "{}").get("parse_data") or {}).get("response_selector") or {}
    except ValueError:
        return None
    key = ((selector.get("faq") or selector.get("default") or {}).get("response") or {}).get("intent_response_key")
    return key.split("/", 1)[-1] if key else None


def _in_shop_time(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=SHOP_TIMEZONE)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _not_understood(connection: sa.engine.Connection, since: datetime, until: datetime) -> set[tuple[str, float]]:
    """(sender, timestamp) of the customer messages in the range the bot fell back on or saw rejected.

    Events are streamed per conversation in the order Rasa wrote them (``id``), so each message is
    followed by the actions of its turn and by the customer's next message.
    """
    events = sa.table(
        "events", sa.column("id"), sa.column("sender_id"), sa.column("type_name"), sa.column("timestamp"),
        sa.column("action_name"), sa.column("data"),
    )  # fmt: skip
    query = (
        sa.select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.action_name, events.c.data)
        .where(
            events.c.type_name.in_(("user", "action")),
            events.c.timestamp >= since.timestamp(),
            events.c.timestamp < (until + TURN_SLACK).timestamp(),
        )
        .order_by(events.c.sender_id, events.c.id)
    )
    found: set[tuple[str, float]] = set()
    sender: str | None = None
    turn: tuple[str, float] | None = None  # the customer message whose turn the following actions belong to
    answered = False
    for row in connection.execution_options(stream_results=True).execute(query):
        if row.sender_id != sender:
            sender, turn, answered = row.sender_id, None, False
        if row.type_name == "action":
            if turn is not None and row.action_name in FALLBACK_ACTIONS:
                found.add(turn)
            answered = answered or _answers(row.action_name)
            continue
        if turn is not None and answered and turn not in found and is_rejection(_text(row.data)):
            found.add(turn)
        turn, answered = (row.sender_id, row.timestamp), False
    return {key for key in found if key[1] < until.timestamp()}


def _answers(action: str | None) -> bool:
    """Whether the action told the customer something they could reject (not a form asking its question)."""
    if not action or action in NOT_AN_ANSWER:
        return False
    return not action.endswith("_form") and not action.startswith("validate_")


def _ticketed_handoffs(connection: sa.engine.Connection, since: datetime) -> list[Ticketed]:
    """Requests for a person that became tickets; none before the tickets table has ``handoff_reason``."""
    inspector = sa.inspect(connection)
    if not inspector.has_table("tickets") or "handoff_reason" not in {
        c["name"] for c in inspector.get_columns("tickets")
    }:
        return []
    columns = (tickets_table.c.sender_id, tickets_table.c.created_at, tickets_table.c.handoff_reason)
    rows = connection.execute(
        sa.select(*columns).where(tickets_table.c.handoff_reason.isnot(None), tickets_table.c.created_at >= since)
    ).all()
    # tickets are written in shop time; SQLite hands them back without the zone
    return [Ticketed(r.sender_id, _in_shop_time(r.created_at), r.handoff_reason) for r in rows]


def _text(data: str | None) -> str:
    try:
        return json.loads(data or "{}").get("text") or ""
    except ValueError:
        return ""


def compute(trackers: sa.engine.Engine, project: sa.engine.Engine, start: date, end: date) -> Figures:
    """Every figure of the analytics page for ``start``..``end`` (inclusive, shop time)."""
    since, until = day_bounds(start, end)
    events = sa.table(
        "events", sa.column("sender_id"), sa.column("type_name"), sa.column("timestamp"),
        sa.column("intent_name"), sa.column("data"),
    )  # fmt: skip
    with trackers.connect() as connection:
        rows = connection.execute(
            sa.select(events.c.sender_id, events.c.timestamp, events.c.intent_name, events.c.data).where(
                events.c.type_name == "user",
                events.c.timestamp >= since.timestamp(),
                events.c.timestamp < until.timestamp(),
            )
        ).all()
        not_understood = _not_understood(connection, since, until)
    with project.connect() as connection:
        handoffs = connection.execute(
            sa.select(handoffs_table).where(handoffs_table.c.created_at >= since.astimezone(timezone.utc))
        ).all()
        ticketed = _ticketed_handoffs(connection, since)
    handoffs = [h for h in handoffs if _utc(h.created_at) < until]
    ticketed = [t for t in ticketed if t.created_at < until]

    days = {start + timedelta(days=n): Day(start + timedelta(days=n)) for n in range((end - start).days + 1)}
    talkers: dict[date, set[str]] = defaultdict(set)
    faq: Counter[str] = Counter()
    intent_topics: Counter[str] = Counter()
    for row in rows:
        day = days[_local_day(row.timestamp)]
        talkers[day.day].add(row.sender_id)
        day.messages += 1
        if (row.sender_id, row.timestamp) in not_understood:
            day.fallbacks += 1
        elif row.intent_name == "faq" and (topic := _faq_topic(row.data)):
            faq[topic] += 1
        elif row.intent_name in TOPIC_INTENTS:
            intent_topics[row.intent_name] += 1
    handed_over: dict[date, set[str]] = defaultdict(set)
    for handoff in [*handoffs, *ticketed]:
        handed_over[_local_day(_utc(handoff.created_at).timestamp())].add(handoff.sender_id)
    for day in days.values():
        day.conversations = len(talkers[day.day])
        day.handoffs = len(handed_over[day.day] & talkers[day.day])
        day.contained = day.conversations - day.handoffs

    conversations = sum(d.conversations for d in days.values())
    messages = sum(d.messages for d in days.values())
    ratings = [h.csat for h in handoffs if h.csat]
    waits = [(_utc(h.claimed_at) - _utc(h.created_at)).total_seconds() / 60 for h in handoffs if h.claimed_at]
    firsts = [(_utc(h.first_reply_at) - _utc(h.created_at)).total_seconds() / 60 for h in handoffs if h.first_reply_at]
    closed = [h for h in handoffs if h.status == CLOSED and h.closed_at]
    resolved = [
        h for h in closed
        if not any(o.sender_id == h.sender_id and _utc(h.closed_at) < _utc(o.created_at)
                   <= _utc(h.closed_at) + RECONTACT_WINDOW for o in handoffs)
    ]  # fmt: skip
    return Figures(
        start=start, end=end, days=list(days.values()), conversations=conversations,
        containment=_share(sum(d.contained for d in days.values()), conversations),
        handoff_rate=_share(sum(d.handoffs for d in days.values()), conversations),
        handoff_reasons=Counter([*(h.reason for h in handoffs), *(t.handoff_reason for t in ticketed)]),
        fallback_rate=_share(sum(d.fallbacks for d in days.values()), messages),
        top_faq=faq.most_common(10), intent_topics=intent_topics,
        csat_average=statistics.fmean(ratings) if ratings else None,
        csat_distribution={score: ratings.count(score) for score in range(1, 6)},
        wait_minutes_median=statistics.median(waits) if waits else None,
        first_response_minutes_median=statistics.median(firsts) if firsts else None,
        first_contact_resolution=_share(len(resolved), len(closed)),
        totals={"messages": messages, "handoffs": len(handoffs) + len(ticketed), "rated": len(ratings)},
    )  # fmt: skip


def daily_csv(figures: Figures) -> bytes:
    """One row per day, UTF-8 with BOM for Excel (cells escaped like every export)."""
    return csv_bytes(
        ["ngay", "hoi_thoai", "bot_tu_xu_ly", "chuyen_nhan_vien", "tin_nhan", "khong_hieu"],
        ([day.day.isoformat(), day.conversations, day.contained, day.handoffs, day.messages, day.fallbacks]
         for day in figures.days),
    )  # fmt: skip
