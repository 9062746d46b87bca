"""Facebook's side of Messenger on loopback: a Send API server and signed webhook posts.

The Send API follows the Messenger Platform documentation:

- Send API reference, https://developers.facebook.com/docs/messenger-platform/reference/send-api :
  ``POST /{version}/me/messages?access_token=…`` with ``recipient.id`` and either ``messaging_type``
  (RESPONSE, UPDATE or MESSAGE_TAG) and ``message.text`` of at most 2,000 characters, or a
  ``sender_action`` (typing_on, typing_off, mark_seen); a picture is ``message.attachment`` of type
  ``image`` with ``payload.url`` (https://developers.facebook.com/docs/messenger-platform/send-messages#url);
  success is ``{"recipient_id", "message_id"}``,
  failure ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``.
- Generic template, https://developers.facebook.com/docs/messenger-platform/send-messages/template/generic :
  ``message.attachment`` ``{"type": "template", "payload": {"template_type": "generic", "elements": [...]}}``,
  at most 10 elements, each a ``title`` of at most 80 characters and at least one more property: ``subtitle``
  (at most 80), ``image_url``, ``default_action``, ``buttons`` (at most 3; a postback is ``{"type": "postback",
  "title", "payload"}``, a link ``{"type": "web_url", "url", "title"}``, a title of at most 20 characters as in
  Meta's button reference). The fake also wants ``image_url`` to be https, the only kind of link the bot may
  hand Facebook to fetch.
- Quick replies, https://developers.facebook.com/docs/messenger-platform/send-messages/quick-replies :
  at most 13; ``content_type: "text"`` needs a title of at most 20 characters and a payload of at most 1,000.
- Message tags, https://developers.facebook.com/docs/messenger-platform/send-messages/message-tags :
  MESSAGE_TAG needs a ``tag``; HUMAN_AGENT lets a person answer up to 7 days after the customer's last message.
- Webhooks, https://developers.facebook.com/docs/messenger-platform/webhooks : the events ``webhook_post``
  builds (``{"object": "page", "entry": [{"id", "time", "messaging": [...]}]}``) and their
  ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the app secret>``.

- Attachment Upload API, https://developers.facebook.com/docs/messenger-platform/reference/attachment-upload-api :
  ``POST /{version}/me/message_attachments?access_token=…`` as multipart form data, ``message`` =
  ``{"attachment": {"type": "image"|"file"|…, "payload": {"is_reusable"}}}`` and the bytes in ``filedata``
  (at most 25 MB, https://developers.facebook.com/docs/messenger-platform/send-messages/saving-assets) →
  ``{"attachment_id"}``. A message then sends it with ``message.attachment`` ``{"type", "payload":
  {"attachment_id"}}``; an id this page never uploaded, or of another type, is an invalid parameter.

- Private replies, https://developers.facebook.com/docs/messenger-platform/discovery/private-replies :
  the same ``/me/messages`` with ``recipient: {"comment_id"}`` sends one message to a comment's author, once per
  comment and within 7 days of it; the answer names the person's PSID in ``recipient_id``. A second reply gets
  10900 "Activity already replied to" (Page messages reference, error codes); for a comment older than 7 days no
  code is documented, the fake answers 10 / 2018278 (outside the allowed window).
- Comment replies, https://developers.facebook.com/docs/graph-api/reference/object/comments :
  ``POST /{version}/{comment-id}/comments`` with ``message`` → ``{"id"}``.
- The page's ``feed`` webhook field (https://developers.facebook.com/docs/graph-api/webhooks/reference/page):
  ``feed_post`` builds ``{"object": "page", "entry": [{"id", "time", "changes": [{"field": "feed", "value":
  {"item": "comment", "verb": "add", "comment_id", "post_id", "parent_id", "from": {"id", "name"}, "message",
  "created_time"}}]}]}``; ``add_comment`` makes a comment the fake knows, as Facebook knows it.

Wrong input is answered as Facebook does (code 100, invalid parameter; code 190 for a wrong token);
Messenger's own rules, enforced: a ``RESPONSE`` message more than 24 h after the person's last message, or a
``HUMAN_AGENT`` one more than 7 days after it, is refused with 10 / 2018278; ``HUMAN_AGENT`` needs the page's
Human Agent permission (``human_agent_permission``, granted by Meta's App Review) and is refused with code 10
without it. The test tells the fake when each person wrote (``person_wrote``); a person it never heard of is
left alone (the client's own tests write to made-up ids).

``fail_next`` makes it answer the documented errors: rate limit (613, optionally with a ``Retry-After``),
invalid token (190), person unavailable (551), outside the messaging window (10 / 2018278), a temporary
error (2, with HTTP 500); ``fail_for`` answers one error to every message to one person (who blocked the
page, say); ``hang_seconds`` makes it slow. Error codes:
https://developers.facebook.com/docs/messenger-platform/send-messages/send-api/error-codes
"""

