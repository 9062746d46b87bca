"""Staff search over conversations (hand-offs and their transcripts) and tickets.

One box takes a phone number in any written form, an order number, a ticket code, or free words matched
without accents ("hoan tien" finds "hoàn tiền"). Neither SQLite nor a stock PostgreSQL folds Vietnamese
accents, so SQL only narrows: a LIKE pattern in which every vowel and "d" is a one-character wildcard (each
accented letter is one character once composed), the searcher's own ``%``, ``_`` and ``\\`` escaped; Python
then decides on the folded text, newest first, a batch at a time, never more than ``MAX_SCANNED`` rows a kind.

Who sees what: conversations as console.py's ``_may_see`` says (``visible_to`` is that rule as SQL), tickets
as on the tickets page (all staff). A phone (the contact number and any phone in a snippet) is shown whole
only to whom may see the conversation it belongs to: a ticket's is masked unless the searcher is an admin,
owns the ticket or may see a conversation of its customer.
"""

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from bot.desk.accounts import ADMIN, Agent
from bot.privacy import mask_phone, mask_phones_in_place, phone_spans
from bot.schema import ACTIVE, CANCELLED, CLOSED, EXPIRED, RETURNED, WAITING, handoffs_table, tickets_table
from bot.schema import handoff_messages_table as messages_table
from bot.schema import ownership_proofs_table as proofs_table
from bot.schema import ticket_comments_table as comments_table
from bot.text.entities import normalize_order_number, normalize_phone
from bot.text.normalize import strip_diacritics
from bot.tickets import SHOP_TIMEZONE
from bot.tickets import STATUS_LABELS as TICKET_STATUS_LABELS

MIN_QUERY, MAX_QUERY = 2, 100
DEFAULT_LIMIT, MAX_LIMIT = 20, 50
BATCH = 200
MAX_SCANNED = 5000  # rows of each kind read for one page: a two-letter query must not read the whole history
SNIPPET_CONTEXT = 60  # characters shown each side of the first match

PHONE, ORDER, TICKET_CODE, WORDS = "phone", "order", "ticket_code", "words"
CONVERSATION, TICKET = "conversation", "ticket"
HANDOFF_STATUS_LABELS = {
    WAITING: "Đang chờ", ACTIVE: "Đang hỗ trợ", CLOSED: "Đã đóng", RETURNED: "Trả lại bot",
    EXPIRED: "Hết hạn chờ", CANCELLED: "Khách huỷ",
}  # fmt: skip
ROLE_LABELS = {"customer": "Tin nhắn của khách", "bot": "Tin nhắn của bot", "agent": "Trả lời của nhân viên",
               "note": "Ghi chú nội bộ"}  # fmt: skip
TOO_SHORT = "Bạn gõ ít nhất 2 ký tự để tìm nhé."
TOO_LONG = f"Từ khoá dài quá {MAX_QUERY} ký tự, bạn rút gọn giúp nhé."

_TICKET_CODE = re.compile(r"(?i)(?<![\w-])tk[\s\-]?(\d{8})[\s\-]?(\d{4})(?!\d)")
_VOWELS_AND_D = frozenset("aeiouyd")


class QueryRefusedError(ValueError):
    """A query the search will not run; the message is shown to the agent as is."""


def fold(text: str) -> str:
    """Lower case without diacritics, one character for one ("Hoàn TIỀN" -> "hoan tien"), so an offset
    found in the folded text is an offset in ``text`` (composed first: callers show the composed text)."""
    folded = []
    for char in text:
        plain = strip_diacritics(char).lower()
        folded.append(plain if len(plain) == 1 else char)
    return "".join(folded)


