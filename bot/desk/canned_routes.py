"""The reply box's canned replies: the list the "/" popup filters, and one reply filled for a conversation.

Any agent reads the list (it holds no customer data); a reply is filled only for a conversation the
agent may see now, and answers like a conversation that does not exist otherwise (bot/desk/console.py).
"""

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from bot.desk.accounts import Session
from bot.desk.canned import CannedStore, render
from bot.desk.console import _not_found, _visible, agent_required

canned_routes = Blueprint("desk_canned")


@canned_routes.get("/canned.json")
@agent_required
async def canned_list(request: Request, session: Session) -> HTTPResponse:
    return response.json([reply.as_dict() for reply in CannedStore(request.app.ctx.engine).all()])


@canned_routes.get("/handoffs/<handoff_id:int>/canned.json")
@agent_required
async def canned_for(request: Request, session: Session, handoff_id: int) -> HTTPResponse:
    """``?reply=<id>`` with this conversation's customer, order and the shop's current facts filled in."""
    handoff, wanted = _visible(request, session.agent, handoff_id), request.args.get("reply", "")
    found = handoff is not None and wanted.isascii() and wanted.isdigit() and len(wanted) < 12
    reply = CannedStore(request.app.ctx.engine).get(int(wanted)) if found else None
    if handoff is None or reply is None:
        return _not_found()
    text, gaps = render(reply.text, handoff.slots, request.app.ctx.data_dir)
    return response.json({"id": reply.id, "shortcut": reply.shortcut, "text": text, "gaps": gaps})
