"""What an operator watches (issue J): /metrics behind its token and off the public interface, /health and
/ready on each server, one readable access line per request with nothing personal in it.

The desk and the action server run in this process on real sockets; the Rasa server's metrics are
read from the real stack of the conftest (slow).
"""

import asyncio
import io
import ipaddress
import json
import logging
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from sanic import Sanic

from bot.desk.accounts import AccountStore
from bot.desk.queue import HandoffQueue
from bot.observability.logs import ACCESS_LOGGER, configure_logging
from bot.observability.metrics import rasa_server_metrics
from bot.observability.web import loggable_path
from bot.sandbox import DeskAgent, RestCustomer, free_port, isolated_settings
from bot.serve import action_app, desk_app
from bot.settings import Settings, settings_in_force
from connectors.core import take_turn
from tests.console_server import console_server
from tests.served import served

METRICS_TOKEN = "metrics-token-for-tests"
BEARER = {"Authorization": f"Bearer {METRICS_TOKEN}"}  # what Prometheus sends
PG_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def this_machines_address() -> str | None:
    """A non-loopback address of this machine (the interface customers and agents would reach), if any."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: only the route is looked up
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if ipaddress.ip_address(address).is_loopback else address


@pytest.fixture(autouse=True)
def many_apps(monkeypatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)  # several apps of one name in this process


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus's text format (0 when absent)."""
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        if sample == wanted:
            return float(value)
    return 0.0


def desk_settings(workdir: Path, **changes: Any) -> Settings:
    return isolated_settings(workdir, metrics_token=METRICS_TOKEN, desk_token="desk-token-for-tests", **changes)


# --- the doors of /metrics ----------------------------------------------------------------------------


def test_the_desks_metrics_answer_only_on_the_internal_interface_and_only_with_the_token(tmp_path) -> None:
    public = this_machines_address()
    if public is None:
        pytest.skip("this machine has no non-loopback address to play the public interface")
    settings = desk_settings(tmp_path, desk_host=public, desk_api_host="127.0.0.1")
    bearer = BEARER
    with settings_in_force(settings), served(desk_app(settings), settings.desk_port, "0.0.0.0"):
        on_public = f"http://{public}:{settings.desk_port}"
        # an attacker on the agents' interface: no metrics, no probes, even with the right token
        for path in ("/metrics", "/ready"):
            assert requests.get(on_public + path, headers=bearer, timeout=10).status_code == 404
        assert requests.get(on_public + "/login", timeout=10).status_code == 200  # the console stays there
        inside = settings.desk_url
        assert requests.get(inside + "/metrics", timeout=10).status_code == 401
        wrong = {"Authorization": f"Bearer {settings.desk_token}"}  # the service token is not the metrics token
        assert requests.get(inside + "/metrics", headers=wrong, timeout=10).status_code == 403
        scraped = requests.get(inside + "/metrics", headers=bearer, timeout=10)
        assert scraped.status_code == 200
        assert scraped.headers["Content-Type"].startswith("text/plain")
        assert metric(scraped.text, "cskh_handoffs_waiting") == 0
        assert metric(scraped.text, "cskh_agents_online") == 0
        assert requests.get(inside + "/ready", timeout=10).json() == {"status": "ready", "checks": {"database": "ok"}}


