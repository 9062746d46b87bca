"""Runtime settings from environment variables, with safe local defaults.

Secrets (the Rasa API token, the desk's service token) never live in files of the repo: they come from
the environment, or are generated once into ``var/`` (git-ignored) for a
local ``make run``.
"""

import os
import secrets
from dataclasses import dataclass

from bot.paths import VAR_DIR


def _generated_secret(name: str) -> str:
    path = VAR_DIR / f"{name}.secret"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


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

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}/webhook"

    @property
    def desk_url(self) -> str:
        return f"http://{self.host}:{self.desk_port}"


def load_settings() -> Settings:
    """Settings for this process: 127.0.0.1 unless ``CSKH_HOST`` says otherwise."""
    return Settings(
        host=os.environ.get("CSKH_HOST", "127.0.0.1"),
        rasa_port=int(os.environ.get("RASA_PORT", "5005")),
        action_port=int(os.environ.get("ACTION_PORT", "5055")),
        rasa_token=os.environ.get("RASA_AUTH_TOKEN") or _generated_secret("rasa_token"),
        tracker_db=os.environ.get("TRACKER_DB", str(VAR_DIR / "trackers.db")),
        desk_port=int(os.environ.get("DESK_PORT", "5006")),
        desk_token=os.environ.get("DESK_SERVICE_TOKEN") or _generated_secret("desk_token"),
    )


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
