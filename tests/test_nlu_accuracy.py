"""Held-out intent accuracy of the trained model, as typed and without diacritics."""

import pytest

from bot.evaluation import IN_DOMAIN, Report, evaluate, heldout_files, load_examples, stripped

pytestmark = pytest.mark.slow  # starts the bot's servers or loads the trained model

# in-domain questions; the uncovered ones are measured in tests/test_nlu_honesty.py
HELDOUT = load_examples(*heldout_files(parts=IN_DOMAIN))


def _explain(report: Report) -> str:
    top = report.confusions().most_common(10)
    return f"accuracy {report.accuracy:.3f}; most confused (expected, got): {top}"


# Rasa's default pipeline on the same held-out set: 0.967 / 0.941 (issue M asks for no loss against the
# figures it measured, 0.956 / 0.941; docs/BENCHMARKS.md)
def test_heldout_accuracy_is_no_worse_than_before(parse) -> None:
    report = evaluate(parse, HELDOUT)
    assert report.accuracy >= 0.956, _explain(report)


def test_heldout_accuracy_without_diacritics_is_no_worse_than_rasa_default(parse) -> None:
    report = evaluate(parse, stripped(HELDOUT))
    assert report.accuracy >= 0.941, _explain(report)


def test_teencode_and_missing_diacritics_reach_the_same_answer(parse) -> None:
    variants = [
        "phí ship về Hà Nội bao nhiêu vậy shop",
        "phi ship ve ha noi bao nhieu vay shop",
        "ship ve HN bn z shop",
    ]
    labels = {evaluate(parse, [(v, "faq/shipping_fee")]).correct for v in variants}
    assert labels == {1}


def test_entities_come_out_of_the_trained_pipeline(parse) -> None:
    result = parse("kiem tra don #dh-123456 giup minh, sdt 0912.345.678")
    values = {e["entity"]: e["value"] for e in result["entities"]}
    assert values == {"order_number": "DH123456", "phone": "0912345678"}


# written after bot/nlu/details.py, never tuned on: a customer pasting only the detail they were asked for
BARE_DETAILS = [
    "DH445566", "dh 778899 nha", "đây ạ DH998877", "mã đơn là #DH-135790", "don cua em DH246802",
    "0903111222", "sdt mình 0903 111 222", "số của em +84 987 654 321", "0912.345.678 nhé",
    "mail: lan.nguyen99@yahoo.com", "email em là tuan.le@gmail.com ạ", "hoang.anh@outlook.com",
]  # fmt: skip


def test_a_bare_order_number_phone_or_email_is_never_not_understood(parse) -> None:
    """Read as the detail itself, or (an order number alone) as asking for that order; never "chưa hiểu"."""
    got = {text: parse(text)["intent"]["name"] for text in BARE_DETAILS}
    assert {text: name for text, name in got.items() if name not in ("inform", "check_order_status")} == {}
    assert sum(name == "inform" for name in got.values()) >= len(BARE_DETAILS) - 1


def test_a_request_naming_an_order_stays_a_request(parse) -> None:
    assert parse("kiểm tra giúp mình đơn DH445566 đã giao chưa")["intent"]["name"] == "check_order_status"
    assert parse("huỷ đơn DH445566 giúp mình")["intent"]["name"] == "cancel_order"
