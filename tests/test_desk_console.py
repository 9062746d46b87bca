"""An agent's day at the console, in this process: log in, claim a waiting customer, reply; a change
without the page's CSRF token is refused and reaches nobody.

The desk's sanic app runs in the test process (tests/console_server.py); Rasa, which delivers the
agent's words to the customer, is a loopback stand-in that records what the desk appended.
"""

import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from bot.desk.accounts import AccountStore
from bot.desk.queue import ACTIVE, HandoffQueue
from bot.sandbox import DeskAgent
from tests.console_server import ConsoleServer, console_server
from tests.fakes.loopback import LoopbackServer

RASA_TOKEN = "rasa-token-for-tests"


class FakeRasa(LoopbackServer):
    """Rasa's tracker-events endpoint: keeps what the desk appends to each conversation, if the token is right."""

    def __init__(self) -> None:
        self.appended: dict[str, list[dict[str, Any]]] = {}
        # what a test has done with appended events before the answer (as Rasa's channels store their sends)
        self.on_append: Callable[[str, list[dict[str, Any]]], None] | None = None
        super().__init__()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        rasa = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                path, _, query = self.path.partition("?")
                parts = path.strip("/").split("/")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if f"token={RASA_TOKEN}" not in query or parts[0] != "conversations" or parts[-1] != "events":
                    self.send_response(401)
                    self.end_headers()
                    return
                events = json.loads(body)
                rasa.appended.setdefault(parts[1], []).extend(events)
                if rasa.on_append is not None:
                    rasa.on_append(unquote(parts[1]), events)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

        return Handler


@pytest.fixture
def desk(tmp_path: Path):
    with FakeRasa() as rasa:
        port = int(rasa.url.rsplit(":", 1)[1])
        with console_server(tmp_path, rasa_port=port, rasa_token=RASA_TOKEN) as server:
            AccountStore(server.engine).add_agent("lan", "lan-password-123", "Lan")
            yield server, rasa


def waiting_customer(server: ConsoleServer, sender: str) -> int:
    handoff = HandoffQueue(server.engine).open(
        channel="rest", sender_id=sender, reason="customer_request", summary="Khách hỏi đơn DH123456",
        slots={"order_number": "DH123456"},
        transcript=[{"role": "customer", "text": "đơn DH123456 của mình đâu", "sent_at": 1.0}],
    )  # fmt: skip
    return handoff.id


def test_an_agent_logs_in_claims_a_customer_and_the_reply_goes_to_their_conversation(desk) -> None:
    server, rasa = desk
    handoff_id = waiting_customer(server, "web:khach-1")
    assert DeskAgent(server.url, "lan", "wrong-password").status == 401
    lan = DeskAgent(server.url, "lan", "lan-password-123")
    assert lan.status == 200 and lan.csrf
    assert [row["id"] for row in lan.queue()["waiting"]] == [handoff_id]

    claimed = lan.claim(handoff_id)
    assert claimed.url.endswith(f"/handoffs/{handoff_id}")
    assert HandoffQueue(server.engine).get(handoff_id).status == ACTIVE
    assert lan.queue()["waiting"] == []

    assert lan.post(handoff_id, "reply", text="Chào bạn, mình là Lan, mình xem đơn giúp bạn nhé").json() == {"ok": True}
    said = [event for event in rasa.appended["web:khach-1"] if event["event"] == "bot"]
    assert said[-1]["text"] == "Chào bạn, mình là Lan, mình xem đơn giúp bạn nhé"
    assert said[-1]["metadata"]["agent"] == "Lan"
    assert "Chào bạn, mình là Lan, mình xem đơn giúp bạn nhé" in [m["text"] for m in lan.messages(handoff_id)]
    assert lan.post(handoff_id, "reply", text="   ").status_code == 409  # nothing to send, said so


def test_a_change_without_the_pages_csrf_token_is_refused_and_reaches_nobody(desk) -> None:
    server, rasa = desk
    handoff_id = waiting_customer(server, "web:khach-2")
    lan = DeskAgent(server.url, "lan", "lan-password-123")

    forged_claim = lan.http.post(f"{server.url}/handoffs/{handoff_id}/claim", data={"csrf_token": "x"}, timeout=10)
    assert forged_claim.status_code == 403
    assert HandoffQueue(server.engine).get(handoff_id).status != ACTIVE

    lan.claim(handoff_id)
    text = "tin nhắn từ một trang giả"
    forged = lan.http.post(f"{server.url}/handoffs/{handoff_id}/reply", json={"text": text}, timeout=10)
    assert forged.status_code == 403 and "CSRF" in forged.json()["error"]
    assert not any(event.get("text") == text for event in rasa.appended.get("web:khach-2", []))