import email.parser
import email.policy
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.sandbox import eventually
from tests.fakes.cdn import HostedFiles
from tests.fakes.loopback import LoopbackServer

MESSAGING_TYPES = {"RESPONSE", "UPDATE", "MESSAGE_TAG"}
TAGS = {"HUMAN_AGENT", "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"}
SENDER_ACTIONS = {"typing_on", "typing_off", "mark_seen"}

# (code, subcode, type, message) as the Graph API sends them
RATE_LIMIT = (613, None, "OAuthException", "Calls to this api have exceeded the rate limit.")
INVALID_TOKEN = (190, None, "OAuthException", "Invalid OAuth access token - Cannot parse access token")
USER_UNAVAILABLE = (551, 1545041, "OAuthException", "This person isn't available right now.")
OUTSIDE_WINDOW = (10, 2018278, "OAuthException", "(#10) This message is sent outside of allowed window.")
TEMPORARY = (2, None, "OAuthException", "An unexpected error has occurred. Please retry your request later.")
TEMPORARY_SEND = (1200, None, "OAuthException", "Temporary send message failure. Please try again later.")
HUMAN_AGENT_DENIED = (10, None, "OAuthException", "(#10) Application does not have permission for this action")
STANDARD_WINDOW_SECONDS, HUMAN_AGENT_WINDOW_SECONDS = 24 * 3600, 7 * 24 * 3600
SERVER_ERRORS = {1, 2, 1200}  # answered with HTTP 500
ALREADY_REPLIED = (10900, None, "OAuthException", "Activity already replied to")
UNKNOWN_COMMENT = (100, 2018292, "OAuthException", "(#100) Invalid comment_id parameter")
PRIVATE_REPLY_DAYS = 7
ATTACHMENT_TYPES = {"image", "audio", "video", "file"}
MAX_ELEMENTS, MAX_CARD_TEXT, MAX_BUTTONS, MAX_BUTTON_TITLE = 10, 80, 3, 20
MAX_ATTACHMENT = 25 * 1024 * 1024


def invalid(message: str) -> tuple[int, None, str, str]:
    return 100, None, "OAuthException", f"(#100) {message}"


