"""Agents label a conversation they may see ("VIP", "đổi trả"); the queue shows and filters by them.

The same checks as every change of the console: a live session, its CSRF token, and a conversation the
agent may see now (else the answer of one that does not exist). Queue pages refresh through the live hub.
"""

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from bot.desk.accounts import Session
from bot.desk.console import _field, _not_found, _visible, agent_required
from bot.desk.labels import LabelError, LabelStore
from bot.desk.live import QUEUE_TOPIC

label_routes = Blueprint("desk_labels")


async def _change(request: Request, session: Session, handoff_id: int, add: bool) -> HTTPResponse:
    if _visible(request, session.agent, handoff_id) is None:
        return _not_found()
    store, label = LabelStore(request.app.ctx.engine), _field(request, "label")
    try:
        labels = store.add(handoff_id, label, session.agent.username) if add else store.remove(handoff_id, label)
    except LabelError as error:
        return response.json({"error": str(error)}, status=422)
    request.app.ctx.desk.hub.publish(QUEUE_TOPIC, "queue", {"handoff_id": handoff_id})
    return response.json({"labels": labels})


@label_routes.post("/handoffs/<handoff_id:int>/labels")
@agent_required
async def add_label(request: Request, session: Session, handoff_id: int) -> HTTPResponse:
    return await _change(request, session, handoff_id, add=True)


@label_routes.post("/handoffs/<handoff_id:int>/labels/remove")
@agent_required
async def remove_label(request: Request, session: Session, handoff_id: int) -> HTTPResponse:
    return await _change(request, session, handoff_id, add=False)
