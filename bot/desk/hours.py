"""Business hours of the human desk, in the shop's time zone."""

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from bot.paths import DESK_FILE

logger = logging.getLogger(__name__)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class DeskConfig:
    """When agents work and the figures behind the waiting-time estimate."""

    timezone: ZoneInfo
    hours: dict[int, tuple[time, time]]  # weekday number (Monday = 0) -> opens, closes
    average_handle_minutes: float
    accept_timeout_minutes: float

    def local(self, moment: datetime) -> datetime:
        """``moment`` (timezone-aware) on the shop's clock."""
        return moment.astimezone(self.timezone)

    def is_open(self, moment: datetime) -> bool:
        """Whether agents are at work at ``moment``."""
        local = self.local(moment)
        span = self.hours.get(local.weekday())
        return span is not None and span[0] <= local.time() < span[1]

    def next_opening(self, moment: datetime) -> datetime:
        """The next time the desk opens at or after ``moment`` (shop time)."""
        local = self.local(moment)
        for days_ahead in range(8):
            day = local.date() + timedelta(days=days_ahead)
            span = self.hours.get(day.weekday())
            if not span:
                continue
            opening = datetime.combine(day, span[0], tzinfo=self.timezone)
            if opening >= local or (days_ahead == 0 and self.is_open(moment)):
                return max(opening, local)
        raise ValueError("the desk has no business hours at all")


def _clock(value: str) -> time:
    """ "08:00"; "24:00" means until midnight."""
    hours, minutes = value.split(":")
    return time.max if (int(hours), int(minutes)) == (24, 0) else time(int(hours), int(minutes))


def load_desk_config(path: Path = DESK_FILE) -> DeskConfig:
    """Reads ``path`` (the repo's desk.yml unless given); raises ValueError naming what is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        hours = {}
        for name, span in (raw.get("business_hours") or {}).items():
            if name not in WEEKDAYS:
                raise ValueError(f"unknown weekday '{name}' (use {', '.join(WEEKDAYS)})")
            opens, closes = _clock(span[0]), _clock(span[1])
            if opens >= closes:
                raise ValueError(f"{name}: opens at {span[0]} but closes at {span[1]}")
            hours[WEEKDAYS.index(name)] = (opens, closes)
        return DeskConfig(
            timezone=ZoneInfo(raw.get("timezone", "Asia/Ho_Chi_Minh")),
            hours=hours,
            average_handle_minutes=float(raw.get("average_handle_minutes", 6)),
            accept_timeout_minutes=float(raw.get("accept_timeout_minutes", 5)),
        )
    except (yaml.YAMLError, KeyError, IndexError, TypeError, ValueError) as error:
        raise ValueError(f"{path.name}: {error}") from error


class DeskConfigFile:
    """desk.yml re-read when it changes, so hours can be edited without a restart.

    A broken edit is logged and the last good configuration stays in force.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: float | None = None
        self._config = load_desk_config(self.path)
        self._stamp = self.path.stat().st_mtime

    def current(self) -> DeskConfig:
        try:
            stamp = self.path.stat().st_mtime
            if stamp != self._stamp:
                self._stamp = stamp
                self._config = load_desk_config(self.path)
        except (OSError, ValueError) as error:
            logger.error("%s not reloaded, keeping the previous settings: %s", self.path.name, error)
        return self._config