def template_problem(payload: dict[str, Any]) -> str | None:
    """What is wrong with a generic template's payload, in the Graph API's words, or None."""
    if payload.get("template_type") != "generic":
        return "param payload[template_type] must be one of {generic, button, media, receipt}"
    elements = payload.get("elements")
    if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_ELEMENTS:
        return "param payload[elements] must have between 1 and 10 elements"
    for element in elements:
        if not isinstance(element, dict) or not isinstance(element.get("title"), str) or not element["title"]:
            return "param elements[title] must be a non-empty string"
        if len(element["title"]) > MAX_CARD_TEXT or len(str(element.get("subtitle") or "")) > MAX_CARD_TEXT:
            return "param elements[title] and elements[subtitle] must have at most 80 characters"
        if not set(element) & {"subtitle", "image_url", "default_action", "buttons"}:
            return "param elements must have at least one property besides title"
        image = element.get("image_url")
        if image is not None and (not isinstance(image, str) or not image.startswith("https://")):
            return "param elements[image_url] must be an https URL"
        buttons = element.get("buttons", [])
        if not isinstance(buttons, list) or len(buttons) > MAX_BUTTONS:
            return "param elements[buttons] must have at most 3 buttons"
        for button in buttons:
            title = button.get("title") if isinstance(button, dict) else None
            if not isinstance(title, str) or not 0 < len(title) <= MAX_BUTTON_TITLE:
                return "param buttons[title] must be non-empty and at most 20 characters"
            if button.get("type") == "postback":
                if not isinstance(button.get("payload"), str) or not 0 < len(button["payload"]) <= 1000:
                    return "param buttons[payload] must be non-empty and at most 1000 characters"
            elif button.get("type") != "web_url" or not str(button.get("url") or "").startswith("https://"):
                return "param buttons[type] must be postback, or web_url with an https url"
    return None


def problem(body: Any, uploads: dict[str, tuple[str, bytes]] | None = None) -> str | None:
    """What is wrong with a Send API body, in the Graph API's words, or None."""
    if not isinstance(body, dict) or not isinstance(body.get("recipient"), dict):
        return "param recipient must be non-empty."
    recipient = body["recipient"]
    if not recipient.get("id") and not recipient.get("comment_id"):
        return "param recipient must be non-empty."
    if recipient.get("comment_id") and "sender_action" in body:
        return "sender_action cannot be sent to a comment"
    if "sender_action" in body:
        if body["sender_action"] not in SENDER_ACTIONS:
            return "param sender_action must be one of {typing_on, typing_off, mark_seen}"
        return "sender_action cannot be sent with message" if "message" in body else None
    if body.get("messaging_type") not in MESSAGING_TYPES:
        return "param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}"
    if (body["messaging_type"] == "MESSAGE_TAG") != ("tag" in body):
        return "tag is required with messaging_type MESSAGE_TAG, and only with it"
    if "tag" in body and body["tag"] not in TAGS:
        return "param tag must be a valid message tag"
    message = body.get("message")
    if isinstance(message, dict) and "attachment" in message:
        attachment = message["attachment"] if isinstance(message["attachment"], dict) else {}
        payload = attachment.get("payload") if isinstance(attachment.get("payload"), dict) else {}
        if attachment.get("type") == "template":
            return "message cannot have both text and attachment" if "text" in message else template_problem(payload)
        if "url" in payload:  # a picture by its link
            url = payload.get("url")
            if attachment.get("type") != "image" or not isinstance(url, str) or not url.startswith("https://"):
                return "param message.attachment must be an image with an https payload.url"
            return "message cannot have both text and attachment" if "text" in message else None
        found = (uploads or {}).get(str(payload.get("attachment_id")))
        if found is None or found[0] != attachment.get("type"):
            return "param message[attachment][payload][attachment_id] must be an attachment uploaded by this page"
        return None
    if not isinstance(message, dict) or not isinstance(message.get("text"), str) or not message["text"]:
        return "param message must have a non-empty text"
    if len(message["text"]) > 2000:
        return "param message[text] must be UTF-8 encoded and have at most 2000 characters"
    replies = message.get("quick_replies", [])
    if not isinstance(replies, list) or len(replies) > 13:
        return "param message[quick_replies] must have at most 13 elements"
    for reply in replies:
        if reply.get("content_type") != "text":
            return "param message[quick_replies][content_type] must be one of {text, user_phone_number, user_email}"
        if not reply.get("title") or len(reply["title"]) > 20:
            return "param title must be non-empty and at most 20 characters"
        if not reply.get("payload") or len(str(reply["payload"])) > 1000:
            return "param payload must be non-empty and at most 1000 characters"
    return None


