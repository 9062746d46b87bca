"""Pictures and files customers and agents exchange: checked by content, stored, and found again by id.

A customer shows damaged goods or a bank-transfer screenshot as a photo; an agent sends a size chart or a
payment QR. Every file passes ``inspect`` first: its type is read from its bytes, never from its name
(a ``.jpg`` that is a script is refused), images are decoded and re-encoded, which drops EXIF (a phone
photo's GPS position) and anything hidden after the image data, and PDFs are the only other type taken.
The bytes go to the folder under ``var/`` by default or to an S3-compatible bucket by configuration; the
``attachments`` table keeps who sent what in which conversation. Ids are random (a URL cannot be guessed),
and a total quota stops a flood of uploads from filling the disk.

Pillow decodes the images (a well-kept decoder with a guard against decompression bombs); boto3 speaks S3.
"""

import hashlib
import io
import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from PIL import Image, ImageOps, UnidentifiedImageError

from bot.migrations import ensure_schema
from bot.schema import attachments_table
from bot.settings import Settings

logger = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024  # what a customer or an agent may send in one file
MAX_PIXELS = 40_000_000  # larger images are refused before decoding (a small file can decode to gigabytes)
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/png"}
IMAGE, FILE = "image", "file"


class AttachmentRefusedError(Exception):
    """A file the bot will not keep; ``reason`` is said to whoever sent it, in Vietnamese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Checked:
    """A file as it will be stored: its kind, its real type and the bytes to keep."""

    kind: str
    mime: str
    data: bytes
    name: str


@dataclass(frozen=True)
class Attachment:
    """One stored file and where it belongs."""

    id: str
    kind: str
    mime: str
    name: str
    size: int
    channel: str
    sender_id: str
    direction: str  # "in" from the customer, "out" from an agent
    uploaded_by: str | None
    handoff_id: int | None
    ticket_code: str | None
    created_at: datetime

    @property
    def is_image(self) -> bool:
        return self.kind == IMAGE


def _display_name(name: str, mime: str) -> str:
    """A name safe to show and to put in a download header: no path, no control characters, the real
    extension."""
    stem = Path(name.replace("\\", "/")).stem if name else ""
    stem = unicodedata.normalize("NFC", stem)
    stem = re.sub(r"[^\w\- ]+", "", stem).strip()[:80] or "tep"
    extension = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf"}
    return stem + extension[mime]


def _reencoded(image: Image.Image, image_format: str) -> tuple[bytes, str]:
    """The picture alone: upright as the phone meant it, without EXIF, comments or trailing bytes."""
    upright = ImageOps.exif_transpose(image)
    out = io.BytesIO()
    if image_format == "JPEG":
        upright.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
    elif image_format == "WEBP":
        upright.save(out, "WEBP", quality=88)
    else:  # PNG, and the first frame of a GIF (an animation is not what a customer's photo is)
        mode = "RGBA" if upright.mode in ("RGBA", "LA", "P") else "RGB"
        upright.convert(mode).save(out, "PNG", optimize=True)
    return out.getvalue(), IMAGE_FORMATS[image_format]


def inspect(data: bytes, name: str = "") -> Checked:
    """What ``data`` really is, re-encoded when it is an image; ``AttachmentRefusedError`` for anything else."""
    if not data:
        raise AttachmentRefusedError("Tệp trống, bạn gửi lại giúp mình nhé.")
    if len(data) > MAX_BYTES:
        raise AttachmentRefusedError("Tệp lớn quá (tối đa 10 MB), bạn gửi tệp nhỏ hơn giúp mình nhé.")
    if data.startswith(b"%PDF-"):
        return Checked(FILE, "application/pdf", data, _display_name(name, "application/pdf"))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format or ""
            width, height = probe.size
            if image_format not in IMAGE_FORMATS:
                raise AttachmentRefusedError(_UNSUPPORTED)
            if width * height > MAX_PIXELS:
                raise AttachmentRefusedError("Ảnh lớn quá, bạn chụp lại ở độ phân giải thấp hơn giúp mình nhé.")
            probe.load()
            stored, mime = _reencoded(probe, image_format)
    except AttachmentRefusedError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise AttachmentRefusedError(_UNSUPPORTED) from None
    return Checked(IMAGE, mime, stored, _display_name(name, mime))


_UNSUPPORTED = "Mình chỉ nhận ảnh (JPG, PNG, WEBP, GIF) và tệp PDF, bạn gửi lại giúp mình nhé."


class FileBackend(Protocol):
    """Where the bytes live."""

    def put(self, key: str, data: bytes, mime: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...


class LocalFiles:
    """A private folder under var/: the embedded default."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def put(self, key: str, data: bytes, mime: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        partial.chmod(0o600)
        partial.replace(path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Files:
    """A bucket of an S3-compatible store (AWS, MinIO, Cloudflare R2, …), objects private."""

    def __init__(self, client: Any, bucket: str, prefix: str = "attachments/") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def put(self, key: str, data: bytes, mime: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentType=mime)

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)