def composed(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def escape_like(text: str) -> str:
    """``text`` literal inside a LIKE pattern whose escape character is a backslash."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def words_pattern(folded: str) -> str:
    """The LIKE pattern that finds ``folded`` with or without accents: each vowel and "d" any one character."""
    return "%" + "".join("_" if c in _VOWELS_AND_D else escape_like(c) for c in folded) + "%"


@dataclass(frozen=True)
class Query:
    """What was asked: its kind and its normal form (phone 0xxxxxxxxx, DH123456, TK-…, folded words)."""

    kind: str
    value: str

    def narrow(self, column: Any) -> Any:
        """A SQL condition every row with a match meets (and, for most queries, few without one)."""
        if self.kind == PHONE:  # its digits in order, whatever sits between them: "+84 912.345.678"
            return column.like("%" + "%".join(self.value[1:]) + "%")
        if self.kind == ORDER:
            return column.like(f"%{self.value[2:]}%")
        if self.kind == TICKET_CODE:
            return column.ilike(f"%{self.value[3:11]}%{self.value[12:]}%")  # digits only: nothing to escape
        return column.ilike(words_pattern(self.value), escape="\\")

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where ``text`` (composed) matches, as offsets into it."""
        if self.kind == PHONE:
            return [(s, e) for s, e in phone_spans(text) if normalize_phone(text[s:e]) == self.value]
        if self.kind == ORDER:
            found = re.finditer(rf"(?i)(?:#?dh[\s\-–]?)?(?<!\d){self.value[2:]}(?!\d)", text)
            return [m.span() for m in found]
        if self.kind == TICKET_CODE:
            return [m.span() for m in _TICKET_CODE.finditer(text) if _code(m) == self.value]
        folded, spans, start = fold(text), [], 0
        while (at := folded.find(self.value, start)) >= 0:
            spans.append((at, at + len(self.value)))
            start = at + len(self.value)
        return spans


def _code(match: re.Match) -> str:
    return f"TK-{match.group(1)}-{match.group(2)}"


def read_query(raw: str) -> Query:
    """The query an agent typed, recognised; ``QueryRefusedError`` when too short or too long."""
    text = " ".join(composed(raw).split())
    if len(text) < MIN_QUERY:
        raise QueryRefusedError(TOO_SHORT)
    if len(text) > MAX_QUERY:
        raise QueryRefusedError(TOO_LONG)
    phone = normalize_phone(text) if re.fullmatch(r"[\d\s.\-+()]+", text) else None
    if phone:
        return Query(PHONE, phone)
    order = normalize_order_number(text)
    if order:
        return Query(ORDER, order)
    code = _TICKET_CODE.fullmatch(text)
    if code:
        return Query(TICKET_CODE, _code(code))
    return Query(WORDS, fold(text))


def visible_to(agent: Agent) -> Any:
    """console.py's ``_may_see`` as SQL: admins every conversation, an agent the waiting ones and their own."""
    if agent.role == ADMIN:
        return sa.true()
    return sa.or_(handoffs_table.c.status == WAITING, handoffs_table.c.claimed_by == agent.username)


@dataclass(frozen=True)
class Hit:
    """One result: what it is, where it matched (a snippet with the matches marked) and how to open it."""

    kind: str
    key: str
    url: str
    channel: str
    status: str
    at: datetime
    field: str
    snippet: list[tuple[str, bool]]  # (text, is a match)
    phone: str | None


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    more: bool  # another page has results
    incomplete: bool  # MAX_SCANNED reached: the agent should type something more precise


def aware(moment: datetime, naive_zone: Any = timezone.utc) -> datetime:
    """SQLite hands datetimes back without their zone: hand-offs store UTC, tickets the shop's local time."""
    return moment if moment.tzinfo else moment.replace(tzinfo=naive_zone)


def snippet(text: str, spans: list[tuple[int, int]], whole: bool) -> list[tuple[str, bool]]:
    """The text around the first match, matches marked, phones masked unless ``whole``."""
    shown = text if whole else mask_phones_in_place(text)
    first_start, first_end = spans[0]
    start, end = max(0, first_start - SNIPPET_CONTEXT), min(len(text), first_end + SNIPPET_CONTEXT)
    for phone_start, phone_end in phone_spans(text):  # never cut a phone in two: its halves would not be masked
        if phone_start < start < phone_end:
            start = phone_start
        if phone_start < end < phone_end:
            end = phone_end
    parts: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    at = start
    for span_start, span_end in spans:
        if span_start < at or span_end > end:
            continue
        parts += [(shown[at:span_start], False), (shown[span_start:span_end], True)]
        at = span_end
    parts.append((shown[at:end] + ("…" if end < len(text) else ""), False))
    return [part for part in parts if part[0]]


def _fields(query: Query, fields: list[tuple[str, str | None]], whole: bool) -> tuple[str, list] | None:
    """The first field that matches, with its snippet."""
    for label, value in fields:
        text = composed(value or "")
        spans = query.spans(text) if text else []
        if spans:
            return label, snippet(text, spans, whole)
    return None


def _slot_text(slots: str) -> str:
    try:
        values = json.loads(slots)
    except ValueError:
        return ""
    return " · ".join(str(v) for v in values.values() if v) if isinstance(values, dict) else ""


class Search:
    """Runs one query for one agent over the project database."""

    def __init__(self, engine: sa.engine.Engine, agent: Agent, query: Query) -> None:
        self._engine, self._agent, self._query = engine, agent, query
        self.incomplete = False

    def _scan(self, select: Any, wanted: int, decide: Any) -> list[Hit]:
        """Rows of ``select`` newest first, a batch at a time, until ``wanted`` hits or ``MAX_SCANNED`` rows."""
        hits: list[Hit] = []
        for offset in range(0, MAX_SCANNED, BATCH):
            with self._engine.connect() as connection:
                rows = connection.execute(select.limit(BATCH).offset(offset)).all()
            hits += decide(rows)
            if len(hits) >= wanted or len(rows) < BATCH:
                return hits[:wanted]
        self.incomplete = True
        return hits[:wanted]

    def conversations(self, wanted: int) -> list[Hit]:
        query, h, m = self._query, handoffs_table, messages_table
        matches = [query.narrow(c) for c in (h.c.contact_phone, h.c.summary, h.c.slots, h.c.ticket_code)]
        matches.append(sa.exists().where(m.c.handoff_id == h.c.id, query.narrow(m.c.text)))
        if query.kind == ORDER:  # the customer proved this order is theirs in that conversation
            proven = sa.select(proofs_table.c.conversation_id).where(proofs_table.c.order_number == query.value)
            matches.append(h.c.sender_id.in_(proven))
        select = (
            sa.select(h).where(visible_to(self._agent), sa.or_(*matches)).order_by(h.c.created_at.desc(), h.c.id.desc())
        )
        return self._scan(select, wanted, self._decide_conversations)

    def _decide_conversations(self, rows: list[Any]) -> list[Hit]:
        query = self._query
        lines: dict[int, list[Any]] = {}
        proven: set[str] = set()
        if rows:
            with self._engine.connect() as connection:
                found = connection.execute(
                    sa.select(messages_table)
                    .where(messages_table.c.handoff_id.in_([r.id for r in rows]), query.narrow(messages_table.c.text))
                    .order_by(messages_table.c.sent_at.desc(), messages_table.c.id.desc())
                ).all()  # fmt: skip
                if query.kind == ORDER:
                    proven = set(connection.execute(
                        sa.select(proofs_table.c.conversation_id).where(proofs_table.c.order_number == query.value)
                    ).scalars())  # fmt: skip
            for line in found:
                lines.setdefault(line.handoff_id, []).append(line)
        hits = []
        for row in rows:
            fields = [("Số điện thoại", row.contact_phone), ("Mã phiếu", row.ticket_code), ("Tóm tắt", row.summary),
                      ("Thông tin đã thu thập", _slot_text(row.slots))]  # fmt: skip
            fields += [(ROLE_LABELS.get(line.role, line.role), line.text) for line in lines.get(row.id, [])]
            matched = _fields(query, fields, whole=True)  # listed only when the agent may see the conversation
            if matched is None and query.kind == ORDER and row.sender_id in proven:
                matched = ("Khách đã xác minh sở hữu đơn", [(query.value, True)])
            if matched is None:
                continue
            hits.append(Hit(
                kind=CONVERSATION, key=str(row.id), url=f"/handoffs/{row.id}", channel=row.channel,
                status=HANDOFF_STATUS_LABELS.get(row.status, row.status), at=aware(row.created_at),
                field=matched[0], snippet=matched[1], phone=row.contact_phone,
            ))  # fmt: skip
        return hits

    def tickets(self, wanted: int) -> list[Hit]:
        query, t, c = self._query, tickets_table, comments_table
        columns = (t.c.code, t.c.order_number, t.c.contact_phone, t.c.description, t.c.resolution)
        matches = [query.narrow(column) for column in columns]
        matches.append(sa.exists().where(c.c.ticket_code == t.c.code, query.narrow(c.c.text)))
        select = sa.select(t).where(sa.or_(*matches)).order_by(t.c.created_at.desc(), t.c.code.desc())
        return self._scan(select, wanted, self._decide_tickets)

    def _whole_for(self, rows: list[Any]) -> set[str]:
        """Codes of the tickets whose phones this agent sees whole."""
        if self._agent.role == ADMIN:
            return {row.code for row in rows}
        mine = {row.code for row in rows if row.assignee == self._agent.username}
        senders = {row.sender_id for row in rows}
        with self._engine.connect() as connection:
            seen = set(connection.execute(
                sa.select(handoffs_table.c.sender_id)
                .where(handoffs_table.c.sender_id.in_(senders), visible_to(self._agent))
            ).scalars()) if senders else set()  # fmt: skip
        return mine | {row.code for row in rows if row.sender_id in seen}

    def _decide_tickets(self, rows: list[Any]) -> list[Hit]:
        query, whole_for = self._query, self._whole_for(rows)
        comments: dict[str, list[str]] = {}
        if rows:
            with self._engine.connect() as connection:
                text = comments_table.c.text
                for line in connection.execute(
                    sa.select(comments_table)
                    .where(comments_table.c.ticket_code.in_([r.code for r in rows]), query.narrow(text))
                    .order_by(comments_table.c.id.desc())
                ):  # fmt: skip
                    comments.setdefault(line.ticket_code, []).append(line.text)
        hits = []
        for row in rows:
            whole = row.code in whole_for
            fields = [("Mã phiếu", row.code), ("Đơn hàng", row.order_number), ("Số điện thoại", row.contact_phone),
                      ("Mô tả", row.description), ("Kết quả xử lý", row.resolution)]  # fmt: skip
            fields += [("Ghi chú phiếu", text) for text in comments.get(row.code, [])]
            matched = _fields(query, fields, whole)
            if matched is None:
                continue
            phone = row.contact_phone if whole or not row.contact_phone else mask_phone(row.contact_phone)
            hits.append(Hit(
                kind=TICKET, key=row.code, url=f"/tickets/{row.code}", channel=row.channel,
                status=TICKET_STATUS_LABELS.get(row.status, row.status), at=aware(row.created_at, SHOP_TIMEZONE),
                field=matched[0], snippet=matched[1], phone=phone,
            ))  # fmt: skip
        return hits


def search(engine: sa.engine.Engine, agent: Agent, query: Query, page: int = 1, limit: int = DEFAULT_LIMIT) -> Results:
    """Page ``page`` (from 1) of ``limit`` results, conversations and tickets together, newest first."""
    wanted = page * limit + 1
    runner = Search(engine, agent, query)
    merged = sorted([*runner.conversations(wanted), *runner.tickets(wanted)], key=lambda hit: hit.at, reverse=True)
    return Results(merged[(page - 1) * limit : page * limit], len(merged) > page * limit, runner.incomplete)
