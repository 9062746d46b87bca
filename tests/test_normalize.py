"""Normalization: the same word typed different ways must look the same to the model."""

import unicodedata

import pytest

from bot.text.lexicon import LexiconError, load_lexicon
from bot.text.normalize import normalize_syllable, squeeze_repeats, strip_diacritics


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("hoà", "hòa"),  # old tone placement
        ("thuý", "thúy"),
        ("Tuỳ", "tùy"),
        ("QUÝ", "quý"),  # qu + y keeps the mark on y
        (unicodedata.normalize("NFD", "kiểm"), "kiểm"),  # decomposed input
        ("shoppp", "shop"),
        ("ơiiii", "ơi"),
        ("DH123456", "dh123456"),
    ],
)
def test_syllable_forms_are_unified(typed: str, expected: str) -> None:
    assert normalize_syllable(typed) == expected


def test_two_letters_are_not_squeezed() -> None:
    assert squeeze_repeats("xoong") == "xoong"


def test_strip_diacritics_handles_d_with_stroke() -> None:
    assert strip_diacritics("Kiểm tra ĐƠN hàng đã giao") == "Kiem tra DON hang da giao"


def test_shipped_lexicon_expands_common_teencode() -> None:
    lexicon = load_lexicon()
    assert lexicon["ko"] == "không"
    assert lexicon["dc"] == lexicon["đc"] == "được"
    assert lexicon["sdt"] == lexicon["sđt"] == "số điện thoại"
    assert lexicon["mk"] == "mình"
    assert lexicon["j"] == "gì"
    assert lexicon["ib"] == "nhắn tin"


def test_admin_lexicon_file_is_merged(tmp_path) -> None:
    (tmp_path / "a.yml").write_text("expansions:\n  ko: không\n", encoding="utf-8")
    (tmp_path / "b.yml").write_text("expansions:\n  HỎA TỐC: giao nhanh\n  thik: thích\n", encoding="utf-8")
    lexicon = load_lexicon(tmp_path)
    assert lexicon["thik"] == "thích"
    assert lexicon["ko"] == "không"


@pytest.mark.parametrize(
    "content",
    ["- ko\n- dc\n", "expansions:\n  ko:\n", "expansions: [1, 2]\n"],
)
def test_malformed_lexicon_is_reported_with_the_file(tmp_path, content: str) -> None:
    (tmp_path / "broken.yml").write_text(content, encoding="utf-8")
    with pytest.raises(LexiconError, match=r"broken\.yml"):
        load_lexicon(tmp_path)
