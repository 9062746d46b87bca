"""An agent's picture or PDF on the customer's channel: the widget's signed link, Zalo's and Facebook's upload
APIs (the loopback fakes of tests/fakes, speaking the documented formats), through the outbox like any text.
"""

import asyncio
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image
from sanic import Sanic

from bot.attachments import Attachment, attachment_store
from bot.database import engine_for
from bot.file_links import link_key, signature, signed_query, valid
from bot.handoff_protocol import SentFile, desk_file_message
from bot.outbox import OutboxStore, line_key
from bot.sandbox import free_port
from bot.schema import OUTBOX_FAILED, OUTBOX_PENDING, OUTBOX_SENT
from bot.settings import Settings, settings_in_force
from connectors import files as connector_files
from connectors.messenger import MessengerOutput
from connectors.outbox import RetryPolicy
from connectors.webchat import WebChatOutput
from connectors.zalo import ChoiceStore, ZaloOutput
from tests.fakes.messenger_api import TEMPORARY, FakeMessengerApi
from tests.fakes.zalo_api import FakeZaloApi
from tests.served import served
from tests.test_outbox import APP_ID, APP_SECRET, PAGE_TOKEN, messenger_outbox, rows, run, work_until, zalo_outbox


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cskh.db'}"


@pytest.fixture
def zalo_api() -> Iterator[FakeZaloApi]:
    with FakeZaloApi(APP_ID, APP_SECRET) as api:
        yield api


@pytest.fixture
def graph() -> Iterator[FakeMessengerApi]:
    with FakeMessengerApi(PAGE_TOKEN) as api:
        yield api


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Iterator[Settings]:
    with settings_in_force(Settings.under(tmp_path, database_url=sqlite_url)) as chosen:
        yield chosen


def picture(width: int = 400, height: int = 300, noisy: bool = False) -> bytes:
    """A PNG; a noisy one does not compress, so a large one is several MB."""
    size = (width, height)
    image = Image.effect_noise(size, 120).convert("RGB") if noisy else Image.new("RGB", size, "teal")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def stored(settings: Settings, data: bytes, name: str, sender: str) -> Attachment:
    store = attachment_store(engine_for(settings.database_url), settings)
    return store.save(data, name, channel=sender.split(":")[0], sender_id=sender, direction="out",
                      uploaded_by="lan", handoff_id=7)  # fmt: skip


def bot_message(found: Attachment, caption: str = "Bảng size của shop đây ạ") -> dict[str, Any]:
    """What Rasa hands a channel for the desk's event (``BotUttered.message()``: data and metadata merged)."""
    event = desk_file_message(caption, "Lan", SentFile(id=found.id, kind=found.kind, mime=found.mime, name=found.name))
    return {**event["data"], "text": event["text"], "timestamp": event["timestamp"], **event["metadata"]}


# --- the widget: a link signed for one conversation -----------------------------------------------------------


def test_a_link_is_valid_only_for_its_file_its_conversation_and_until_it_expires() -> None:
    key = link_key(Settings.under(Path("/tmp"), rasa_token="t1", secret_key=None))
    query = dict(part.split("=") for part in signed_query(key, "a" * 32, "web:khach", now=1000).split("&"))
    assert valid(key, "a" * 32, "web:khach", query["e"], query["s"], now=1000)
    assert not valid(key, "b" * 32, "web:khach", query["e"], query["s"], now=1000)  # another file
    assert not valid(key, "a" * 32, "web:khach-khac", query["e"], query["s"], now=1000)  # another customer
    assert not valid(key, "a" * 32, "web:khach", str(int(query["e"]) + 1), query["s"], now=1000)  # stretched
    assert not valid(key, "a" * 32, "web:khach", query["e"], query["s"], now=int(query["e"]) + 1)  # expired
    other_key = link_key(Settings.under(Path("/tmp"), rasa_token="t2", secret_key=None))
    assert not valid(other_key, "a" * 32, "web:khach", query["e"], query["s"], now=1000)


