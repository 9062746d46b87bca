"""Zalo Official Account API: consultation (CS) messages (texts, agents' pictures and PDFs) and the OA token pair.

Zalo answers errors with HTTP 200 and a non-zero ``error`` in the body, so every
reply is read. An OA access token lives about 25 hours; the refresh token that
renews it is single-use and comes back rotated with every refresh. The pair is
kept in the project database, so every Rasa replica and every restart uses the
newest one, and a refresh is claimed there first (a lease on the row), so two
replicas never spend the same refresh token. Error codes and limits that are
not confirmed by Zalo's own pages are configuration (``ZaloConfig``).

A send answers with an ``Attempt`` (connectors/outbox.py): a rate limit (-32, Zalo's per-minute limit: this
client then sends nothing for ``rate_limit_wait_seconds``, a whole minute by default, and the outbox retries
no sooner), a failed request or a refresh that could not be made yet are worth
retrying; a refusal (-230, -213, a token dead even after a refresh...) is not, and says why in
Vietnamese for the agent.

With ``CSKH_SECRET_KEY`` set, both tokens are stored encrypted (Fernet, with a key
derived by HKDF-SHA256 from that secret, ``token_cipher``): a copy of the database
alone does not let anyone write to the shop's customers. Rows written before
(plain text) are still read, and are encrypted by the next refresh.
"""

import asyncio
import base64
import dataclasses
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiohttp
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.migrations import ensure_schema
from bot.privacy import mask_id
from bot.schema import zalo_tokens_table as tokens_table
from bot.settings import current_settings
from connectors.files import MISSING_REASON, StoredFile, fitted_image
from connectors.outbox import DELIVERED, Attempt, refused, retry_later

logger = logging.getLogger(__name__)

