"""The action server only obeys Rasa: a request without the shared secret changes nothing.

Issue G, finding 6: one POST to :5055/webhook with a made-up tracker cancelled an order.
The network is the point, so these run the real action server (and the desk) as
``make run`` starts them; no trained model is needed.
"""

import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bot.orders.demo_shop import DemoShop
from bot.orders.model import OrderStatus
from bot.processes import Service, running_services
from bot.sandbox import RestCustomer, isolated_settings
from bot.settings import Settings

pytestmark = pytest.mark.slow  # starts the action server and the desk as processes

ORDER, PHONE = "DH333444", "0987654321"  # a cancellable demo order (README)


def made_up_cancellation(order: str, phone: str) -> dict:
    """What an attacker posts: a tracker that claims the owner proved ownership and confirmed."""
    slots = {"order_number": order, "ownership_answer": phone, "confirm_cancel": True, "requested_slot": None}
    sender = uuid.uuid4().hex
    return {
        "next_action": "action_cancel_order",
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {"slots": {}, "responses": {}, "intents": [], "entities": [], "actions": [], "forms": {}},
        "tracker": {
            "sender_id": sender, "slots": slots, "events": [], "paused": False, "followup_action": None,
            "active_loop": {}, "latest_action_name": "action_listen", "latest_input_channel": "rest",
            "latest_message": {"text": f"huỷ đơn {order}", "intent": {"name": "affirm", "confidence": 1.0},
                               "entities": []},
        },
    }  # fmt: skip


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[tuple[Settings, Path]]:
    """The action server and the desk on free loopback ports, their data and var/ under a temporary folder."""
    workdir = tmp_path_factory.mktemp("action-auth")
    # no admin password: the desk then generates the first admin's password into var/
    settings = isolated_settings(workdir, var_dir=workdir / "var", admin_password=None)
    services = {
        "actions": Service("action server", ["actions"], f"http://127.0.0.1:{settings.action_port}/health"),
        "desk": Service("agent console", ["desk"], f"{settings.desk_url}/health"),
    }
    DemoShop.open(workdir / "demo_shop.db")  # seeded here, so the order exists before any request
    with running_services(settings, services, workdir / "logs", timeout=120):
        yield settings, workdir


def order_status(workdir: Path) -> OrderStatus:
    return DemoShop.open(workdir / "demo_shop.db").get(ORDER).status


def post_action(settings: Settings, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(
        f"http://127.0.0.1:{settings.action_port}/webhook", json=made_up_cancellation(ORDER, PHONE),
        headers=headers or {}, timeout=30,
    )  # fmt: skip


def test_a_made_up_tracker_without_the_secret_is_refused_and_cancels_nothing(servers) -> None:
    settings, workdir = servers
    assert order_status(workdir) is OrderStatus.PACKING
    refused = post_action(settings)
    assert refused.status_code == 401
    assert "events" not in refused.text
    assert order_status(workdir) is OrderStatus.PACKING


def test_a_wrong_secret_is_refused_too(servers) -> None:
    settings, workdir = servers
    for wrong in ["Bearer " + "x" * len(settings.action_token), "Bearer ", settings.action_token, "Basic abc"]:
        assert post_action(settings, {"Authorization": wrong}).status_code == 403
    assert requests.get(f"http://127.0.0.1:{settings.action_port}/actions", timeout=10).status_code == 401
    assert order_status(workdir) is OrderStatus.PACKING


def test_the_secret_rasa_sends_is_accepted(servers) -> None:
    settings, _ = servers
    listed = requests.get(
        f"http://127.0.0.1:{settings.action_port}/actions",
        headers={"Authorization": f"Bearer {settings.action_token}"}, timeout=10,
    )  # fmt: skip
    assert listed.status_code == 200 and {"name": "action_cancel_order"} in listed.json()
    # the readiness check stays open: it says nothing and changes nothing
    assert requests.get(f"http://127.0.0.1:{settings.action_port}/health", timeout=10).status_code == 200


def test_var_and_databases_are_private_to_the_bot_user(servers) -> None:
    """Issue G, finding 10: var/ was 0755 and the databases 0644 (readable by every local user)."""
    _, workdir = servers
    var = workdir / "var"
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    created_by_servers = [*var.iterdir(), workdir / "cskh.db", *(workdir / "logs").iterdir()]
    assert {p.name for p in created_by_servers} >= {"admin_password.secret", "cskh.db", "actions.log", "desk.log"}
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in created_by_servers} == {
        p.name: "0o600" for p in created_by_servers
    }
    assert stat.S_IMODE((workdir / "logs").stat().st_mode) == 0o700


def test_rasa_sends_the_secret_so_a_customer_still_gets_an_order_status(bot_stack: Settings) -> None:
    """The whole stack as `make run` starts it: the order status comes from the action server."""
    customer = RestCustomer(bot_stack.rasa_url)
    assert "số điện thoại" in customer.says("kiểm tra giúp mình đơn DH123456 với")
    assert "đang giao" in customer.says("0912345678")
    assert stat.S_IMODE(Path(bot_stack.tracker_db).stat().st_mode) == 0o600
    log = (bot_stack.var_dir / "logs" / "actions.log").read_text()
    assert "refused a request" not in log