def test_the_widget_customer_fetches_the_picture_by_its_signed_link_and_nobody_else_can(settings) -> None:
    found = stored(settings, picture(), "bảng size.png", "web:khach-1")
    sent: list[tuple[str, dict[str, Any]]] = []

    class Socket:  # what python-socketio's server is asked to emit
        async def emit(self, event: str, data: dict[str, Any], room: str | None = None, **_: Any) -> None:
            sent.append((room or "", data))

    asyncio.run(WebChatOutput(Socket(), "bot_uttered").send_response("web:khach-1", bot_message(found)))
    [(room, payload)] = sent
    assert room == "khach-1" and payload["agent"] == "Lan" and payload["text"] == "Bảng size của shop đây ạ"
    assert payload["attachment"]["kind"] == "image" and payload["attachment"]["name"] == found.name
    path = payload["attachment"]["path"]
    assert path.startswith(f"files/{found.id}?e=")

    app = Sanic(f"files_{found.id[:8]}")
    app.add_route(connector_files.customer_file, "/webhooks/socketio" + connector_files.ROUTE, methods=["GET"])
    port = free_port()
    base = f"http://127.0.0.1:{port}/webhooks/socketio/"
    with served(app, port):
        shown = requests.get(base + path, timeout=10)
        assert shown.status_code == 200 and shown.headers["Content-Type"] == "image/png"
        assert Image.open(io.BytesIO(shown.content)).size == (400, 300)
        assert shown.headers["X-Content-Type-Options"] == "nosniff"
        expires = path.split("e=")[1].split("&")[0]
        key = link_key(settings)
        tampered = path[:-1] + ("0" if path[-1] != "0" else "1")
        for wrong in (
            tampered,  # an altered signature
            path.replace(found.id, "f" * 32),  # another file with this file's signature
            f"files/{found.id}?e={int(expires) + 60}&s={path.split('s=')[1]}",  # a later expiry, same signature
            f"files/{found.id}?e=1000&s={signature(key, found.id, 'web:khach-1', 1000)}",  # expired long ago
            # a link made for another customer's conversation
            f"files/{found.id}?{signed_query(key, found.id, 'web:khach-2')}",
            f"files/{found.id}",  # no signature at all
        ):
            assert requests.get(base + wrong, timeout=10).status_code == 404, wrong


# --- Zalo and Messenger: uploaded, then sent by the platform's id -------------------------------------------


def test_zalo_uploads_the_picture_and_the_pdf_then_shows_them_by_their_ids(settings, sqlite_url, zalo_api) -> None:
    large = stored(settings, picture(1400, 1000, noisy=True), "ảnh chụp.png", "zalo:9001")
    assert large.size > 1024 * 1024  # more than Zalo's upload API takes: sent scaled down
    pdf = stored(settings, PDF, "bảng giá.pdf", "zalo:9001")

    async def scenario() -> None:
        output = ZaloOutput(zalo_outbox(sqlite_url, zalo_api), ChoiceStore(engine_for(sqlite_url)), 2000)
        await output.send_response("zalo:9001", bot_message(large))
        await output.send_response("zalo:9001", bot_message(pdf, "Bảng giá mới nhất ạ"))

    run(scenario())
    assert zalo_api.texts("9001") == ["Lan: Bảng size của shop đây ạ", "Lan: Bảng giá mới nhất ạ"]
    [(kind, image), (file_kind, document)] = zalo_api.media_to("9001")
    assert (kind, file_kind) == ("image", "file")
    assert len(image) <= 1024 * 1024 and Image.open(io.BytesIO(image)).format == "JPEG"
    assert document == PDF
    assert {row.status for row in rows(sqlite_url).values()} == {OUTBOX_SENT}


