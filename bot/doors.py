"""What the servers' inner doors check: a shared secret, and which interface a request came in on.

The action server changes orders on whatever tracker it is sent, so it obeys
only a caller holding ``ACTION_SERVER_TOKEN`` (Rasa sends it as a header,
endpoints.yml). Rasa's HTTP API and the customers' webhooks share one sanic
server, as do the desk's console and service API: when their bind addresses
differ, the server listens on both and serves the internal paths only to
connections that arrived on the internal address (loopback by default).
"""

import hmac
import ipaddress
import logging
import socket
from collections.abc import Callable, Sequence

from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

TOKEN_HEADER = "Authorization"
TOKEN_SCHEME = "Bearer "
WILDCARDS = {"", "0.0.0.0", "::"}
# Rasa's server: what customers and channels reach; everything else is the token-protected HTTP API.
RASA_PUBLIC_PREFIXES = ("/webhooks/", "/socket.io/")
# The desk's server: the service API is internal; the console pages are what agents reach.
DESK_INTERNAL_PREFIXES = ("/api/",)
# The operator's readiness probe and metrics (bot/observability): for Prometheus, never the agents' network.
OPERATOR_PATHS = ("/metrics", "/ready")


def token_refusal(request: Request, token: str) -> HTTPResponse | None:
    """401 without ``Authorization: Bearer <token>``, 403 with another secret (constant-time), else None."""
    given = request.headers.get(TOKEN_HEADER)
    if given is None:
        return response.json({"error": "authentication required"}, status=401)
    if not hmac.compare_digest(given.encode(), (TOKEN_SCHEME + token).encode()):
        logger.warning("refused a request to %s with a wrong secret from %s", request.path, request.ip)
        return response.json({"error": "forbidden"}, status=403)
    return None


def require_token(app: Sanic, token: str, open_paths: Sequence[str] = ("/health",)) -> None:
    """Every request but ``open_paths`` must carry the secret (``token_refusal``)."""
    if not token:
        raise ValueError("refusing to serve without a secret")

    async def check_token(request: Request) -> HTTPResponse | None:
        return None if request.path in open_paths else token_refusal(request, token)

    app.register_middleware(check_token, "request")


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = ipaddress.ip_address(socket.gethostbyname(host))
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def arrived_on(local_address: str, host: str) -> bool:
    """Whether a connection accepted on ``local_address`` reached the interface ``host`` names."""
    if host in WILDCARDS:
        return True
    local, wanted = _address(local_address), _address(host)
    return local == wanted or (local.is_loopback and wanted.is_loopback)


def bind_address(public_host: str, internal_host: str) -> str:
    """One listening address for a server with two kinds of paths: the common one, or every interface.

    Listening wider is safe only together with ``split_by_interface``, which refuses
    each path on the interfaces it was not configured for.
    """
    if public_host == internal_host:
        return public_host
    if "::" in (public_host, internal_host) or any(_address(h).version == 6 for h in (public_host, internal_host)):
        return "::"
    return "0.0.0.0"


def split_by_interface(app: Sanic, is_internal: Callable[[str], bool], public_host: str, internal_host: str) -> None:
    """Internal paths only on ``internal_host``, the others only on ``public_host``; 404 elsewhere."""
    if public_host == internal_host:
        return

    async def check_interface(request: Request) -> HTTPResponse | None:
        sockname = request.conn_info.sockname if request.conn_info else None
        local = sockname[0] if isinstance(sockname, tuple) else "127.0.0.1"  # a UNIX socket is local
        host = internal_host if is_internal(request.path) else public_host
        if arrived_on(local, host):
            return None
        return response.json({"error": "not found"}, status=404)

    app.register_middleware(check_interface, "request")


def rasa_is_internal(path: str) -> bool:
    """Rasa's HTTP API: every path but the customers' webhooks and socket.io."""
    return not path.startswith(RASA_PUBLIC_PREFIXES)


def desk_is_internal(path: str) -> bool:
    """The desk's service API (the event broker, the actions' hand-offs), its readiness and metrics."""
    return path.startswith(DESK_INTERNAL_PREFIXES) or path in OPERATOR_PATHS
