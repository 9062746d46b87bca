"""What customers are told about waiting and call-backs, on the shop's clock."""

from datetime import datetime, timezone
from pathlib import Path

from bot.desk.hours import DeskConfigFile, load_desk_config
from bot.desk.texts import callback_promise, csat_buttons, wait_text

CONFIG = load_desk_config()  # desk.yml: 08:00-21:00 every day, Asia/Ho_Chi_Minh


def test_inside_hours_the_call_back_is_within_the_teams_promise() -> None:
    noon = datetime(2026, 11, 25, 5, 0, tzinfo=timezone.utc)  # 12:00 in Hà Nội
    assert callback_promise(CONFIG, noon, "12 giờ") == "trong vòng 12 giờ"


def test_after_closing_the_call_back_starts_at_the_next_opening() -> None:
    late = datetime(2026, 11, 25, 15, 30, tzinfo=timezone.utc)  # 22:30 Wednesday in Hà Nội
    assert callback_promise(CONFIG, late, "24 giờ") == "từ 08:00 ngày mai (26/11), trong vòng 24 giờ"


def test_wait_text_gives_place_and_minutes_only_when_they_are_known() -> None:
    assert wait_text(2, 9) == "Bạn đang ở vị trí số 2 trong hàng chờ, thời gian chờ dự kiến khoảng 9 phút."
    assert "phút" not in wait_text(1, None)


def test_csat_buttons_send_the_score_as_an_entity() -> None:
    assert [b["payload"] for b in csat_buttons()][4] == '/rate_service{"csat_score":"5"}'


def test_a_broken_edit_of_desk_yml_keeps_the_last_good_hours(tmp_path: Path) -> None:
    path = tmp_path / "desk.yml"
    path.write_text("timezone: Asia/Ho_Chi_Minh\nbusiness_hours:\n  mon: ['00:00', '24:00']\n")
    config_file = DeskConfigFile(path)
    assert 0 in config_file.current().hours
    path.write_text("business_hours: [oops\n")
    assert 0 in config_file.current().hours