class FakeMessengerApi(LoopbackServer):
    """Runs in a background thread; use as a context manager. Everything accepted is kept per recipient."""

    def __init__(self, access_token: str, version: str = "v19.0") -> None:
        self.access_token = access_token
        self.version = version
        self.calls = 0  # every request, refused ones included
        self.hang_seconds = 0.0  # answer this late (longer than the client's timeout: it gives up)
        self._accepted: list[dict[str, Any]] = []
        self._failures: list[tuple[tuple[int, int | None, str, str], float | None]] = []
        self._failing: dict[str, tuple[int, int | None, str, str]] = {}
        self.uploads: dict[str, tuple[str, bytes]] = {}  # attachment id -> (type, bytes)
        self._upload_failures: list[tuple[int, int | None, str, str]] = []
        self.last_message: dict[str, float] = {}  # psid -> Unix time of the person's last message to the page
        self.human_agent_permission = False  # the page's app passed App Review for the Human Agent permission
        self._lock = threading.Lock()
        self.cdn = HostedFiles("/v/t1.15752-9")  # as scontent.xx.fbcdn.net serves what people send
        self._comments: dict[str, tuple[str, float]] = {}  # comment id -> (author id, created_time)
        self._psids: dict[str, str] = {}  # commenter's id -> their PSID for this page
        self._replied: set[str] = set()
        self.public_replies: list[tuple[str, str]] = []  # (comment id, message) under the comment
        super().__init__()

    def host_file(self, data: bytes, name: str) -> str:
        """The CDN link an attachment in a webhook carries for ``data``."""
        return self.url + self.cdn.add(data, name)

    @property
    def graph_url(self) -> str:
        """What FB_GRAPH_URL points at."""
        return f"{self.url}/{self.version}"

    def fail_next(
        self, error: tuple[int, int | None, str, str], times: int = 1, retry_after: float | None = None
    ) -> None:
        """The next ``times`` valid requests get ``error`` (e.g. ``RATE_LIMIT``) instead of success."""
        with self._lock:
            self._failures.extend([(error, retry_after)] * times)

    def person_wrote(self, psid: str, at: float | None = None) -> None:
        """``psid`` wrote to the page at ``at`` (now by default): the messaging windows count from it."""
        with self._lock:
            self.last_message[psid] = time.time() if at is None else at

    def _window_error(self, body: dict[str, Any]) -> tuple[int, int | None, str, str] | None:
        """What Messenger answers a message outside its window or with a tag the page may not use (lock held)."""
        if "message" not in body:
            return None
        if body.get("tag") == "HUMAN_AGENT" and not self.human_agent_permission:
            return HUMAN_AGENT_DENIED
        last = self.last_message.get(body["recipient"]["id"])
        if last is None:
            return None
        allowed = HUMAN_AGENT_WINDOW_SECONDS if body.get("tag") == "HUMAN_AGENT" else STANDARD_WINDOW_SECONDS
        return OUTSIDE_WINDOW if time.time() - last > allowed else None

    def fail_for(self, psid: str, error: tuple[int, int | None, str, str] | None) -> None:
        """Every message to ``psid`` gets ``error`` (e.g. ``USER_UNAVAILABLE``: they blocked the page); None ends it."""
        with self._lock:
            if error is None:
                self._failing.pop(psid, None)
            else:
                self._failing[psid] = error

    def fail_next_upload(self, error: tuple[int, int | None, str, str], times: int = 1) -> None:
        """The next ``times`` uploads get ``error`` (e.g. ``TEMPORARY``)."""
        with self._lock:
            self._upload_failures.extend([error] * times)

    def attachments(self, psid: str) -> list[tuple[str, bytes]]:
        """(type, bytes) of every attachment sent to ``psid``, in order."""
        with self._lock:
            uploads = dict(self.uploads)
        return [
            uploads[body["message"]["attachment"]["payload"]["attachment_id"]]
            for body in self.messages(psid)
            if "attachment_id" in body["message"].get("attachment", {}).get("payload", {})
        ]

    def cards(self, psid: str) -> list[dict[str, Any]]:
        """The elements of every generic template sent to ``psid``, in order."""
        return [
            element
            for body in self.messages(psid)
            if body["message"].get("attachment", {}).get("type") == "template"
            for element in body["message"]["attachment"]["payload"]["elements"]
        ]

    def add_comment(self, author_id: str, text: str, page_id: str, name: str = "Nguyễn Thu Trang",
                    days_ago: float = 0, post_id: str | None = None) -> dict[str, Any]:  # fmt: skip
        """A person's new comment under a page post, known to the fake; the ``value`` of its feed change."""
        comment_id = f"{post_id or page_id + '_' + str(uuid.uuid4().int % 10**15)}_{uuid.uuid4().int % 10**15}"
        created = int(time.time() - days_ago * 86400)
        with self._lock:
            self._comments[comment_id] = (author_id, created)
        return {
            "from": {"id": author_id, "name": name}, "post_id": comment_id.rsplit("_", 1)[0], "comment_id": comment_id,
            "parent_id": comment_id.rsplit("_", 1)[0], "created_time": created, "item": "comment", "verb": "add",
            "message": text,
        }  # fmt: skip

    def psid_of(self, author_id: str) -> str:
        """The PSID a commenter has in Messenger with this page (another number than their comment's ``from.id``)."""
        with self._lock:
            return self._psids.setdefault(author_id, f"{uuid.uuid4().int % 10**16:016d}")

    def private_replies(self, comment_id: str | None = None) -> list[dict[str, Any]]:
        """Accepted private replies, to one comment or to all."""
        with self._lock:
            return [
                body for body in self._accepted
                if body["recipient"].get("comment_id") and comment_id in (None, body["recipient"]["comment_id"])
            ]  # fmt: skip

    def sent(self, psid: str) -> list[dict[str, Any]]:
        """Accepted request bodies for ``psid``, messages and sender actions, in order."""
        with self._lock:
            return [body for body in self._accepted if body["recipient"].get("id") == psid]

    def messages(self, psid: str) -> list[dict[str, Any]]:
        return [body for body in self.sent(psid) if "message" in body]

    def texts(self, psid: str) -> list[str]:
        return [body["message"]["text"] for body in self.messages(psid) if "text" in body["message"]]

    def texts_to_anyone(self) -> list[str]:
        """Every accepted message's text, whoever it went to."""
        with self._lock:
            return [body["message"]["text"] for body in self._accepted if "text" in body.get("message", {})]

    def actions(self, psid: str) -> list[str]:
        return [body["sender_action"] for body in self.sent(psid) if "sender_action" in body]

    def wait_for_action(self, psid: str, action: str, count: int = 1, timeout: float = 30) -> None:
        """Until ``action`` was sent to ``psid`` ``count`` times (typing_off: the bot finished a message)."""
        eventually(lambda: self.actions(psid).count(action) >= count, timeout, 0.1, describe=lambda: self.sent(psid))

    def wait_for(
        self, psid: str, predicate: Callable[[dict[str, Any]], bool], after: int = 0, timeout: float = 30
    ) -> dict[str, Any]:
        """The first message to ``psid`` (from number ``after`` on) matching ``predicate``."""
        return eventually(
            lambda: next((body for body in self.messages(psid)[after:] if predicate(body)), None), timeout, 0.1,
            describe=lambda: self.texts(psid)[after:],
        )  # fmt: skip

    def _answer(self, query: dict[str, list[str]], raw: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.calls += 1
        time.sleep(self.hang_seconds)
        if query.get("access_token") != [self.access_token]:
            return _error(INVALID_TOKEN)
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(invalid("request body must be JSON"))
        with self._lock:
            uploads = dict(self.uploads)
        wrong = problem(body, uploads)
        if wrong:
            return _error(invalid(wrong))
        with self._lock:
            if self._failures:
                return _error(*self._failures.pop(0))
            if "message" in body and body["recipient"].get("id") in self._failing:
                return _error(self._failing[body["recipient"]["id"]])
            comment_id = body["recipient"].get("comment_id")
            if comment_id:
                return self._private_reply(str(comment_id), body)
            if (refused := self._window_error(body)) is not None:
                return _error(refused)
            self._accepted.append(body)
        if "sender_action" in body:
            return 200, {"recipient_id": body["recipient"]["id"]}, {}
        return 200, {"recipient_id": body["recipient"]["id"], "message_id": f"m_{uuid.uuid4().hex}"}, {}

    def _private_reply(self, comment_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Under the lock: one reply per known comment, within 7 days; answered with the author's PSID."""
        if comment_id not in self._comments:
            return _error(UNKNOWN_COMMENT)
        author, created = self._comments[comment_id]
        if comment_id in self._replied:
            return _error(ALREADY_REPLIED)
        if time.time() - created > PRIVATE_REPLY_DAYS * 86400:
            return _error(OUTSIDE_WINDOW)
        self._replied.add(comment_id)
        self._accepted.append(body)
        psid = self._psids.setdefault(author, f"{uuid.uuid4().int % 10**16:016d}")
        return 200, {"recipient_id": psid, "message_id": f"m_{uuid.uuid4().hex}"}, {}

    def _comment_reply(self, comment_id: str, query: dict[str, list[str]], raw: bytes) -> tuple[int, dict, dict]:
        with self._lock:
            self.calls += 1
        if query.get("access_token") != [self.access_token]:
            return _error(INVALID_TOKEN)
        try:
            message = json.loads(raw).get("message")
        except (ValueError, AttributeError):
            message = None
        if not isinstance(message, str) or not message.strip():
            return _error(invalid("param message must be non-empty"))
        with self._lock:
            if comment_id not in self._comments:
                return _error(UNKNOWN_COMMENT)
            self.public_replies.append((comment_id, message))
        return 200, {"id": f"{comment_id.rsplit('_', 1)[0]}_{uuid.uuid4().int % 10**15}"}, {}

    def _upload(self, query: dict[str, list[str]], content_type: str, raw: bytes) -> tuple[int, dict[str, Any], dict]:
        with self._lock:
            self.calls += 1
        if query.get("access_token") != [self.access_token]:
            return _error(INVALID_TOKEN)
        fields = _multipart(content_type, raw)
        try:
            attachment = json.loads(fields.get("message", b"{}"))["attachment"]
        except (ValueError, KeyError, TypeError):
            return _error(invalid("param message must be JSON with an attachment"))
        data = fields.get("filedata")
        if not isinstance(attachment, dict) or attachment.get("type") not in ATTACHMENT_TYPES:
            return _error(invalid("param message[attachment][type] must be one of {image, audio, video, file}"))
        if not data or len(data) > MAX_ATTACHMENT:
            return _error(invalid("param filedata must be a file of at most 25 MB"))
        with self._lock:
            if self._upload_failures:
                return _error(self._upload_failures.pop(0))
            attachment_id = str(uuid.uuid4().int)[:16]
            self.uploads[attachment_id] = (attachment["type"], data)
        return 200, {"attachment_id": attachment_id}, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                api.cdn.answer(self)

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if url.path == f"/{api.version}/me/message_attachments":
                    content_type = self.headers.get("Content-Type", "")
                    status, payload, headers = api._upload(parse_qs(url.query), content_type, raw)
                elif url.path.startswith(f"/{api.version}/") and url.path.endswith("/comments"):
                    comment_id = url.path[len(f"/{api.version}/") : -len("/comments")]
                    status, payload, headers = api._comment_reply(comment_id, parse_qs(url.query), raw)
                elif url.path != f"/{api.version}/me/messages":
                    status, payload, headers = _error((803, None, "OAuthException", "(#803) Unknown path"))
                else:
                    status, payload, headers = api._answer(parse_qs(url.query), raw)
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _error(
    error: tuple[int, int | None, str, str], retry_after: float | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    code, subcode, kind, message = error
    details: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": uuid.uuid4().hex[:11]}
    if subcode is not None:
        details["error_subcode"] = subcode
    headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
    return 500 if code in SERVER_ERRORS else 400, {"error": details}, headers


# --- what Facebook posts to the webhook -------------------------------------------------------------------


def text_event(psid: str, text: str, page_id: str, mid: str | None = None, quick_reply: str | None = None) -> dict:
    """A person's text message (or tap on a quick reply, whose title is the text)."""
    message: dict[str, Any] = {"mid": mid or f"m_{uuid.uuid4().hex}", "text": text}
    if quick_reply is not None:
        message["quick_reply"] = {"payload": quick_reply}
    return _event(psid, page_id, message=message)


def attachment_event(psid: str, page_id: str, kind: str = "image", url: str | None = None, **payload: Any) -> dict:
    """A person's picture, file, sticker (an image with a ``sticker_id``), voice or video: a CDN link."""
    url = url or f"https://scontent.xx.fbcdn.net/v/{uuid.uuid4().hex}.jpg"
    message = {"mid": f"m_{uuid.uuid4().hex}", "attachments": [{"type": kind, "payload": {"url": url, **payload}}]}
    return _event(psid, page_id, message=message)


def postback_event(psid: str, payload: str, title: str, page_id: str) -> dict:
    return _event(psid, page_id, postback={"mid": f"m_{uuid.uuid4().hex}", "title": title, "payload": payload})


def echo_event(psid: str, text: str, page_id: str) -> dict:
    """The copy Facebook sends of the page's own message: from the page, to the person."""
    return _event(page_id, psid, message={"mid": f"m_{uuid.uuid4().hex}", "text": text, "is_echo": True})


def receipt_event(psid: str, page_id: str, kind: str = "delivery") -> dict:
    """A delivery or read receipt."""
    now = int(time.time() * 1000)
    details = {"watermark": now} if kind == "read" else {"mids": [f"m_{uuid.uuid4().hex}"], "watermark": now}
    return _event(psid, page_id, **{kind: details})


def _event(sender: str, recipient: str, **content: Any) -> dict:
    return {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": int(time.time() * 1000), **content}


def webhook_post(page_id: str, *entries: list[dict]) -> bytes:
    """The raw body of one webhook post, one entry per list of events."""
    now = int(time.time() * 1000)
    body = {"object": "page", "entry": [{"id": page_id, "time": now, "messaging": events} for events in entries]}
    return json.dumps(body, ensure_ascii=False).encode()


def feed_post(page_id: str, *values: dict[str, Any]) -> bytes:
    """The raw body of one webhook post of the page's ``feed`` field, one change per value (``add_comment``)."""
    now = int(time.time() * 1000)
    changes = [{"field": "feed", "value": value} for value in values]
    body = {"object": "page", "entry": [{"id": page_id, "time": now, "changes": changes}]}
    return json.dumps(body, ensure_ascii=False).encode()


def signed(app_secret: str, raw: bytes) -> dict[str, str]:
    """The headers Facebook sends with ``raw``."""
    return {"Content-Type": "application/json", "X-Hub-Signature-256": signature(app_secret, raw)}


def signature(app_secret: str, raw: bytes) -> str:
    """The X-Hub-Signature-256 value Facebook sends with ``raw``."""
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


def _multipart(content_type: str, raw: bytes) -> dict[str, bytes]:
    """The fields of a multipart/form-data body, by name."""
    if not content_type.startswith("multipart/form-data"):
        return {}
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    return {
        str(part.get_param("name", header="content-disposition")): part.get_payload(decode=True)
        for part in parsed.iter_parts()
    }
