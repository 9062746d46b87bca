"""How long after a customer's last message Zalo and Messenger still let the shop write to them.

The platforms enforce these windows themselves, by refusing the send. Both the Rasa server's channels
(connectors/zalo.py, connectors/messenger.py: at send time) and the desk (bot/desk: before an agent's reply
leaves, and on the conversation page) read them here, from the project database, so a refusal is known
before the platform is called and the agent is told in Vietnamese instead of finding "chưa gửi được" later.

- Zalo consultation messages: free within 48 h of the user's last interaction; from 48 h to 7 days they may be
  billed, depending on the OA's package (``ZaloPaid``: warn, allow or block them); after 7 days Zalo refuses
  them (-230). Sources: a compiled Zalo integration specification §5.2, redai-zalo-sdk CONSULTATION_SERVICE.md;
  not confirmed on Zalo's own pages, hence the policy knob.
- Messenger: ``RESPONSE`` within 24 h of the person's last message; after that only a person may write, for
  up to 7 days, tagged ``HUMAN_AGENT``, which needs the Human Agent permission from Meta's App Review
  (developers.facebook.com/docs/messenger-platform/send-messages/message-tags). Automated messages may not use
  the tag at all.

A customer with no record (written before this was kept, or another replica's database) is left to the
platform to judge: ``UNKNOWN`` never blocks a send.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from bot.migrations import ensure_schema
from bot.schema import messenger_last_inbound_table, zalo_last_interaction_table

ZALO_FREE = timedelta(hours=48)
ZALO_LAST = timedelta(days=7)
MESSENGER_STANDARD = timedelta(hours=24)
MESSENGER_HUMAN_AGENT = timedelta(days=7)

# what the shop wants done with a Zalo reply 48 h–7 d after the customer's last interaction (CSKH_ZALO_PAID_REPLIES)
PAID_WARN, PAID_ALLOW, PAID_BLOCK = "warn", "allow", "block"
PAID_POLICIES = (PAID_WARN, PAID_ALLOW, PAID_BLOCK)

# the channels (bot/senders.py names) that have a window
PREFIXED_CHANNELS = ("zalo", "messenger", "facebook")

# window states
OPEN, PAID, HUMAN_ONLY, CLOSED, UNKNOWN = "open", "paid", "human_only", "closed", "unknown"

# what the agent reads (console banner, refusals, the outbox's reason next to a line)
ZALO_PAID_WARNING = (
    "Khách nhắn OA lần cuối hơn 48 giờ trước: tin tư vấn gửi lúc này có thể bị Zalo tính phí "
    "(tuỳ gói OA của shop). Còn gửi được tới {until}."
)
ZALO_PAID_BLOCKED = (
    "Khách nhắn OA lần cuối hơn 48 giờ trước: shop đã tắt gửi tin tư vấn có thể bị Zalo tính phí, "
    "nên tin này không được gửi. Bạn chờ khách nhắn lại nhé."
)
ZALO_CLOSED = "Khách không nhắn cho OA trong 7 ngày qua nên Zalo không cho gửi tin tư vấn nữa."
MESSENGER_HUMAN_ONLY = (
    "Khách nhắn trang lần cuối hơn 24 giờ trước: chỉ nhân viên trả lời được (thẻ HUMAN_AGENT), tới {until}."
)
MESSENGER_NO_PERMISSION = (
    "Khách nhắn trang lần cuối hơn 24 giờ trước. Messenger chỉ cho trả lời sau 24 giờ khi trang có quyền "
    "Human Agent (Meta duyệt qua App Review), mà trang chưa bật quyền này, nên tin không được gửi. "
    "Bạn chờ khách nhắn lại nhé."
)
MESSENGER_AUTOMATED_LATE = (
    "Tin tự động không được gửi: khách nhắn trang lần cuối hơn 24 giờ trước, Messenger không cho gửi tin tự động nữa."
)
MESSENGER_CLOSED = "Khách nhắn lần cuối hơn 7 ngày trước nên Messenger không cho trang trả lời nữa."


@dataclass(frozen=True)
class Window:
    """Where a customer's conversation stands: ``state``, and what the agent is told (empty when all is well)."""

    state: str
    notice: str = ""  # shown before sending; also the reason of a refusal
    blocked: bool = False  # an agent's message would be refused (by the platform, or by the shop's policy)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite keeps no zone: stored as UTC


