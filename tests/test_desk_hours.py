"""Business hours in Asia/Ho_Chi_Minh, whatever the server's own clock says."""

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from bot import run
from bot.desk.hours import DeskConfig, load_desk_config
from bot.settings import Settings

VN = ZoneInfo("Asia/Ho_Chi_Minh")
WEEKDAYS_ONLY = DeskConfig(VN, {d: (time(8), time(21)) for d in range(5)}, 6, 5)


def vn(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


def test_open_inside_hours_in_the_shop_time_zone() -> None:
    assert WEEKDAYS_ONLY.is_open(vn(2026, 11, 25, 8, 0))  # Wednesday 08:00
    assert not WEEKDAYS_ONLY.is_open(vn(2026, 11, 25, 21, 0))
    # 01:30 UTC is 08:30 in Vietnam
    assert WEEKDAYS_ONLY.is_open(datetime(2026, 11, 25, 1, 30, tzinfo=timezone.utc))


def test_closed_on_days_without_hours() -> None:
    assert not WEEKDAYS_ONLY.is_open(vn(2026, 11, 28, 10, 0))  # Saturday


def test_next_opening_after_closing_is_the_next_working_morning() -> None:
    assert WEEKDAYS_ONLY.next_opening(vn(2026, 11, 25, 22, 15)) == vn(2026, 11, 26, 8, 0)
    assert WEEKDAYS_ONLY.next_opening(vn(2026, 11, 27, 21, 30)) == vn(2026, 11, 30, 8, 0)  # Fri -> Mon
    assert WEEKDAYS_ONLY.next_opening(vn(2026, 11, 25, 6, 0)) == vn(2026, 11, 25, 8, 0)


def test_next_opening_while_open_is_now() -> None:
    now = vn(2026, 11, 25, 10, 0)
    assert WEEKDAYS_ONLY.next_opening(now) == now


def test_shipped_desk_config_matches_the_published_agent_hours() -> None:
    config = load_desk_config()
    assert config.timezone.key == "Asia/Ho_Chi_Minh"
    assert all(config.hours[d] == (time(8), time(21)) for d in range(7))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("business_hours:\n  mon: ['21:00', '08:00']\n", "closes"),
        ("business_hours:\n  funday: ['08:00', '21:00']\n", "funday"),
        ("timezone: Mars/Olympus\n", "Mars"),
    ],
)
def test_a_broken_desk_config_is_named(tmp_path, content: str, problem: str) -> None:
    path = tmp_path / "desk.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        load_desk_config(path)


def test_make_run_says_whether_a_request_for_a_person_reaches_the_queue_now(tmp_path) -> None:
    (tmp_path / "desk.yml").write_text(
        "timezone: Asia/Ho_Chi_Minh\nbusiness_hours:\n  mon: ['08:00', '21:00']\n", encoding="utf-8"
    )
    settings = Settings.under(tmp_path, desk_config=tmp_path / "desk.yml")
    monday_night = datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)  # 23:00 in Ho Chi Minh City
    monday_noon = datetime(2026, 11, 30, 5, 0, tzinfo=timezone.utc)
    assert "every request for a person becomes a ticket" in run._desk_hours(settings, monday_night)
    assert "Mon 08:00" in run._desk_hours(settings, monday_night)
    assert "open now" in run._desk_hours(settings, monday_noon)
