"""When a ticket is due: support.yml's promised response time, counted in the desk's business hours.

"24 giờ" is 24 hours of open desk (a night or a Sunday does not count); "2 ngày làm việc" is the same
clock time on the second open day after (or that day's closing, if it closes earlier).
"""

import re
from datetime import datetime, timedelta

from bot.desk.hours import DeskConfig
from bot.support import issue_type_or_fallback

PROMISE = re.compile(r"^\s*(\d+)\s*(giờ|ngày)", re.IGNORECASE)


def _closing(config: DeskConfig, opened: datetime) -> datetime:
    """When the open span that ``opened`` (shop time, within business hours) is in ends."""
    return datetime.combine(opened.date(), config.hours[opened.weekday()][1], tzinfo=config.timezone)


def add_business_hours(config: DeskConfig, start: datetime, hours: float) -> datetime:
    left = timedelta(hours=hours)
    moment = config.next_opening(start)
    while True:
        closing = _closing(config, moment)
        if moment + left <= closing:
            return moment + left
        left -= closing - moment
        moment = config.next_opening(closing + timedelta(microseconds=1))


def add_business_days(config: DeskConfig, start: datetime, days: int) -> datetime:
    moment = config.local(start)
    for _ in range(days):
        day_after = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(), tzinfo=config.timezone)
        opening = config.next_opening(day_after)
        moment = min(opening.replace(hour=moment.hour, minute=moment.minute), _closing(config, opening))
        moment = max(moment, opening)
    return moment


def due_at(config: DeskConfig, created_at: datetime, issue_type: str) -> datetime:
    """The due time of a ticket of ``issue_type`` filed at ``created_at``; 24 business hours if unreadable."""
    found = PROMISE.match(issue_type_or_fallback(issue_type).response_time)
    amount, unit = (int(found.group(1)), found.group(2).lower()) if found else (24, "giờ")
    if unit == "ngày":
        return add_business_days(config, created_at, amount)
    return add_business_hours(config, created_at, amount)
