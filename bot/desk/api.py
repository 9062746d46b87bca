"""The desk's service API, called by the action server and Rasa's event broker.

Authenticated with a shared bearer token (``DESK_SERVICE_TOKEN``), never by
an agent's session.
"""

import hmac
from typing import Any

from sanic import Blueprint, Request, response
from sanic.exceptions import InvalidUsage
from sanic.response import HTTPResponse

api = Blueprint("desk_api", url_prefix="/api")
REQUIRED_FIELDS = ("channel", "sender_id", "reason", "summary")


def _authorised(request: Request) -> bool:
    expected = request.app.ctx.service_token
    provided = (request.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
    return bool(provided) and hmac.compare_digest(provided.encode(), expected.encode())


def _json_body(request: Request) -> Any:
    try:
        return request.json
    except InvalidUsage:  # not JSON
        return None


@api.middleware("request")
async def require_service_token(request: Request) -> HTTPResponse | None:
    if not _authorised(request):
        return response.json({"error": "unauthorised"}, status=401)
    return None


@api.post("/handoffs")
async def open_handoff(request: Request) -> HTTPResponse:
    body = _json_body(request)
    if not isinstance(body, dict) or any(not isinstance(body.get(f), str) or not body[f] for f in REQUIRED_FIELDS):
        return response.json({"error": f"JSON object with {', '.join(REQUIRED_FIELDS)} expected"}, status=400)
    return response.json(request.app.ctx.desk.open_handoff(body))


@api.post("/events")
async def conversation_events(request: Request) -> HTTPResponse:
    body = _json_body(request)
    events = body if isinstance(body, list) else [body]
    if not all(isinstance(event, dict) for event in events):
        return response.json({"error": "tracker events expected"}, status=400)
    for event in events:
        await request.app.ctx.desk.conversation_event(event)
    return response.json({"received": len(events)})


@api.post("/csat")
async def record_csat(request: Request) -> HTTPResponse:
    body = _json_body(request)
    try:
        sender_id, score = str(body["sender_id"]), int(body["score"])
        recorded = request.app.ctx.desk.record_csat(sender_id, score)
    except (TypeError, KeyError, ValueError):
        return response.json({"error": "sender_id and a score from 1 to 5 expected"}, status=400)
    return response.json({"recorded": recorded})
