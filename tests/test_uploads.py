"""A widget customer's picture or PDF through ``POST /webhooks/socketio/upload``, and the downloads of the
pictures Zalo and Messenger link to: what is kept, what is refused and what each attack gets.

The webchat channel's blueprint runs in this process on a loopback port, with Rasa's in-memory tracker
store standing in for the agent and the turns it would take recorded (no model, no other server).
"""

import asyncio
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from PIL import Image
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from bot.attachments import MAX_BYTES, AttachmentRefusedError
from bot.sandbox import eventually, free_port
from bot.senders import SESSION_HEADER
from bot.settings import Settings, settings_in_force
from connectors.guard import UPLOAD_BURST, door_guard
from connectors.inbound_files import TOO_BIG, DownloadError, download, inbound_store
from connectors.webchat import WebChatInput
from tests.fakes.loopback import LoopbackServer
from tests.served import served

UNSUPPORTED = "Mình chỉ nhận ảnh (JPG, PNG, WEBP, GIF) và tệp PDF, bạn gửi lại giúp mình nhé."
CUSTOMER = "3f" * 16  # a widget session id: 32 hex digits, as widget.js draws it
VICTIM = "a1" * 16


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


@dataclass
class Widget:
    url: str
    turns: list[UserMessage] = field(default_factory=list)

    def upload(self, data: bytes, name: str = "hang-vo.jpg", session: str | None = CUSTOMER, **fields: str):
        headers = {SESSION_HEADER: session} if session is not None else {}
        return requests.post(
            f"{self.url}/webhooks/socketio/upload", files={"file": (name, data)}, data=fields, headers=headers,
            timeout=15,
        )  # fmt: skip


@pytest.fixture
def widget(tmp_path: Path) -> Iterator[Widget]:
    settings = Settings.under(tmp_path, rasa_port=free_port())
    with settings_in_force(settings), pytest.MonkeyPatch.context() as patch:
        patch.setattr(Sanic, "test_mode", True)
        door_guard.cache_clear()  # a guard of this test's own: its file counts start at zero
        store = InMemoryTrackerStore(Domain.empty())
        for session in (CUSTOMER, VICTIM):  # both have chatted; only the customer's id is known to the test's caller
            tracker = DialogueStateTracker(f"web:{session}", [])
            tracker.update(UserUttered("chào shop"))
            asyncio.run(store.save(tracker))
        tracker = DialogueStateTracker("web:alice", [])  # a REST client's guessable sender id
        tracker.update(UserUttered("hi"))
        asyncio.run(store.save(tracker))
        recorded = Widget(settings.rasa_url)

        async def on_new_message(message: UserMessage) -> None:
            recorded.turns.append(message)

        channel = WebChatInput(session_persistence=True)
        app = Sanic(f"webchat_{tmp_path.name}"[:60].replace("-", "_"))
        app.ctx.agent = SimpleNamespace(tracker_store=store)
        app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/socketio")
        with served(app, settings.rasa_port):
            yield recorded
        door_guard.cache_clear()


def test_a_photo_becomes_the_customers_turn_with_the_file_attached(widget: Widget) -> None:
    reply = widget.upload(photo())
    assert reply.status_code == 200, reply.text
    attachment = reply.json()["attachment"]
    assert attachment["kind"] == "image" and attachment["mime"] == "image/jpeg" and attachment["name"] == "hang-vo.jpg"
    [turn] = eventually(lambda: widget.turns)
    assert turn.sender_id == f"web:{CUSTOMER}" and turn.input_channel == "socketio"
    assert turn.text == f"[ảnh #{attachment['id']}]"
    assert turn.metadata == {"attachments": [attachment]}
    assert turn.parse_data["intent"]["name"] == "nlu_fallback"  # no words for the NLU to read
    stored = inbound_store().get(attachment["id"])
    assert stored.sender_id == f"web:{CUSTOMER}" and stored.direction == "in" and stored.channel == "socketio"


