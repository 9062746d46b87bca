"""What the bot and the desk did over a date range, from data already kept.

Conversations come from Rasa's own SQL tracker store (table ``events``),
handoffs from the project database. Definitions (shown on the page too):
- a conversation is one customer's messages on one day (shop time);
- contained: no handoff was opened for that customer that day;
- fallback rate: customer messages the bot did not understand / all customer messages;
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
from bot.desk.queue import CLOSED, handoffs_table

SHOP_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
RECONTACT_WINDOW = timedelta(days=7)


@dataclass
class Day:
    day: date
    conversations: int = 0
    contained: int = 0
    handoffs: int = 0
    messages: int = 0
    fallbacks: int = 0


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


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


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
    with project.connect() as connection:
        handoffs = connection.execute(
            sa.select(handoffs_table).where(handoffs_table.c.created_at >= since.astimezone(timezone.utc))
        ).all()
    handoffs = [h for h in handoffs if _utc(h.created_at) < until]

    days = {start + timedelta(days=n): Day(start + timedelta(days=n)) for n in range((end - start).days + 1)}
    talkers: dict[date, set[str]] = defaultdict(set)
    faq = Counter()
    for row in rows:
        day = days[_local_day(row.timestamp)]
        talkers[day.day].add(row.sender_id)
        day.messages += 1
        if row.intent_name == "nlu_fallback":
            day.fallbacks += 1
        elif row.intent_name == "faq" and (topic := _faq_topic(row.data)):
            faq[topic] += 1
    handed_over: dict[date, set[str]] = defaultdict(set)
    for handoff in handoffs:
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
        handoff_reasons=Counter(h.reason for h in handoffs),
        fallback_rate=_share(sum(d.fallbacks for d in days.values()), messages),
        top_faq=faq.most_common(10),
        csat_average=statistics.fmean(ratings) if ratings else None,
        csat_distribution={score: ratings.count(score) for score in range(1, 6)},
        wait_minutes_median=statistics.median(waits) if waits else None,
        first_response_minutes_median=statistics.median(firsts) if firsts else None,
        first_contact_resolution=_share(len(resolved), len(closed)),
        totals={"messages": messages, "handoffs": len(handoffs), "rated": len(ratings)},
    )  # fmt: skip


def daily_csv(figures: Figures) -> bytes:
    """One row per day, UTF-8 with BOM for Excel (cells escaped like every export)."""
    return csv_bytes(
        ["ngay", "hoi_thoai", "bot_tu_xu_ly", "chuyen_nhan_vien", "tin_nhan", "khong_hieu"],
        ([day.day.isoformat(), day.conversations, day.contained, day.handoffs, day.messages, day.fallbacks]
         for day in figures.days),
    )  # fmt: skip