def test_the_action_servers_metrics_need_their_own_token_not_the_action_secret(tmp_path) -> None:
    settings = desk_settings(tmp_path, action_token="action-secret-for-tests")
    with settings_in_force(settings), served(action_app(settings), settings.action_port, "127.0.0.1"):
        url = f"http://127.0.0.1:{settings.action_port}"
        action_secret = {"Authorization": "Bearer action-secret-for-tests"}
        assert requests.get(url + "/metrics", headers=action_secret, timeout=10).status_code == 403
        assert requests.get(url + "/health", timeout=10).status_code == 200
        assert requests.get(url + "/ready", timeout=10).status_code == 200
        # the actions themselves still need the action secret
        call = {"next_action": "action_no_such_thing", "sender_id": "s", "tracker": {}, "domain": {}}
        assert requests.post(url + "/webhook", json=call, timeout=10).status_code == 401
        assert requests.post(url + "/webhook", json=call, headers=action_secret, timeout=10).status_code == 404
        scraped = requests.get(url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
        assert scraped.status_code == 200
        # one call counted (the refused one is no action run), by name and outcome
        runs = {"action": "action_no_such_thing", "outcome": "not_found"}
        assert metric(scraped.text, "cskh_action_runs_total", **runs) == 1
        assert metric(scraped.text, "cskh_action_seconds_count", action="action_no_such_thing") == 1


# --- readiness ----------------------------------------------------------------------------------------


def test_the_action_server_is_alive_but_not_ready_without_its_database(tmp_path) -> None:
    settings = desk_settings(tmp_path, database_url=f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/none")
    with settings_in_force(settings), served(action_app(settings), settings.action_port, "127.0.0.1"):
        url = f"http://127.0.0.1:{settings.action_port}"
        assert requests.get(url + "/health", timeout=10).status_code == 200
        ready = requests.get(url + "/ready", timeout=10)
        assert ready.status_code == 503
        assert ready.json() == {"status": "not ready", "checks": {"database": "OperationalError"}}


def test_the_desk_stops_being_ready_when_its_database_goes_away(tmp_path) -> None:
    name = f"cskh_ready_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        settings = desk_settings(tmp_path, database_url=f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}")
        with settings_in_force(settings), served(desk_app(settings), settings.desk_port, "127.0.0.1"):
            assert requests.get(settings.desk_url + "/ready", timeout=10).status_code == 200
            with admin.connect() as connection:  # the database server loses the desk's database
                connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            ready = requests.get(settings.desk_url + "/ready", timeout=10)
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"] == "OperationalError"
            assert requests.get(settings.desk_url + "/health", timeout=10).status_code == 200
            # the scrape still works: the gauges read from the database say "unknown", /ready says why
            scraped = requests.get(
                settings.desk_url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
            )
            assert scraped.status_code == 200
            assert "cskh_handoffs_waiting NaN" in scraped.text
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- the access log -----------------------------------------------------------------------------------


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything the process logs, in JSON lines, as an operator with CSKH_LOG_FORMAT=json reads it."""
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    configure_logging("INFO", "json")
    stream = io.StringIO()
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        yield stream
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])


def test_one_json_access_line_per_request_without_query_string_or_personal_data(tmp_path, log_lines) -> None:
    settings = desk_settings(tmp_path, trusted_proxies=(ipaddress.ip_network("127.0.0.1"),))
    with settings_in_force(settings), served(desk_app(settings), settings.desk_port, "127.0.0.1"):
        requests.get(
            f"{settings.desk_url}/khach/0912345678/lan.nguyen@gmail.com?token=s3cr3t-token&phone=0987654321",
            headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10,
        )  # fmt: skip
    written = log_lines.getvalue()
    for secret in ("0912345678", "lan.nguyen@gmail.com", "s3cr3t-token", "0987654321", "token="):
        assert secret not in written
    access = [json.loads(line) for line in written.splitlines() if json.loads(line)["logger"] == ACCESS_LOGGER]
    assert len(access) == 1
    [line] = access
    assert line["method"] == "GET"
    assert line["path"] == "/khach/09******78/l***@gmail.com"
    assert line["status"] == 404
    assert line["client"] == "203.0.113.x"  # behind the trusted proxy, the customer's network, not the address
    assert line["channel"] == "console"
    assert isinstance(line["duration_ms"], float)
    assert "INFO:sanic.access" not in written


def test_a_conversation_id_in_a_path_is_cut_in_the_log() -> None:
    assert loggable_path("/conversations/web:the-customers-secret-id/tracker/events") == (
        "/conversations/…t-id/tracker/events"
    )


def test_any_logger_writing_a_phone_or_a_token_is_masked(log_lines) -> None:
    logging.getLogger("some.library").warning("calling %s with access_token=abc123def", "0912345678")
    [line] = [json.loads(text) for text in log_lines.getvalue().splitlines()]
    assert line["level"] == "WARNING"
    assert "0912345678" not in line["message"] and "abc123def" not in line["message"]


def test_sanics_own_error_lines_are_written_once_and_masked(log_lines) -> None:
    """Rasa's sanic app installs sanic's handlers, which would print a failing request's URL as it came."""
    Sanic(f"configures_logging_{uuid.uuid4().hex[:6]}", configure_logging=True)
    configure_logging("INFO", "json")  # what the Rasa server does once its app exists
    [handler] = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(log_lines)
    logging.getLogger("sanic.error").error(
        "Exception occurred while handling uri: 'http://127.0.0.1:5005/conversations/x/tracker?token=s3cr3t'"
    )
    [line] = log_lines.getvalue().splitlines()
    assert "s3cr3t" not in line
    # and no second, unmasked copy through a handler of sanic's own
    assert [logging.getLogger(name).handlers for name in ("sanic.root", "sanic.error", "sanic.access")] == [[]] * 3


def test_the_level_comes_from_the_settings(log_lines) -> None:
    configure_logging("WARNING", "json")
    [handler] = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(log_lines)
    logging.getLogger("some.library").info("hidden")
    logging.getLogger(ACCESS_LOGGER).info("hidden too")
    assert log_lines.getvalue() == ""


# --- the channels' counts (Rasa server) ----------------------------------------------------------------


class ZaloOutput(CollectingOutputChannel):
    @classmethod
    def name(cls) -> str:
        return "zalo"


def test_every_turn_is_counted_by_channel_with_its_latency_and_fallbacks() -> None:
    metrics = rasa_server_metrics()
    before = {
        "messages": metrics.registry.get_sample_value("cskh_messages_total", {"channel": "zalo"}) or 0,
        "uncovered": metrics.registry.get_sample_value(
            "cskh_fallbacks_total", {"channel": "zalo", "kind": "uncovered"}) or 0,
        "latency": metrics.registry.get_sample_value("cskh_reply_seconds_count", {"channel": "zalo"}) or 0,
        "errors": metrics.registry.get_sample_value(
            "cskh_apologies_total", {"channel": "zalo", "reason": "error"}) or 0,
    }  # fmt: skip

    async def uncovered(message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {"text": "…", "utter_action": "utter_uncovered"})

    async def broken(message: UserMessage) -> None:
        raise RuntimeError("the action server is down")

    async def turns() -> None:
        await take_turn(uncovered, UserMessage("hỏi gì đó", ZaloOutput(), "zalo:1", input_channel="zalo"))
        await take_turn(broken, UserMessage("hỏi lại", ZaloOutput(), "zalo:1", input_channel="zalo"))

    asyncio.run(turns())
    value = metrics.registry.get_sample_value
    assert value("cskh_messages_total", {"channel": "zalo"}) == before["messages"] + 2
    assert value("cskh_fallbacks_total", {"channel": "zalo", "kind": "uncovered"}) == before["uncovered"] + 1
    assert value("cskh_reply_seconds_count", {"channel": "zalo"}) == before["latency"] + 2
    assert value("cskh_apologies_total", {"channel": "zalo", "reason": "error"}) == before["errors"] + 1


def test_the_desk_reports_who_waits_who_is_online_and_how_long_a_pick_up_took(tmp_path) -> None:
    with console_server(tmp_path, metrics_token=METRICS_TOKEN) as desk:
        AccountStore(desk.engine).add_agent("lan", "lan-password-123", "Lan")
        handoff = HandoffQueue(desk.engine).open(
            channel="rest", sender_id="web:metrics", reason="customer_request", summary="Khách hỏi đơn",
            slots={}, transcript=[{"role": "customer", "text": "cho mình gặp người", "sent_at": 1.0}],
        )  # fmt: skip

        def scrape() -> str:
            reply = requests.get(
                f"{desk.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
            )
            assert reply.status_code == 200
            return reply.text

        before = scrape()
        assert metric(before, "cskh_handoffs_waiting") == 1
        assert metric(before, "cskh_handoff_oldest_wait_seconds") > 0
        agent = DeskAgent(desk.url, "lan", "lan-password-123")
        agent.queue()  # the console page polls: the agent is online
        assert metric(scrape(), "cskh_agents_online") == 1
        assert agent.claim(handoff.id).status_code in (200, 303)
        after = scrape()
        assert metric(after, "cskh_handoffs_waiting") == 0
        assert metric(after, "cskh_handoff_wait_seconds_count") == metric(before, "cskh_handoff_wait_seconds_count") + 1


# --- the real Rasa server -------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_rasa_servers_metrics_count_a_rest_message_and_name_the_model(bot_stack: Settings) -> None:
    settings = bot_stack
    bearer = {"Authorization": f"Bearer {settings.metrics_token}"}

    def scrape() -> str:
        reply = requests.get(f"{settings.rasa_url}/metrics", headers=bearer, timeout=10)
        assert reply.status_code == 200
        return reply.text

    before = metric(scrape(), "cskh_messages_total", channel="rest")
    assert RestCustomer(settings.rasa_url, "metrics-" + uuid.uuid4().hex[:6]).say("xin chào")
    after = scrape()
    assert metric(after, "cskh_messages_total", channel="rest") == before + 1
    assert metric(after, "cskh_reply_seconds_count", channel="rest") >= 1
    status = requests.get(f"{settings.rasa_url}/status", params={"token": settings.rasa_token}, timeout=10).json()
    assert metric(after, "cskh_model_info", model_id=status["model_id"], model_file=status["model_file"]) == 1
    assert requests.get(f"{settings.rasa_url}/metrics", timeout=10).status_code == 401
    rasa_token = {"Authorization": f"Bearer {settings.rasa_token}"}  # Rasa's API token is not the metrics token
    assert requests.get(f"{settings.rasa_url}/metrics", headers=rasa_token, timeout=10).status_code == 403
    assert requests.get(f"{settings.rasa_url}/health", timeout=10).json() == {"status": "ok"}
    ready = requests.get(f"{settings.rasa_url}/ready", timeout=10).json()
    assert ready == {"status": "ready", "checks": {"model": "ok", "database": "ok", "trackers": "ok"}}