def test_a_pdf_is_a_file_named_by_the_customer(widget: Widget) -> None:
    reply = widget.upload(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", name="hoa don.pdf")
    assert reply.status_code == 200, reply.text
    [turn] = eventually(lambda: widget.turns)
    assert turn.text == f"[tệp hoa don.pdf #{reply.json()['attachment']['id']}]"


def test_an_upload_lands_only_in_the_conversation_whose_secret_it_carries(widget: Widget) -> None:
    # another person's conversation named in the form, or a REST sender's guessable id: never written into
    reply = widget.upload(photo(), session_id=VICTIM, sender=f"web:{VICTIM}")
    assert reply.status_code == 200
    assert [t.sender_id for t in eventually(lambda: widget.turns)] == [f"web:{CUSTOMER}"]
    for session in ("alice", None, "", VICTIM.upper(), "b2" * 16):  # guessable, missing, not the widget's, unknown
        refused = widget.upload(photo(), session=session)
        assert refused.status_code == 403, session
        assert "tải lại trang" in refused.json()["reason"]
    assert inbound_store().of_conversation("socketio", f"web:{VICTIM}") == []
    assert inbound_store().of_conversation("socketio", "web:alice") == []
    assert len(widget.turns) == 1


def test_what_is_not_a_picture_or_pdf_is_refused_in_words_the_customer_reads(widget: Widget) -> None:
    for data, name in (
        (b"#!/bin/sh\nrm -rf /\n", "anh.jpg"),
        (b"<svg onload=alert(1)>", "x.svg"),
        (b"MZ\x90", "a.exe"),
    ):
        reply = widget.upload(data, name)
        assert reply.status_code == 422
        assert reply.json() == {"reason": UNSUPPORTED}
    missing = requests.post(f"{widget.url}/webhooks/socketio/upload", data={"file": "text, not a file"},
                            headers={SESSION_HEADER: CUSTOMER}, timeout=10)  # fmt: skip
    assert missing.status_code == 400 and "chọn lại" in missing.json()["reason"]
    assert widget.turns == [] and inbound_store().used_bytes() == 0


def test_a_file_over_10_mb_is_refused_before_it_is_stored(widget: Widget) -> None:
    just_over = widget.upload(b"\xff\xd8" + b"0" * MAX_BYTES)  # judged once received
    far_over = widget.upload(b"\xff\xd8" + b"0" * (MAX_BYTES + 200_000))  # stopped while it arrives
    assert (just_over.status_code, far_over.status_code) == (422, 413)
    assert just_over.json() == far_over.json() == {"reason": TOO_BIG}
    assert widget.turns == [] and inbound_store().used_bytes() == 0


def test_a_flood_of_uploads_is_told_to_wait(widget: Widget) -> None:
    statuses = [widget.upload(photo()).status_code for _ in range(UPLOAD_BURST)]
    refused = widget.upload(photo())
    assert statuses == [200] * UPLOAD_BURST
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "đợi khoảng một phút" in refused.json()["reason"]
    assert len(eventually(lambda: widget.turns if len(widget.turns) == UPLOAD_BURST else None)) == UPLOAD_BURST


# --- downloads from the platforms' CDNs -----------------------------------------------------------


class Cdn(LoopbackServer):
    """A CDN on loopback: a photo, a redirect to wherever a test says, and a body that never ends."""

    def __init__(self) -> None:
        self.redirect_to = ""
        self.requests: list[str] = []
        self._lock = threading.Lock()
        super().__init__()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        cdn = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with cdn._lock:
                    cdn.requests.append(self.path)
                if self.path == "/photo.jpg":
                    body = photo()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif self.path == "/moved":
                    self.send_response(302)
                    self.send_header("Location", cdn.redirect_to)
                    self.end_headers()
                elif self.path in ("/huge", "/huge-unannounced"):
                    self.send_response(200)
                    if self.path == "/huge":
                        self.send_header("Content-Length", str(MAX_BYTES * 3))
                    self.end_headers()
                    try:
                        for _ in range(3 * MAX_BYTES // 65536):
                            self.wfile.write(b"\0" * 65536)
                    except OSError:
                        pass  # the client stopped reading, as it should
                else:
                    self.send_error(404)

        return Handler


@pytest.fixture
def cdn() -> Iterator[Cdn]:
    with Cdn() as server:
        yield server


def _download(url: str, *allowed: str) -> bytes:
    with settings_in_force(Settings.under(Path("/tmp/unused-var"), media_private_hosts=allowed)):
        return asyncio.run(download(url))


def test_a_picture_on_an_allowed_host_is_downloaded(cdn: Cdn) -> None:
    assert Image.open(io.BytesIO(_download(f"{cdn.url}/photo.jpg", "127.0.0.1"))).size == (40, 30)


def test_private_addresses_other_schemes_and_redirects_there_are_never_fetched(cdn: Cdn) -> None:
    with pytest.raises(DownloadError):
        _download(f"{cdn.url}/photo.jpg")  # loopback, not allowed: the platforms' CDNs are public
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/", "http://10.0.0.8/x.jpg",
                "http://169.254.169.254/latest/meta-data/", "http://[::1]/x"):  # fmt: skip
        with pytest.raises(DownloadError):
            _download(url, "127.0.0.1")
    assert cdn.requests == []
    # an allowed host redirecting to a private address, by number or by a name that resolves there
    for target in (
        "http://169.254.169.254/latest/meta-data/",
        f"http://localhost:{cdn.url.rsplit(':', 1)[1]}/photo.jpg",
    ):
        cdn.redirect_to = target
        with pytest.raises(DownloadError):
            _download(f"{cdn.url}/moved", "127.0.0.1")
    assert cdn.requests == ["/moved", "/moved"]


def test_a_huge_download_is_stopped_at_10_mb(cdn: Cdn) -> None:
    for path in ("/huge", "/huge-unannounced"):
        with pytest.raises(AttachmentRefusedError) as refused:
            _download(f"{cdn.url}{path}", "127.0.0.1")
        assert refused.value.reason == TOO_BIG
