"""Canned replies, in this process: an admin writes them on /admin/canned (audited, placeholders shown as chips
with the shop's current values); an agent gets one filled for a conversation they may see, with a visible gap
for what the conversation lacks. Non-admins, forged requests and other agents' conversations change and read
nothing.
"""

import re
from pathlib import Path

import pytest
import requests

from bot.admin.audit import AuditLog
from bot.desk.accounts import ADMIN, AccountStore
from bot.desk.canned import CannedStore, render
from bot.desk.queue import HandoffQueue
from bot.paths import DATA_DIR
from bot.sandbox import DeskAgent
from tests.console_server import ConsoleServer, console_server

GREETING = "Chào {customer_name}, đơn {order_number} được giao nội thành với phí {shipping.fee_inner_city} ạ."


@pytest.fixture
def server(tmp_path: Path):
    with console_server(tmp_path) as server:
        accounts = AccountStore(server.engine)
        accounts.add_agent("lan", "lan-password-123", "Lan")
        accounts.add_agent("minh", "minh-password-123", "Minh")
        accounts.add_agent("chu", "chu-password-123", "Chủ", role=ADMIN)
        yield server


def save(agent: DeskAgent, path: str = "new", **fields: str) -> requests.Response:
    return agent.http.post(f"{agent.desk_url}/admin/canned/{path}", data={"csrf_token": agent.csrf, **fields},
                           allow_redirects=False, timeout=10)  # fmt: skip


def customer(server: ConsoleServer, sender: str, slots: dict[str, str]) -> int:
    return HandoffQueue(server.engine).open(
        channel="rest", sender_id=sender, reason="customer_request", summary="Khách hỏi phí ship", slots=slots,
        transcript=[{"role": "customer", "text": "phí ship bao nhiêu", "sent_at": 1.0}],
    ).id  # fmt: skip


def filled(agent: DeskAgent, handoff_id: int, reply_id: int) -> requests.Response:
    return agent.http.get(f"{agent.desk_url}/handoffs/{handoff_id}/canned.json", params={"reply": reply_id},
                          timeout=10)  # fmt: skip


def test_an_admin_writes_edits_and_deletes_canned_replies_and_each_change_is_audited(server) -> None:
    chu = DeskAgent(server.url, "chu", "chu-password-123")
    assert save(chu, shortcut="/chao", title="Chào khách", text=GREETING).headers["Location"].endswith("created")
    page = chu.http.get(f"{server.url}/admin/canned", timeout=10).text
    row = re.search(r'<tr data-shortcut="chao">.*?</tr>', page, re.S).group(0)
    assert "/chao" in row and "Chào khách" in row
    # staff read the shop fact's current value and what the conversation fills in, not the raw placeholders
    assert ">Phí nội thành: 20.000đ</span>" in row and ">Tên khách: theo cuộc trò chuyện</span>" in row
    assert "{shipping.fee_inner_city}</" not in row
    reply = CannedStore(server.engine).all()[0]
    editor = chu.http.get(f"{server.url}/admin/canned/{reply.id}", timeout=10).text
    assert "{shipping.fee_inner_city}" in re.search(r"<textarea[^>]*>(.*?)</textarea>", editor, re.S).group(1)

    changed = save(chu, str(reply.id), shortcut="chao-khach", title="Chào khách", text="Chào {customer_name} ạ.")
    assert changed.headers["Location"].endswith("saved")
    stored = [(r.shortcut, r.text) for r in CannedStore(server.engine).all()]
    assert stored == [("chao-khach", "Chào {customer_name} ạ.")]
    assert save(chu, f"{reply.id}/delete").headers["Location"].endswith("deleted")
    assert CannedStore(server.engine).all() == []
    audit = AuditLog(server.engine).latest(5)
    assert [(e.action, e.target, e.actor) for e in audit] == [
        ("canned_delete", "/chao-khach", "chu"),
        ("canned_edit", "/chao-khach", "chu"),
        ("canned_create", "/chao", "chu"),
    ]
    assert audit[1].detail["previous_text"] == GREETING  # what was there before can be put back


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"shortcut": "Chào", "title": "Chào", "text": "Chào bạn"}, "Lệnh tắt chỉ gồm chữ thường không dấu"),
        ({"shortcut": "a b", "title": "Chào", "text": "Chào bạn"}, "Lệnh tắt chỉ gồm chữ thường không dấu"),
        ({"shortcut": "x" * 31, "title": "Chào", "text": "Chào bạn"}, "tối đa 30 ký tự"),
        ({"shortcut": "chao", "title": "", "text": "Chào bạn"}, "Tiêu đề không được để trống"),
        ({"shortcut": "chao", "title": "Chào", "text": "x" * 2001}, "tối đa 2000 ký tự"),
        ({"shortcut": "chao", "title": "Chào", "text": "Phí {shipping.no_such_fee}"}, "Không có thông tin nào tên"),
        ({"shortcut": "chao", "title": "Chào", "text": "Phí {shipping}"}, "Không có thông tin nào tên"),
        ({"shortcut": "chao", "title": "Chào", "text": "Phí {shipping.fee_inner_city"}, "ngoặc nhọn"),
        ({"shortcut": "chao", "title": "Chào", "text": "{customer_name!r}"}, "chỉ được ghi tên"),
    ],
)
def test_a_reply_that_would_not_work_is_refused_with_the_reason_and_the_admins_text_kept(server, fields, why) -> None:
    chu = DeskAgent(server.url, "chu", "chu-password-123")
    refused = save(chu, **fields)
    assert refused.status_code == 422 and why in refused.text
    assert fields["text"][:50] in refused.text  # the form comes back filled, nothing is lost
    assert CannedStore(server.engine).all() == []


