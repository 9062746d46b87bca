"""A ticket's due time is support.yml's promise counted in the desk's open hours: a night or a closed day
does not eat into it."""

from datetime import datetime, time

from bot.desk.due_times import due_at
from bot.desk.hours import DeskConfig
from bot.tickets import SHOP_TIMEZONE

# Monday to Friday 08:00-17:00; closed at the weekend
WEEKDAYS_9_HOURS = DeskConfig(SHOP_TIMEZONE, {day: (time(8), time(17)) for day in range(5)}, 6, 5)


def shop(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHOP_TIMEZONE)  # 2026-12-07 is a Monday


def test_hours_count_only_while_the_desk_is_open() -> None:
    # late_delivery promises 12 hours: Monday 15:00 + 2 h (to 17:00) + 9 h Tuesday + 1 h Wednesday
    assert due_at(WEEKDAYS_9_HOURS, shop(7, 15), "late_delivery") == shop(9, 9)
    # filed on Friday evening: the clock starts on Monday morning
    assert due_at(WEEKDAYS_9_HOURS, shop(11, 20), "late_delivery") == shop(15, 11)


def test_working_days_skip_the_weekend() -> None:
    # payment promises 2 working days: Thursday 10:30 -> Monday 10:30
    assert due_at(WEEKDAYS_9_HOURS, shop(10, 10, 30), "payment") == shop(14, 10, 30)


def test_an_unknown_issue_type_gets_the_fallbacks_24_hours() -> None:
    assert due_at(WEEKDAYS_9_HOURS, shop(7, 8), "nonsense") == shop(9, 14)
