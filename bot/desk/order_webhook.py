"""The shop's order-status webhook, and the worker that brings order updates to widget and REST customers.

``POST /api/order-updates`` (docs/ORDER_API.md): the shop's system says an order changed status. It signs the raw
body with the shared ``ORDER_WEBHOOK_SECRET``: ``X-Cskh-Signature: sha256=<hex HMAC-SHA256(secret,
"<X-Cskh-Timestamp>." + body)>``, the timestamp in Unix seconds and at most five minutes old, so a captured
request cannot be replayed later and nobody without the secret can make the bot message the shop's customers.
What to say and to whom is bot/order_updates.py's; a resent event (same ``event_id``) notifies nobody twice.

Widget and REST customers' updates wait in the platform outbox under channel ``rest``; this desk sends them as
it sends an agent's reply (a desk message appended to the conversation, bot/desk/rasa_client.py), retried while
Rasa is away. Zalo and Messenger updates are sent by the Rasa server's own outbox workers.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any

from sanic import Blueprint, Request, Sanic, response
from sanic.response import HTTPResponse

from bot.desk.rasa_client import RasaUnavailableError
from bot.handoff_protocol import desk_message
from bot.order_updates import WEB_CHANNEL, NoticeConfig, OrderUpdates
from bot.orders.http_backend import parse_order
from bot.orders.model import OrderBackendError
from bot.outbox import OutboxStore
from bot.senders import namespaced
from bot.settings import Settings
from connectors.outbox import DELIVERED, Attempt, Outbox, retry_later

logger = logging.getLogger(__name__)

PATH = "/api/order-updates"
SIGNATURE_HEADER, TIMESTAMP_HEADER = "X-Cskh-Signature", "X-Cskh-Timestamp"
MAX_AGE_SECONDS = 300
MAX_BODY_BYTES = 64 * 1024
RASA_AWAY = "Chưa chuyển được tới máy chủ Rasa; sẽ thử lại."
WORKER_DELAY_SECONDS = 2.0  # the desk's own start (the event queue's consumer) goes first

order_webhook = Blueprint("order_webhook")


def signature_for(secret: str, timestamp: str, body: bytes) -> str:
    """What the shop's system puts in ``X-Cskh-Signature``."""
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _refusal(request: Request) -> HTTPResponse | None:
    """Why the request is not the shop's (None when it is)."""
    if len(request.body) > MAX_BODY_BYTES:
        return response.json({"error": "body too large"}, status=413)
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    expected = signature_for(request.app.ctx.order_webhook_secret, timestamp, request.body)
    if not hmac.compare_digest(request.headers.get(SIGNATURE_HEADER, "").strip().encode(), expected.encode()):
        return response.json({"error": "missing or wrong signature"}, status=401)
    try:
        fresh = abs(time.time() - float(timestamp)) <= MAX_AGE_SECONDS
    except ValueError:
        fresh = False
    if not fresh:
        return response.json({"error": "stale or missing timestamp"}, status=401)
    return None


@order_webhook.post(PATH)
async def order_update(request: Request) -> HTTPResponse:
    refusal = _refusal(request)
    if refusal is not None:
        logger.warning("order webhook refused (HTTP %s)", refusal.status)
        return refusal
    try:
        body = json.loads(request.body)
        event_id = body["event_id"]
        if not isinstance(event_id, str) or not 1 <= len(event_id) <= 64:
            raise ValueError("event_id")
        order = parse_order(body["order"])
    except (ValueError, KeyError, TypeError, OrderBackendError) as error:
        return response.json({"error": f"malformed order update ({type(error).__name__})"}, status=400)
    notices = await asyncio.to_thread(request.app.ctx.order_updates.announce, event_id, order)
    told = [{"route": notice.route, "outcome": notice.outcome} for notice in notices]
    return response.json({"event_id": event_id, "notices": told})


def web_outbox(app: Sanic) -> Outbox:
    """Sends the ``rest`` channel's rows: each a desk message in the customer's conversation."""
    rasa = app.ctx.desk.rasa

    async def send_part(customer: str, part: dict[str, Any]) -> Attempt:
        try:
            await rasa.append(namespaced(WEB_CHANNEL, customer), [desk_message(str(part["text"]))])
        except RasaUnavailableError as error:
            return retry_later("rasa", f"{RASA_AWAY} ({error})")
        return DELIVERED

    return Outbox(OutboxStore(app.ctx.engine), WEB_CHANNEL, send_part)


def mount_order_updates(app: Sanic, settings: Settings) -> None:
    """The webhook and the web worker on the desk app; notices.yml is read once, at start."""
    app.ctx.order_webhook_secret = settings.order_webhook_secret
    app.blueprint(order_webhook)

    async def start(app: Sanic, _: Any) -> None:
        app.ctx.order_updates = OrderUpdates(app.ctx.engine, NoticeConfig.load(settings.notices_config))
        app.ctx.web_outbox = web_outbox(app)
        app.ctx.web_outbox_start = asyncio.get_running_loop().call_later(WORKER_DELAY_SECONDS, app.ctx.web_outbox.start)

    async def stop(app: Sanic, _: Any) -> None:
        app.ctx.web_outbox_start.cancel()
        await app.ctx.web_outbox.stop()

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "before_server_stop")