def _row(row: Any) -> Attachment:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=timezone.utc)
    return Attachment(
        id=row.id, kind=row.kind, mime=row.mime, name=row.name, size=row.size, channel=row.channel,
        sender_id=row.sender_id, direction=row.direction, uploaded_by=row.uploaded_by,
        handoff_id=row.handoff_id, ticket_code=row.ticket_code, created_at=created,
    )  # fmt: skip


class AttachmentStore:
    """Checked files and their rows; the one way in and out of the attachment files."""

    def __init__(self, engine: sa.engine.Engine, files: FileBackend, quota_bytes: int) -> None:
        ensure_schema(engine)
        self.engine = engine
        self.files = files
        self.quota_bytes = quota_bytes

    def used_bytes(self) -> int:
        with self.engine.connect() as connection:
            total = sa.select(sa.func.coalesce(sa.func.sum(attachments_table.c.size), 0))
            return int(connection.execute(total).scalar())

    def save(
        self, data: bytes, name: str, *, channel: str, sender_id: str, direction: str,
        uploaded_by: str | None = None, handoff_id: int | None = None, ticket_code: str | None = None,
    ) -> Attachment:  # fmt: skip
        """Check, store and record one file; refused when it is not an image or PDF, too big, or the
        shop's quota is full (then staff must clear old files, and the sender is asked to try later)."""
        checked = inspect(data, name)
        if self.used_bytes() + len(checked.data) > self.quota_bytes:
            logger.warning("attachment refused: the quota of %d bytes is full", self.quota_bytes)
            raise AttachmentRefusedError("Hiện mình chưa nhận thêm tệp được, bạn mô tả bằng lời giúp mình nhé.")
        attachment_id = secrets.token_hex(16)
        self.files.put(attachment_id, checked.data, checked.mime)
        values = {
            "id": attachment_id, "kind": checked.kind, "mime": checked.mime, "name": checked.name,
            "size": len(checked.data), "sha256": hashlib.sha256(checked.data).hexdigest(), "channel": channel,
            "sender_id": sender_id, "direction": direction, "uploaded_by": uploaded_by,
            "handoff_id": handoff_id, "ticket_code": ticket_code, "created_at": datetime.now(timezone.utc),
        }  # fmt: skip
        try:
            with self.engine.begin() as connection:
                connection.execute(attachments_table.insert().values(**values))
        except Exception:
            self.files.delete(attachment_id)  # no file without its row
            raise
        return self.get(attachment_id)  # type: ignore[return-value]

    def get(self, attachment_id: str) -> Attachment | None:
        if not re.fullmatch(r"[0-9a-f]{32}", attachment_id or ""):
            return None
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(attachments_table).where(attachments_table.c.id == attachment_id)
            ).first()
        return _row(row) if row else None

    def read(self, attachment: Attachment) -> bytes:
        return self.files.get(attachment.id)

    def link(self, attachment_id: str, *, handoff_id: int | None = None, ticket_code: str | None = None) -> None:
        """Tie a file to the hand-off or ticket it was sent in (a photo sent while reporting a problem)."""
        changes = {
            key: value for key, value in (("handoff_id", handoff_id), ("ticket_code", ticket_code)) if value is not None
        }
        if changes:
            with self.engine.begin() as connection:
                connection.execute(
                    attachments_table.update().where(attachments_table.c.id == attachment_id).values(**changes)
                )

    def of_ticket(self, ticket_code: str) -> list[Attachment]:
        return self._where(attachments_table.c.ticket_code == ticket_code)

    def of_conversation(self, channel: str, sender_id: str) -> list[Attachment]:
        return self._where((attachments_table.c.channel == channel) & (attachments_table.c.sender_id == sender_id))

    def _where(self, condition: Any) -> list[Attachment]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(attachments_table).where(condition).order_by(attachments_table.c.created_at)
            ).all()
        return [_row(row) for row in rows]


def file_backend(settings: Settings) -> FileBackend:
    """The folder under var/, or the bucket of ``CSKH_ATTACHMENTS_S3_BUCKET`` when one is configured."""
    if not settings.attachments_s3_bucket:
        return LocalFiles(settings.var_dir / "attachments")
    import boto3  # only a shop that configures S3 pays for importing it

    client = boto3.client(
        "s3",
        endpoint_url=settings.attachments_s3_endpoint or None,
        region_name=settings.attachments_s3_region,
        aws_access_key_id=settings.attachments_s3_access_key or None,
        aws_secret_access_key=settings.attachments_s3_secret_key or None,
    )
    return S3Files(client, settings.attachments_s3_bucket)


def attachment_store(engine: sa.engine.Engine, settings: Settings) -> AttachmentStore:
    return AttachmentStore(engine, file_backend(settings), settings.attachments_quota_bytes)
