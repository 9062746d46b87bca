"""Labels on conversations, in this process: an agent labels a conversation they may see, the queue shows the
labels and filters by one; the limits hold, and another agent's conversation, a request without the page's
CSRF token or without a session labels nothing.
"""

from pathlib import Path

import pytest
import requests

from bot.desk.accounts import ADMIN, AccountStore
from bot.desk.labels import LabelStore
from bot.desk.queue import HandoffQueue
from bot.sandbox import DeskAgent
from tests.console_server import ConsoleServer, console_server


@pytest.fixture
def server(tmp_path: Path):
    with console_server(tmp_path) as server:
        accounts = AccountStore(server.engine)
        accounts.add_agent("lan", "lan-password-123", "Lan")
        accounts.add_agent("minh", "minh-password-123", "Minh")
        accounts.add_agent("chu", "chu-password-123", "Chủ", role=ADMIN)
        yield server


def customer(server: ConsoleServer, sender: str, summary: str) -> int:
    return HandoffQueue(server.engine).open(
        channel="rest", sender_id=sender, reason="customer_request", summary=summary, slots={},
        transcript=[{"role": "customer", "text": summary, "sent_at": 1.0}],
    ).id  # fmt: skip


def label(agent: DeskAgent, handoff_id: int, text: str, remove: bool = False) -> requests.Response:
    return agent.post(handoff_id, "labels/remove" if remove else "labels", label=text)


def test_an_agent_labels_a_conversation_and_the_queue_shows_and_filters_by_it(server) -> None:
    vip, other = customer(server, "web:an", "Khách quen hỏi đổi size"), customer(server, "web:bao", "Hỏi phí ship")
    lan = DeskAgent(server.url, "lan", "lan-password-123")

    assert label(lan, vip, "  VIP  ").json() == {"labels": ["VIP"]}
    assert label(lan, vip, "đổi   trả").json() == {"labels": ["VIP", "đổi trả"]}
    assert label(lan, vip, "vip").json() == {"labels": ["VIP", "đổi trả"]}  # the same label, kept once
    rows = {row["id"]: row["labels"] for row in lan.queue()["waiting"]}
    assert rows == {vip: ["VIP", "đổi trả"], other: []}
    assert [row["id"] for row in lan.http.get(f"{server.url}/queue.json?label=vip", timeout=10).json()["waiting"]] == [
        vip]  # fmt: skip
    page = lan.http.get(f"{server.url}/", params={"label": "Đổi trả"}, timeout=10).text
    assert "Khách quen hỏi đổi size" in page and "Hỏi phí ship" not in page
    assert '<span class="label">VIP</span>' in page and '<option value="VIP">VIP</option>' in page

    assert lan.claim(vip).status_code == 200
    mine = lan.http.get(f"{server.url}/handoffs/{vip}", timeout=10).text
    assert 'data-label="VIP"' in mine and 'data-label="đổi trả"' in mine
    assert lan.queue()["mine"][0]["labels"] == ["VIP", "đổi trả"]
    assert label(lan, vip, "VIP", remove=True).json() == {"labels": ["đổi trả"]}


def test_labels_are_trimmed_short_and_at_most_ten_a_conversation(server) -> None:
    handoff = customer(server, "web:an", "Khách hỏi nhiều")
    lan = DeskAgent(server.url, "lan", "lan-password-123")

    for text, why in (("   ", "không được để trống"), ("x" * 31, "tối đa 30 ký tự"), ("a\u0000b", "chỉ gồm chữ")):
        refused = label(lan, handoff, text)
        assert refused.status_code == 422 and why in refused.json()["error"]
    assert label(lan, handoff, "y" * 30).status_code == 200
    for n in range(9):
        assert label(lan, handoff, f"nhãn {n}").status_code == 200
    full = label(lan, handoff, "nhãn thứ 11")
    assert full.status_code == 422 and "tối đa 10 nhãn" in full.json()["error"]
    assert label(lan, handoff, "NHÃN 3").json()["labels"][3] == "nhãn 2"  # a label it has: no change, no refusal
    assert len(LabelStore(server.engine).labels_of([handoff])[handoff]) == 10


def test_another_agents_conversation_and_forged_requests_are_not_labelled(server) -> None:
    theirs = customer(server, "web:an", "Khách của Minh")
    minh, lan = DeskAgent(server.url, "minh", "minh-password-123"), DeskAgent(server.url, "lan", "lan-password-123")
    assert minh.claim(theirs).status_code == 200
    assert label(minh, theirs, "VIP").status_code == 200

    assert label(lan, theirs, "spam").status_code == 404
    assert label(lan, theirs, "VIP", remove=True).status_code == 404
    assert label(lan, 999_999, "spam").json() == label(lan, theirs, "spam").json()  # as if it did not exist
    no_csrf = lan.http.post(f"{server.url}/handoffs/{theirs}/labels", json={"label": "spam"}, timeout=10)
    own_no_csrf = minh.http.post(f"{server.url}/handoffs/{theirs}/labels", json={"label": "spam"}, timeout=10)
    assert no_csrf.status_code == 403 and own_no_csrf.status_code == 403
    nobody = requests.post(f"{server.url}/handoffs/{theirs}/labels", json={"label": "spam"}, timeout=10)
    assert nobody.status_code == 401
    assert lan.http.get(f"{server.url}/queue.json?label=VIP", timeout=10).json()["mine"] == []
    assert LabelStore(server.engine).labels_of([theirs]) == {theirs: ["VIP"]}
    chu = DeskAgent(server.url, "chu", "chu-password-123")
    assert label(chu, theirs, "cần gọi lại").json() == {"labels": ["VIP", "cần gọi lại"]}  # admins see all
