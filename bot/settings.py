"""Runtime settings from environment variables, with safe local defaults.

Secrets (the Rasa API token, the desk's service token, the action server's
secret) never live in files of the repo: they come from the environment, or
are generated once into ``var/`` (git-ignored, 0700) for a local ``make run``.

Each door has its own bind address. Only the customers' webhooks follow
``CSKH_HOST``; Rasa's HTTP API (``RASA_API_HOST``), the action server
(``ACTION_HOST``), the desk's console (``DESK_HOST``) and its service API
(``DESK_API_HOST``) stay on 127.0.0.1 unless set themselves (bot/doors.py).
"""

import ipaddress
import os
import secrets
from dataclasses import dataclass, field

from bot.paths import VAR_DIR, private_var_dir

LOOPBACK = "127.0.0.1"


def _generated_secret(name: str) -> str:
    path = VAR_DIR / f"{name}.secret"
    if not path.exists():
        private_var_dir()
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


@dataclass(frozen=True)
class Settings:
    """Where servers listen and how they authenticate."""

    host: str
    rasa_port: int
    action_port: int
    rasa_token: str
    tracker_db: str
    desk_port: int
    desk_token: str
    # a fresh secret unless given: Rasa and the action server get it from the supervisor either way
    action_token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    rasa_api_host: str = LOOPBACK
    action_host: str = LOOPBACK
    desk_host: str = LOOPBACK
    desk_api_host: str = LOOPBACK

    @property
    def rasa_url(self) -> str:
        """Where this machine's tools reach Rasa: its HTTP API and, on the same server, the webhooks."""
        return f"http://{connect_address(self.rasa_api_host)}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{connect_address(self.action_host)}:{self.action_port}/webhook"

    @property
    def desk_url(self) -> str:
        """Where Rasa's event broker and the actions reach the desk's service API."""
        return f"http://{connect_address(self.desk_api_host)}:{self.desk_port}"


def load_settings() -> Settings:
    """Settings for this process: every server on 127.0.0.1 unless its own variable says otherwise."""
    return Settings(
        host=os.environ.get("CSKH_HOST", LOOPBACK),
        rasa_port=int(os.environ.get("RASA_PORT", "5005")),
        action_port=int(os.environ.get("ACTION_PORT", "5055")),
        rasa_token=os.environ.get("RASA_AUTH_TOKEN") or _generated_secret("rasa_token"),
        tracker_db=os.environ.get("TRACKER_DB", str(VAR_DIR / "trackers.db")),
        desk_port=int(os.environ.get("DESK_PORT", "5006")),
        desk_token=os.environ.get("DESK_SERVICE_TOKEN") or _generated_secret("desk_token"),
        action_token=os.environ.get("ACTION_SERVER_TOKEN") or _generated_secret("action_token"),
        rasa_api_host=os.environ.get("RASA_API_HOST", LOOPBACK),
        action_host=os.environ.get("ACTION_HOST", LOOPBACK),
        desk_host=os.environ.get("DESK_HOST", LOOPBACK),
        desk_api_host=os.environ.get("DESK_API_HOST", LOOPBACK),
    )


def trusted_proxies() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``CSKH_TRUSTED_PROXIES``: the reverse proxies (addresses or networks, comma-separated) whose
    X-Forwarded-For is believed. None by default: a client must not choose the address it is counted under.
    """
    raw = os.environ.get("CSKH_TRUSTED_PROXIES", "")
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in raw.split(",") if item.strip())


# Channel secrets named in credentials.yml. Rasa refuses to start on an unset
# ${VAR}, so each defaults to empty, which leaves that channel switched off
# (its webhook answers 503) until the shop sets it (docs/CHANNELS.md).
CHANNEL_ENV_DEFAULTS = {
    "ZALO_APP_ID": "",
    "ZALO_APP_SECRET": "",
    "ZALO_OA_SECRET_KEY": "",
    "ZALO_ACCESS_TOKEN": "",
    "ZALO_REFRESH_TOKEN": "",
    "ZALO_API_URL": "https://openapi.zalo.me",
    "ZALO_OAUTH_URL": "https://oauth.zaloapp.com",
    "FB_VERIFY_TOKEN": "",
    "FB_APP_SECRET": "",
    "FB_PAGE_ACCESS_TOKEN": "",
    "FB_GRAPH_URL": "https://graph.facebook.com/v19.0",
}
