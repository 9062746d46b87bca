"""Teams and transfers at the desk, over HTTP against the console in this process: a hand-off is routed to
the team of the issue the bot collected, each agent sees their teams' customers first, and the agent who
has a conversation (or an admin) passes it to another agent or back to a team's queue, with a note the
customer never sees and one polite line they do. The attacks come first: nobody else can move it, and a
refused transfer changes nothing and tells the customer nothing.

Rasa, which delivers the desk's lines to the customer, is the loopback stand-in of tests/test_desk_console.py.
"""

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.admin.audit import AuditLog
from bot.desk.accounts import AccountStore
from bot.desk.queue import ACTIVE, CLOSED, WAITING, HandoffQueue
from bot.desk.teams import TeamStore
from bot.desk.transfer import MAX_NOTE
from bot.sandbox import DeskAgent, LiveStream
from bot.tickets import TicketStore
from tests.console_server import ConsoleServer, console_server
from tests.test_desk_console import RASA_TOKEN, FakeRasa

PASSWORD = "mat-khau-dai-123"
POLITE_TO_HOA = "Mình chuyển bạn sang nhân viên Hoa bên bộ phận Kế toán để hỗ trợ tiếp nhé, bạn chờ mình một chút ạ."
POLITE_TO_ACCOUNTING = "Mình chuyển bạn sang bộ phận Kế toán để hỗ trợ tiếp nhé, bạn chờ mình một chút ạ."


@pytest.fixture
def desk(tmp_path: Path):
    """The console with Lan (customer care), Hoa (accounting) and Minh (warehouse); the admin is Chi."""
    with FakeRasa() as rasa:
        port = int(rasa.url.rsplit(":", 1)[1])
        with console_server(tmp_path, rasa_port=port, rasa_token=RASA_TOKEN) as server:
            accounts, teams = AccountStore(server.engine), TeamStore(server.engine)
            for username, name, team in (("lan", "Lan", "customer_care"), ("hoa", "Hoa", "accounting"),
                                         ("minh", "Minh", "warehouse")):  # fmt: skip
                accounts.add_agent(username, PASSWORD, name)
                teams.set_teams(username, [team])
            accounts.add_agent("chi", PASSWORD, "Chi", role="admin")
            yield server, rasa


def agent(server: ConsoleServer, username: str) -> DeskAgent:
    logged_in = DeskAgent(server.url, username, PASSWORD)
    assert logged_in.status == 200
    return logged_in


