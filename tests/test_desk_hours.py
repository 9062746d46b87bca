"""Business hours in Asia/Ho_Chi_Minh, whatever the server's own clock says, less holidays and closures."""

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from bot import run
from bot.desk.hours import DeskConfig, DeskConfigFile, load_desk_config
from bot.desk.texts import callback_promise
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
    # the next day off on which this Mondays-only desk would have opened
    assert "next day off Mon 08/02/2027 (Mùng ba Tết Nguyên Đán)" in run._desk_hours(settings, monday_night)
    assert "open now" in run._desk_hours(settings, monday_noon)


# --- public holidays (desk.yml ``holidays: vietnam``, the default) and the shop's own closures ---


def desk_yml(tmp_path, extra: str = "") -> DeskConfig:
    """Open 08:00-21:00 every day, like the shipped desk.yml, plus ``extra`` lines."""
    days = "".join(f"  {day}: ['08:00', '21:00']\n" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    path = tmp_path / "desk.yml"
    path.write_text(f"timezone: Asia/Ho_Chi_Minh\nbusiness_hours:\n{days}{extra}", encoding="utf-8")
    return load_desk_config(path)


def test_on_30_april_the_call_back_is_promised_for_after_the_holiday(tmp_path) -> None:
    config = desk_yml(tmp_path)
    morning = vn(2026, 4, 30, 10, 0)  # Thursday, Ngày Chiến thắng, then 1/5 (Friday)
    assert not config.is_open(morning)
    assert config.next_opening(morning) == vn(2026, 5, 2, 8, 0)
    assert callback_promise(config, morning, "24 giờ") == "sau kỳ nghỉ lễ, từ 08:00 thứ Bảy (02/05), trong vòng 24 giờ"


def test_during_tet_2027_the_promise_points_to_the_first_working_day_after_tet(tmp_path) -> None:
    config = desk_yml(tmp_path)
    eve = vn(2027, 2, 3, 22, 30)  # Wednesday night; 29 Tết (4/2) to Mùng năm (10/2) are days off
    assert not config.is_open(vn(2027, 2, 6, 10, 0))  # Mùng một, a Saturday the shop normally opens
    assert config.next_opening(eve) == vn(2027, 2, 11, 8, 0)
    assert callback_promise(config, eve, "24 giờ") == "sau Tết, từ 08:00 thứ Năm (11/02), trong vòng 24 giờ"
    assert callback_promise(config, vn(2027, 2, 11, 9, 0), "24 giờ") == "trong vòng 24 giờ"


def test_the_shops_own_closure_extends_tet(tmp_path) -> None:
    config = desk_yml(tmp_path, "closures:\n  - 2027-02-11..2027-02-13  # nghỉ Tết thêm\n  - 2027-03-08\n")
    assert config.next_opening(vn(2027, 2, 3, 22, 30)) == vn(2027, 2, 14, 8, 0)
    assert "sau Tết, từ 08:00 Chủ nhật (14/02)" in callback_promise(config, vn(2027, 2, 3, 22, 30), "24 giờ")
    assert not config.is_open(vn(2027, 3, 8, 12, 0)) and config.is_open(vn(2027, 3, 9, 12, 0))
    only_closed = callback_promise(config, vn(2027, 3, 7, 21, 0), "4 giờ")
    assert only_closed == "sau kỳ nghỉ của shop, từ 08:00 thứ Ba (09/03), trong vòng 4 giờ"


def test_holidays_none_restores_the_weekday_only_hours(tmp_path) -> None:
    config = desk_yml(tmp_path, "holidays: none\n")
    assert config.is_open(vn(2026, 4, 30, 10, 0))
    assert config.next_opening(vn(2027, 2, 3, 22, 30)) == vn(2027, 2, 4, 8, 0)


def test_a_holiday_on_a_day_without_hours_moves_nothing() -> None:
    calendar = DeskConfig(VN, WEEKDAYS_ONLY.hours, 6, 5, public_holidays="VN")
    friday_night = vn(2027, 5, 7, 22, 0)  # a week after 1/5; nothing off until the next Monday
    assert calendar.next_opening(friday_night) == vn(2027, 5, 10, 8, 0)
    assert callback_promise(calendar, friday_night, "24 giờ") == "từ 08:00 thứ Hai (10/05), trong vòng 24 giờ"


def test_the_shipped_desk_yml_keeps_vietnams_holidays() -> None:
    assert not load_desk_config().is_open(vn(2026, 9, 2, 10, 0))  # Quốc khánh


@pytest.mark.parametrize(
    ("closures", "problem"),
    [
        ("  - 2027-02-30\n", "'2027-02-30' is not a date"),
        ("  - 2027-02-12..2027-02-05\n", "ends before it starts"),
        ("  - 5/2/2027\n", "năm-tháng-ngày"),
        ("  - 20270205\n", "'20270205' is not a date"),
        ("  2027-02-05\n", "a list of dates"),
    ],
)
def test_a_bad_closure_date_is_named_in_both_languages(tmp_path, closures: str, problem: str) -> None:
    path = tmp_path / "desk.yml"
    path.write_text(f"business_hours:\n  mon: ['08:00', '21:00']\nclosures:\n{closures}", encoding="utf-8")
    with pytest.raises(ValueError, match=problem) as error:
        load_desk_config(path)
    assert str(error.value).startswith("desk.yml: closures")


def test_an_unknown_holiday_calendar_is_named(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"holidays: 'thailand' is unknown \(use vietnam or none\)"):
        desk_yml(tmp_path, "holidays: thailand\n")


def test_a_bad_closure_in_an_edit_keeps_the_running_desk_on_its_last_good_days(tmp_path) -> None:
    path = tmp_path / "desk.yml"
    desk_yml(tmp_path, "closures:\n  - 2027-03-08\n")
    config_file = DeskConfigFile(path)
    path.write_text(path.read_text(encoding="utf-8").replace("2027-03-08", "2027-03-32"), encoding="utf-8")
    assert not config_file.current().is_open(vn(2027, 3, 8, 12, 0))


def test_make_run_refuses_a_broken_desk_yml_with_its_message(tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "desk.yml").write_text("closures:\n  - 2027-02-30\n", encoding="utf-8")
    monkeypatch.setattr(run, "current_settings", lambda: Settings.under(tmp_path, desk_config=tmp_path / "desk.yml"))
    assert run.main() == 1
    assert "Cannot start: desk.yml: closures: '2027-02-30' is not a date" in capsys.readouterr().out