def _clock(moment: datetime) -> str:
    """A time the agent reads (Vietnam's time; the desk's own timezone setting is the desk's)."""
    return moment.astimezone(timezone(timedelta(hours=7))).strftime("%H:%M %d/%m")


def zalo_window(last: datetime | None, now: datetime, paid_policy: str) -> Window:
    """The window of a Zalo consultation message ``now``, the user's last interaction being ``last``."""
    if last is None:
        return Window(UNKNOWN)
    age = now - _utc(last)
    if age <= ZALO_FREE:
        return Window(OPEN)
    if age > ZALO_LAST:
        return Window(CLOSED, ZALO_CLOSED, blocked=True)
    if paid_policy == PAID_BLOCK:
        return Window(PAID, ZALO_PAID_BLOCKED, blocked=True)
    notice = ZALO_PAID_WARNING.format(until=_clock(_utc(last) + ZALO_LAST)) if paid_policy == PAID_WARN else ""
    return Window(PAID, notice)


def messenger_window(last: datetime | None, now: datetime, human_agent: bool) -> Window:
    """The window of an agent's Messenger message ``now``, the person's last message being ``last``."""
    if last is None:
        return Window(UNKNOWN)
    age = now - _utc(last)
    if age <= MESSENGER_STANDARD:
        return Window(OPEN)
    if age > MESSENGER_HUMAN_AGENT:
        return Window(CLOSED, MESSENGER_CLOSED, blocked=True)
    if not human_agent:
        return Window(HUMAN_ONLY, MESSENGER_NO_PERMISSION, blocked=True)
    return Window(HUMAN_ONLY, MESSENGER_HUMAN_ONLY.format(until=_clock(_utc(last) + MESSENGER_HUMAN_AGENT)))


@dataclass(frozen=True)
class WindowRules:
    """The shop's choices where the platforms leave one: from ``Settings`` (``CSKH_ZALO_PAID_REPLIES``,
    ``FB_HUMAN_AGENT``)."""

    zalo_paid: str = PAID_WARN
    messenger_human_agent: bool = False

    @classmethod
    def of(cls, settings: Any) -> "WindowRules":
        return cls(settings.zalo_paid_replies, settings.messenger_human_agent)


def record_latest(engine: sa.engine.Engine, key: sa.Column, key_value: str, moment: sa.Column, at: datetime) -> None:
    """Sets ``moment`` of the row whose ``key`` is ``key_value`` to ``at`` unless it holds a later time
    already (a retried or reordered event never moves it back), making the row if there is none; safe when
    several replicas write at once."""
    table = key.table
    newer = table.update().where(key == key_value, moment < at).values({moment.name: at})
    with engine.begin() as connection:
        if connection.execute(newer).rowcount:
            return
        try:
            with connection.begin_nested():
                connection.execute(table.insert().values({key.name: key_value, moment.name: at}))
        except sa.exc.IntegrityError:  # the row exists: newer already, or written meanwhile by another replica
            connection.execute(newer)


class LastInteractions:
    """When each Zalo user last interacted with the OA, and each Messenger person last wrote to the page."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        ensure_schema(engine)

    def record_zalo(self, user_id: str, at: datetime) -> None:
        """Notes an interaction; an older (retried, reordered) event never moves the time back."""
        record_latest(self._engine, zalo_last_interaction_table.c.user_id, user_id,
                      zalo_last_interaction_table.c.interacted_at, at)  # fmt: skip

    def zalo(self, user_id: str) -> datetime | None:
        table = zalo_last_interaction_table
        with self._engine.connect() as connection:
            found = connection.execute(sa.select(table.c.interacted_at).where(table.c.user_id == user_id)).scalar()
        return None if found is None else _utc(found)

    def messenger(self, psid: str) -> datetime | None:
        table = messenger_last_inbound_table
        with self._engine.connect() as connection:
            found = connection.execute(sa.select(table.c.received_at).where(table.c.psid == psid)).scalar()
        return None if found is None else _utc(found)

    def window(self, channel: str, customer: str, rules: WindowRules, now: datetime | None = None) -> Window | None:
        """An agent's message's window on ``channel`` (``zalo``/``messenger``) to the platform id ``customer``;
        None on channels without one."""
        now = now or datetime.now(timezone.utc)
        if channel == "zalo":
            return zalo_window(self.zalo(customer), now, rules.zalo_paid)
        if channel in ("messenger", "facebook"):
            return messenger_window(self.messenger(customer), now, rules.messenger_human_agent)
        return None
