"""Canned replies: the shop's ready-made answers an agent picks in the reply box by typing "/".

A reply's text may name the conversation's customer and order ({customer_name}, {order_number}) and any
shop fact staff see as a chip ({shipping.fee_inner_city}, data/shop/policy.yml), so a fee changed there
reaches every canned reply too. It is filled per conversation on the server: a value the conversation
does not have becomes a visible gap ("[tên khách]") the agent types over, never a raw "{...}" that
could reach a customer. Admins write them on /admin/canned (bot/admin/canned_page.py), each change audited.
"""

import re
import string
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.migrations import ensure_schema
from bot.schema import canned_replies_table as table
from bot.topic_titles import FactChip, fact_chips

SHORTCUT = re.compile(r"[a-z0-9][a-z0-9-]{0,29}")
MAX_TITLE, MAX_TEXT = 80, 2000  # the reply box takes 2000 characters
MAX_REPLIES = 500  # the "/" popup lists them all; a shop with more needs a search, not a popup
# what a conversation fills in, and the gap the agent sees when it cannot
CONVERSATION_FIELDS = {"customer_name": ("Tên khách", "[tên khách]"), "order_number": ("Mã đơn", "[mã đơn]")}


class CannedError(ValueError):
    """A canned reply that cannot be saved; the message says why, for the admin."""


@dataclass(frozen=True)
class CannedReply:
    id: int
    shortcut: str
    title: str
    text: str
    updated_by: str
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """What the "/" popup lists (the text unfilled: it is only a preview)."""
        return {"id": self.id, "shortcut": self.shortcut, "title": self.title, "text": self.text}


def _to_reply(row: Any) -> CannedReply:
    moment = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=timezone.utc)
    return CannedReply(row.id, row.shortcut, row.title, row.text, row.updated_by, moment)


def _fields(text: str) -> list[tuple[str, str | None, str | None, str | None]]:
    try:
        return list(string.Formatter().parse(text))
    except ValueError as error:
        raise CannedError("Dấu ngoặc nhọn { } chưa khớp: mỗi chỗ điền phải có dạng {ten_truong}.") from error


def _is_fact(field: str, data_dir: Path) -> bool:
    return any(chip.value is not None for chip in fact_chips(f"{{{field}}}", data_dir))


def clean(shortcut: str, title: str, text: str, data_dir: Path) -> tuple[str, str, str]:
    """The reply as stored (shortcut without its "/"), or CannedError saying what to fix."""
    shortcut, title, text = shortcut.strip().removeprefix("/"), " ".join(title.split()), text.strip()
    if not SHORTCUT.fullmatch(shortcut):
        raise CannedError("Lệnh tắt chỉ gồm chữ thường không dấu, số và dấu gạch ngang (vd. /chao), tối đa 30 ký tự.")
    if not title or len(title) > MAX_TITLE:
        raise CannedError(f"Tiêu đề không được để trống và tối đa {MAX_TITLE} ký tự.")
    if not text or len(text) > MAX_TEXT:
        raise CannedError(f"Nội dung không được để trống và tối đa {MAX_TEXT} ký tự.")
    for _, field, spec, conversion in _fields(text):
        if field is None:
            continue
        if spec or conversion:
            raise CannedError(f"Chỗ điền {{{field}}} chỉ được ghi tên, không kèm định dạng.")
        if field not in CONVERSATION_FIELDS and not _is_fact(field, data_dir):
            raise CannedError(f"Không có thông tin nào tên {{{field}}}: dùng {{customer_name}}, {{order_number}} "
                              "hoặc một thông tin của shop như {shipping.fee_inner_city}.")  # fmt: skip
    return shortcut, title, text


def chips(text: str, data_dir: Path) -> list[FactChip]:
    """The reply's placeholders as staff read them: the conversation's own fields, then shop facts with values."""
    try:
        fields = list(dict.fromkeys(f for _, f, _, _ in _fields(text) if f))
    except CannedError:
        return []
    facts = {c.placeholder: c for c in fact_chips(text, data_dir)}
    shown = []
    for field in fields:
        if field in CONVERSATION_FIELDS:
            shown.append(FactChip(field, CONVERSATION_FIELDS[field][0], "theo cuộc trò chuyện"))
        else:
            shown.append(facts.get(field) or FactChip(field, "", None))
    return shown