# Error codes of /v3.0/oa/message/cs (Zalo's error table and community SDKs).
INVALID_TOKEN, EXPIRED_TOKEN = -216, -220
RATE_LIMITED = -32
NOT_INTERACTING, NOT_FOLLOWER = -230, -213
QUOTA_EXCEEDED, INVALID_PARAMETER = -211, -201
TOKEN_ERRORS = (INVALID_TOKEN, EXPIRED_TOKEN)
UNREACHABLE = {
    NOT_INTERACTING: "the customer has not written to the OA in the last 7 days",
    NOT_FOLLOWER: "the customer does not follow the OA",
}
# what the agent reads next to a message Zalo refused (bot/desk/console.py)
REFUSALS = {
    NOT_INTERACTING: "Khách không nhắn cho OA trong 7 ngày qua nên Zalo không cho gửi tin tư vấn nữa.",
    NOT_FOLLOWER: "Khách chưa quan tâm hoặc đã bỏ quan tâm (chặn) OA trên Zalo.",
    QUOTA_EXCEEDED: "OA đã dùng hết hạn mức gửi tin của Zalo.",
    INVALID_PARAMETER: "Zalo từ chối tin nhắn này (nội dung không hợp lệ).",
}
TOKEN_REFUSED = "Mã truy cập Zalo OA hết hiệu lực và không làm mới được: quản trị viên cần cấp quyền lại cho OA."
TOKEN_NOT_REFRESHED = "Chưa làm mới được mã truy cập Zalo OA."
RATE_LIMITED_REASON = "Zalo đang giới hạn số tin OA được gửi mỗi phút."
UNREACHED_REASON = "Không kết nối được tới Zalo."
FILE_TOO_LARGE = "Zalo chỉ nhận tệp PDF tới {mb} MB."
# each kind's upload API and the key of what it answers, which the message then names
UPLOADS = {"image": ("/v2.0/oa/upload/image", "attachment_id"), "file": ("/v2.0/oa/upload/file", "token")}
EXPIRY_MARGIN_SECONDS = 60  # refresh a little before Zalo would refuse the token
LEASE_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class ZaloConfig:
    """The ``connectors.zalo.ZaloInput`` block of credentials.yml, values from the environment."""

    app_id: str = ""
    app_secret: str = ""
    oa_secret_key: str = ""  # the secret in X-ZEvent-Signature (reported as OA secret key or app secret)
    oa_id: str = ""  # the OA's id: the first term of X-ZEvent-Signature in some reports (app id in others)
    access_token: str = ""
    refresh_token: str = ""
    api_url: str = "https://openapi.zalo.me"
    zns_url: str = "https://business.openapi.zalo.me"  # ZNS template messages (connectors/zalo_zns.py)
    oauth_url: str = "https://oauth.zaloapp.com"
    text_limit: int = 2000
    # Zalo resends an unacknowledged event at about 30 s, 5 min, 15 min, 30 min and 1 h: a retry is fresh until
    # this horizon (msg_id dedupe answers it once); a timestamp further ahead than max_future_seconds is refused
    max_age_seconds: float = 7200.0
    max_future_seconds: float = 300.0
    # which secrets and first terms X-ZEvent-Signature may be built from, tried in this order (space-separated
    # names of the fields above: oa_secret_key, app_secret; app_id, oa_id). Sources disagree; the log says which
    # one matched (connectors/zalo.py), so a shop can narrow them to the one its OA uses.
    mac_signed_with: str = "oa_secret_key app_secret"
    mac_first_terms: str = "app_id oa_id"
    rate_limit_wait_seconds: float = 60.0  # -32 is a per-minute limit
    # what the upload APIs take, as community clients report it (JPG/PNG up to 1 MB, PDF up to 5 MB; unconfirmed)
    image_limit_bytes: int = 1024 * 1024
    file_limit_bytes: int = 5 * 1024 * 1024
    timeout_seconds: float = 10.0

    @property
    def enabled(self) -> bool:
        """Without the app id and a signature secret no webhook can be trusted: the channel is off."""
        return bool(self.app_id and self.signature_terms())

    def signature_terms(self) -> list[tuple[str, str, str, str]]:
        """``(id name, id, secret name, secret)`` for each configured way X-ZEvent-Signature may be built."""
        values = {"app_id": self.app_id, "oa_id": self.oa_id, "oa_secret_key": self.oa_secret_key,
                  "app_secret": self.app_secret}  # fmt: skip
        return [
            (id_name, values[id_name], secret_name, values[secret_name])
            for secret_name in self.mac_signed_with.split() if secret_name in ("oa_secret_key", "app_secret")
            for id_name in self.mac_first_terms.split() if id_name in ("app_id", "oa_id")
            if values[id_name] and values[secret_name]
        ]  # fmt: skip

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "ZaloConfig":
        """Reads credentials.yml values; empty ones keep the defaults where a default exists."""
        given: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            value = values.get(field.name)
            if value is None or value == "":
                continue
            if field.default is dataclasses.MISSING:
                raise TypeError(f"ZaloConfig.{field.name} needs a default: a value's type is read from it")
            given[field.name] = type(field.default)(str(value).strip())
        return cls(**given)


class RefreshRefusedError(Exception):
    """Zalo answered a refresh without a new pair: the refresh token is spent, expired or not this app's."""


class NoTokenError(Exception):
    """No working access token: for good (Zalo refused the refresh, none is configured) or for now."""

    def __init__(self, permanent: bool) -> None:
        super().__init__("no usable Zalo access token")
        self.permanent = permanent


