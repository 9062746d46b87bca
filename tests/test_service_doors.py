"""Each server's doors: which interface serves which paths, and the bind addresses by default.

Issue G, finding 6: ``CSKH_HOST`` bound every server, the action server included,
to the address meant for customers' webhooks.
"""

import asyncio
from types import SimpleNamespace

import pytest
from sanic import Sanic

from bot import doors
from bot.settings import Settings


@pytest.fixture
def exposed() -> Settings:
    """An operator exposing the customers' webhooks on every interface, nothing else set."""
    tokens = dict.fromkeys(["RASA_AUTH_TOKEN", "DESK_SERVICE_TOKEN", "ACTION_SERVER_TOKEN"], "set")
    return Settings.from_environment({"CSKH_HOST": "0.0.0.0", **tokens})


def test_exposing_the_webhooks_leaves_the_inner_doors_on_loopback(exposed: Settings) -> None:
    settings = exposed
    assert settings.host == "0.0.0.0"
    assert (settings.rasa_api_host, settings.action_host, settings.desk_api_host) == ("127.0.0.1",) * 3
    assert settings.action_url.startswith("http://127.0.0.1:")
    assert settings.desk_url.startswith("http://127.0.0.1:")
    # Rasa's one sanic server listens for the webhooks, and keeps its API to loopback connections
    assert doors.bind_address(settings.host, settings.rasa_api_host) == "0.0.0.0"


def refused(app: Sanic, path: str, local_address: str) -> int | None:
    """The status the interface check answers a request on ``path`` accepted at ``local_address``."""
    [check] = app.request_middleware
    request = SimpleNamespace(path=path, conn_info=SimpleNamespace(sockname=(local_address, 5005)))
    reply = asyncio.run(check(request))
    return reply.status if reply else None


def test_rasa_serves_only_webhooks_on_the_public_interface_and_its_api_on_loopback() -> None:
    app = Sanic("rasa_doors_test")
    doors.split_by_interface(app, doors.rasa_is_internal, "0.0.0.0", "127.0.0.1")
    for path in ["/webhooks/rest/webhook", "/webhooks/rest/webhook/", "/socket.io/", "/webhooks/zalo/webhook"]:
        assert refused(app, path, "203.0.113.7") is None
    for path in ["/conversations/zalo:1/tracker/events", "/model", "/cskh/model", "/status", "/", "/webhooks"]:
        assert refused(app, path, "203.0.113.7") == 404
        assert refused(app, path, "127.0.0.1") is None
        assert refused(app, path, "::ffff:127.0.0.1") is None


def test_the_desks_service_api_stays_on_loopback_when_the_console_is_exposed() -> None:
    app = Sanic("desk_doors_test")
    doors.split_by_interface(app, doors.desk_is_internal, "10.0.0.5", "127.0.0.1")
    assert refused(app, "/login", "10.0.0.5") is None
    assert refused(app, "/api/events", "10.0.0.5") == 404
    assert refused(app, "/api/events", "127.0.0.1") is None
    assert refused(app, "/login", "127.0.0.1") == 404  # the console is where the operator put it
    assert doors.bind_address("10.0.0.5", "127.0.0.1") == "0.0.0.0"


def test_same_address_for_both_kinds_of_paths_adds_no_check() -> None:
    app = Sanic("same_doors_test")
    doors.split_by_interface(app, doors.rasa_is_internal, "127.0.0.1", "127.0.0.1")
    assert not app.request_middleware
    assert doors.bind_address("127.0.0.1", "127.0.0.1") == "127.0.0.1"


def test_the_action_server_refuses_to_start_without_a_secret() -> None:
    with pytest.raises(ValueError):
        doors.require_token(Sanic("no_secret_test"), "")
