"""Order updates: when an order's status changes, each customer who proved it is theirs hears it on their channel.

The shop's system says so through a signed webhook to the desk (bot/desk/order_webhook.py, docs/ORDER_API.md);
the demo shop through ``cskh orders set-status``. Both call ``OrderUpdates.announce``, which decides per
conversation that proved the order (bot/ownership.py) how the message may go, and stores that decision with the
message in one transaction:

- Zalo: inside the OA's consultation window (the user's last interaction, ``zalo_last_interaction``, written by
  connectors/zalo.py) a consultation text; outside it a ZNS template message to the order's phone (84… form),
  with the template and parameters notices.yml gives for the status; no template: skipped.
- Messenger: inside the 24-hour window a message (``UPDATE``); outside it one with the configured message tag,
  only when notices.yml names one; otherwise skipped.
- Widget and REST customers: a desk message in their conversation, as an agent's reply arrives.
- A customer who said "ngừng nhận thông báo" (bot/text/opt_out.py, connectors/notice_words.py): skipped.

Messages leave through the platform outbox (bot/outbox.py): the Rasa server's Zalo and Messenger workers and the
desk's web worker send them, retry what is worth retrying and record final failures. ``order_notices`` keeps
every decision (queued, skipped, failed, with the reason) for the admin page /admin/notifications. A shop that
sends the same event twice (webhooks are retried) notifies nobody twice: one row per (event, conversation).
"""

import logging
import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from bot.migrations import ensure_schema
from bot.orders.model import Order, format_vnd
from bot.outbox import queued_row
from bot.privacy import mask_id, mask_phone
from bot.schema import (
    NOTICE_FAILED,
    NOTICE_QUEUED,
    NOTICE_SKIPPED,
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_SENT,
    notice_opt_outs_table,
    order_notices_table,
    outbox_table,
    ownership_proofs_table,
    zalo_last_interaction_table,
)
from bot.schema import messenger_last_inbound_table as messenger_inbound_table
from bot.senders import FACEBOOK, WEB, ZALO

logger = logging.getLogger(__name__)

WEB_CHANNEL = "rest"  # the outbox channel of widget and REST customers (web:<id>), sent by the desk
MISSING = "chưa có"  # a field the order does not have yet, as the customer reads it
OPTED_OUT = "Khách đã yêu cầu ngừng nhận thông báo."
NO_TEXT = "notices.yml không có nội dung thông báo cho trạng thái này."
NO_TEMPLATE = "Khách đã quá {hours:g} giờ không tương tác với OA và trạng thái này chưa có mẫu ZNS."
BAD_PHONE = "Số điện thoại của đơn không dùng được cho ZNS."
OUTSIDE_MESSENGER_WINDOW = (
    "Khách nhắn trang lần cuối hơn {hours:g} giờ trước và chưa bật thẻ tin nhắn cập nhật đơn hàng."
)
UNKNOWN_CHANNEL = "Không biết kênh của cuộc trò chuyện này."
OUTCOME_LABELS = {
    OUTBOX_SENT: "đã gửi", OUTBOX_PENDING: "đang gửi", OUTBOX_FAILED: "không gửi được",
    NOTICE_SKIPPED: "bỏ qua", NOTICE_FAILED: "không gửi được",
}  # fmt: skip
ROUTE_LABELS = {
    "consultation": "Zalo (tin tư vấn)", "zns": "Zalo ZNS", "messenger": "Messenger",
    "messenger_tag": "Messenger (thẻ tin nhắn)", "web": "Website", "none": "—",
}  # fmt: skip


class NoticeConfigError(ValueError):
    """notices.yml is malformed; the message names what is wrong."""


@dataclass(frozen=True)
class ZnsTemplate:
    template_id: str
    params: dict[str, str]  # template parameter -> order field (``order_fields``)


@dataclass(frozen=True)
class NoticeConfig:
    """notices.yml: what is said per status, and how each platform's rules are applied."""

    texts: dict[str, str]
    zns: dict[str, ZnsTemplate]
    zalo_window: timedelta = timedelta(hours=48)
    messenger_window: timedelta = timedelta(hours=24)
    messenger_tag: str | None = None

    @classmethod
    def load(cls, path: Path) -> "NoticeConfig":
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            zalo, messenger = raw.get("zalo") or {}, raw.get("messenger") or {}
            zns = {}
            for status, entry in (zalo.get("zns") or {}).items():
                params = {str(name): str(field) for name, field in dict(entry["params"]).items()}
                zns[str(status)] = ZnsTemplate(str(entry["template_id"]), params)
            return cls(
                texts={str(status): str(text) for status, text in (raw.get("texts") or {}).items()},
                zns=zns,
                zalo_window=timedelta(hours=float(zalo.get("consultation_window_hours", 48))),
                messenger_window=timedelta(hours=float(messenger.get("window_hours", 24))),
                messenger_tag=str(messenger.get("tag") or "") or None,
            )
        except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError, ValueError) as error:
            raise NoticeConfigError(f"{path}: {error}") from error