def pieces(text: str, data_dir: Path) -> list[str | FactChip]:
    """The reply as staff read it on the admin page: its literal text with a chip where each placeholder stands."""
    try:
        parsed = _fields(text)
    except CannedError:
        return [text]
    found = {c.placeholder: c for c in chips(text, data_dir)}
    shown: list[str | FactChip] = []
    for literal, field, _, _ in parsed:
        if literal:
            shown.append(literal)
        if field:
            shown.append(found[field])
    return shown


def render(text: str, slots: dict[str, Any], data_dir: Path) -> tuple[str, list[str]]:
    """The reply for one conversation, and the gap markers left in it for the agent to fill."""
    facts = {c.placeholder: c for c in fact_chips(text, data_dir)}
    out: list[str] = []
    gaps: list[str] = []
    try:
        parsed = _fields(text)
    except CannedError:
        return text.replace("{", "[").replace("}", "]"), []
    for literal, field, _, _ in parsed:
        out.append(literal)
        if not field:
            continue
        if field in CONVERSATION_FIELDS:
            value = str(slots.get(field) or "").strip()
            gap = CONVERSATION_FIELDS[field][1]
        else:
            chip = facts.get(field)
            value = chip.value if chip is not None and chip.value is not None else ""
            gap = f"[{chip.label if chip is not None and chip.label else field}]"
        if not value:
            gaps.append(gap)
        out.append(value or gap)
    return "".join(out), gaps


def _values(actor: str, shortcut: str, title: str, text: str) -> dict[str, Any]:
    return {"shortcut": shortcut, "title": title, "text": text, "updated_by": actor,
            "updated_at": datetime.now(timezone.utc)}  # fmt: skip


class CannedStore:
    """Canned replies in the project database, ordered by shortcut."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        ensure_schema(engine)

    def all(self) -> list[CannedReply]:
        with self._engine.connect() as connection:
            rows = connection.execute(sa.select(table).order_by(table.c.shortcut).limit(MAX_REPLIES)).all()
        return [_to_reply(row) for row in rows]

    def get(self, reply_id: int) -> CannedReply | None:
        with self._engine.connect() as connection:
            row = connection.execute(sa.select(table).where(table.c.id == reply_id)).first()
        return _to_reply(row) if row is not None else None

    def _taken(self, connection: sa.engine.Connection, shortcut: str, reply_id: int | None) -> bool:
        query = sa.select(table.c.id).where(table.c.shortcut == shortcut)
        return any(found != reply_id for found in connection.execute(query).scalars())

    def create(self, actor: str, shortcut: str, title: str, text: str) -> CannedReply:
        """Stores a cleaned reply (bot.desk.canned.clean); CannedError when its shortcut is taken."""
        try:
            with self._engine.begin() as connection:
                if self._taken(connection, shortcut, None):
                    raise CannedError(f"Lệnh tắt /{shortcut} đã có: chọn lệnh khác nhé.")
                if connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() >= MAX_REPLIES:
                    raise CannedError(f"Đã có {MAX_REPLIES} câu trả lời mẫu: xoá bớt câu không dùng nữa nhé.")
                values = _values(actor, shortcut, title, text)
                new_id = connection.execute(table.insert().values(**values)).inserted_primary_key[0]
        except sa.exc.IntegrityError as error:  # the same shortcut saved at the same moment
            raise CannedError(f"Lệnh tắt /{shortcut} đã có: chọn lệnh khác nhé.") from error
        found = self.get(new_id)
        assert found is not None
        return found

    def update(self, actor: str, reply_id: int, shortcut: str, title: str, text: str) -> bool:
        """False when the reply is gone; CannedError when its new shortcut belongs to another."""
        try:
            with self._engine.begin() as connection:
                if self._taken(connection, shortcut, reply_id):
                    raise CannedError(f"Lệnh tắt /{shortcut} đã có: chọn lệnh khác nhé.")
                values = _values(actor, shortcut, title, text)
                changed = connection.execute(table.update().where(table.c.id == reply_id).values(**values)).rowcount
        except sa.exc.IntegrityError as error:
            raise CannedError(f"Lệnh tắt /{shortcut} đã có: chọn lệnh khác nhé.") from error
        return changed == 1

    def delete(self, reply_id: int) -> CannedReply | None:
        """The reply as it was, or None when there was none."""
        with self._engine.begin() as connection:
            row = connection.execute(sa.select(table).where(table.c.id == reply_id)).first()
            if row is None:
                return None
            connection.execute(table.delete().where(table.c.id == reply_id))
        return _to_reply(row)