def open_handoff(server: ConsoleServer, sender: str, issue_type: str | None = None) -> int:
    """A hand-off as the bot's actions open it, through the desk's service API."""
    slots = {"issue_type_key": issue_type} if issue_type else {}
    request = {
        "channel": "rest", "sender_id": sender, "reason": "customer_request", "summary": f"Khách {sender} cần hỗ trợ",
        "slots": slots, "contact_phone": None, "mood": None,
        "transcript": [{"role": "customer", "text": "cho mình gặp nhân viên", "sent_at": 1.0}],
    }  # fmt: skip
    answer = requests.post(f"{server.url}/api/handoffs", json=request, timeout=10,
                           headers={"Authorization": "Bearer desk-token-for-tests"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return int(answer.json()["handoff_id"])


def transfer(
    who: DeskAgent, handoff_id: int, target: str, note: str = "Khách hỏi hoàn tiền", owner: str = "lan"
) -> requests.Response:
    """As the conversation page sends it, with who had the conversation when the page was shown."""
    return who.post(handoff_id, "transfer", target=target, note=note, owner=owner)


def said_to(rasa: FakeRasa, sender: str) -> list[str]:
    return [event["text"] for event in rasa.appended.get(sender, []) if event["event"] == "bot"]


def snapshot(server: ConsoleServer, handoff_id: int) -> tuple[Any, ...]:
    handoff = HandoffQueue(server.engine).get(handoff_id)
    assert handoff is not None
    notes = [m.text for m in HandoffQueue(server.engine).messages(handoff_id) if m.role == "note"]
    return handoff.status, handoff.claimed_by, handoff.team, notes


def lans_conversation(server: ConsoleServer, sender: str) -> tuple[DeskAgent, int]:
    lan = agent(server, "lan")
    handoff_id = open_handoff(server, sender)
    assert lan.claim(handoff_id).status_code == 200
    return lan, handoff_id


# --- attacks ----------------------------------------------------------------------------------------------


def test_another_agent_cannot_transfer_a_conversation_they_do_not_have(desk) -> None:
    server, rasa = desk
    _, handoff_id = lans_conversation(server, "web:khach-1")
    before, told = snapshot(server, handoff_id), said_to(rasa, "web:khach-1")
    minh = agent(server, "minh")
    for target in ("agent:minh", "team:warehouse"):
        refused = transfer(minh, handoff_id, target)
        assert refused.status_code == 404 and "Không tìm thấy" in refused.json()["error"]  # as if it did not exist
    assert snapshot(server, handoff_id) == before
    assert said_to(rasa, "web:khach-1") == told


def test_a_transfer_without_the_pages_csrf_token_or_a_session_is_refused(desk) -> None:
    server, rasa = desk
    lan, handoff_id = lans_conversation(server, "web:khach-2")
    before, told = snapshot(server, handoff_id), said_to(rasa, "web:khach-2")
    url = f"{server.url}/handoffs/{handoff_id}/transfer"
    forged = lan.http.post(url, json={"target": "team:accounting", "note": "x"}, timeout=10)
    assert forged.status_code == 403 and "CSRF" in forged.json()["error"]
    anonymous = requests.post(url, json={"target": "team:accounting", "note": "x"}, timeout=10)
    assert anonymous.status_code == 401
    assert snapshot(server, handoff_id) == before
    assert said_to(rasa, "web:khach-2") == told


@pytest.mark.parametrize(
    ("target", "note", "refusal"),
    [
        ("team:marketing", "Khách hỏi quảng cáo", "Không có bộ phận này"),
        ("team:", "Khách hỏi", "chọn nhân viên hoặc bộ phận"),
        ("boss:hoa", "Khách hỏi", "chọn nhân viên hoặc bộ phận"),
        ("agent:ghost", "Khách hỏi", "không có hoặc đang không trực"),
        ("agent:minh", "Khách hỏi kho", "không có hoặc đang không trực"),  # Minh is not in the console now
        ("agent:lan", "Khách hỏi", "chính nhân viên này"),
        ("team:accounting", "   ", "ghi chú lý do"),
        ("team:accounting", "x" * (MAX_NOTE + 1), f"dài quá {MAX_NOTE}"),
    ],
)
def test_a_transfer_to_nowhere_or_without_a_proper_note_is_refused_politely(desk, target, note, refusal) -> None:
    server, rasa = desk
    lan, handoff_id = lans_conversation(server, "web:khach-3")
    before, told = snapshot(server, handoff_id), said_to(rasa, "web:khach-3")
    refused = transfer(lan, handoff_id, target, note)
    assert refused.status_code == 409 and refusal in refused.json()["error"]
    assert snapshot(server, handoff_id) == before
    assert said_to(rasa, "web:khach-3") == told


def test_a_closed_or_waiting_conversation_is_not_transferred(desk) -> None:
    server, rasa = desk
    lan, handoff_id = lans_conversation(server, "web:khach-4")
    assert lan.post(handoff_id, "close", resolution="Đã trả lời").status_code == 200
    told = said_to(rasa, "web:khach-4")
    chi = agent(server, "chi")
    for who in (lan, chi):
        refused = transfer(who, handoff_id, "team:accounting")
        assert refused.status_code in (404, 409)
    assert transfer(chi, handoff_id, "team:accounting").json()["error"].startswith("Cuộc trò chuyện này đã kết thúc")
    assert snapshot(server, handoff_id)[:3] == (CLOSED, "lan", "customer_care")
    assert said_to(rasa, "web:khach-4") == told

    waiting = open_handoff(server, "web:khach-5")
    refused = transfer(chi, waiting, "team:accounting")
    assert refused.status_code == 409 and "chưa có ai nhận" in refused.json()["error"]
    assert snapshot(server, waiting)[:3] == (WAITING, None, "customer_care")


def test_of_two_transfers_at_once_exactly_one_lands_and_the_customer_hears_once(desk) -> None:
    server, rasa = desk
    lan, handoff_id = lans_conversation(server, "web:khach-6")
    agent(server, "hoa")  # in the console: a transfer to her may land
    chi = agent(server, "chi")
    told = len(said_to(rasa, "web:khach-6"))
    answers: dict[str, requests.Response] = {}
    start = threading.Barrier(2)

    def send(name: str, who: DeskAgent, target: str) -> None:
        start.wait()
        answers[name] = transfer(who, handoff_id, target, f"Chuyển bởi {name}")

    threads = [threading.Thread(target=send, args=("lan", lan, "agent:hoa")),
               threading.Thread(target=send, args=("chi", chi, "team:warehouse"))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    codes = sorted(answer.status_code for answer in answers.values())
    assert codes == [200, 409], {name: answer.text for name, answer in answers.items()}
    winner = next(name for name, answer in answers.items() if answer.status_code == 200)
    status, owner, team, notes = snapshot(server, handoff_id)
    if winner == "lan":
        assert (status, owner, team) == (ACTIVE, "hoa", "accounting")
    else:
        assert (status, owner, team) == (WAITING, None, "warehouse")
    assert len(notes) == 1 and notes[0].endswith(f"Chuyển bởi {winner}")
    assert len(said_to(rasa, "web:khach-6")) == told + 1


# --- routing ----------------------------------------------------------------------------------------------


def test_a_handoff_goes_to_its_issues_team_and_each_agent_sees_their_teams_customers_first(desk) -> None:
    server, _ = desk
    lan, hoa = agent(server, "lan"), agent(server, "hoa")
    general = open_handoff(server, "web:khach-7")  # no issue type collected: customer care
    refund = open_handoff(server, "web:khach-8", issue_type="payment")
    damaged = open_handoff(server, "web:khach-9", issue_type="damaged")

    hoas = hoa.queue()["waiting"]
    assert [row["id"] for row in hoas] == [refund, general, damaged]  # hers first, everyone else still there
    assert [(row["team_name"], row["my_team"]) for row in hoas] == [
        ("Kế toán", True), ("Chăm sóc khách hàng", False), ("Kho vận", False),
    ]  # fmt: skip
    assert [row["id"] for row in lan.queue()["waiting"]] == [general, refund, damaged]
    page = hoa.http.get(f"{server.url}/", timeout=10).text
    assert page.index("Khách web:khach-8") < page.index("Khách web:khach-7") and "Kế toán" in page

    assert hoa.claim(refund).status_code == 200
    conversation = hoa.http.get(f"{server.url}/handoffs/{refund}", timeout=10).text
    assert '<p id="conversation-team">Kế toán' in conversation


# --- transfers --------------------------------------------------------------------------------------------


def test_a_transfer_to_an_agent_gives_them_the_conversation_with_a_note_the_customer_never_sees(desk) -> None:
    server, rasa = desk
    lan, handoff_id = lans_conversation(server, "web:khach-10")
    hoa = agent(server, "hoa")
    ticket = TicketStore(server.engine).create(channel="rest", sender_id="web:khach-10", issue_type="other",
                                               description="Bị trừ tiền hai lần")  # fmt: skip
    assert lan.http.get(f"{server.url}/handoffs/{handoff_id}", timeout=10).text.count('value="agent:hoa"') == 1
    hoas_queue, lans_page = LiveStream(hoa), LiveStream(lan, handoff_id)
    time.sleep(0.5)  # both streams subscribed

    done = transfer(lan, handoff_id, "agent:hoa", "Khách bị trừ tiền hai lần, nhờ Hoa kiểm tra")
    assert done.json() == {"ok": True, "next": "/?notice=transferred"}
    hoas_queue.wait_for("queue", lambda data: data.get("handoff_id") == handoff_id)  # her queue page refetches
    lans_page.wait_for("ended", lambda data: data == {"reason": "access"})  # Lan's page leaves: no longer hers
    assert snapshot(server, handoff_id) == (
        ACTIVE, "hoa", "accounting", ["Chuyển từ Lan sang Hoa: Khách bị trừ tiền hai lần, nhờ Hoa kiểm tra"]
    )  # fmt: skip
    said = said_to(rasa, "web:khach-10")
    assert said[-1] == POLITE_TO_HOA
    assert not any("trừ tiền hai lần" in text for text in said)  # the note stays inside

    mine = hoa.queue()["mine"]
    assert [(row["id"], row["transferred_from"], row["team_name"]) for row in mine] == [(handoff_id, "Lan", "Kế toán")]
    assert lan.queue()["mine"] == []
    assert lan.post(handoff_id, "reply", text="còn mình không?").status_code == 404  # no longer hers
    assert hoa.post(handoff_id, "reply", text="Chào bạn, mình là Hoa bên Kế toán").status_code == 200

    moved = TicketStore(server.engine).get(ticket.code)
    assert moved is not None and (moved["team"], moved["assignee"]) == ("accounting", "hoa")
    actions = {(entry.action, entry.target) for entry in AuditLog(server.engine).latest()}
    assert {("handoff_transfer", f"handoff:{handoff_id}"), ("ticket_transfer", ticket.code)} <= actions


def test_a_transfer_to_a_team_puts_the_customer_back_in_the_queue_first_for_that_team(desk) -> None:
    server, rasa = desk
    lan, handoff_id = lans_conversation(server, "web:khach-11")
    later = open_handoff(server, "web:khach-12", issue_type="payment")
    hoa = agent(server, "hoa")

    assert transfer(lan, handoff_id, "team:accounting", "Khách cần hoàn tiền").status_code == 200
    note = "Chuyển từ Lan sang bộ phận Kế toán: Khách cần hoàn tiền"
    assert snapshot(server, handoff_id) == (WAITING, None, "accounting", [note])
    assert said_to(rasa, "web:khach-11")[-1] == POLITE_TO_ACCOUNTING
    waiting = hoa.queue()["waiting"]
    assert [(row["id"], row["transferred_from"]) for row in waiting] == [(handoff_id, "Lan"), (later, "")]
    assert hoa.claim(handoff_id).status_code == 200
    assert snapshot(server, handoff_id)[:3] == (ACTIVE, "hoa", "accounting")


def test_an_admin_transfers_an_agents_conversation_and_assigns_teams_on_the_agents_page(desk) -> None:
    server, rasa = desk
    lan, handoff_id = lans_conversation(server, "web:khach-13")
    chi = agent(server, "chi")
    page = chi.http.get(f"{server.url}/admin/agents", timeout=10)
    assert page.status_code == 200 and "Kế toán" in page.text
    assigned = chi.http.post(f"{server.url}/admin/agents/minh/teams", timeout=10,
                             data={"csrf_token": chi.csrf, "team": ["warehouse", "accounting"]})  # fmt: skip
    assert assigned.status_code == 200 and "Đã lưu bộ phận" in assigned.text
    assert TeamStore(server.engine).teams_of("minh") == ["warehouse", "accounting"]
    assert lan.http.get(f"{server.url}/admin/agents", timeout=10).status_code == 403  # agents cannot
    forged = chi.http.post(f"{server.url}/admin/agents/minh/teams", data={"team": "shipping"}, timeout=10)
    assert forged.status_code == 403 and TeamStore(server.engine).teams_of("minh") == ["warehouse", "accounting"]
    unknown = chi.http.post(f"{server.url}/admin/agents/minh/teams", timeout=10,
                            data={"csrf_token": chi.csrf, "team": "marketing"})  # fmt: skip
    assert "Không có bộ phận này" in unknown.text
    assert TeamStore(server.engine).teams_of("minh") == ["warehouse", "accounting"]

    assert transfer(chi, handoff_id, "team:accounting", "Quản trị chuyển sang Kế toán").status_code == 200
    status, owner, team, notes = snapshot(server, handoff_id)
    assert (status, owner, team) == (WAITING, None, "accounting")
    assert notes == ["Chuyển từ Lan sang bộ phận Kế toán: Quản trị chuyển sang Kế toán"]
    assert said_to(rasa, "web:khach-13")[-1] == POLITE_TO_ACCOUNTING
