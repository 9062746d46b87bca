"""``/metrics``, ``/health``, ``/ready`` and the access line, on any of the servers' sanic apps.

``/metrics`` answers only ``Authorization: Bearer <CSKH_METRICS_TOKEN>`` (Prometheus's
``authorization`` setting), and it is an internal path on every server: Rasa's and the desk's
split by interface (bot/doors.py) keeps it off the customers' and agents' interface, the action
server listens only on its internal one. ``/health`` says the process answers; ``/ready`` says it
can do its work (the database answers, Rasa has a model) and is 503 otherwise, for a balancer or
an orchestrator to route around it. Neither tells anything a stranger could use, so neither needs
the token.

The access line has no query string (tokens and ``since`` travel there), masks conversation ids
in paths (a REST sender id is the customer's secret) and passes ``bot.privacy.redact``.
"""

import asyncio
import hmac
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from urllib.parse import unquote

import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from bot.client_address import Network, client_address
from bot.observability.logs import access_line
from bot.privacy import mask_id, redact

METRICS_PATH, HEALTH_PATH, READY_PATH = "/metrics", "/health", "/ready"
PROBE_PATHS = (METRICS_PATH, HEALTH_PATH, READY_PATH)  # logged as the channel "probe"
READY_TIMEOUT_SECONDS = 5.0
_CONVERSATION_ID = re.compile(r"(/conversations/)([^/]+)")

# A readiness check: returns when the dependency answers, raises when it does not.
Check = Callable[[], Awaitable[None]]


class NotReadyError(Exception):
    """What a check says when the process knows itself it cannot work yet."""


def loggable_path(path: str) -> str:
    """A request path fit for a log: conversation ids cut to their last characters, secrets masked."""
    path = path.split("?", 1)[0]
    path = _CONVERSATION_ID.sub(lambda m: m.group(1) + mask_id(unquote(m.group(2))), path)
    return redact(unquote(path))


def database_check(engine: sa.engine.Engine) -> Check:
    """A readiness check that the database behind ``engine`` answers a ``SELECT 1``."""

    def ping() -> None:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    async def check() -> None:
        await asyncio.to_thread(ping)

    return check


def observe(
    app: Sanic,
    *,
    registry: CollectorRegistry,
    metrics_token: str,
    trusted_proxies: Sequence[Network],
    channel_of: Callable[[str], str],
    checks: Mapping[str, Check],
    before_scrape: Callable[[Sanic], None] | None = None,
    health: bool = True,
) -> None:
    """Adds the three routes and the access line to ``app`` (before it starts: routes are fixed then).

    ``health=False`` for an app with its own ``/health``; ``before_scrape`` refreshes what is read
    from the app itself (Rasa's model) just before the registry is written out.
    """
    if not metrics_token:
        raise ValueError("refusing to serve metrics without a token")
    expected = f"Bearer {metrics_token}".encode()
    app.config.ACCESS_LOG = False  # sanic's own access line is empty; log_access below writes a readable one

    @app.get(METRICS_PATH, name="cskh_metrics")
    async def metrics(request: Request) -> HTTPResponse:
        given = request.headers.get("Authorization")
        if given is None:
            return response.json({"error": "authentication required"}, status=401)
        if not hmac.compare_digest(given.encode(), expected):
            return response.json({"error": "forbidden"}, status=403)
        if before_scrape is not None:
            before_scrape(request.app)
        body = await asyncio.to_thread(generate_latest, registry)
        return response.raw(body, content_type=CONTENT_TYPE_LATEST)

    if health:

        @app.get(HEALTH_PATH, name="cskh_health")
        async def alive(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

    @app.get(READY_PATH, name="cskh_ready")
    async def ready(request: Request) -> HTTPResponse:
        outcomes = await asyncio.gather(*(_outcome(check) for check in checks.values()))
        results = dict(zip(checks, outcomes, strict=True))
        status = 200 if all(result == "ok" for result in results.values()) else 503
        return response.json({"status": "ready" if status == 200 else "not ready", "checks": results}, status=status)

    @app.on_request
    async def start_clock(request: Request) -> None:
        request.ctx.started = time.perf_counter()

    @app.on_response
    async def log_access(request: Request, reply: HTTPResponse) -> None:
        started = getattr(request.ctx, "started", None)  # absent when no route matched (a 404)
        elapsed = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        forwarded = ",".join(request.headers.getall("x-forwarded-for", []))
        client = client_address(request.ip, forwarded or None, trusted_proxies)
        channel = "probe" if request.path in PROBE_PATHS else channel_of(request.path)
        access_line(request.method, loggable_path(request.path), reply.status, elapsed, client, channel)


async def _outcome(check: Check) -> str:
    """ "ok", or what went wrong in a word (the exception's type: no URL, no password)."""
    try:
        await asyncio.wait_for(check(), READY_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        return "timeout"
    except NotReadyError as reason:
        return str(reason)
    except Exception as error:
        return type(error).__name__
    return "ok"


def static_check(is_ready: Callable[[], bool], what: str) -> Check:
    """A readiness check on something the process already knows (Rasa's agent has a model)."""

    async def check() -> None:
        if not is_ready():
            raise NotReadyError(what)

    return check


def path_channel(prefixes: Mapping[str, str], default: str) -> Callable[[str], str]:
    """A ``channel_of`` for ``observe``: the name of the first prefix a path starts with, else ``default``;
    Rasa's ``/webhooks/<channel>/`` paths name their channel themselves."""

    def channel_of(path: str) -> str:
        if path.startswith("/webhooks/"):
            return path.split("/")[2] or default
        return next((name for prefix, name in prefixes.items() if path.startswith(prefix)), default)

    return channel_of
