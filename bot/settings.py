"""Every knob of the bot, read from the environment in this module and nowhere else.

A process builds one ``Settings`` (``Settings.from_environment()``) and passes it
(or the values it needs) to what it creates. What Rasa or rasa-sdk instantiate
without arguments (channels, the tracker store, the actions) asks
``current_settings()``. The supervisor hands settings to its children as
environment variables (``child_environment``), which they read back the same way.

Secrets (the Rasa API token, the desk's service token, the action server's
secret, the metrics scraper's token) never live in files of the repo: they come from the environment, or
are generated once into the var dir (git-ignored, 0700) for a local ``make run``.

Each door has its own bind address. Only the customers' webhooks follow
``CSKH_HOST``; Rasa's HTTP API (``RASA_API_HOST``), the action server
(``ACTION_HOST``), the desk's console (``DESK_HOST``) and its service API
(``DESK_API_HOST``) stay on 127.0.0.1 unless set themselves (bot/doors.py).
"""

import dataclasses
import ipaddress
import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.paths import (
    CONFIG_FILE,
    DATA_DIR,
    DESK_FILE,
    ENDPOINTS_FILE,
    FACEBOOK_POSTS_FILE,
    MODELS_DIR,
    NOTICES_FILE,
    VAR_DIR,
    private_var_dir,
)

LOOPBACK = "127.0.0.1"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Channel secrets named in credentials.yml. Rasa refuses to start on an unset
# ${VAR}, so each defaults to empty, which leaves that channel switched off
# (its webhook answers 503) until the shop sets it (docs/CHANNELS.md).
CHANNEL_ENV_DEFAULTS = {
    "ZALO_APP_ID": "",
    "ZALO_APP_SECRET": "",
    "ZALO_OA_SECRET_KEY": "",
    "ZALO_OA_ID": "",
    "ZALO_RATE_LIMIT_WAIT_SECONDS": "60",
    "ZALO_ACCESS_TOKEN": "",
    "ZALO_REFRESH_TOKEN": "",
    "ZALO_API_URL": "https://openapi.zalo.me",
    "ZALO_OAUTH_URL": "https://oauth.zaloapp.com",
    "FB_VERIFY_TOKEN": "",
    "FB_APP_SECRET": "",
    "FB_PAGE_ACCESS_TOKEN": "",
    "FB_GRAPH_URL": "https://graph.facebook.com/v19.0",
    # comments on the page's posts (connectors/messenger_comments.py): a public reply under the comment once it was
    # answered privately (off when empty), and whether complaints go to the desk ("desk") or are left alone
    "FB_COMMENT_PUBLIC_REPLY": "",
    "FB_COMMENT_COMPLAINTS": "ignore",
}


def _generated_secret(var_dir: Path, name: str) -> str:
    path = var_dir / f"{name}.secret"
    if not path.exists():
        private_var_dir(var_dir)
        try:  # created owner-only, not chmod-ed after: no moment where another user could read it
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process generated it first
            return path.read_text().strip()
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def connect_address(host: str) -> str:
    """The address a client on this machine uses for a server bound to ``host``."""
    if host in ("", "0.0.0.0", "::"):
        return LOOPBACK
    return f"[{host}]" if ":" in host else host


LOG_FORMATS = ("text", "json")


def _log_format(raw: str) -> str:
    if raw not in LOG_FORMATS:
        raise ValueError(f"CSKH_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {raw!r}")
    return raw


PAID_REPLY_POLICIES = ("warn", "allow", "block")


def _choice(variable: str, raw: str, allowed: tuple[str, ...] = PAID_REPLY_POLICIES) -> str:
    if raw not in allowed:
        raise ValueError(f"{variable} must be one of {', '.join(allowed)}, not {raw!r}")
    return raw


