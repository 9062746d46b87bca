"""Zalo's OA message API and OAuth token endpoint on loopback, for the Zalo channel's tests.

Follows the formats of Zalo's documentation and of open-source clients:

- consultation text: https://developers.zalo.me/docs/official-account/tin-nhan/tin-tu-van/gui-tin-tu-van-dang-van-ban
  ``POST /v3.0/oa/message/cs``, bare ``access_token`` header, JSON
  ``{"recipient": {"user_id"}, "message": {"text"}}`` →
  ``{"error": 0, "message": "Success", "data": {"message_id", "user_id"}}``; errors come with HTTP 200 and a
  non-zero ``error`` (-216 invalid token, -220 expired token, -230 user not interacting for 7 days, -32 rate
  limit, -201 invalid parameter: community error tables, e.g. chatwoot ``app/services/zalo/*``).
- token refresh: https://developers.zalo.me/docs/official-account/bat-dau/xac-thuc-va-uy-quyen-cho-ung-dung-new
  ``POST /v4/oa/access_token``, header ``secret_key``, form ``refresh_token, app_id, grant_type=refresh_token`` →
  ``{"access_token", "refresh_token", "expires_in": "<seconds as a string>"}``; the refresh token is single-use
  and rotates. A refused refresh answers ``{"error", "error_name", "error_description"}`` (codes as community
  clients report them, e.g. -14014; unconfirmed).

- upload image: ``POST /v2.0/oa/upload/image``, header ``access_token``, multipart field ``file`` (JPG or PNG, at
  most 1 MB) → ``{"error": 0, "data": {"attachment_id"}}``; upload file: ``POST /v2.0/oa/upload/file`` (PDF, DOC,
  DOCX, at most 5 MB) → ``{"error": 0, "data": {"token"}}`` (zaloplatform/zalo-java-sdk ``UploadImage.java``,
  ``v3/UploadFile.java``; the limits as community clients state them). A consultation message then shows the
  upload: ``message.attachment`` ``{"type": "template", "payload": {"template_type": "media", "elements":
  [{"media_type": "image", "attachment_id"}]}}`` (``v3/SendImageCSMessage.java``, with ``url`` there) or
  ``{"type": "file", "payload": {"token"}}`` (``v3/SendFileCSMessage.java``); an id this OA never uploaded, or
  a file over its limit, is an invalid parameter (-201).
- a picture by its link ("Gửi tin Tư vấn đính kèm ảnh", developers.zalo.me; ``v3/SendImageCSMessage.java``): the
  same media template with exactly one element ``{"media_type": "image", "url"}`` instead of an
  ``attachment_id``, optionally with a ``text``; Zalo fetches the picture itself, so the fake wants a public
  https link and refuses anything else (-201). Kept in ``pictures`` (``pictures_to``).

- ZNS template message: ``POST /message/template`` on business.openapi.zalo.me (here the same server), header
  ``access_token``, JSON ``{"phone": "84…", "template_id", "template_data": {...}, "tracking_id"}`` →
  ``{"error": 0, "message": "Success", "data": {"msg_id", "sent_time", "quota": {"dailyQuota",
  "remainingQuota"}}}``; errors with HTTP 200 (zalo.cloud/zns/guidelines/handle-error-code): -108 phone invalid
  (only 84 and 9 digits here), -109 template id invalid (not one of ``zns_templates``), -111 template data empty,
  -112 template data invalid (a parameter of the template missing), -115 out of quota (``zns_quota`` spent),
  -124 access token invalid (community tables for the last two).
- The consultation window: a consultation message to a user whose last interaction (``interacted``) is more than
  7 days old is refused with -230, as Zalo does.

Rotating the pair here also invalidates the previous access token, so a delivered message proves the new one
was used. Texts longer than Zalo's 2,000 characters are refused like any invalid parameter.

Zalo's own rules, enforced: a consultation message more than 7 days after the user's last interaction is
refused with -230, and one sent 48 h–7 d after it is accepted but noted in ``billable`` (charged on most OA
packages); the test tells the fake of each interaction (``user_interacted``; tests/test_zalo_channel.py does it
for every webhook it posts), and a user it never heard of is left alone, as the client's own tests send to
made-up ids. With ``rate_limit_per_minute`` set, sends beyond that many within 60 s answer -32.

Failures a test can ask for: ``fail_next`` (error codes for the next sends, whoever they are to), ``fail_for``
(an error code every send to one user gets, e.g. -213 for a customer who blocked the OA), ``http_status_next``
(HTTP statuses, e.g. 502, answered before any error code) and ``hang_seconds``.
"""

