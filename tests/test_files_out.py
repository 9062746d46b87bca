"""An agent sends a picture or PDF from the console: only the agent who has the conversation, with the page's
CSRF token, a real image or PDF of at most 10 MB; the desk keeps it and appends it to the customer's conversation
through Rasa (a loopback stand-in here), and the transcript shows it to staff who may see that conversation.
"""

import io
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from PIL import Image

from bot.desk.accounts import AccountStore
from bot.sandbox import DeskAgent
from bot.schema import attachments_table
from tests.console_server import console_server
from tests.test_desk_console import RASA_TOKEN, FakeRasa, waiting_customer


@pytest.fixture
def desk(tmp_path: Path):
    with FakeRasa() as rasa:
        port = int(rasa.url.rsplit(":", 1)[1])
        with console_server(tmp_path, rasa_port=port, rasa_token=RASA_TOKEN) as server:
            accounts = AccountStore(server.engine)
            accounts.add_agent("lan", "lan-password-123", "Lan")
            accounts.add_agent("minh", "minh-password-123", "Minh")
            yield server, rasa


def png(width: int = 300, height: int = 200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "orange").save(out, "PNG")
    return out.getvalue()


def upload(agent: DeskAgent, handoff_id: int, data: bytes, name: str, csrf: str | None = None, **fields: str):
    return agent.http.post(
        f"{agent.desk_url}/handoffs/{handoff_id}/attachment", files={"file": (name, data)}, data=fields,
        headers={"X-CSRF-Token": agent.csrf if csrf is None else csrf}, timeout=30,
    )  # fmt: skip


def stored_count(server) -> int:
    with server.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(attachments_table)).scalar()


def sent_files(rasa: FakeRasa, sender: str) -> list[dict]:
    return [event for event in rasa.appended.get(sender, []) if (event.get("data") or {}).get("attachment")]


def test_what_nobody_but_the_owner_may_send_is_refused_before_anything_is_kept(desk) -> None:
    server, rasa = desk
    handoff_id = waiting_customer(server, "web:khach-a")
    lan, minh = DeskAgent(server.url, "lan", "lan-password-123"), DeskAgent(server.url, "minh", "minh-password-123")

    assert upload(lan, handoff_id, png(), "size.png").status_code == 409  # still waiting: nobody has it yet
    lan.claim(handoff_id)
    assert upload(minh, handoff_id, png(), "size.png").status_code == 404  # another agent's conversation
    assert upload(lan, handoff_id, png(), "size.png", csrf="forged").status_code == 403  # no CSRF token
    anonymous = requests.post(f"{server.url}/handoffs/{handoff_id}/attachment", files={"file": ("a.png", png())},
                              timeout=10)  # fmt: skip
    assert anonymous.status_code == 401  # no session
    disguised = upload(lan, handoff_id, b"<script>alert(1)</script>" * 10, "size.jpg")
    assert disguised.status_code == 400 and "chỉ nhận ảnh" in disguised.json()["error"]
    oversize = upload(lan, handoff_id, b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024), "to.pdf")
    assert oversize.status_code == 413 and "10 MB" in oversize.json()["error"]
    assert upload(lan, handoff_id, b"", "empty.png").status_code == 400
    assert stored_count(server) == 0 and sent_files(rasa, "web:khach-a") == []

    # the console's other routes still take no more than 1 MB
    big_reply = lan.http.post(f"{server.url}/handoffs/{handoff_id}/reply", data=b"x" * 2_000_000,
                              headers={"X-CSRF-Token": lan.csrf, "Content-Type": "text/plain"}, timeout=30)  # fmt: skip
    assert big_reply.status_code == 413

    assert lan.post(handoff_id, "close", resolution="Xong").json()["ok"]
    closed = upload(lan, handoff_id, png(), "size.png")
    assert closed.status_code == 409 and "không còn do bạn phụ trách" in closed.json()["error"]
    assert stored_count(server) == 0 and sent_files(rasa, "web:khach-a") == []


def test_the_owner_sends_a_picture_the_customer_gets_it_and_the_transcript_shows_it(desk) -> None:
    server, rasa = desk
    handoff_id = waiting_customer(server, "web:khach-b")
    lan, minh = DeskAgent(server.url, "lan", "lan-password-123"), DeskAgent(server.url, "minh", "minh-password-123")
    lan.claim(handoff_id)

    sent = upload(lan, handoff_id, png(), "bảng size áo.png")
    assert sent.status_code == 200, sent.text
    [event] = sent_files(rasa, "web:khach-b")
    attachment = event["data"]["attachment"]
    assert attachment["id"] == sent.json()["id"] and attachment["kind"] == "image"
    assert attachment["mime"] == "image/png" and attachment["name"] == "bảng size áo.png"
    assert event["text"] == "Gửi bạn ảnh bảng size áo.png" and event["metadata"]["agent"] == "Lan"
    with server.engine.connect() as connection:
        row = connection.execute(sa.select(attachments_table)).one()
    assert (row.direction, row.uploaded_by, row.handoff_id, row.sender_id) == ("out", "lan", handoff_id, "web:khach-b")

    pdf = upload(lan, handoff_id, b"%PDF-1.4\n%%EOF\n", "hoá đơn.pdf", text="Hoá đơn của bạn đây ạ")
    assert pdf.status_code == 200
    assert sent_files(rasa, "web:khach-b")[-1]["text"] == "Hoá đơn của bạn đây ạ"

    lines = [line for line in lan.messages(handoff_id) if line.get("file")]
    assert [(line["text"], line["file"]["kind"]) for line in lines] == [
        ("Gửi bạn ảnh bảng size áo.png", "image"), ("Hoá đơn của bạn đây ạ", "file"),
    ]  # fmt: skip
    shown = lan.http.get(f"{server.url}{lines[0]['file']['url']}", timeout=10)
    assert shown.status_code == 200 and shown.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(shown.content)).size == (300, 200)
    page = lan.http.get(f"{server.url}/handoffs/{handoff_id}", timeout=10).text
    assert f'src="{lines[0]["file"]["url"]}"' in page and 'id="file-input"' in page
    # another agent, who may not see this conversation, gets the 404 of a file that does not exist
    assert minh.http.get(f"{server.url}{lines[0]['file']['url']}", timeout=10).status_code == 404
