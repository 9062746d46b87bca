"""The operator's door on each Rasa server, at ``/cskh/...`` (Rasa's HTTP API side; its token as a Bearer header).

An input channel is Rasa's extension point for adding routes to its server; this one receives no
customer messages. ``PUT /cskh/model`` swaps the model without stalling customers: Rasa's own
``PUT /model`` builds a whole new agent on the event loop, so every conversation on that server
waits for the load (7.2 s measured on the scaled stack), and each swap opens another event broker
and tracker store. Here the serving agent loads the new model in a worker thread with Rasa's own
``Agent.load_model``, which builds the new ``MessageProcessor`` first and assigns it last: messages
keep being answered by the old model until that moment, and the broker, tracker store and lock
store stay. One swap at a time per server; the answer names the model ``/status`` now reports.
"""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.doors import token_refusal
from bot.settings import current_settings

PREFIX = "/cskh"


class OperationsInput(InputChannel):
    """Routes for the operator's tools; behind Rasa's API door (bot/doors.py) and auth token."""

    def __init__(self, rasa_token: str) -> None:
        self._token = rasa_token

    @classmethod
    def name(cls) -> str:
        return "cskh"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> "OperationsInput":
        return cls(current_settings().rasa_token)  # the token of the API it extends, not a second secret

    def url_prefix(self) -> str:
        return PREFIX  # not under /webhooks/: the API door, never the customers' interface

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        operations = Blueprint("cskh_operations", __name__)
        swapping = asyncio.Lock()

        @operations.put("/model")
        async def swap_model(request: Request) -> HTTPResponse:
            refusal = token_refusal(request, self._token)
            if refusal:
                return refusal
            body = request.json if isinstance(request.json, dict) else {}
            model_file = body.get("model_file")
            if not isinstance(model_file, str) or not Path(model_file).is_file():
                return response.json({"error": "model_file must name a model file on this server"}, status=400)
            agent = request.app.ctx.agent
            async with swapping:
                try:
                    await asyncio.to_thread(agent.load_model, model_file)
                except Exception as error:  # a broken archive: the old model keeps serving
                    message = f"cannot load {Path(model_file).name}: {type(error).__name__}"
                    return response.json({"error": message}, status=500)
            return response.json({"model_file": agent.processor.model_filename})

        return operations