import email.parser
import email.policy
import json
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from bot.sandbox import eventually
from tests.fakes.cdn import HostedFiles
from tests.fakes.loopback import LoopbackServer

MAX_TEXT = 2000
IMAGE_LIMIT, FILE_LIMIT = 1024 * 1024, 5 * 1024 * 1024
LINKED = "image-link"  # what _uploaded names a picture shown by its link
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
FILE_MAGIC = (b"%PDF-", b"\xd0\xcf\x11\xe0", b"PK\x03\x04")  # PDF, DOC, DOCX
INVALID_TOKEN, EXPIRED_TOKEN, NOT_INTERACTING, RATE_LIMITED, INVALID_PARAMETER = -216, -220, -230, -32, -201
NOT_FOLLOWER = -213
ZNS_INVALID_PHONE, ZNS_INVALID_TEMPLATE, ZNS_EMPTY_DATA, ZNS_INVALID_DATA = -108, -109, -111, -112
ZNS_OUT_OF_QUOTA, ZNS_INVALID_TOKEN = -115, -124
ERROR_NAMES = {
    NOT_INTERACTING: "User has not interacted with the OA in the last 7 days",
    NOT_FOLLOWER: "User has not followed the OA",
    RATE_LIMITED: "Request limit exceeded",
}
REFRESH_TOKEN_USED, WRONG_SECRET, WRONG_REQUEST = -14014, -14002, -14003
FREE_SECONDS, LAST_SECONDS = 48 * 3600, 7 * 24 * 3600  # consultation messages after the user's last interaction