def test_messenger_uploads_the_file_and_sends_it_by_attachment_id(settings, sqlite_url, graph) -> None:
    image = stored(settings, picture(), "size.png", "fb:9002")
    pdf = stored(settings, PDF, "hoa-don.pdf", "fb:9002")

    async def scenario() -> None:
        output = MessengerOutput(messenger_outbox(sqlite_url, graph))
        await output.send_response("fb:9002", bot_message(image))
        await output.send_response("fb:9002", bot_message(pdf, "Hoá đơn của bạn ạ"))

    run(scenario())
    assert graph.texts("9002") == ["Lan: Bảng size của shop đây ạ", "Lan: Hoá đơn của bạn ạ"]
    uploaded = [(kind, data[:5]) for kind, data in graph.attachments("9002")]
    assert uploaded == [("image", b"\x89PNG\r"), ("file", b"%PDF-")]
    assert [body["messaging_type"] for body in graph.messages("9002")] == ["RESPONSE"] * 4


# --- the outbox: a failed upload is retried, and one that never works is shown to the agent -----------------


def test_a_failed_upload_is_retried_and_a_file_that_never_leaves_is_shown_as_not_sent(
    settings,
    sqlite_url,
    zalo_api,
    graph,
) -> None:
    zalo_image = stored(settings, picture(), "size.png", "zalo:9003")
    fb_image = stored(settings, picture(), "size.png", "fb:9004")
    zalo_api.fail_uploads_next = [502]  # Zalo's gateway down once, at the upload
    graph.fail_next_upload(TEMPORARY)  # Facebook's "retry later", at the upload

    async def retried() -> None:
        on_zalo, on_messenger = zalo_outbox(sqlite_url, zalo_api), messenger_outbox(sqlite_url, graph)
        await ZaloOutput(on_zalo, ChoiceStore(engine_for(sqlite_url)), 2000).send_response(
            "zalo:9003", bot_message(zalo_image)
        )
        await MessengerOutput(on_messenger).send_response("fb:9004", bot_message(fb_image))
        pending = rows(sqlite_url)
        assert pending["zalo:9003"].status == pending["fb:9004"].status == OUTBOX_PENDING
        assert pending["zalo:9003"].parts_done == pending["fb:9004"].parts_done == 1  # the caption went already
        await work_until(on_zalo, lambda: zalo_api.media_to("9003"))
        await work_until(on_messenger, lambda: graph.attachments("9004"))

    run(retried())
    done = rows(sqlite_url)
    assert done["zalo:9003"].status == done["fb:9004"].status == OUTBOX_SENT
    assert zalo_api.texts("9003") == ["Lan: Bảng size của shop đây ạ"]  # the caption once, not again at the retry

    # Zalo's upload stays down: after the last try the agent reads why, next to the line
    never = stored(settings, picture(), "size.png", "zalo:9005")
    zalo_api.fail_uploads_next = [502] * 10
    message = bot_message(never)

    async def given_up() -> None:
        on_zalo = zalo_outbox(sqlite_url, zalo_api)
        on_zalo.policy = RetryPolicy(first_wait_seconds=0.02, max_wait_seconds=0.05, max_attempts=3,
                                     lease_seconds=5, poll_seconds=0.02)  # fmt: skip
        await ZaloOutput(on_zalo, ChoiceStore(engine_for(sqlite_url)), 2000).send_response("zalo:9005", message)
        await work_until(on_zalo, lambda: rows(sqlite_url)["zalo:9005"].status == OUTBOX_FAILED)

    run(given_up())
    failed = OutboxStore(engine_for(sqlite_url)).undelivered("zalo:9005")[line_key(message["timestamp"])]
    assert failed.status == OUTBOX_FAILED and "Không kết nối được tới Zalo" in failed.reason
    assert zalo_api.media_to("9005") == []


def test_a_file_gone_from_the_store_fails_at_once_with_the_reason(settings, sqlite_url, graph) -> None:
    gone = stored(settings, PDF, "x.pdf", "fb:9006")
    attachment_store(engine_for(settings.database_url), settings).files.delete(gone.id)

    async def scenario() -> None:
        await MessengerOutput(messenger_outbox(sqlite_url, graph)).send_response("fb:9006", bot_message(gone))

    run(scenario())
    row = rows(sqlite_url)["fb:9006"]
    assert row.status == OUTBOX_FAILED and "không còn trong kho" in row.error_reason
    assert time.time() - row.created_at < 60