class UnreachedError(Exception):
    """The message API could not be asked or gave no readable answer; ``code`` says how (http:502, network)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: float | None  # Unix time; None when unknown (tokens from the environment)

    def usable(self, now: float) -> bool:
        return bool(self.access_token) and (self.expires_at is None or now < self.expires_at - EXPIRY_MARGIN_SECONDS)


def _seed_of(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


SECRET_KEY_ENV = "CSKH_SECRET_KEY"
ENCRYPTED_PREFIX = "fernet:"  # tells an encrypted column value from a plain-text one written before
_KDF_INFO = b"cskh-bot zalo_tokens v1"
_REMEMBERED = 32


def token_cipher(secret: str | None) -> Fernet | None:
    """The Fernet key for stored tokens: HKDF-SHA256 of the secret (no salt, fixed info), 32 bytes.

    Derived rather than used as is, so any long random string works as ``CSKH_SECRET_KEY``
    and other uses of the same secret get unrelated keys.
    """
    if not secret:
        return None
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class TokenStore:
    """The OA's token pair in the project database, one row per app (synchronous; call via a thread)."""

    def __init__(
        self, engine: sa.engine.Engine, app_id: str, access_token: str, refresh_token: str,
        secret_key: str | None = None,
    ) -> None:  # fmt: skip
        self._engine = engine
        self._app_id = app_id
        self._initial = Tokens(access_token, refresh_token, None)
        self._cipher = token_cipher(secret_key if secret_key is not None else current_settings().secret_key)
        # Fernet never encrypts the same token twice alike: the stored form of each refresh token
        # read or written here, for the compare-and-swap conditions on the row
        self._stored: dict[str, str] = {}
        ensure_schema(engine)

    def _where(self, refresh_token: str | None = None) -> Any:
        condition = tokens_table.c.app_id == self._app_id
        if refresh_token is None:
            return condition
        return condition & (tokens_table.c.refresh_token == self._stored.get(refresh_token, refresh_token))

    def _remember(self, plain: str, stored: str) -> None:
        if len(self._stored) >= _REMEMBERED:
            self._stored.clear()
        self._stored[plain] = stored

    def _seal(self, token: str) -> str:
        """The column value for ``token``: encrypted when a secret key is configured."""
        if self._cipher is None or not token:
            return token
        return ENCRYPTED_PREFIX + self._cipher.encrypt(token.encode()).decode()

    def _open(self, stored: str, refresh: bool = False) -> str:
        """The token in a column value; empty (and logged) when it cannot be decrypted."""
        if not stored.startswith(ENCRYPTED_PREFIX):
            return stored  # written before encryption was configured: re-encrypted by the next refresh
        if self._cipher is None:
            logger.error("zalo: the stored tokens are encrypted; set %s to the key they were written with",
                         SECRET_KEY_ENV)  # fmt: skip
            return ""
        try:
            token = self._cipher.decrypt(stored[len(ENCRYPTED_PREFIX) :].encode()).decode()
        except InvalidToken:
            logger.error("zalo: the stored tokens do not decrypt with %s (was it changed?)", SECRET_KEY_ENV)
            return ""
        if refresh:
            self._remember(token, stored)
        return token

    def load(self) -> Tokens:
        """The current pair; the environment's pair while the table has none."""
        with self._engine.begin() as connection:
            row = connection.execute(sa.select(tokens_table).where(self._where())).first()
            if row is None:
                try:
                    with connection.begin_nested():
                        connection.execute(tokens_table.insert().values(app_id=self._app_id, **self._initial_row()))
                except sa.exc.IntegrityError:  # another process seeded it first
                    pass
                row = connection.execute(sa.select(tokens_table).where(self._where())).first()
        return Tokens(self._open(row.access_token), self._open(row.refresh_token, refresh=True), row.expires_at)

    def adopt_initial(self, dead_refresh_token: str) -> Tokens | None:
        """The environment's pair in place of a refused one, if the shop has set a new pair since the last seed.

        Only after a refusal: during a rolling deploy, replicas still holding the old
        environment would otherwise put the old pair back.
        """
        if not self._initial.refresh_token:
            return None
        initial = self._initial_row()
        newer = self._where(dead_refresh_token) & (tokens_table.c.seed != initial["seed"])
        with self._engine.begin() as connection:
            adopted = connection.execute(tokens_table.update().where(newer).values(**initial)).rowcount == 1
        if not adopted:
            return None
        self._remember(self._initial.refresh_token, initial["refresh_token"])
        return self._initial

    def _initial_row(self) -> dict[str, Any]:
        return {
            "access_token": self._seal(self._initial.access_token),
            "refresh_token": self._seal(self._initial.refresh_token), "expires_at": None,
            "seed": _seed_of(self._initial.refresh_token), "lease_until": None, "updated_at": time.time(),
        }  # fmt: skip

    def claim_refresh(self, refresh_token: str, lease_seconds: float) -> bool:
        """True for exactly one caller while ``refresh_token`` is current and nobody else is refreshing."""
        now = time.time()
        free = tokens_table.c.lease_until.is_(None) | (tokens_table.c.lease_until < now)
        with self._engine.begin() as connection:
            claimed = connection.execute(
                tokens_table.update().where(self._where(refresh_token) & free).values(lease_until=now + lease_seconds)
            )
        return claimed.rowcount == 1

    def save_refreshed(self, old_refresh_token: str, tokens: Tokens) -> bool:
        """Replaces the pair in one statement, only if nobody replaced ``old_refresh_token`` meanwhile."""
        refresh_token = self._seal(tokens.refresh_token)
        with self._engine.begin() as connection:
            saved = connection.execute(
                tokens_table.update()
                .where(self._where(old_refresh_token))
                .values(
                    access_token=self._seal(tokens.access_token), refresh_token=refresh_token,
                    expires_at=tokens.expires_at, lease_until=None, updated_at=time.time(),
                )
            )  # fmt: skip
        if saved.rowcount != 1:
            return False
        self._remember(tokens.refresh_token, refresh_token)
        return True

    def release(self, refresh_token: str) -> None:
        """Gives up a claimed refresh that failed, so the next send may try again."""
        with self._engine.begin() as connection:
            connection.execute(tokens_table.update().where(self._where(refresh_token)).values(lease_until=None))