class FakeZaloApi(LoopbackServer):
    """Runs in a background thread; use as a context manager. Thread-safe state for the test to inspect."""

    def __init__(self, app_id: str, app_secret: str) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        self.access_token = "zat-" + secrets.token_hex(8)
        self.refresh_token = "zrt-" + secrets.token_hex(8)
        self.used_refresh_tokens: set[str] = set()
        self.expired_tokens: set[str] = set()
        self.unreachable_users: set[str] = set()
        self.fail_next: list[int] = []  # error codes the next sends answer with, in order
        self.fail_for: dict[str, int] = {}  # user id -> the error code every send to them answers with
        self.http_status_next: list[int] = []  # HTTP statuses the next message requests answer with
        self.refresh_delay = 0.0
        self.hang_seconds = 0.0  # every request waits this long first (a Zalo outage)
        self.refresh_calls = 0
        self.messages: dict[str, list[str]] = {}
        self.sends: list[tuple[str, int]] = []  # (user id, error) for every message request
        self.uploads: dict[str, tuple[str, bytes]] = {}  # attachment id or file token -> (kind, bytes)
        self.media: dict[str, list[tuple[str, bytes]]] = {}  # user id -> (kind, bytes) of each picture/file shown
        self.pictures: dict[str, list[str]] = {}  # user id -> the link of each picture shown by its link
        self.fail_uploads_next: list[int] = []  # HTTP statuses the next uploads answer with (e.g. 502)
        self.interactions: dict[str, float] = {}  # user id -> Unix time of their last interaction with the OA
        self.billable: list[str] = []  # user ids of messages sent 48 h–7 d after the user's last interaction
        self.rate_limit_per_minute: int | None = None  # sends beyond this many within 60 s answer -32
        self._recent_sends: deque[float] = deque()
        self.zns_templates: dict[str, set[str]] = {}  # approved template id -> its parameters
        self.zns_quota: int | None = None  # ZNS messages left; None: no limit
        self.zns_sent: list[dict] = []  # the body of each ZNS message delivered
        self.zns_errors: list[tuple[str, int]] = []  # (phone, error) of each ZNS message refused
        self._lock = threading.Lock()
        self.cdn = HostedFiles("/zdn/photo")  # what photo.zdn.vn / f*.zdn.vn serve in the real webhooks
        super().__init__()

    def host_file(self, data: bytes, name: str) -> str:
        """The CDN link a ``user_send_image`` or ``user_send_file`` event carries for ``data``."""
        return self.url + self.cdn.add(data, name)

    # --- what a test tells it --------------------------------------------------------------------------

    def revoke_access_token(self) -> str:
        """The current access token answers -216 from now on (as after a revocation); returns it."""
        with self._lock:
            revoked, self.access_token = self.access_token, "zat-revoked-" + secrets.token_hex(8)
            return revoked

    def expire_access_token(self) -> None:
        """The current access token answers -220 (expired) from now on."""
        with self._lock:
            self.expired_tokens.add(self.access_token)

    def user_interacted(self, user_id: str, at: float | None = None) -> None:
        """The user wrote to (or followed) the OA at ``at`` (now by default): Zalo's windows count from it."""
        with self._lock:
            self.interactions[user_id] = time.time() if at is None else at

    def _window_error(self, recipient: str) -> int:
        """-230 past 7 days since the user's last interaction, -32 over the requested rate; notes billable sends.
        Called with the lock held, for a message that is otherwise valid."""
        now = time.time()
        if self.rate_limit_per_minute is not None:
            while self._recent_sends and self._recent_sends[0] < now - 60:
                self._recent_sends.popleft()
            if len(self._recent_sends) >= self.rate_limit_per_minute:
                return RATE_LIMITED
            self._recent_sends.append(now)
        last = self.interactions.get(recipient)
        if last is not None and now - last > LAST_SECONDS:
            return NOT_INTERACTING
        if last is not None and now - last > FREE_SECONDS:
            self.billable.append(recipient)
        return 0

    def zns_to(self, phone: str) -> list[dict]:
        with self._lock:
            return [body for body in self.zns_sent if body.get("phone") == phone]

    def texts(self, user_id: str) -> list[str]:
        with self._lock:
            return list(self.messages.get(user_id, []))

    def wait_for(self, user_id: str, predicate: Callable[[str], bool], timeout: float = 20) -> str:
        """The first text to ``user_id`` matching ``predicate`` (polling); fails the test after ``timeout`` s."""
        return eventually(
            lambda: next((text for text in self.texts(user_id) if predicate(text)), None), timeout, 0.1,
            describe=lambda: self.texts(user_id),
        )  # fmt: skip

    # --- the two endpoints -----------------------------------------------------------------------------

    def _send_message(self, access_token: str, body: dict) -> dict:
        recipient = str((body.get("recipient") or {}).get("user_id") or "")
        text = (body.get("message") or {}).get("text")
        shown = self._uploaded(body.get("message") or {})
        if shown is not None and text is None:
            text = ""  # a picture or file alone
        with self._lock:
            if access_token != self.access_token:
                error, name = INVALID_TOKEN, "Access token is invalid"
            elif access_token in self.expired_tokens:
                error, name = EXPIRED_TOKEN, "Access token has expired"
            elif self.fail_next:
                error, name = self.fail_next.pop(0), "Failure requested by the test"
            elif recipient in self.fail_for:
                error = self.fail_for[recipient]
                name = ERROR_NAMES.get(error, "Failure requested by the test")
            elif not recipient or not isinstance(text, str) or len(text) > MAX_TEXT or not (text or shown):
                error, name = INVALID_PARAMETER, "Parameters are invalid"
            elif shown is False:
                error, name = INVALID_PARAMETER, "Attachment is invalid"
            elif recipient in self.unreachable_users:
                error, name = NOT_INTERACTING, "User has not interacted with the OA in the last 7 days"
            elif window_error := self._window_error(recipient):
                error, name = window_error, ERROR_NAMES[window_error]
            else:
                error, name = 0, "Success"
                if text:
                    self.messages.setdefault(recipient, []).append(text)
                if shown and shown[0] == LINKED:
                    self.pictures.setdefault(recipient, []).append(shown[1].decode())
                elif shown:
                    self.media.setdefault(recipient, []).append(shown)
            self.sends.append((recipient, error))
        if error:
            return {"error": error, "message": name}
        return {"error": 0, "message": "Success", "data": {"message_id": uuid.uuid4().hex, "user_id": recipient}}

    def _send_template(self, access_token: str, body: dict) -> dict:
        phone, template_id = str(body.get("phone") or ""), str(body.get("template_id") or "")
        data = body.get("template_data")
        with self._lock:
            if access_token != self.access_token or access_token in self.expired_tokens:
                error, name = ZNS_INVALID_TOKEN, "Access token is invalid"
            elif not (len(phone) == 11 and phone.startswith("84") and phone.isdigit()):
                error, name = ZNS_INVALID_PHONE, "Phone number invalid"
            elif template_id not in self.zns_templates:
                error, name = ZNS_INVALID_TEMPLATE, "Template ID invalid"
            elif not isinstance(data, dict) or not data:
                error, name = ZNS_EMPTY_DATA, "Template data empty"
            elif not self.zns_templates[template_id] <= {key for key, value in data.items() if str(value).strip()}:
                error, name = ZNS_INVALID_DATA, "Template data invalid"
            elif self.zns_quota is not None and self.zns_quota <= 0:
                error, name = ZNS_OUT_OF_QUOTA, "Out of quota"
            else:
                error, name = 0, "Success"
                if self.zns_quota is not None:
                    self.zns_quota -= 1
                self.zns_sent.append(body)
            if error:
                self.zns_errors.append((phone, error))
        if error:
            return {"error": error, "message": name}
        quota = {"dailyQuota": "500", "remainingQuota": str(self.zns_quota if self.zns_quota is not None else 500)}
        sent = {"msg_id": uuid.uuid4().hex, "sent_time": str(int(time.time() * 1000)), "quota": quota}
        return {"error": 0, "message": "Success", "data": sent}

    def _uploaded(self, message: dict) -> tuple[str, bytes] | bool | None:
        """What a message's attachment shows: an upload of this OA, None without one, False when it names none."""
        attachment = message.get("attachment")
        if not isinstance(attachment, dict):
            return None
        payload = attachment.get("payload") if isinstance(attachment.get("payload"), dict) else {}
        if attachment.get("type") == "file":
            reference, kind = payload.get("token"), "file"
        elif attachment.get("type") == "template" and payload.get("template_type") == "media":
            elements = payload.get("elements") if isinstance(payload.get("elements"), list) else []
            element = elements[0] if len(elements) == 1 and isinstance(elements[0], dict) else {}
            reference, kind = element.get("attachment_id"), "image"
            if element.get("media_type") != "image":
                return False
            if "url" in element and reference is None:  # a picture Zalo fetches itself: a public https link
                link = element["url"]
                return (LINKED, link.encode()) if isinstance(link, str) and link.startswith("https://") else False
        else:
            return False
        with self._lock:
            found = self.uploads.get(str(reference))
        return found if found is not None and found[0] == kind else False

    def _upload(self, access_token: str, kind: str, content_type: str, raw: bytes) -> dict:
        with self._lock:
            if access_token != self.access_token:
                return {"error": INVALID_TOKEN, "message": "Access token is invalid"}
            if access_token in self.expired_tokens:
                return {"error": EXPIRED_TOKEN, "message": "Access token has expired"}
        data = _multipart_file(content_type, raw, "file")
        limit, magic = (IMAGE_LIMIT, IMAGE_MAGIC) if kind == "image" else (FILE_LIMIT, FILE_MAGIC)
        if data is None or not data.startswith(magic) or len(data) > limit:
            return {"error": INVALID_PARAMETER, "message": "File is invalid: wrong type or too large"}
        reference = secrets.token_hex(12)
        with self._lock:
            self.uploads[reference] = (kind, data)
        key = "attachment_id" if kind == "image" else "token"
        return {"error": 0, "message": "Success", "data": {key: reference}}

    def pictures_to(self, user_id: str) -> list[str]:
        """The links of the pictures shown to ``user_id`` by their link, in order."""
        with self._lock:
            return list(self.pictures.get(user_id, []))

    def media_to(self, user_id: str) -> list[tuple[str, bytes]]:
        with self._lock:
            return list(self.media.get(user_id, []))

    def _refresh(self, secret_key: str, form: dict[str, str]) -> dict:
        time.sleep(self.refresh_delay)
        with self._lock:
            self.refresh_calls += 1
            if secret_key != self.app_secret:
                return {"error": WRONG_SECRET, "error_name": "Invalid secret key", "error_description": "secret_key"}
            if form.get("app_id") != self.app_id or form.get("grant_type") != "refresh_token":
                return {"error": WRONG_REQUEST, "error_name": "Invalid request", "error_description": "app_id"}
            if form.get("refresh_token") != self.refresh_token:
                return {
                    "error": REFRESH_TOKEN_USED,
                    "error_name": "Invalid refresh token",
                    "error_description": "the refresh token was used already or never issued",
                }
            self.used_refresh_tokens.add(self.refresh_token)
            self.access_token = "zat-" + secrets.token_hex(8)
            self.refresh_token = "zrt-" + secrets.token_hex(8)
            return {"access_token": self.access_token, "refresh_token": self.refresh_token, "expires_in": "90000"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, payload: dict) -> None:
                body = json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped waiting (hang_seconds)

            def do_GET(self) -> None:
                api.cdn.answer(self)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(api.hang_seconds)
                if self.path == "/v3.0/oa/message/cs" and api.http_status_next:
                    with api._lock:
                        status = api.http_status_next.pop(0)
                        api.sends.append(("", status))
                    self._send(status, {"error": "Bad Gateway"})
                elif self.path == "/v3.0/oa/message/cs":
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        body = {}
                    self._send(200, api._send_message(self.headers.get("access_token", ""), body))
                elif self.path == "/message/template":
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        body = {}
                    self._send(200, api._send_template(self.headers.get("access_token", ""), body))
                elif self.path in ("/v2.0/oa/upload/image", "/v2.0/oa/upload/file"):
                    with api._lock:
                        status = api.fail_uploads_next.pop(0) if api.fail_uploads_next else 200
                    if status != 200:
                        self._send(status, {"error": "Bad Gateway"})
                        return
                    kind = "image" if self.path.endswith("image") else "file"
                    content_type = self.headers.get("Content-Type", "")
                    self._send(200, api._upload(self.headers.get("access_token", ""), kind, content_type, raw))
                elif self.path == "/v4/oa/access_token":
                    form = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
                    self._send(200, api._refresh(self.headers.get("secret_key", ""), form))
                else:
                    self._send(404, {"error": INVALID_PARAMETER, "message": "Unknown endpoint"})

        return Handler


def _multipart_file(content_type: str, raw: bytes, field: str) -> bytes | None:
    """The bytes of the multipart/form-data field ``field``, or None."""
    if not content_type.startswith("multipart/form-data"):
        return None
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    for part in parsed.iter_parts():
        if part.get_param("name", header="content-disposition") == field:
            return part.get_payload(decode=True)
    return None
