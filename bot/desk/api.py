"""The desk's service API, called by the action server and Rasa's event broker.

Authenticated with a shared bearer token (``DESK_SERVICE_TOKEN``), never by
an agent's session.
"""

import hmac
from typing import Any

from sanic import Blueprint, Request, response
from sanic.exceptions import InvalidUsage
from sanic.response import HTTPResponse

from bot.handoff_protocol import CSAT_PATH, EVENTS_PATH, HANDOFFS_PATH, MalformedMessageError, read_handoff_request

api = Blueprint("desk_api")


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


@api.post(HANDOFFS_PATH)
async def open_handoff(request: Request) -> HTTPResponse:
    try:
        handoff_request = read_handoff_request(_json_body(request))
    except MalformedMessageError as error:
        return response.json({"error": str(error)}, status=400)
    return response.json(request.app.ctx.desk.open_handoff(handoff_request))


@api.post(EVENTS_PATH)
async def conversation_events(request: Request) -> HTTPResponse:
    body = _json_body(request)
    events = body if isinstance(body, list) else [body]
    if not all(isinstance(event, dict) for event in events):
        return response.json({"error": "tracker events expected"}, status=400)
    for event in events:
        await request.app.ctx.desk.conversation_event(event)
    return response.json({"received": len(events)})


@api.post(CSAT_PATH)
async def record_csat(request: Request) -> HTTPResponse:
    body = _json_body(request)
    try:
        sender_id, score = str(body["sender_id"]), int(body["score"])
        recorded = request.app.ctx.desk.record_csat(sender_id, score)
    except (TypeError, KeyError, ValueError):
        return response.json({"error": "sender_id and a score from 1 to 5 expected"}, status=400)
    return response.json({"recorded": recorded})
