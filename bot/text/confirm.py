"""Is a reply to "shall I do X?" a clear yes, a no, or neither?

Every step that changes something (cancelling an order, sending a ticket) asks
first and goes ahead only on a clear yes to that very question. The NLU intent
is not trusted for this: "thôi để mình giữ lại, không hủy nữa" is about
cancelling, and an intent classifier sees "hủy". So the reply is read here by
rules, with an asymmetric bias: any negation, hesitation or deferral is a no,
anything not plainly yes is unclear, and only a short, plainly positive reply
is a yes. Saying no by mistake costs the customer one more message; saying yes
by mistake cancels an order.

A rule list rather than a trained model because the decision must be
explainable and must never turn a "no" into a "yes" — the measured test set is
tests/data/confirmation_replies.yml.
"""

import itertools
import re
from collections.abc import Collection, Mapping
from enum import Enum
from functools import lru_cache

from bot.text.lexicon import load_lexicon
from bot.text.normalize import normalize_syllable, strip_diacritics


class Reply(str, Enum):
    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"


# Written with diacritics where it matters: "đúng" (right) and "đừng" (don't) are both "dung" without them.
_NEGATIONS = {
    "không", "chẳng", "chả", "chưa", "đừng", "khỏi", "thôi", "no", "not", "don't", "dont", "nope", "ngừng",
    "dừng", "giữ", "bỏ qua", "suy nghĩ", "để sau", "để mai", "từ từ", "khoan", "khoan đã", "lát nữa",
    "hỏi lại", "xem lại", "xem đã", "đợi", "chờ", "nghĩ lại", "đổi ý", "sai", "nhầm", "không phải",
    # "không" as customers text it beyond the lexicon's forms (negations only here: "hong" may be "hồng"
    # and "kg" a kilogram elsewhere, but in a yes/no reply reading a no is the safe side)
    "hổng", "hôg", "khôg", "kg", "ứ",
}  # fmt: skip
# The same without diacritics, where the folding is unambiguous ("dung" is not: đúng / đừng).
_FOLDED_NEGATIONS = {
    "khong", "chang", "cha", "chua", "khoi", "thoi", "ngung", "dung lai", "giu", "bo qua", "suy nghi",
    "de sau", "de mai", "tu tu", "khoan", "lat nua", "hoi lai", "xem lai", "xem da", "doi y", "nghi lai",
    "nham", "khong phai", "no", "not", "dont", "nope", "hong", "hog", "khog", "kg",
}  # fmt: skip
_YES = {
    "có", "ừ", "ừm", "ờ", "ừa", "vâng", "dạ", "đúng", "đúng rồi", "chuẩn", "ok", "okay", "yes", "đồng ý",
    "xác nhận", "chắc chắn", "được", "được rồi", "chốt", "làm đi", "làm luôn", "y", "yep", "yeah",
    "👍", "👌", "✅",
}  # fmt: skip
_FOLDED_YES = {
    "co", "u", "um", "vang", "da", "dung roi", "dung vay", "dung a", "chuan", "ok", "okay", "yes",
    "dong y", "xac nhan", "chac chan", "duoc", "duoc roi", "chot", "lam di", "lam luon", "y", "yep",
    "yeah",
}  # fmt: skip
# Words that add nothing to a yes ("dạ đúng rồi ạ, huỷ giúp mình nhé").
_FILLERS = {
    "a", "ạ", "à", "ah", "nhé", "nhe", "nha", "nhá", "hen", "nghen", "đi", "di", "luôn", "luon", "giúp", "giup",
    "dùm", "dum", "giùm", "gium", "hộ", "ho", "cho", "mình", "minh", "em", "anh", "chị", "chi", "tôi", "toi",
    "tui", "shop", "bạn", "ban", "ad", "admin", "rồi", "roi", "vậy", "vay", "thì", "thi", "là", "la", "đó",
    "do", "này", "nay", "ấy", "ay", "đơn", "don", "hàng", "hang", "với", "voi", "ơi", "oi", "nhỉ", "nhi",
    "lắm", "lam", "quá", "qua", "hết", "het", "ngay", "liền", "lien", "đấy", "day", "mà", "ma", "nữa", "nua",
    "cảm", "ơn", "cam", "on", "thanks", "sure", "please", "pls", "the", "it", "ấn", "bấm", "chọn", "nhen",
}  # fmt: skip
_HEDGES = {"nhưng", "nhung", "mà sao", "hay là", "hay la", "hoặc", "hoac", "nếu", "neu", "liệu", "lieu", "hả", "hở"}
_WORD = re.compile(r"[^\W_]+|[👍👌✅]", re.UNICODE)
_MAX_UNKNOWN_WORDS = 1


