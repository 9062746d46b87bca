"""Business hours of the human desk, in the shop's time zone, less public holidays and the shop's closures.

Vietnam's public holidays (Tết included) come from the ``holidays`` package, which ships its calendars:
nothing is fetched at run time. It knows the Labour Code's days off, the "nghỉ bù" days that replace a
holiday falling on a weekend, and the government's day swaps up to the package's release; any other day
the shop shuts (a longer Tết, a later swap) goes under ``closures`` in desk.yml.
"""

import functools
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
import yaml

from bot.paths import DESK_FILE

logger = logging.getLogger(__name__)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# desk.yml's ``holidays:`` -> the package's country code; None: weekdays only
HOLIDAY_CALENDARS = {"vietnam": "VN", "none": None}
# a shop that never opens again is a typo in desk.yml, not a reason to search forever
SEARCH_DAYS = 3660
DATE_HELP = "write YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD / ghi ngày theo dạng năm-tháng-ngày, vd. 2027-02-05..2027-02-12"


@dataclass(frozen=True)
class Closure:
    """Days the shop itself shuts, first and last included."""

    first: date
    last: date

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class DayOff:
    """A working weekday on which the desk stays shut."""

    day: date
    holiday: str | None  # the public holiday's Vietnamese name; None: one of the shop's own closures


@functools.lru_cache(maxsize=64)
def _public_holidays(country: str, year: int) -> dict[date, str]:
    """One year of a country's public holidays, named in Vietnamese; built once per process."""
    return dict(holiday_calendars.country_holidays(country, years=year, language="vi"))


@dataclass(frozen=True)
class DeskConfig:
    """When agents work and the figures behind the waiting-time estimate."""

    timezone: ZoneInfo
    hours: dict[int, tuple[time, time]]  # weekday number (Monday = 0) -> opens, closes
    average_handle_minutes: float
    accept_timeout_minutes: float
    public_holidays: str | None = None  # a country code of the ``holidays`` package, None: none
    closures: tuple[Closure, ...] = ()

    def local(self, moment: datetime) -> datetime:
        """``moment`` (timezone-aware) on the shop's clock."""
        return moment.astimezone(self.timezone)

    def day_off(self, day: date) -> DayOff | None:
        """Why the desk stays shut all ``day`` whatever its weekday's hours, or None."""
        if any(closure.covers(day) for closure in self.closures):
            return DayOff(day, None)
        if self.public_holidays is None:
            return None
        name = _public_holidays(self.public_holidays, day.year).get(day)
        return DayOff(day, name) if name else None

    def _span(self, day: date) -> tuple[time, time] | None:
        """The day's working hours, None when it has none or is a day off."""
        span = self.hours.get(day.weekday())
        return None if span is None or self.day_off(day) else span

    def is_open(self, moment: datetime) -> bool:
        """Whether agents are at work at ``moment``."""
        local = self.local(moment)
        span = self._span(local.date())
        return span is not None and span[0] <= local.time() < span[1]

    def next_opening(self, moment: datetime) -> datetime:
        """The next time the desk opens at or after ``moment`` (shop time)."""
        if not self.hours:
            raise ValueError("the desk has no business hours at all")
        if self.is_open(moment):
            return self.local(moment)
        local = self.local(moment)
        for days_ahead in range(SEARCH_DAYS):
            day = local.date() + timedelta(days=days_ahead)
            span = self._span(day)
            if span and datetime.combine(day, span[0], tzinfo=self.timezone) >= local:
                return datetime.combine(day, span[0], tzinfo=self.timezone)
        raise ValueError(f"the desk does not open in the {SEARCH_DAYS} days after {local:%Y-%m-%d}")

    def days_off_between(self, start: date, end: date) -> list[DayOff]:
        """Working weekdays from ``start`` up to, not including, ``end`` on which the desk stays shut."""
        found = []
        for offset in range((end - start).days):
            day = start + timedelta(days=offset)
            off = self.day_off(day) if day.weekday() in self.hours else None
            if off:
                found.append(off)
        return found

    def next_break(self, moment: datetime, within_days: int = 366) -> list[DayOff]:
        """The next run of days off from ``moment``'s day on (holidays and closures), up to the reopening."""
        today = self.local(moment).date()
        for offset in range(within_days):
            day = today + timedelta(days=offset)
            if day.weekday() in self.hours and self.day_off(day):
                reopening = self.next_opening(datetime.combine(day, time.min, tzinfo=self.timezone))
                return self.days_off_between(day, reopening.date())
        return []


def _clock(value: str) -> time:
    """ "08:00"; "24:00" means until midnight."""
    hours, minutes = value.split(":")
    return time.max if (int(hours), int(minutes)) == (24, 0) else time(int(hours), int(minutes))


def _day(text: str, item: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"closures: '{item}' is not a date: {DATE_HELP}") from None


def _closure(item: Any) -> Closure:
    """ "2027-02-05" or "2027-02-05..2027-02-12" (both days closed)."""
    if not isinstance(item, str):
        raise ValueError(f"closures: '{item}' is not a date: {DATE_HELP}")
    first, _, last = item.partition("..")
    closure = Closure(_day(first, item), _day(last or first, item))
    if closure.last < closure.first:
        raise ValueError(f"closures: '{item}' ends before it starts / ngày kết thúc trước ngày bắt đầu")
    return closure


class _DatesAsText(yaml.SafeLoader):
    """YAML that leaves 2027-02-30 as text, so a wrong date gets our message rather than the parser's."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_desk_config(path: Path = DESK_FILE) -> DeskConfig:
    """Reads ``path`` (the repo's desk.yml unless given); raises ValueError naming what is wrong."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_DatesAsText) or {}
        hours = {}
        for name, span in (raw.get("business_hours") or {}).items():
            if name not in WEEKDAYS:
                raise ValueError(f"unknown weekday '{name}' (use {', '.join(WEEKDAYS)})")
            opens, closes = _clock(span[0]), _clock(span[1])
            if opens >= closes:
                raise ValueError(f"{name}: opens at {span[0]} but closes at {span[1]}")
            hours[WEEKDAYS.index(name)] = (opens, closes)
        calendar = str(raw.get("holidays", "vietnam")).strip().lower()
        if calendar not in HOLIDAY_CALENDARS:
            raise ValueError(f"holidays: '{calendar}' is unknown (use {' or '.join(HOLIDAY_CALENDARS)})")
        closures = raw.get("closures") or []
        if not isinstance(closures, list):
            raise ValueError(f"closures: a list of dates, one per line starting with '- ' ({DATE_HELP})")
        config = DeskConfig(
            timezone=ZoneInfo(raw.get("timezone", "Asia/Ho_Chi_Minh")),
            hours=hours,
            average_handle_minutes=float(raw.get("average_handle_minutes", 6)),
            accept_timeout_minutes=float(raw.get("accept_timeout_minutes", 5)),
            public_holidays=HOLIDAY_CALENDARS[calendar],
            closures=tuple(_closure(item) for item in closures),
        )
        config.day_off(date.today())  # the package's first calendar takes ~0.3 s: at start, not in a hand-off
        return config
    except (yaml.YAMLError, AttributeError, KeyError, IndexError, TypeError, ValueError) as error:
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
