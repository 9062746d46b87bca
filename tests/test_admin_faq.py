"""FAQ editing from the command line: comments survive, bad edits are refused, CSV round-trips."""

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.admin import cli, draft
from bot.admin.faq import FaqConflictError, FaqFiles, Topic
from bot.evaluation import heldout_files
from bot.paths import DATA_DIR, SHOP_DIR
from bot.settings import Settings, settings_in_force


@pytest.fixture(autouse=True)
def isolated_faq(tmp_path) -> Iterator[Path]:
    """The data dir copied to a temporary folder; the draft and the audit log in the folder (the var dir)."""
    shutil.copytree(DATA_DIR, tmp_path / "data", ignore=shutil.ignore_patterns("responses"))
    with settings_in_force(Settings.under(tmp_path, data_dir=tmp_path / "data")):
        yield tmp_path


def run(*argv: str) -> int:
    """``cskh`` with the test's settings."""
    return cli.main(["--as", "tester", *argv])


def test_an_edit_keeps_every_comment_and_the_order_of_the_files(isolated_faq, capsys) -> None:
    assert run("faq", "edit", "shipping_fee", "--add-question", "phí gửi hàng ra Phú Quốc bao nhiêu ạ") == 0
    edited = (isolated_faq / "admin" / "draft" / "faq.yml").read_text(encoding="utf-8")
    original = (DATA_DIR / "nlu" / "faq.yml").read_text(encoding="utf-8")
    assert edited.replace("    - phí gửi hàng ra Phú Quốc bao nhiêu ạ\n", "", 1) == original
    assert (isolated_faq / "admin" / "draft" / "answers.yml").read_text(encoding="utf-8") == (
        SHOP_DIR / "answers.yml"
    ).read_text(encoding="utf-8")
    assert (isolated_faq / "data" / "nlu" / "faq.yml").read_text(encoding="utf-8") == original  # live untouched
    assert "cskh retrain" in capsys.readouterr().out


def test_a_new_topic_is_added_and_shown(capsys) -> None:
    questions = ["shop có gói quà không", "gói quà tặng được không ạ", "goi qua sinh nhat dc ko shop"]
    args = [a for q in questions for a in ("--question", q)]
    assert run("faq", "add", "gift_wrap", *args, "--answer", "Có bạn nhé, gọi {shop.hotline} để chọn mẫu.") == 0
    assert run("faq", "show", "gift_wrap") == 0
    out = capsys.readouterr().out
    assert "nên có từ 10 câu" in out and "goi qua sinh nhat dc ko shop" in out
    assert draft.has_changes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--add-question", "phí ship bao nhiêu vậy shop"], "bị trùng"),
        (["--add-question", "Cho gặp NHÂN VIÊN"], "đã thuộc về “request_human”"),
        (["--add-question", "giao hang mat bao lau vay shop"], "đã thuộc về “faq/delivery_time”"),
        (["--answer", "Phí ship là {shipping.khong_co}"], "cannot fill"),
        (["--answer", "   "], "Câu trả lời trống"),
    ],
)
def test_contradictory_or_broken_edits_are_refused_and_nothing_is_saved(args, message, capsys) -> None:
    before = draft.draft().version()
    assert run("faq", "edit", "shipping_fee", *args) == 1
    assert message in capsys.readouterr().err
    assert draft.draft().version() == before


def test_a_question_from_the_evaluation_set_is_refused(capsys) -> None:
    heldout = heldout_files(parts=["faq"])[0].read_text(encoding="utf-8").split("- intent: faq/refund")[1]
    question = next(line.strip()[2:] for line in heldout.splitlines() if line.strip().startswith("- "))
    assert run("faq", "edit", "refund", "--add-question", question) == 1
    assert "bộ kiểm tra chất lượng" in capsys.readouterr().err


def test_csv_export_opens_in_excel_and_imports_back(isolated_faq) -> None:
    exported = isolated_faq / "faq.csv"
    assert run("faq", "export", str(exported)) == 0
    data = exported.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and "Phí ship".encode() in data
    edited = data.decode("utf-8-sig").replace(
        "shipping_fee,question,phí ship bao nhiêu vậy shop", "shipping_fee,question,phí ship đi Cà Mau nhiêu tiền"
    )
    exported.write_bytes(edited.encode("utf-8-sig"))
    assert run("faq", "import", str(exported)) == 0
    examples = draft.draft().topic("shipping_fee").examples
    assert "phí ship đi Cà Mau nhiêu tiền" in examples and "phí ship bao nhiêu vậy shop" not in examples


def test_two_admins_editing_the_same_version_cannot_overwrite_each_other(isolated_faq) -> None:
    files: FaqFiles = draft.draft()
    version = files.version()
    topic = files.topic("refund")
    files.save(Topic("refund", [*topic.examples, "bao giờ mình nhận lại tiền vậy"], topic.answer), version)
    with pytest.raises(FaqConflictError):
        files.save(Topic("refund", [*topic.examples, "tiền hoàn về ví nào"], topic.answer), version)


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped_and_import_back_unchanged(isolated_faq) -> None:
    questions = [
        "-50% có áp dụng cho đơn sỉ không",
        "+1 size có vừa không shop",
        "=)) mã giảm giá dùng sao vậy",
        "@shop ơi mã giảm giá nhập ở đâu",
        "'mã giảm giá' là gì vậy shop",
        "mã giảm giá hết hạn chưa",
    ]
    args = [a for q in questions for a in ("--question", q)]
    assert run("faq", "add", "ma_giam_gia", *args, "--answer", "Bạn nhập mã ở bước thanh toán nhé.") == 0
    exported = isolated_faq / "faq.csv"
    assert run("faq", "export", str(exported)) == 0
    rows = list(csv.reader(io.StringIO(exported.read_bytes().decode("utf-8-sig"))))
    cells = [text for topic, kind, text in rows if topic == "ma_giam_gia" and kind == "question"]
    assert cells == ["'" + q for q in questions[:5]] + [questions[5]]  # Excel shows text and runs no formula
    assert run("faq", "remove", "ma_giam_gia") == 0
    assert run("faq", "import", str(exported)) == 0
    assert draft.draft().topic("ma_giam_gia").examples == questions


def test_a_topic_is_renamed_for_staff_at_once_without_a_draft(isolated_faq, capsys) -> None:
    assert run("faq", "title", "shipping_fee", "Phí ship & giao hàng") == 0
    assert run("faq", "list") == 0
    out = capsys.readouterr().out
    assert "không cần huấn luyện lại" in out
    assert any(line.startswith("shipping_fee") and "Phí ship & giao hàng" in line for line in out.splitlines())
    assert not draft.has_changes()  # a title is not a training change
    assert "Phí ship & giao hàng" in (isolated_faq / "data" / "staff" / "titles.yml").read_text(encoding="utf-8")
