"""Files customers and agents exchange: judged by their bytes, stripped of what a photo gives away, stored
privately on disk or in an S3-compatible bucket (moto's S3 server on loopback), within a quota."""

import io
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from bot.attachments import (
    MAX_BYTES,
    AttachmentRefusedError,
    AttachmentStore,
    LocalFiles,
    S3Files,
    attachment_store,
    inspect,
)
from bot.settings import Settings
from tests.databases import KINDS, engine_on, project_database

GPS_TAG = 0x8825  # EXIF's GPS block: where a phone photo was taken


def photo(format_: str = "JPEG", size: tuple[int, int] = (64, 48), with_gps: bool = True) -> bytes:
    """A phone-like photo: EXIF with a GPS position and the camera's orientation."""
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    exif = Image.Exif()
    if with_gps:
        exif[GPS_TAG] = {1: "N", 2: (21.0, 1.0, 41.0)}
        exif[0x0110] = "Phone X"  # camera model
    image.save(out, format_, exif=exif.tobytes()) if format_ in ("JPEG", "WEBP", "PNG") else image.save(out, format_)
    return out.getvalue()


def test_a_photo_is_kept_without_its_gps_position_or_hidden_bytes() -> None:
    original = photo() + b"<?php system($_GET['c']); ?>"  # bytes smuggled after the image
    checked = inspect(original, "IMG_2024.jpg")
    assert checked.kind == "image" and checked.mime == "image/jpeg"
    with Image.open(io.BytesIO(checked.data)) as stored:
        assert stored.size == (64, 48)
        assert GPS_TAG not in stored.getexif() and 0x0110 not in stored.getexif()
    assert b"php" not in checked.data
    assert checked.name == "IMG_2024.jpg"


def test_the_type_comes_from_the_bytes_not_the_name() -> None:
    png = inspect(photo("PNG", with_gps=False), "bang-size.jpg")
    assert png.mime == "image/png" and png.name == "bang-size.png"
    pdf = inspect(b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF", "hoa-don")
    assert (pdf.kind, pdf.mime, pdf.name) == ("file", "application/pdf", "hoa-don.pdf")
    for disguised, name in [
        (b"MZ\x90\x00 a windows program", "anh.jpg"),
        (b"<script>alert(1)</script>", "photo.png"),
        (b"PK\x03\x04 a zip archive", "don-hang.pdf"),
    ]:
        with pytest.raises(AttachmentRefusedError, match="chỉ nhận ảnh"):
            inspect(disguised, name)


def test_names_cannot_climb_out_or_carry_markup() -> None:
    checked = inspect(photo(with_gps=False), "../../etc/<b>passwd</b>.jpg")
    assert "/" not in checked.name and "<" not in checked.name and checked.name.endswith(".jpg")
    assert inspect(photo(with_gps=False), "Ảnh hàng vỡ.jpg").name == "Ảnh hàng vỡ.jpg"


def test_too_big_empty_and_bomb_images_are_refused_politely() -> None:
    with pytest.raises(AttachmentRefusedError, match="10 MB"):
        inspect(b"%PDF-" + b"0" * MAX_BYTES, "big.pdf")
    with pytest.raises(AttachmentRefusedError, match="trống"):
        inspect(b"", "x.jpg")
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, "PNG")  # a small file that decodes to 100 megapixels
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(AttachmentRefusedError, match="lớn quá"):
        inspect(bomb.getvalue(), "bomb.png")


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> AttachmentStore:
    url = project_database(request, tmp_path, "attachments")
    return AttachmentStore(engine_on(url), LocalFiles(tmp_path / "files"), quota_bytes=10_000_000)


def test_a_stored_file_is_found_by_its_conversation_and_ticket(store: AttachmentStore, tmp_path: Path) -> None:
    saved = store.save(photo(), "vo.jpg", channel="web", sender_id="khach-1", direction="in")
    assert len(saved.id) == 32 and saved.is_image and saved.direction == "in"
    assert store.read(saved) == inspect(photo(), "vo.jpg").data
    stored_file = next((tmp_path / "files").rglob(saved.id))
    assert oct(stored_file.stat().st_mode & 0o777) == "0o600"
    store.link(saved.id, handoff_id=7, ticket_code="TK-20261204-0001")
    assert [a.id for a in store.of_ticket("TK-20261204-0001")] == [saved.id]
    assert [a.handoff_id for a in store.of_conversation("web", "khach-1")] == [7]
    assert store.of_conversation("web", "khach-2") == []
    assert store.get("../" + saved.id) is None and store.get("0" * 32) is None


def test_the_quota_stops_a_flood_of_uploads(tmp_path: Path) -> None:
    one = len(inspect(photo(), "a.jpg").data)
    store = AttachmentStore(engine_on(f"sqlite:///{tmp_path / 'q.db'}"), LocalFiles(tmp_path / "f"), 2 * one + 10)
    for name in ("a.jpg", "b.jpg"):
        store.save(photo(), name, channel="web", sender_id="khach-1", direction="in")
    with pytest.raises(AttachmentRefusedError, match="chưa nhận thêm"):
        store.save(photo(), "c.jpg", channel="web", sender_id="khach-2", direction="in")
    assert store.used_bytes() == 2 * one
    assert len(list((tmp_path / "f").rglob("*"))) == 4  # two folders and two files: nothing of the refused one


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server on loopback (moto), speaking the S3 REST API to boto3."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_a_configured_bucket_holds_the_files_privately(tmp_path: Path, s3_endpoint: str) -> None:
    settings = Settings.under(
        tmp_path, attachments_s3_bucket="shop-files", attachments_s3_endpoint=s3_endpoint,
        attachments_s3_access_key="test-key", attachments_s3_secret_key="test-secret",
    )  # fmt: skip
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id="test-key", aws_secret_access_key="test-secret",
    )  # fmt: skip
    client.create_bucket(Bucket="shop-files")
    store = attachment_store(engine_on(f"sqlite:///{tmp_path / 'cskh.db'}"), settings)
    assert isinstance(store.files, S3Files)
    saved = store.save(b"%PDF-1.4 bang gia", "bang-gia.pdf", channel="zalo", sender_id="u1", direction="out")
    listed = client.list_objects_v2(Bucket="shop-files")["Contents"]
    assert [item["Key"] for item in listed] == [f"attachments/{saved.id}"]
    assert client.head_object(Bucket="shop-files", Key=f"attachments/{saved.id}")["ContentType"] == "application/pdf"
    assert store.read(saved) == b"%PDF-1.4 bang gia"
    assert not (tmp_path / "attachments").exists()  # nothing on the local disk