class ZaloClient:
    """Sends OA consultation messages, refreshing the token pair when Zalo asks for it."""

    def __init__(self, config: ZaloConfig, tokens: TokenStore) -> None:
        self._config = config
        self._tokens = tokens
        self._session: aiohttp.ClientSession | None = None
        self._refreshing = asyncio.Lock()  # one refresh at a time in this process; the lease covers the others
        self._quiet_until = 0.0  # after a -32, nothing is sent before this (time.monotonic())

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._config.timeout_seconds))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send_text(self, user_id: str, text: str) -> Attempt:
        """Delivers one text (at most ``text_limit`` characters); how it went, for the outbox to retry or not."""
        return await self._deliver(user_id, partial(self._post_message, user_id=user_id, message={"text": text}))

    async def send_picture(self, user_id: str, link: str) -> Attempt:
        """A picture Zalo fetches from its public ``link`` (a product's): a media template naming the ``url``
        (developers.zalo.me, "Gửi tin Tư vấn đính kèm ảnh"; zalo-java-sdk ``v3/SendImageCSMessage.java``)."""
        element = {"media_type": "image", "url": link}
        attachment = {"type": "template", "payload": {"template_type": "media", "elements": [element]}}
        message = {"attachment": attachment}
        return await self._deliver(user_id, partial(self._post_message, user_id=user_id, message=message))

    async def send_file(self, user_id: str, stored: StoredFile | None) -> Attempt:
        """An agent's picture or PDF: uploaded (``/v2.0/oa/upload/image`` → ``attachment_id``, ``.../file`` →
        ``token``), then sent as a media template or a file attachment. Uploaded again on every try: what
        Zalo keeps of a failed try is not known."""
        if stored is None:
            return refused("attachment:missing", MISSING_REASON)
        if stored.kind == "image":
            data, mime = await asyncio.to_thread(fitted_image, stored.data, self._config.image_limit_bytes)
            name = stored.name.rsplit(".", 1)[0] + (".png" if mime == "image/png" else ".jpg")
        elif stored.mime == "application/pdf" and len(stored.data) <= self._config.file_limit_bytes:
            data, mime, name = stored.data, stored.mime, stored.name
        else:
            return refused("zalo:file-too-large", FILE_TOO_LARGE.format(mb=self._config.file_limit_bytes // 2**20))
        upload = Upload(stored.kind, data, mime, name)
        return await self._deliver(user_id, partial(self._upload_and_send, user_id=user_id, upload=upload))

    async def _deliver(self, user_id: str, call: Callable[[str], Awaitable[int]]) -> Attempt:
        """``call`` with a working access token (refreshed once when Zalo refuses it); its outcome as an attempt."""
        quiet = self._quiet_until - time.monotonic()
        if quiet > 0:  # Zalo limited this OA for the minute: asking again now would only be refused again
            return retry_later(f"zalo:{RATE_LIMITED}", RATE_LIMITED_REASON, quiet)
        try:
            tokens = await self._usable_tokens()
            error = await call(tokens.access_token)
            if error in TOKEN_ERRORS:
                tokens = await self._refresh(tokens)
                error = await call(tokens.access_token)
        except NoTokenError as missing:
            if missing.permanent:
                return refused("zalo:token", TOKEN_REFUSED)
            return retry_later("zalo:token", TOKEN_NOT_REFRESHED)
        except UnreachedError as unreached:
            return retry_later(unreached.code, UNREACHED_REASON)
        if error == 0:
            return DELIVERED
        if error == RATE_LIMITED:
            self._quiet_until = time.monotonic() + self._config.rate_limit_wait_seconds
            logger.warning("zalo: rate limited (-32); nothing is sent for %.0f s", self._config.rate_limit_wait_seconds)
            return retry_later(f"zalo:{error}", RATE_LIMITED_REASON, self._config.rate_limit_wait_seconds)
        if error in UNREACHABLE:
            logger.info("zalo: message to %s not sent: %s (error %s)", mask_id(user_id), UNREACHABLE[error], error)
        else:
            logger.warning("zalo: message to %s refused with error %s", mask_id(user_id), error)
        if error in TOKEN_ERRORS:
            return refused(f"zalo:{error}", TOKEN_REFUSED)
        return refused(f"zalo:{error}", REFUSALS.get(error, f"Zalo từ chối tin nhắn (mã lỗi {error})."))

    async def with_token(self, call: Callable[[str], Awaitable[int]], token_errors: tuple[int, ...]) -> int:
        """Zalo's error code of ``call`` made with a working access token, refreshed once when Zalo answers one of
        ``token_errors``; raises ``NoTokenError`` or ``UnreachedError`` like the consultation sends."""
        tokens = await self._usable_tokens()
        error = await call(tokens.access_token)
        if error in token_errors:
            error = await call((await self._refresh(tokens)).access_token)
        return error

    async def post_business(self, path: str, access_token: str, body: dict[str, Any]) -> dict[str, Any]:
        """Zalo's JSON answer to a JSON POST on the ZNS host (``zns_url``); ``UnreachedError`` without one."""
        return await self._post(path, access_token, base_url=self._config.zns_url, json=body)

    async def _upload_and_send(self, access_token: str, *, user_id: str, upload: "Upload") -> int:
        """Zalo's error code of the upload, or else of the message that shows the uploaded file."""
        path, key = UPLOADS[upload.kind]
        form = aiohttp.FormData()
        form.add_field("file", upload.data, filename=upload.name, content_type=upload.mime)
        answer = await self._post(path, access_token, data=form)
        error, reference = _error_of(answer), str((answer.get("data") or {}).get(key) or "")
        if error or not reference:
            return error or INVALID_PARAMETER
        if upload.kind == "image":
            element = {"media_type": "image", "attachment_id": reference}
            attachment = {"type": "template", "payload": {"template_type": "media", "elements": [element]}}
        else:
            attachment = {"type": "file", "payload": {"token": reference}}
        return await self._post_message(access_token, user_id=user_id, message={"attachment": attachment})

    async def _post_message(self, access_token: str, *, user_id: str, message: dict[str, Any]) -> int:
        """Zalo's error code (0 on success); ``UnreachedError`` when the request itself failed."""
        body = {"recipient": {"user_id": user_id}, "message": message}
        return _error_of(await self._post("/v3.0/oa/message/cs", access_token, json=body))

    async def _post(self, path: str, access_token: str, base_url: str = "", **body: Any) -> dict[str, Any]:
        """Zalo's JSON answer to a POST; ``UnreachedError`` when there is none to read."""
        url = f"{(base_url or self._config.api_url).rstrip('/')}{path}"
        try:
            async with self._http().post(url, headers={"access_token": access_token}, **body) as reply:
                if reply.status != 200:
                    logger.warning("zalo: %s answered HTTP %s", path, reply.status)
                    raise UnreachedError(f"http:{reply.status}")
                answer = await reply.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:  # not TimeoutError before 3.11
            logger.warning("zalo: %s unreachable (%s)", path, type(error).__name__)
            raise UnreachedError("network") from None
        if not isinstance(answer, dict):
            logger.warning("zalo: %s answered something unexpected", path)
            raise UnreachedError("zalo:unreadable")
        return answer

    async def _usable_tokens(self) -> Tokens:
        tokens = await asyncio.to_thread(self._tokens.load)
        if tokens.usable(time.time()):
            return tokens
        return await self._refresh(tokens)

    async def _refresh(self, stale: Tokens) -> Tokens:
        """A working pair after ``stale`` was refused or ran out; at most one refresh call per refresh token.
        ``NoTokenError`` when there is none, for good or for now."""
        async with self._refreshing:
            current = await asyncio.to_thread(self._tokens.load)
            if current.access_token != stale.access_token and current.usable(time.time()):
                return current  # someone refreshed while this caller waited
            if not current.refresh_token:
                logger.error("zalo: the access token is not valid and there is no refresh token (ZALO_REFRESH_TOKEN)")
                raise NoTokenError(permanent=True)
            lease = 3 * self._config.timeout_seconds
            if not await asyncio.to_thread(self._tokens.claim_refresh, current.refresh_token, lease):
                return await self._refreshed_elsewhere(current.refresh_token, lease)
            try:
                fresh = await self._request_new_pair(current.refresh_token)
            except RefreshRefusedError as refusal:
                return await self._after_refusal(current.refresh_token, refusal)
            if fresh is None:
                await asyncio.to_thread(self._tokens.release, current.refresh_token)
                raise NoTokenError(permanent=False)
            if not await asyncio.to_thread(self._tokens.save_refreshed, current.refresh_token, fresh):
                logger.warning("zalo: the token pair changed during a refresh; the newer one from the database wins")
            return fresh

    async def _after_refusal(self, refused_token: str, refusal: RefreshRefusedError) -> Tokens:
        """The environment's pair if the shop authorized the OA again; otherwise someone has to."""
        adopted = await asyncio.to_thread(self._tokens.adopt_initial, refused_token)
        if adopted is not None:
            logger.warning("zalo: %s; using the new token pair from the environment", refusal)
            return adopted
        await asyncio.to_thread(self._tokens.release, refused_token)
        logger.error("zalo: %s; authorize the OA again and set ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN", refusal)
        raise NoTokenError(permanent=True)

    async def _refreshed_elsewhere(self, old_refresh_token: str, lease: float) -> Tokens:
        """Waits for the process holding the lease to store the new pair."""
        deadline = time.monotonic() + lease
        while time.monotonic() < deadline:
            tokens = await asyncio.to_thread(self._tokens.load)
            if tokens.refresh_token != old_refresh_token:
                return tokens
            await asyncio.sleep(LEASE_POLL_SECONDS)
        logger.warning("zalo: another process did not finish refreshing the token in time")
        raise NoTokenError(permanent=False)

    async def _request_new_pair(self, refresh_token: str) -> Tokens | None:
        """The next pair; None when Zalo could not be asked, ``RefreshRefusedError`` when it said no."""
        form = {"refresh_token": refresh_token, "app_id": self._config.app_id, "grant_type": "refresh_token"}
        try:
            async with self._http().post(
                f"{self._config.oauth_url.rstrip('/')}/v4/oa/access_token", data=form,
                headers={"secret_key": self._config.app_secret},
            ) as reply:  # fmt: skip
                answer = await reply.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:  # not TimeoutError before 3.11
            logger.error("zalo: token refresh failed (%s)", type(error).__name__)
            return None
        if not isinstance(answer, dict) or not answer.get("access_token") or not answer.get("refresh_token"):
            raise RefreshRefusedError(
                f"token refresh refused (error {answer.get('error') if isinstance(answer, dict) else None})"
            )
        try:
            expires_at: float | None = time.time() + float(answer["expires_in"])
        except (KeyError, TypeError, ValueError):
            expires_at = None
        logger.info("zalo: access token refreshed")
        return Tokens(str(answer["access_token"]), str(answer["refresh_token"]), expires_at)


@dataclass(frozen=True)
class Upload:
    """A file as it goes to Zalo's upload API."""

    kind: str  # image | file
    data: bytes
    mime: str
    name: str


def _error_of(answer: dict[str, Any]) -> int:
    try:
        return int(answer.get("error", 0))
    except (TypeError, ValueError):
        logger.warning("zalo: an answer with an unreadable error code")
        raise UnreachedError("zalo:unreadable") from None