def order_fields(order: Order) -> dict[str, str]:
    """What a text or a ZNS parameter may name, as the customer reads it."""
    return {
        "number": order.number, "status": order.status.label, "customer_name": order.customer_name or MISSING,
        "carrier": order.carrier or MISSING, "tracking_code": order.tracking_code or MISSING,
        "eta": order.eta.strftime("%d/%m/%Y") if order.eta else MISSING, "total": format_vnd(order.total),
    }  # fmt: skip


def zns_phone(phone: str) -> str | None:
    """The order's phone as ZNS takes it (84 and 9 digits), or None when it is not a Vietnamese mobile number."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 10 and digits.startswith("0"):
        digits = "84" + digits[1:]
    return digits if re.fullmatch(r"84\d{9}", digits) else None


@dataclass(frozen=True)
class Notice:
    """What was decided for one conversation."""

    conversation_id: str
    route: str
    outcome: str  # queued, skipped, failed
    reason: str = ""
    outbox_id: int | None = None


@dataclass(frozen=True)
class NoticeLine:
    """A line of /admin/notifications: the decision, and for a queued message how its delivery went."""

    created_at: float
    order_number: str
    status: str
    customer: str  # masked: staff see which channel and which customer, not the id to message them
    route: str
    outcome: str  # sent, pending, failed, skipped
    reason: str
    phone: str


def _plan(channel: str, conversation_id: str, parts: list[dict[str, Any]], route: str) -> dict[str, Any]:
    return {"channel": channel, "conversation_id": conversation_id, "parts": parts, "route": route}


def remember_wish(engine: sa.engine.Engine, conversation_id: str, *, wants_updates: bool) -> None:
    """Stores whether the customer wants order updates (connectors/notice_words.py): every process honours it."""
    ensure_schema(engine)
    table = notice_opt_outs_table
    with engine.begin() as connection:
        connection.execute(table.delete().where(table.c.conversation_id == conversation_id))
        if not wants_updates:
            connection.execute(table.insert().values(conversation_id=conversation_id, opted_out_at=time.time()))


class OrderUpdates:
    """Decides, records and queues order-status messages (synchronous: call it from a thread in async code)."""

    def __init__(self, engine: sa.engine.Engine, config: NoticeConfig) -> None:
        self._engine = engine
        self.config = config
        ensure_schema(engine)

    # --- the customers' wishes and their windows -------------------------------------------------------

    def opt_out(self, conversation_id: str) -> None:
        """No more order updates to this conversation, until it asks again."""
        remember_wish(self._engine, conversation_id, wants_updates=False)

    def opt_in(self, conversation_id: str) -> None:
        remember_wish(self._engine, conversation_id, wants_updates=True)

    def opted_out(self, conversation_id: str) -> bool:
        query = sa.select(notice_opt_outs_table.c.conversation_id).where(
            notice_opt_outs_table.c.conversation_id == conversation_id
        )
        with self._engine.connect() as connection:
            return connection.execute(query).first() is not None

    @staticmethod
    def _zalo_last(connection: sa.engine.Connection, user_id: str) -> float | None:
        table = zalo_last_interaction_table  # written by connectors/zalo.py (bot/messaging_windows.py)
        found = connection.execute(sa.select(table.c.interacted_at).where(table.c.user_id == user_id)).scalar()
        if found is None:
            return None
        return (found if found.tzinfo else found.replace(tzinfo=timezone.utc)).timestamp()  # SQLite: stored as UTC

    @staticmethod
    def _messenger_last(connection: sa.engine.Connection, psid: str) -> float | None:
        table = messenger_inbound_table
        found = connection.execute(sa.select(table.c.received_at).where(table.c.psid == psid)).scalar()
        if found is None:
            return None
        return (found if found.tzinfo else found.replace(tzinfo=timezone.utc)).timestamp()  # SQLite: stored as UTC

    # --- the one path ------------------------------------------------------------------------------------

    def announce(self, event_id: str, order: Order) -> list[Notice]:
        """Tells every conversation that proved ``order`` of its (new) status; what was decided for each."""
        with self._engine.connect() as connection:
            owners = connection.execute(
                sa.select(ownership_proofs_table.c.conversation_id)
                .where(ownership_proofs_table.c.order_number == order.number)
                .distinct()
            ).scalars().all()  # fmt: skip
        notices = [self._notify(event_id, order, owner) for owner in sorted(owners)]
        decided = [notice for notice in notices if notice is not None]
        told = ", ".join(f"{mask_id(n.conversation_id)} {n.route} {n.outcome}" for n in decided) or "none"
        logger.info("order update %s: %s is %s; %s", event_id[:16], order.number, order.status.value, told)
        return decided

    def _notify(self, event_id: str, order: Order, conversation_id: str) -> Notice | None:
        now = time.time()
        table = order_notices_table
        seen = sa.select(table.c.id).where(table.c.event_id == event_id, table.c.conversation_id == conversation_id)
        try:
            with self._engine.begin() as connection:
                if connection.execute(seen).first() is not None:
                    return None  # the shop sent this event before: decided then
                decision, phone = self._decide(connection, order, conversation_id, now)
                outbox_id = None
                if "parts" in decision:
                    row = queued_row(decision["channel"], conversation_id, decision["parts"], now)
                    outbox_id = connection.execute(outbox_table.insert().values(**row)).inserted_primary_key[0]
                notice = Notice(conversation_id, decision["route"], decision.get("outcome", NOTICE_QUEUED),
                                decision.get("reason", ""), outbox_id)  # fmt: skip
                connection.execute(
                    table.insert().values(
                        event_id=event_id, order_number=order.number, status=order.status.value,
                        conversation_id=conversation_id, route=notice.route, outcome=notice.outcome,
                        outbox_id=outbox_id, reason=notice.reason or None,
                        phone_masked=mask_phone(phone) if phone else None, created_at=now,
                    )
                )  # fmt: skip
        except sa.exc.IntegrityError:  # the same event, decided at this very moment by another desk: its message
            return None  # and this one's were one transaction each, so only one of them is queued
        return notice

    def _decide(
        self, connection: sa.engine.Connection, order: Order, conversation_id: str, now: float
    ) -> tuple[dict[str, Any], str | None]:
        """Route and parts (or why not) for one conversation, by its channel's rules; and the ZNS phone if used."""
        status, config = order.status.value, self.config
        fields = order_fields(order)
        text = config.texts[status].format(**fields) if status in config.texts else None
        optouts = notice_opt_outs_table
        opted_out = sa.select(optouts.c.conversation_id).where(optouts.c.conversation_id == conversation_id)
        if connection.execute(opted_out).first() is not None:
            return {"route": "none", "outcome": NOTICE_SKIPPED, "reason": OPTED_OUT}, None
        if conversation_id.startswith(ZALO):
            user_id = conversation_id[len(ZALO) :]
            last = self._zalo_last(connection, user_id)
            if last is not None and now - last <= config.zalo_window.total_seconds():
                if text is None:
                    return {"route": "consultation", "outcome": NOTICE_SKIPPED, "reason": NO_TEXT}, None
                return _plan("zalo", conversation_id, [{"text": text}], "consultation"), None
            template = config.zns.get(status)
            if template is None:
                hours = config.zalo_window.total_seconds() / 3600
                return {"route": "zns", "outcome": NOTICE_SKIPPED, "reason": NO_TEMPLATE.format(hours=hours)}, None
            phone = zns_phone(order.phone)
            if phone is None:
                return {"route": "zns", "outcome": NOTICE_FAILED, "reason": BAD_PHONE}, order.phone
            zns = {
                "phone": phone, "template_id": template.template_id,
                "template_data": {param: fields.get(field, MISSING) for param, field in template.params.items()},
                "tracking_id": secrets.token_hex(16),
            }  # fmt: skip
            return _plan("zalo", conversation_id, [{"zns": zns}], "zns"), phone
        if conversation_id.startswith(FACEBOOK):
            if text is None:
                return {"route": "messenger", "outcome": NOTICE_SKIPPED, "reason": NO_TEXT}, None
            last = self._messenger_last(connection, conversation_id[len(FACEBOOK) :])
            message = {"text": text}
            if last is not None and now - last <= config.messenger_window.total_seconds():
                part = {"message": message, "messaging_type": "UPDATE", "tag": None}
                return _plan("messenger", conversation_id, [part], "messenger"), None
            if config.messenger_tag:
                part = {"message": message, "messaging_type": "MESSAGE_TAG", "tag": config.messenger_tag}
                return _plan("messenger", conversation_id, [part], "messenger_tag"), None
            hours = config.messenger_window.total_seconds() / 3600
            reason = OUTSIDE_MESSENGER_WINDOW.format(hours=hours)
            return {"route": "messenger", "outcome": NOTICE_SKIPPED, "reason": reason}, None
        if conversation_id.startswith(WEB):
            if text is None:
                return {"route": "web", "outcome": NOTICE_SKIPPED, "reason": NO_TEXT}, None
            return _plan(WEB_CHANNEL, conversation_id, [{"text": text}], "web"), None
        return {"route": "none", "outcome": NOTICE_SKIPPED, "reason": UNKNOWN_CHANNEL}, None

    # --- what staff see ----------------------------------------------------------------------------------

    def recent(self, limit: int = 200) -> list[NoticeLine]:
        """The latest decisions, newest first, each queued one with its delivery's state."""
        notices, outbox = order_notices_table, outbox_table
        query = (
            sa.select(notices, outbox.c.status.label("delivery"), outbox.c.error_reason)
            .select_from(notices.outerjoin(outbox, outbox.c.id == notices.c.outbox_id))
            .order_by(notices.c.created_at.desc(), notices.c.id.desc())
            .limit(limit)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        lines = []
        for row in rows:
            if row.outcome == NOTICE_QUEUED:  # a sent row pruned after a day was delivered
                outcome, reason = row.delivery or OUTBOX_SENT, row.error_reason or ""
            else:
                outcome, reason = row.outcome, row.reason or ""
            channel, _, customer = row.conversation_id.partition(":")
            lines.append(NoticeLine(row.created_at, row.order_number, row.status, f"{channel}:{mask_id(customer)}",
                                    row.route, outcome, reason, row.phone_masked or ""))  # fmt: skip
        return lines
