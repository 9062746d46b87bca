"""The action server's metrics and probes, on the app rasa-sdk's ``create_app`` builds.

Each ``POST /webhook`` is one custom action: its name is in the body Rasa sends (``next_action``),
its outcome in rasa-sdk's status (400 rejected, 404 unknown action, 500 error).
"""

import json
import time
import zlib
from collections.abc import Mapping, Sequence

from sanic import Request, Sanic
from sanic.response import HTTPResponse

from bot.client_address import Network
from bot.observability.metrics import action_server_metrics
from bot.observability.web import Check, observe

WEBHOOK_PATH = "/webhook"


def _action_name(request: Request) -> str:
    """``next_action`` of an action call, compressed or not; "unknown" for a body that is not one."""
    try:
        body = zlib.decompress(request.body) if request.headers.get("Content-Encoding") == "deflate" else request.body
        name = json.loads(body).get("next_action")
    except (ValueError, zlib.error, AttributeError):
        return "unknown"
    return name if isinstance(name, str) and name else "unknown"


def observe_actions(
    app: Sanic, metrics_token: str, trusted_proxies: Sequence[Network], checks: Mapping[str, Check]
) -> None:
    """``/metrics`` (action runs by name and outcome), ``/ready`` (``checks``) and the access line."""
    observe(
        app, registry=action_server_metrics().registry, metrics_token=metrics_token,
        trusted_proxies=trusted_proxies, channel_of=lambda _path: "actions", checks=checks,
        health=False,  # rasa-sdk has its own /health
    )  # fmt: skip
    metrics = action_server_metrics()

    @app.on_request
    async def note_action(request: Request) -> None:
        if request.path == WEBHOOK_PATH and request.method == "POST":
            request.ctx.action = (_action_name(request), time.perf_counter())

    @app.on_response
    async def count_action(request: Request, reply: HTTPResponse) -> None:
        noted = getattr(request.ctx, "action", None)
        if noted is not None:
            name, started = noted
            metrics.ran(name, reply.status, time.perf_counter() - started)
