"""/admin/notifications: the order updates of the last days, sent, being sent, failed or skipped, and why.

A ZNS message Zalo refused (an unknown template, a quota spent) or a Messenger update past the window is never a
silent loss: admins read it here (bot/order_updates.py decides and records; the outbox records the delivery).
Customers are shown masked, as in the logs.
"""

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from bot.desk.accounts import Session
from bot.desk.console import admin_required, render
from bot.order_updates import OUTCOME_LABELS, ROUTE_LABELS
from bot.orders.model import OrderStatus

notifications_page = Blueprint("desk_notifications", url_prefix="/admin")


@notifications_page.get("/notifications")
@admin_required
async def notifications(request: Request, session: Session) -> HTTPResponse:
    lines = request.app.ctx.order_updates.recent()
    statuses = {status.value: status.label for status in OrderStatus}
    return render(
        request, "admin_notifications.html", session=session, lines=lines, outcomes=OUTCOME_LABELS,
        routes=ROUTE_LABELS, statuses=statuses,
    )  # fmt: skip
