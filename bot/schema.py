"""Every table of the project database, in one MetaData: what the newest migration makes of a database.

The stores (tickets, ownership, the desk's queue and accounts, the admin audit log, the
channels' seen ids, messaging windows, Zalo choices and tokens, the platform outbox) import their
tables from here and call ``bot.migrations.ensure_schema`` first. A change here needs a revision in
bot/migrations/versions (``cskh db revision``; tests/test_migrations.py fails until they agree).
Rasa's own ``events`` table (the tracker store) is Rasa's, and the embedded demo shop keeps its
orders in a database of its own (bot/orders/demo_shop.py): the shop's system, not the bot's.
"""

import sqlalchemy as sa

metadata = sa.MetaData()

# bot/tickets.py: a reported problem with its daily code, taken from that day's counter row
tickets_table = sa.Table(
    "tickets",
    metadata,
    sa.Column("code", sa.String(20), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("sender_id", sa.String(128), nullable=False),
    sa.Column("order_number", sa.String(16)),
    sa.Column("issue_type", sa.String(32), nullable=False),
    sa.Column("team", sa.String(32), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("contact_phone", sa.String(16)),
    sa.Column("status", sa.String(16), nullable=False, default="open"),
    # whether the reporter proved the order is theirs; an unproven report is filed but reveals nothing
    sa.Column("order_verified", sa.Boolean, nullable=False, server_default=sa.false()),
    # why the customer asked for a person, when this ticket stands in for a hand-off nobody could take
    sa.Column("handoff_reason", sa.String(64)),
    # the desk's follow-up (bot/desk/tickets_page.py): open / pending / resolved, who owns it, when it is due
    sa.Column("assignee", sa.String(64)),
    sa.Column("due_at", sa.DateTime(timezone=True)),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("resolution", sa.Text),
)
# bot/tickets.py: what staff wrote on a ticket, oldest first. The code is not a foreign key: a restore of a
# backup older than this table (pg_restore --clean) must be able to drop and remake the tickets' primary key
ticket_comments_table = sa.Table(
    "ticket_comments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ticket_code", sa.String(20), nullable=False, index=True),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
ticket_counters_table = sa.Table(
    "ticket_counters",
    metadata,
    sa.Column("day", sa.String(8), primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)

# bot/ownership.py: failed and successful proofs per order, and which conversation proved which order
ownership_attempts_table = sa.Table(
    "ownership_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("order_number", sa.String(16), nullable=False, index=True),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("succeeded", sa.Boolean, nullable=False, default=False),
)
ownership_orders_table = sa.Table(
    "ownership_orders",
    metadata,
    sa.Column("order_number", sa.String(16), primary_key=True),
    sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=False),
)
ownership_proofs_table = sa.Table(
    "ownership_proofs",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("order_number", sa.String(16), primary_key=True),
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("proven_at", sa.DateTime(timezone=True), nullable=False),
)

# bot/desk/queue.py: hand-offs to a person and their transcripts; the admin's analytics read them too.
# handoffs.status: waiting for an agent, with one, or ended one of four ways
WAITING, ACTIVE = "waiting", "active"
CLOSED, RETURNED, EXPIRED, CANCELLED = "closed", "returned", "expired", "cancelled"
handoffs_table = sa.Table(
    "handoffs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("sender_id", sa.String(128), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("slots", sa.Text, nullable=False),
    sa.Column("contact_phone", sa.String(32)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("told_position", sa.Integer),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_at", sa.DateTime(timezone=True)),
    sa.Column("first_reply_at", sa.DateTime(timezone=True)),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Column("resolution", sa.Text),
    sa.Column("ticket_code", sa.String(32)),
    sa.Column("csat", sa.Integer),
    # the customer's most upset message before the hand-off (bot/text/sentiment.py), JSON; agents see it first
    sa.Column("mood", sa.Text),
    # events still to send to resume an expired hand-off's conversation (JSON), kept until Rasa took them:
    # a desk restart or a Rasa outage never leaves the customer paused
    sa.Column("resume_events", sa.Text),
    # when a waiting hand-off nobody accepted expires (its accept timeout, fixed when it opened); every desk
    # instance sweeps for due rows, and the conditional UPDATE that expires one lets exactly one of them do it
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    # which desk instance is sending the resume, until when: others leave it alone, and take it over once the
    # lease ran out (that instance died mid-send), so the customer hears it once and never stays paused
    sa.Column("resume_leased_until", sa.DateTime(timezone=True)),
    # the support.yml team whose agents see it first (bot/desk/transfer.py): from the issue type when it opened,
    # changed by a transfer; NULL on rows from before teams, shown as customer care
    sa.Column("team", sa.String(32)),
    # who passed it on last (display name), so the agent it reached sees where it came from
    sa.Column("transferred_from", sa.String(128)),
)
handoff_messages_table = sa.Table(
    "handoff_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("handoff_id", sa.Integer, sa.ForeignKey("handoffs.id"), nullable=False, index=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("author", sa.String(64)),
    sa.Column("text", sa.Text, nullable=False),
    # Rasa's event timestamp: the same event reported twice (in the opening
    # transcript and again by the event broker) is stored once
    sa.Column("sent_at", sa.Float, nullable=False),
    sa.UniqueConstraint("handoff_id", "role", "sent_at", name="uq_handoff_message"),
)

# bot/desk/accounts.py: agents and their console sessions (only a hash of each session cookie)
AGENT_ONLINE, AGENT_BUSY, AGENT_AWAY = "online", "busy", "away"
DEFAULT_CAPACITY = 3
agents_table = sa.Table(
    "agents",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("display_name", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen", sa.DateTime(timezone=True)),
    # set by the agent in the console's header: only "online" agents are offered new waiting customers
    sa.Column("status", sa.String(8), nullable=False, server_default=AGENT_ONLINE),
    # the most conversations the agent talks in at once, set by an admin; a claim beyond it is refused
    sa.Column("capacity", sa.Integer, nullable=False, server_default=str(DEFAULT_CAPACITY)),
)
# bot/desk/teams.py: the support.yml teams each agent works in (an agent may be in several, or none). The
# username is not a foreign key, for the same reason as ticket_comments' code: a restore of an older backup
agent_teams_table = sa.Table(
    "agent_teams",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("team", sa.String(32), primary_key=True),
)
sessions_table = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), sa.ForeignKey("agents.username"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

# bot/canned.py: the shop's ready-made replies, picked by agents with "/shortcut"; written on /admin/canned
canned_replies_table = sa.Table(
    "canned_replies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("shortcut", sa.String(32), nullable=False, unique=True),  # without its "/": chao, doi-tra
    sa.Column("title", sa.String(80), nullable=False),
    # may hold {customer_name}, {order_number} and shop facts ({shipping.fee_inner_city}), filled per conversation
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
# bot/desk/labels.py: agents' free labels on a conversation ("VIP", "đổi trả"); the key is the label casefolded,
# so "vip" and "VIP" are one label. Not a foreign key, for the reason ticket_comments gives
handoff_labels_table = sa.Table(
    "handoff_labels",
    metadata,
    sa.Column("handoff_id", sa.Integer, primary_key=True),
    sa.Column("label_key", sa.String(100), primary_key=True, index=True),
    sa.Column("label", sa.String(30), nullable=False),
    sa.Column("added_by", sa.String(64), nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
)

# bot/admin/audit.py: who changed what in the bot's knowledge
audit_table = sa.Table(
    "admin_audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.String(128), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
)

# connectors/dedupe.py: platform message ids already answered
seen_messages_table = sa.Table(
    "channel_seen_messages",
    metadata,
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("message_id", sa.String(255), primary_key=True),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

# connectors/messenger.py: when each person last wrote to the page (Messenger's messaging windows)
messenger_last_inbound_table = sa.Table(
    "messenger_last_inbound",
    metadata,
    sa.Column("psid", sa.String(64), primary_key=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

# bot/messaging_windows.py: when each Zalo user last interacted with the OA (Zalo's 48-hour and 7-day windows)
zalo_last_interaction_table = sa.Table(
    "zalo_last_interaction",
    metadata,
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("interacted_at", sa.DateTime(timezone=True), nullable=False),
)

# connectors/zalo.py: the buttons last offered to each Zalo customer, picked by number
zalo_choices_table = sa.Table(
    "zalo_choices",
    metadata,
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("buttons", sa.Text, nullable=False),
    sa.Column("saved_at", sa.Float, nullable=False),
)

# connectors/zalo_client.py: the OA's token pair (Fernet-encrypted when CSKH_SECRET_KEY is set)
zalo_tokens_table = sa.Table(
    "zalo_tokens",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("access_token", sa.Text, nullable=False),
    sa.Column("refresh_token", sa.Text, nullable=False),
    sa.Column("expires_at", sa.Float),
    sa.Column("seed", sa.String(64), nullable=False),  # SHA-256 of the environment's refresh token it came from
    sa.Column("lease_until", sa.Float),  # a refresh in progress somewhere, until then
    sa.Column("updated_at", sa.Float, nullable=False),
)

# bot/outbox.py: every message to a Zalo or Messenger customer, written before the platform is called, so a
# failed send is retried by any Rasa replica (also after a restart) and a final failure reaches the agent
OUTBOX_PENDING, OUTBOX_SENT, OUTBOX_FAILED = "pending", "sent", "failed"
outbox_table = sa.Table(
    "platform_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(32), nullable=False),  # zalo | messenger: whose worker sends it
    # the tracker key (zalo:<user id>, fb:<psid>): the recipient, and the desk's hand-off sender_id
    sa.Column("conversation_id", sa.String(255), nullable=False),
    # Rasa's timestamp of the bot event: the desk's transcript line (handoff_messages.sent_at) it delivers
    sa.Column("sent_at", sa.Float),
    sa.Column("parts", sa.Text, nullable=False),  # JSON list of the platform requests (a long text is several)
    sa.Column("parts_done", sa.Integer, nullable=False),  # delivered already: a retry goes on from there
    sa.Column("status", sa.String(16), nullable=False),  # pending, sent, failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    # when it is due; while a sender holds it, the end of that sender's lease
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("claim", sa.String(32)),  # the sender holding it: only it records the outcome
    sa.Column("error_code", sa.String(64)),  # e.g. zalo:-230, messenger:551/1545041, http:502, network
    sa.Column("error_reason", sa.Text),  # for the agent, in Vietnamese
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("ix_platform_outbox_due", "channel", "status", "next_attempt_at"),
    sa.Index("ix_platform_outbox_conversation", "conversation_id", "status"),
)

# bot/attachments.py: a picture or file of a conversation (its bytes under var/attachments or in S3, by id)
attachments_table = sa.Table(
    "attachments",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # random: the files' key, never guessable
    sa.Column("kind", sa.String(8), nullable=False),  # image | file
    sa.Column("mime", sa.String(64), nullable=False),  # read from the bytes, not from the name
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("sender_id", sa.String(255), nullable=False),  # the customer's conversation, either direction
    sa.Column("direction", sa.String(3), nullable=False),  # in (customer) | out (agent)
    sa.Column("uploaded_by", sa.String(64)),  # the agent who sent it
    sa.Column("handoff_id", sa.Integer),
    sa.Column("ticket_code", sa.String(20)),  # a photo sent while reporting a problem belongs to its ticket
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_attachments_conversation", "channel", "sender_id"),
    sa.Index("ix_attachments_ticket_code", "ticket_code"),
)

# bot/senders.py: one-time data migrations already done (also kept in the tracker database)
migrations_table = sa.Table(
    "cskh_migrations",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("done_at", sa.Float, nullable=False),
)

# bot/order_updates.py: each order-status message the shop's system asked for, per customer who proved the order:
# sent (through the outbox row it names), skipped (opted out, window closed, no template) or failed, and why
NOTICE_QUEUED, NOTICE_SKIPPED, NOTICE_FAILED = "queued", "skipped", "failed"
order_notices_table = sa.Table(
    "order_notices",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(64), nullable=False),  # the shop's id of the status change: a resend is one
    sa.Column("order_number", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # the order's new status
    sa.Column("conversation_id", sa.String(255), nullable=False),  # the tracker key: zalo:<id>, fb:<psid>, web:<id>
    sa.Column("route", sa.String(16), nullable=False),  # consultation, zns, messenger, messenger_tag, web, none
    sa.Column("outcome", sa.String(16), nullable=False),  # queued (then the outbox row says), skipped, failed
    sa.Column("outbox_id", sa.Integer),  # platform_outbox.id of the message, when one was queued
    sa.Column("reason", sa.Text),  # why skipped or failed, for staff, in Vietnamese
    sa.Column("phone_masked", sa.String(32)),  # the ZNS recipient as staff may see it (bot/privacy.py)
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("event_id", "conversation_id", name="uq_order_notices_event_conversation"),
    sa.Index("ix_order_notices_created_at", "created_at"),
)

# bot/order_updates.py: customers who asked for no more order updates ("ngừng nhận thông báo"), by tracker key
notice_opt_outs_table = sa.Table(
    "notice_opt_outs",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("opted_out_at", sa.Float, nullable=False),
)
