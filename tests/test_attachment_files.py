"""``GET /attachments/<id>`` on the desk: a customer's file only for the staff who may see its conversation.

Runs the desk app in this process (tests/console_server.py): no Rasa, no trained model.
"""

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PIL import Image

from bot.attachments import AttachmentStore, LocalFiles
from bot.desk.accounts import AccountStore
from bot.desk.queue import HandoffQueue
from bot.sandbox import ADMIN_PASSWORD
from bot.tickets import TicketStore
from tests.console_server import ConsoleServer, console_server

AGENTS = {"lan": "lan-password-123", "minh": "minh-password-123"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


class Desk:
    def __init__(self, server: ConsoleServer, workdir: Path) -> None:
        self.server = server
        self.store = AttachmentStore(server.engine, LocalFiles(workdir / "attachments"), 10**9)  # the desk's folder

    def handoff(self, sender: str, claimed_by: str | None = None) -> int:
        queue = HandoffQueue(self.server.engine)
        handoff = queue.open(channel="socketio", sender_id=sender, reason="customer_request", summary="Khách gửi ảnh",
                             slots={}, transcript=[])  # fmt: skip
        if claimed_by:
            assert queue.claim(handoff.id, claimed_by)
        return handoff.id

    def login(self, username: str, password: str) -> requests.Session:
        http, _, status = self.server.login(username, password, address=f"198.51.100.{len(username)}")
        assert status == 200
        return http


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Iterator[Desk]:
    workdir = tmp_path_factory.mktemp("attachment-files")
    with console_server(workdir) as server:
        accounts = AccountStore(server.engine)
        for username, password in AGENTS.items():
            accounts.add_agent(username, password, username.title())
        yield Desk(server, workdir)


def test_an_agent_sees_the_photo_of_their_own_conversation_inline(desk: Desk) -> None:
    desk.handoff("web:lans-customer", claimed_by="lan")
    sent = desk.store.save(photo(), "vo hop.png", channel="socketio", sender_id="web:lans-customer", direction="in")
    reply = desk.login("lan", AGENTS["lan"]).get(f"{desk.server.url}/attachments/{sent.id}", timeout=10)
    assert reply.status_code == 200
    assert reply.content == desk.store.read(sent)
    assert reply.headers["Content-Type"] == "image/png"
    assert reply.headers["Content-Disposition"] == "inline; filename*=UTF-8''vo%20hop.png"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert "img-src 'self'" in reply.headers["Content-Security-Policy"]


def test_a_pdf_is_downloaded_not_shown(desk: Desk) -> None:
    desk.handoff("web:pdf-customer")  # waiting: every agent may look
    sent = desk.store.save(PDF, "hoa-don.pdf", channel="socketio", sender_id="web:pdf-customer", direction="in")
    reply = desk.login("minh", AGENTS["minh"]).get(f"{desk.server.url}/attachments/{sent.id}", timeout=10)
    assert reply.status_code == 200 and reply.headers["Content-Type"] == "application/pdf"
    assert reply.headers["Content-Disposition"].startswith("attachment;")


def test_nobody_else_gets_the_file_nor_learns_that_it_exists(desk: Desk) -> None:
    desk.handoff("web:private-customer", claimed_by="lan")
    sent = desk.store.save(photo(), "a.png", channel="socketio", sender_id="web:private-customer", direction="in")
    alone = desk.store.save(photo(), "b.png", channel="zalo", sender_id="zalo:123", direction="in")  # no hand-off
    url = f"{desk.server.url}/attachments/{sent.id}"

    anonymous = requests.get(url, timeout=10, allow_redirects=False)
    assert anonymous.status_code in (302, 303) and anonymous.headers["Location"] == "/login"
    assert anonymous.content != desk.store.read(sent)

    minh = desk.login("minh", AGENTS["minh"])
    refused = [minh.get(u, timeout=10) for u in (url, f"{desk.server.url}/attachments/{alone.id}",
                                                 f"{desk.server.url}/attachments/{'0' * 32}",
                                                 f"{desk.server.url}/attachments/..%2F..%2Fcskh.db")]  # fmt: skip
    assert [r.status_code for r in refused] == [404] * 4
    assert len({r.text for r in refused}) == 1  # the same answer for a file that exists and one that does not

    admin = desk.login("admin", ADMIN_PASSWORD)
    assert admin.get(url, timeout=10).content == desk.store.read(sent)


def test_the_ticket_page_lists_its_photos_for_every_agent(desk: Desk) -> None:
    ticket = TicketStore(desk.server.engine).create(
        channel="socketio", sender_id="web:ticket-customer", issue_type="damaged", description="Cốc bị vỡ khi nhận",
        order_number="DH123456", contact_phone="0912345678",
    )  # fmt: skip
    sent = desk.store.save(photo(), "coc-vo.png", channel="socketio", sender_id="web:ticket-customer", direction="in")
    desk.store.link(sent.id, ticket_code=ticket.code)
    minh = desk.login("minh", AGENTS["minh"])
    page = minh.get(f"{desk.server.url}/tickets/{ticket.code}", timeout=10)
    assert page.status_code == 200
    assert f'<img src="/attachments/{sent.id}"' in page.text and "Ảnh và tệp khách gửi" in page.text
    assert minh.get(f"{desk.server.url}/attachments/{sent.id}", timeout=10).status_code == 200


def test_the_conversation_page_loads_the_script_that_shows_pictures(desk: Desk) -> None:
    handoff = desk.handoff("web:page-customer")
    page = desk.login("minh", AGENTS["minh"]).get(f"{desk.server.url}/handoffs/{handoff}", timeout=10)
    assert '<script src="/static/attachments.js"></script>' in page.text
