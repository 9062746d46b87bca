"""A message that is little more than the detail the customer was asked for (bot/text/details.py)."""

from bot.text.details import is_mostly_details


def span(text: str, detail: str) -> tuple[int, int]:
    start = text.index(detail)
    return start, start + len(detail)


def test_a_bare_detail_and_a_short_framing_are_details() -> None:
    assert is_mostly_details("DH903175", [span("DH903175", "DH903175")])
    text = "mã đơn của mình là DH 287640"
    assert is_mostly_details(text, [span(text, "DH 287640")])
    text = "sdt 0912345678, email an@b.vn"
    assert is_mostly_details(text, [span(text, "0912345678"), span(text, "an@b.vn")])


def test_a_sentence_around_a_detail_is_a_request_of_its_own() -> None:
    text = "đơn DH903175 của mình giao lâu quá chưa thấy đâu hết"
    assert not is_mostly_details(text, [span(text, "DH903175")])


def test_no_detail_is_not_a_detail() -> None:
    assert not is_mostly_details("ok", [])