def _networks(raw: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in raw.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    """Where servers listen, how they authenticate, where data lives and how the bot behaves."""

    # where the servers listen
    host: str
    rasa_port: int
    action_port: int
    desk_port: int
    rasa_api_host: str
    action_host: str
    desk_host: str
    desk_api_host: str
    # secrets
    rasa_token: str = field(repr=False)
    desk_token: str = field(repr=False)
    action_token: str = field(repr=False)
    admin_password: str | None = field(repr=False)  # the first admin's; generated into var_dir when None
    secret_key: str | None = field(repr=False)  # encrypts stored Zalo tokens when set
    order_webhook_secret: str = field(repr=False)  # signs the shop's order-status webhook (docs/ORDER_API.md)
    # where data lives
    var_dir: Path
    database_url: str
    tracker_db: str
    demo_shop_db: Path
    desk_config: Path
    notices_config: Path  # order-update texts, ZNS templates, the Messenger tag (notices.yml)
    facebook_posts: Path  # the product each Facebook post sells, for comments under it (facebook_posts.yml)
    endpoints_file: Path
    # the training data (the admin retrain publishes the FAQ into it; held-out sets in its eval/) and the models
    data_dir: Path
    models_dir: Path
    model_config: Path  # Rasa's pipeline and policies (config.yml): what every training of the shop uses
    # the order system: the shop's own API when a URL is set, else the embedded demo shop
    order_api_url: str | None
    order_api_token: str | None = field(repr=False)
    order_api_timeout: float
    # the product catalog, the same way: the shop's own product API when a URL is set, else the embedded demo
    # catalog (docs/CATALOG_API.md); public_url is where customers reach the Rasa server, so a platform that
    # fetches pictures itself (Messenger) gets the demo catalog's pictures as full links; empty: widget only
    demo_catalog_db: Path
    catalog_api_url: str | None
    catalog_api_token: str | None = field(repr=False)
    catalog_api_timeout: float
    public_url: str
    # the desk and the doors
    desk_tick_seconds: float
    desk_live_url: str  # a redis:// URL where several desk instances share live updates; empty: one desk process
    secure_cookies: bool
    widget_origins: tuple[str, ...]
    trusted_proxies: tuple[Network, ...]  # whose X-Forwarded-For is believed; none by default
    log_level: str
    log_format: str  # "text", or "json": one JSON object per line, for a log collector
    metrics_token: str = field(repr=False)  # what Prometheus sends to every /metrics (docs/OPERATIONS.md)
    # the scaled-out stack (bot/scaled.py) and its benchmark's own stores
    action_balancer_url: str | None  # where Rasa reaches the actions when nginx fronts several servers
    # every Rasa server a new model must reach (the replicas behind nginx); empty: the one at rasa_url
    model_servers: tuple[str, ...]
    pg_url: str
    redis_url: str
    replicas: int
    # the widget's sockets shared by every replica through this Redis (a reply sent by any replica reaches
    # the replica holding the customer's socket); none: in the one Rasa server's memory
    widget_redis_url: str | None
    bench_pg_url: str
    bench_redis_url: str
    # Rasa's events to the desk through RabbitMQ (the scaled stack) instead of HTTP POSTs: a durable queue the
    # desk takes them from whenever it is up, so a desk outage loses none
    events_via_rabbitmq: bool
    rabbitmq_url: str = field(repr=False)  # may hold a password
    event_queue: str  # the durable queue, and the name of the fanout exchange Rasa publishes to
    # pictures and files of conversations (bot/attachments.py): under var_dir/attachments, or in this bucket of
    # an S3-compatible store; all of them together never above the quota
    attachments_quota_bytes: int
    attachments_s3_bucket: str
    attachments_s3_endpoint: str  # empty: AWS itself
    attachments_s3_region: str
    attachments_s3_access_key: str = field(repr=False)
    attachments_s3_secret_key: str = field(repr=False)
    # hosts the channels may download customers' pictures from although they resolve to a private or loopback
    # address (connectors/inbound_files.py refuses those otherwise): the tests' fake CDNs, an on-premises CDN
    media_private_hosts: tuple[str, ...] = ()
    # the platforms' messaging windows where the shop has a choice (bot/messaging_windows.py): Zalo replies 48 h-7 d
    # after the customer's last interaction may be billed (warn, allow or block them); Messenger replies after 24 h
    # need the Human Agent permission from Meta's App Review (on once it is granted)
    zalo_paid_replies: str = "warn"
    messenger_human_agent: bool = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        """The one reader of configuration: safe local defaults for everything ``environ`` leaves unset."""
        var_dir = Path(environ.get("CSKH_VAR_DIR") or VAR_DIR)

        def secret(variable: str, name: str) -> str:
            return environ.get(variable) or _generated_secret(var_dir, name)

        return cls(
            host=environ.get("CSKH_HOST", LOOPBACK),
            rasa_port=int(environ.get("RASA_PORT", "5005")),
            action_port=int(environ.get("ACTION_PORT", "5055")),
            desk_port=int(environ.get("DESK_PORT", "5006")),
            rasa_api_host=environ.get("RASA_API_HOST", LOOPBACK),
            action_host=environ.get("ACTION_HOST", LOOPBACK),
            desk_host=environ.get("DESK_HOST", LOOPBACK),
            desk_api_host=environ.get("DESK_API_HOST", LOOPBACK),
            rasa_token=secret("RASA_AUTH_TOKEN", "rasa_token"),
            desk_token=secret("DESK_SERVICE_TOKEN", "desk_token"),
            action_token=secret("ACTION_SERVER_TOKEN", "action_token"),
            admin_password=environ.get("CSKH_ADMIN_PASSWORD") or None,
            secret_key=environ.get("CSKH_SECRET_KEY") or None,
            order_webhook_secret=secret("ORDER_WEBHOOK_SECRET", "order_webhook_secret"),
            var_dir=var_dir,
            database_url=environ.get("CSKH_DATABASE_URL") or f"sqlite:///{var_dir / 'cskh.db'}",
            tracker_db=environ.get("TRACKER_DB") or str(var_dir / "trackers.db"),
            demo_shop_db=Path(environ.get("DEMO_SHOP_DB") or var_dir / "demo_shop.db"),
            desk_config=Path(environ.get("CSKH_DESK_CONFIG") or DESK_FILE),
            notices_config=Path(environ.get("CSKH_NOTICES_CONFIG") or NOTICES_FILE),
            facebook_posts=Path(environ.get("CSKH_FACEBOOK_POSTS") or FACEBOOK_POSTS_FILE),
            endpoints_file=Path(environ.get("CSKH_ENDPOINTS") or ENDPOINTS_FILE),
            data_dir=Path(environ.get("CSKH_DATA_DIR") or DATA_DIR),
            models_dir=Path(environ.get("CSKH_MODELS_DIR") or MODELS_DIR),
            model_config=Path(environ.get("CSKH_MODEL_CONFIG") or CONFIG_FILE),
            order_api_url=environ.get("ORDER_API_URL") or None,
            order_api_token=environ.get("ORDER_API_TOKEN") or None,
            order_api_timeout=float(environ.get("ORDER_API_TIMEOUT", "3")),
            demo_catalog_db=Path(environ.get("DEMO_CATALOG_DB") or var_dir / "demo_catalog.db"),
            catalog_api_url=environ.get("CATALOG_API_URL") or None,
            catalog_api_token=environ.get("CATALOG_API_TOKEN") or None,
            catalog_api_timeout=float(environ.get("CATALOG_API_TIMEOUT", "3")),
            public_url=environ.get("CSKH_PUBLIC_URL", "").rstrip("/"),
            desk_tick_seconds=float(environ.get("CSKH_DESK_TICK_SECONDS", "5")),
            desk_live_url=environ.get("CSKH_DESK_LIVE_URL", ""),
            secure_cookies=environ.get("CSKH_SECURE_COOKIES") == "1",
            widget_origins=tuple(environ.get("CSKH_WIDGET_ORIGINS", "*").split()),
            trusted_proxies=_networks(environ.get("CSKH_TRUSTED_PROXIES", "")),
            log_level=environ.get("LOG_LEVEL", "INFO"),
            log_format=_log_format(environ.get("CSKH_LOG_FORMAT", "text")),
            metrics_token=secret("CSKH_METRICS_TOKEN", "metrics_token"),
            action_balancer_url=environ.get("ACTION_SERVER_URL") or None,
            model_servers=tuple(environ.get("CSKH_MODEL_SERVERS", "").split()),
            pg_url=environ.get("CSKH_PG_URL", "postgresql://postgres@127.0.0.1:5432/cskh"),
            redis_url=environ.get("CSKH_REDIS_URL", "redis://127.0.0.1:6379/0"),
            replicas=int(environ.get("CSKH_REPLICAS", "2")),
            widget_redis_url=environ.get("CSKH_WIDGET_REDIS_URL") or None,
            bench_pg_url=environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/cskh_bench"),
            bench_redis_url=environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
            events_via_rabbitmq=environ.get("CSKH_EVENTS_VIA_RABBITMQ") == "1",
            rabbitmq_url=environ.get("CSKH_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"),
            event_queue=environ.get("CSKH_EVENT_QUEUE", "cskh_desk_events"),
            attachments_quota_bytes=int(environ.get("CSKH_ATTACHMENTS_QUOTA_MB", "2048")) * 1024 * 1024,
            attachments_s3_bucket=environ.get("CSKH_ATTACHMENTS_S3_BUCKET", ""),
            attachments_s3_endpoint=environ.get("CSKH_ATTACHMENTS_S3_ENDPOINT", ""),
            attachments_s3_region=environ.get("CSKH_ATTACHMENTS_S3_REGION", "us-east-1"),
            attachments_s3_access_key=environ.get("CSKH_ATTACHMENTS_S3_ACCESS_KEY", ""),
            attachments_s3_secret_key=environ.get("CSKH_ATTACHMENTS_S3_SECRET_KEY", ""),
            media_private_hosts=tuple(environ.get("CSKH_MEDIA_PRIVATE_HOSTS", "").split()),
            zalo_paid_replies=_choice("CSKH_ZALO_PAID_REPLIES", environ.get("CSKH_ZALO_PAID_REPLIES", "warn")),
            messenger_human_agent=environ.get("FB_HUMAN_AGENT") == "1",
        )

    @classmethod
    def under(cls, folder: Path, /, **changes: Any) -> "Settings":
        """The defaults with ``folder`` as the var dir, so every file lands there (tests, benchmarks),
        then ``changes``."""
        return dataclasses.replace(cls.from_environment({"CSKH_VAR_DIR": str(folder)}), **changes)

    def to_environment(self) -> dict[str, str]:
        """These settings as the variables ``from_environment`` reads: how a child process receives them."""
        optional = {
            "CSKH_ADMIN_PASSWORD": self.admin_password,
            "CSKH_SECRET_KEY": self.secret_key,
            "ORDER_API_URL": self.order_api_url,
            "ORDER_API_TOKEN": self.order_api_token,
            "CATALOG_API_URL": self.catalog_api_url,
            "CATALOG_API_TOKEN": self.catalog_api_token,
            "ACTION_SERVER_URL": self.action_balancer_url,
            "CSKH_WIDGET_REDIS_URL": self.widget_redis_url,
        }
        return {
            "CSKH_HOST": self.host,
            "RASA_PORT": str(self.rasa_port),
            "ACTION_PORT": str(self.action_port),
            "DESK_PORT": str(self.desk_port),
            "RASA_API_HOST": self.rasa_api_host,
            "ACTION_HOST": self.action_host,
            "DESK_HOST": self.desk_host,
            "DESK_API_HOST": self.desk_api_host,
            "RASA_AUTH_TOKEN": self.rasa_token,
            "DESK_SERVICE_TOKEN": self.desk_token,
            "ACTION_SERVER_TOKEN": self.action_token,
            "CSKH_VAR_DIR": str(self.var_dir),
            "CSKH_DATABASE_URL": self.database_url,
            "TRACKER_DB": self.tracker_db,
            "DEMO_SHOP_DB": str(self.demo_shop_db),
            "CSKH_DESK_CONFIG": str(self.desk_config),
            "CSKH_NOTICES_CONFIG": str(self.notices_config),
            "CSKH_FACEBOOK_POSTS": str(self.facebook_posts),
            "ORDER_WEBHOOK_SECRET": self.order_webhook_secret,
            "CSKH_ENDPOINTS": str(self.endpoints_file),
            "CSKH_DATA_DIR": str(self.data_dir),
            "CSKH_MODELS_DIR": str(self.models_dir),
            "CSKH_MODEL_CONFIG": str(self.model_config),
            "ORDER_API_TIMEOUT": str(self.order_api_timeout),
            "DEMO_CATALOG_DB": str(self.demo_catalog_db),
            "CATALOG_API_TIMEOUT": str(self.catalog_api_timeout),
            "CSKH_PUBLIC_URL": self.public_url,
            "CSKH_DESK_TICK_SECONDS": str(self.desk_tick_seconds),
            "CSKH_DESK_LIVE_URL": self.desk_live_url,
            "CSKH_SECURE_COOKIES": "1" if self.secure_cookies else "0",
            "CSKH_WIDGET_ORIGINS": " ".join(self.widget_origins),
            "CSKH_TRUSTED_PROXIES": ",".join(str(network) for network in self.trusted_proxies),
            "LOG_LEVEL": self.log_level,
            "CSKH_LOG_FORMAT": self.log_format,
            "CSKH_METRICS_TOKEN": self.metrics_token,
            "CSKH_MODEL_SERVERS": " ".join(self.model_servers),
            "CSKH_PG_URL": self.pg_url,
            "CSKH_REDIS_URL": self.redis_url,
            "CSKH_REPLICAS": str(self.replicas),
            "BENCH_PG_URL": self.bench_pg_url,
            "BENCH_REDIS_URL": self.bench_redis_url,
            "CSKH_EVENTS_VIA_RABBITMQ": "1" if self.events_via_rabbitmq else "0",
            "CSKH_RABBITMQ_URL": self.rabbitmq_url,
            "CSKH_EVENT_QUEUE": self.event_queue,
            "CSKH_ATTACHMENTS_QUOTA_MB": str(self.attachments_quota_bytes // (1024 * 1024)),
            "CSKH_ATTACHMENTS_S3_BUCKET": self.attachments_s3_bucket,
            "CSKH_ATTACHMENTS_S3_ENDPOINT": self.attachments_s3_endpoint,
            "CSKH_ATTACHMENTS_S3_REGION": self.attachments_s3_region,
            "CSKH_ATTACHMENTS_S3_ACCESS_KEY": self.attachments_s3_access_key,
            "CSKH_ATTACHMENTS_S3_SECRET_KEY": self.attachments_s3_secret_key,
            "CSKH_MEDIA_PRIVATE_HOSTS": " ".join(self.media_private_hosts),
            "CSKH_ZALO_PAID_REPLIES": self.zalo_paid_replies,
            "FB_HUMAN_AGENT": "1" if self.messenger_human_agent else "0",
            **{name: value for name, value in optional.items() if value is not None},
        }

    @property
    def rasa_url(self) -> str:
        """Where this machine's tools reach Rasa: its HTTP API and, on the same server, the webhooks."""
        return f"http://{connect_address(self.rasa_api_host)}:{self.rasa_port}"

    @property
    def model_server_urls(self) -> tuple[str, ...]:
        """Where a new model is loaded (``PUT /model``): every replica, not the one nginx happens to pick."""
        return self.model_servers or (self.rasa_url,)

    @property
    def action_url(self) -> str:
        return f"http://{connect_address(self.action_host)}:{self.action_port}/webhook"

    @property
    def action_endpoint_url(self) -> str:
        """Where Rasa sends action calls: the balancer in front of the action servers, or the one server."""
        return self.action_balancer_url or self.action_url

    @property
    def desk_url(self) -> str:
        """Where Rasa's event broker and the actions reach the desk's service API."""
        return f"http://{connect_address(self.desk_api_host)}:{self.desk_port}"

    @property
    def admin_password_file(self) -> Path:
        """Where a generated first-admin password is kept for ``make run`` to point at."""
        return self.var_dir / "admin_password.secret"


# Every variable ``from_environment`` reads (tests/test_settings.py holds the two lists together):
# a child of the stack gets these from its settings, never from its parent's environment.
KNOBS = frozenset(
    {
        "CSKH_HOST", "RASA_PORT", "ACTION_PORT", "DESK_PORT",
        "RASA_API_HOST", "ACTION_HOST", "DESK_HOST", "DESK_API_HOST",
        "RASA_AUTH_TOKEN", "DESK_SERVICE_TOKEN", "ACTION_SERVER_TOKEN", "CSKH_ADMIN_PASSWORD", "CSKH_SECRET_KEY",
        "CSKH_VAR_DIR", "CSKH_DATABASE_URL", "TRACKER_DB", "DEMO_SHOP_DB", "CSKH_DESK_CONFIG", "CSKH_ENDPOINTS",
        "CSKH_NOTICES_CONFIG", "CSKH_FACEBOOK_POSTS", "ORDER_WEBHOOK_SECRET", "CSKH_DATA_DIR", "CSKH_MODELS_DIR",
        "CSKH_MODEL_CONFIG",
        "ORDER_API_URL", "ORDER_API_TOKEN", "ORDER_API_TIMEOUT", "CSKH_DESK_TICK_SECONDS", "CSKH_DESK_LIVE_URL",
        "DEMO_CATALOG_DB", "CATALOG_API_URL", "CATALOG_API_TOKEN", "CATALOG_API_TIMEOUT", "CSKH_PUBLIC_URL",
        "CSKH_SECURE_COOKIES", "CSKH_WIDGET_ORIGINS", "CSKH_TRUSTED_PROXIES", "LOG_LEVEL", "CSKH_LOG_FORMAT",
        "CSKH_METRICS_TOKEN", "ACTION_SERVER_URL", "CSKH_MODEL_SERVERS",
        "CSKH_PG_URL", "CSKH_REDIS_URL", "CSKH_REPLICAS", "BENCH_PG_URL", "BENCH_REDIS_URL",
        "CSKH_WIDGET_REDIS_URL",
        "CSKH_EVENTS_VIA_RABBITMQ", "CSKH_RABBITMQ_URL", "CSKH_EVENT_QUEUE",
        "CSKH_ATTACHMENTS_QUOTA_MB", "CSKH_ATTACHMENTS_S3_BUCKET", "CSKH_ATTACHMENTS_S3_ENDPOINT",
        "CSKH_ATTACHMENTS_S3_REGION", "CSKH_ATTACHMENTS_S3_ACCESS_KEY", "CSKH_ATTACHMENTS_S3_SECRET_KEY",
        "CSKH_MEDIA_PRIVATE_HOSTS", "CSKH_ZALO_PAID_REPLIES", "FB_HUMAN_AGENT",
    }
)  # fmt: skip

_in_force: Settings | None = None


def current_settings() -> Settings:
    """This process's settings, for what Rasa or rasa-sdk instantiate without arguments.

    Built from the environment on first use; ``settings_in_force`` replaces them.
    """
    global _in_force
    if _in_force is None:
        _in_force = Settings.from_environment()
    return _in_force


@contextmanager
def settings_in_force(settings: Settings) -> Iterator[Settings]:
    """Makes ``settings`` this process's own for the block: how tests run channels and actions in-process."""
    global _in_force
    previous, _in_force = _in_force, settings
    try:
        yield settings
    finally:
        _in_force = previous


def trusted_proxies() -> tuple[Network, ...]:
    """The current settings' reverse proxies, for the channels' guard (connectors/guard.py) Rasa builds."""
    return current_settings().trusted_proxies


def inherited_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment and ``extra``: for a tool it runs (``rasa train``), which needs PATH and locale."""
    return {**os.environ, **(extra or {})}


def child_environment(settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a server of the stack: this one's (PATH, locale, the shop's channel secrets) without
    any knob, then ``settings`` as variables, then ``extra``; the channels' empty defaults under all.
    """
    inherited = {name: value for name, value in os.environ.items() if name not in KNOBS}
    return {**CHANNEL_ENV_DEFAULTS, **inherited, **settings.to_environment(), **(extra or {})}


def publish(values: Mapping[str, str]) -> None:
    """Puts ``values`` in this process's environment for the libraries that read it there
    (Rasa's ``${VAR}``s in endpoints.yml and credentials.yml).
    """
    os.environ.update(values)


def publish_for_rasa(settings: Settings) -> None:
    """The ``${VAR}``s of endpoints.yml and credentials.yml, which Rasa substitutes from the environment:
    the settings' own, and the channels' empty defaults where the shop set none.
    """
    publish({name: default for name, default in CHANNEL_ENV_DEFAULTS.items() if name not in os.environ})
    publish(
        {
            "ACTION_SERVER_URL": settings.action_endpoint_url,
            "ACTION_SERVER_TOKEN": settings.action_token,  # endpoints.yml sends it to the actions
            "TRACKER_DB": settings.tracker_db,
            "DESK_URL": settings.desk_url,
            "DESK_SERVICE_TOKEN": settings.desk_token,
        }
    )