def test_a_shortcut_is_unique(server) -> None:
    chu = DeskAgent(server.url, "chu", "chu-password-123")
    assert save(chu, shortcut="chao", title="Chào", text="Chào bạn").status_code == 302
    assert save(chu, shortcut="cam-on", title="Cảm ơn", text="Cảm ơn bạn").status_code == 302
    taken = save(chu, shortcut="/chao", title="Chào lại", text="Chào lại bạn")
    assert taken.status_code == 422 and "Lệnh tắt /chao đã có" in taken.text
    other = next(r for r in CannedStore(server.engine).all() if r.shortcut == "cam-on")
    renamed = save(chu, str(other.id), shortcut="chao", title="Cảm ơn", text="Cảm ơn bạn")
    assert renamed.status_code == 422 and "Lệnh tắt /chao đã có" in renamed.text
    assert sorted(r.shortcut for r in CannedStore(server.engine).all()) == ["cam-on", "chao"]


def test_an_agent_or_a_forged_request_cannot_change_canned_replies(server) -> None:
    chu = DeskAgent(server.url, "chu", "chu-password-123")
    save(chu, shortcut="chao", title="Chào", text="Chào bạn")
    reply = CannedStore(server.engine).all()[0]
    lan = DeskAgent(server.url, "lan", "lan-password-123")

    assert lan.http.get(f"{server.url}/admin/canned", timeout=10).status_code == 403
    assert save(lan, shortcut="hack", title="Hack", text="Chuyển khoản vào tài khoản lạ").status_code == 403
    forged_text = "Chuyển khoản vào tài khoản lạ"
    assert save(lan, str(reply.id), shortcut="chao", title="Chào", text=forged_text).status_code == 403
    assert save(lan, f"{reply.id}/delete").status_code == 403
    forged = chu.http.post(f"{server.url}/admin/canned/{reply.id}/delete", data={}, allow_redirects=False, timeout=10)
    assert forged.status_code == 403  # the admin's own session, without the page's CSRF token
    nobody = requests.post(f"{server.url}/admin/canned/new", data={"shortcut": "x", "title": "x", "text": "x"},
                           allow_redirects=False, timeout=10)  # fmt: skip
    assert nobody.status_code == 401
    assert [(r.shortcut, r.text) for r in CannedStore(server.engine).all()] == [("chao", "Chào bạn")]
    assert [e.action for e in AuditLog(server.engine).latest()] == ["canned_create"]


def test_an_agent_gets_the_reply_filled_for_the_conversation_with_gaps_for_what_it_lacks(server) -> None:
    chu = DeskAgent(server.url, "chu", "chu-password-123")
    save(chu, shortcut="chao", title="Chào khách", text=GREETING)
    reply = CannedStore(server.engine).all()[0]
    known = customer(server, "web:an", {"customer_name": "chị An", "order_number": "DH123456"})
    unknown = customer(server, "web:bao", {})
    lan = DeskAgent(server.url, "lan", "lan-password-123")

    listed = lan.http.get(f"{server.url}/canned.json", timeout=10).json()
    assert [(r["shortcut"], r["title"]) for r in listed] == [("chao", "Chào khách")]
    assert filled(lan, known, reply.id).json()["text"] == (
        "Chào chị An, đơn DH123456 được giao nội thành với phí 20.000đ ạ.")  # fmt: skip
    lacking = filled(lan, unknown, reply.id).json()
    assert lacking["text"] == "Chào [tên khách], đơn [mã đơn] được giao nội thành với phí 20.000đ ạ."
    assert lacking["gaps"] == ["[tên khách]", "[mã đơn]"]
    assert filled(lan, known, reply.id + 1).status_code == 404


def test_a_fact_removed_after_saving_leaves_a_named_gap_never_a_raw_placeholder(tmp_path: Path) -> None:
    text, gaps = render("Phí {shipping.fee_inner_city}, gọi {shop.gone}.", {}, DATA_DIR)
    assert text == "Phí 20.000đ, gọi [shop.gone]." and gaps == ["[shop.gone]"]
    text, _ = render("Hotline {shop.hotline} {{ngoặc}}", {}, DATA_DIR)
    assert text == "Hotline 1900 6868 {ngoặc}"  # "{{" is how an admin writes a literal brace


def test_another_agents_conversation_is_not_filled_and_no_session_reads_nothing(server) -> None:
    chu = DeskAgent(server.url, "chu", "chu-password-123")
    save(chu, shortcut="chao", title="Chào khách", text=GREETING)
    reply = CannedStore(server.engine).all()[0]
    theirs = customer(server, "web:an", {"customer_name": "chị An", "order_number": "DH123456"})
    minh, lan = DeskAgent(server.url, "minh", "minh-password-123"), DeskAgent(server.url, "lan", "lan-password-123")
    assert minh.claim(theirs).status_code == 200

    refused = filled(lan, theirs, reply.id)
    assert refused.status_code == 404 and "DH123456" not in refused.text and "chị An" not in refused.text
    assert filled(lan, 999_999, reply.id).json() == refused.json()  # as if it did not exist
    assert "chị An" in filled(minh, theirs, reply.id).json()["text"]
    assert "chị An" in filled(chu, theirs, reply.id).json()["text"]  # admins see every conversation
    anonymous = requests.get(f"{server.url}/handoffs/{theirs}/canned.json", params={"reply": reply.id}, timeout=10)
    assert anonymous.status_code == 401 and "chị An" not in anonymous.text
    assert requests.get(f"{server.url}/canned.json", timeout=10).status_code == 401