@lru_cache(maxsize=1)
def _teencode() -> dict[str, str]:
    return load_lexicon()


def _normalized(phrases: Collection[str]) -> set[str]:
    """Phrases as ``_words`` writes them: one tone-mark style ("huỷ" = "hủy"), lower case."""
    return {" ".join(normalize_syllable(w) for w in phrase.split()) for phrase in phrases}


_NEGATIONS, _YES, _FILLERS, _HEDGES = (_normalized(s) for s in (_NEGATIONS, _YES, _FILLERS, _HEDGES))


def _words(text: str, teencode: Mapping[str, str]) -> list[str]:
    """Normalized syllables with teencode expanded ("ko dc" -> "không được")."""
    expanded: list[str] = []
    for word in _WORD.findall(text):
        word = normalize_syllable(word)
        expanded.extend(teencode.get(word, word).split())
    return expanded


def _phrases(words: list[str]) -> set[str]:
    """Every run of one or two words, so "đúng rồi" and "để sau" are found as phrases."""
    return set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)}


def _has_negation(words: list[str]) -> bool:
    phrases = _phrases(words)
    folded = _phrases([strip_diacritics(w) for w in words])
    if phrases & _NEGATIONS or folded & _FOLDED_NEGATIONS:
        return True
    # "dung huy" without diacritics is "đừng huỷ" (don't cancel): a verb after "dung" makes it a "don't"
    return any(
        w == "dung" and nxt not in {"roi", "vay", "a", "r", "nhe", "nha", "the", "day", "do"}
        for w, nxt in itertools.pairwise(words)
    )


def classify_reply(
    text: str,
    go_words: Collection[str] = (),
    stop_words: Collection[str] = (),
    teencode: Mapping[str, str] | None = None,
) -> Reply:
    """Reads a reply to a yes/no question about one action.

    ``go_words`` say yes to this particular question ("huỷ" when asked whether to cancel, "gửi" when
    asked whether to send); ``stop_words`` say no to it ("huỷ" when asked whether to send a ticket).
    Both are given with diacritics; their diacritic-free forms count too. ``teencode`` is the shop's
    lexicon (its data dir's ``lexicon/``; the checkout's when None): a negation only the shop's
    customers abbreviate must still read as no.
    """
    stripped = text.strip()
    if stripped.startswith("/affirm"):  # our own buttons' payloads
        return Reply.YES
    if stripped.startswith("/deny"):
        return Reply.NO
    words = _words(stripped, _teencode() if teencode is None else teencode)
    if not words:
        return Reply.UNCLEAR
    go = _normalized(go_words)
    go |= {strip_diacritics(w) for w in go}
    stop = _normalized(stop_words)
    stop |= {strip_diacritics(w) for w in stop}
    phrases = _phrases(words) | _phrases([strip_diacritics(w) for w in words])
    if _has_negation(words) or phrases & stop:
        return Reply.NO
    if "?" in stripped or phrases & _HEDGES:
        return Reply.UNCLEAR
    positive = phrases & (_YES | _FOLDED_YES | go)
    if not positive:
        return Reply.UNCLEAR
    covered = {word for phrase in (_YES | _FOLDED_YES | go | _FILLERS) for word in phrase.split()}
    unknown = [w for w in words if w not in covered and strip_diacritics(w) not in covered]
    return Reply.YES if len(unknown) <= _MAX_UNKNOWN_WORDS else Reply.UNCLEAR
