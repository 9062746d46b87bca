"""Hard to break: bad requests, bursts, a dead action server, a failing order system, and no secrets in
logs or files.

The stack's orders come from a fake of the shop's own order API (a real loopback HTTP server following
docs/ORDER_API.md) that the tests can make answer 500 or hang past the action server's timeout.
"""

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
import yaml

from bot.paths import CREDENTIALS_FILE
from bot.sandbox import RestCustomer, processes_in
from bot.settings import Settings
from connectors.guard import BURST
from tests.fakes.order_api import FakeOrderApi
from tests.test_order_backends import api_order


@pytest.fixture(scope="module")
def order_api() -> Iterator[FakeOrderApi]:
    with FakeOrderApi({"DH123456": api_order("DH123456")}) as api:
        yield api


@pytest.fixture(scope="module")
def fragile(trained_model: Path, order_api: FakeOrderApi, tmp_path_factory):
    """A stack of its own: these tests kill and restart its processes and break its order system."""
    workdir = tmp_path_factory.mktemp("faults")
    with processes_in(workdir, trained_model, order_api_url=order_api.url, order_api_timeout=1.0) as (settings, stack):
        yield settings, stack, workdir


def post(settings, body=None, **kwargs) -> requests.Response:
    return requests.post(f"{settings.rasa_url}/webhooks/rest/webhook", json=body, timeout=60, **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"data": b'{"sender": "a", "message": '},  # cut-off JSON
        {"data": "sender=a&message=hi", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"json": ["sender", "message"]},
        {"json": {"sender": "a"}},
        {"json": {"sender": "", "message": "chào"}},
        {"json": {"sender": "a", "message": {"text": "chào"}}},
    ],
)
def test_malformed_requests_get_a_400_with_a_reason_never_a_500(fragile, request_kwargs) -> None:
    settings, _, _ = fragile
    reply = requests.post(f"{settings.rasa_url}/webhooks/rest/webhook", timeout=30, **request_kwargs)
    assert reply.status_code == 400
    assert "error" in reply.json() and "Traceback" not in reply.text


@pytest.mark.slow
def test_a_100_kb_message_and_control_characters_get_polite_answers(fragile) -> None:
    settings, _, _ = fragile
    [long] = RestCustomer(settings.rasa_url).say("hàng " * 20_000)
    assert "dài quá" in long["text"]
    replies = RestCustomer(settings.rasa_url).say("\x00\x1b[31m phí ship\x07 bao nhiêu\u200b")
    assert replies and all(r.get("text") for r in replies)


@pytest.mark.slow
def test_a_burst_from_one_sender_is_slowed_politely_and_others_are_not(fragile) -> None:
    settings, _, _ = fragile
    sender = uuid.uuid4().hex
    statuses = [post(settings, {"sender": sender, "message": "alo"}) for _ in range(BURST + 3)]
    slowed = [r for r in statuses if r.status_code == 429]
    assert len(slowed) >= 3
    assert "nhắn nhanh quá" in slowed[0].json()[0]["text"] and int(slowed[0].headers["Retry-After"]) >= 1
    assert RestCustomer(settings.rasa_url).say("chào shop")  # someone else is served as usual


@pytest.mark.slow
def test_a_dead_action_server_gets_an_apology_and_the_bot_recovers_when_it_is_back(fragile) -> None:
    settings, stack, _ = fragile
    customer = RestCustomer(settings.rasa_url)
    stack.kill("actions")
    try:
        [reply] = customer.say("kiểm tra đơn DH123456 giúp mình")
        assert "hệ thống của shop đang bận" in reply["text"] and "1900 6868" in reply["text"]
        assert "20.000đ" in customer.say("phí ship nội thành bao nhiêu")[0]["text"]  # no action needed
    finally:
        stack.restart("actions")
    later = RestCustomer(settings.rasa_url)
    assert "số điện thoại" in " ".join(r["text"] for r in later.say("kiểm tra đơn DH123456 giúp mình"))


@pytest.mark.slow
def test_logs_never_hold_a_phone_an_email_or_a_token(fragile) -> None:
    settings, _, workdir = fragile
    customer = RestCustomer(settings.rasa_url)
    for text in ("kiểm tra đơn DH123456", "0912345678", "email mình là lan.nguyen@example.com nhé",
                 "cho mình gặp nhân viên, sdt 0987654321"):  # fmt: skip
        customer.say(text)
    logs = "\n".join(path.read_text(errors="replace") for path in (workdir / "logs").glob("*.log"))
    assert not re.search(r"0912345678|0987654321|lan\.nguyen@example\.com", logs)
    assert settings.rasa_token not in logs and settings.desk_token not in logs


def test_credentials_hold_no_secret_only_environment_references() -> None:
    channels = yaml.safe_load(CREDENTIALS_FILE.read_text(encoding="utf-8"))
    secret = re.compile(r"secret|token|password|key", re.IGNORECASE)
    for channel, settings in channels.items():
        for name, value in (settings or {}).items():
            if secret.search(name):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+\}", str(value)), f"{channel}.{name} must come from the environment"


def stored_ticket(settings: Settings, code: str) -> dict:
    engine = sa.create_engine(settings.database_url, future=True)
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT * FROM tickets WHERE code = :c"), {"c": code}).first()
    engine.dispose()
    return dict(row._mapping)


@pytest.mark.slow
@pytest.mark.parametrize("failure", ["errors", "hangs"])
def test_order_system_failure_is_an_apology_and_a_kept_request(fragile, order_api, failure) -> None:
    settings, _, _ = fragile
    order_api.fail_next, order_api.hang_seconds = (100, 0) if failure == "errors" else (0, 3)
    try:
        reply = RestCustomer(settings.rasa_url).says("kiểm tra đơn DH123456 giúp mình")
    finally:
        order_api.fail_next, order_api.hang_seconds = 0, 0
    assert "Xin lỗi" in reply and "gián đoạn" in reply
    code = re.search(r"TK-\d{8}-\d{4}", reply).group()
    assert stored_ticket(settings, code)["order_number"] == "DH123456"
