"""What a comment under the shop's Facebook post asks for: a price or stock question, a complaint, or nothing.

Comments under a sales post (or a live video) are short and in teencode: "giá bn ạ", "còn size M ko",
"ib", "check inbox shop ơi". The page answers those in Messenger (connectors/messenger_comments.py);
praise ("đẹp quá"), tags of friends and spam are left alone, and a complaint is read with the same
mood rules as a chat message (bot/text/sentiment.py), so "giao hàng chậm quá, thất vọng" goes to the
desk when the shop wants that, never to an automatic price answer.

Matching is per word, as in the mood rules: a word typed with diacritics must match the cue exactly
("giá" is a cue, "gia đình" is not), a word typed without any matches the cue's bare form ("gia bn").
"""

import re

from bot.text.normalize import normalize_syllable, strip_diacritics
from bot.text.sentiment import score_mood

QUESTION, COMPLAINT, OTHER = "question", "complaint", "other"

# cue phrases, each matched word by word; "ko"/"k"/"hk" are read as "không" first
BUYING_CUES = (
    # price
    "giá", "bao nhiêu", "bn", "bnh", "nhiêu", "mấy tiền", "bao tiền", "nhiêu tiền", "báo giá", "xin giá",
    # stock, sizes, colours
    "còn hàng", "còn không", "hết hàng", "còn size", "có size", "size", "sz", "còn màu", "có màu", "còn mẫu",
    "còn số", "còn ạ",
    # "message me"
    "ib", "inbox", "check ib", "check inbox", "rep ib", "tư vấn", "nhắn riêng", "chấm", ".",
    # ordering
    "đặt hàng", "chốt đơn", "lấy một", "order",
)  # fmt: skip
# a lone "." or "chấm" is how Vietnamese shoppers say "interested, message me" under a sales post
ONLY_WHEN_ALONE = frozenset({".", "chấm"})
# "gia" typed without diacritics is also "gia đình", "gia dụng": a price question only at the end or before these
BARE_GIA_BEFORE = frozenset({
    "bn", "bnh", "bao", "nhieu", "nhiu", "sao", "shop", "s", "the", "a", "ah", "ak", "nhe", "nha", "ntn", "ban", "le",
    "si", "ca", "khong", "em", "chi", "ad", "ib",
})  # fmt: skip
TEENCODE_NOT = frozenset({"ko", "k", "kh", "khg", "hk", "hok", "hông", "khum", "kg", "khong", "hem"})
_WORD = re.compile(r"[^\W_]+|\.", re.UNICODE)
_CUES = sorted((tuple(cue.split()) for cue in BUYING_CUES), key=len, reverse=True)


def _words(text: str) -> list[tuple[str, str]]:
    """Each word as (normalized with diacritics, without diacritics)."""
    words = [normalize_syllable(found.group(0)) for found in _WORD.finditer(text)]
    return [("không", "khong") if word in TEENCODE_NOT else (word, strip_diacritics(word)) for word in words]


def _at(words: list[tuple[str, str]], start: int, cue: tuple[str, ...]) -> bool:
    if start + len(cue) > len(words):
        return False
    if cue == ("giá",) and words[start][0] == "gia" and words[start + 1 :][:1] not in ([], [("không", "khong")]):
        return words[start + 1][1] in BARE_GIA_BEFORE
    for (written, bare), part in zip(words[start : start + len(cue)], cue, strict=True):
        if written == bare:  # typed without diacritics: compare bare forms
            if bare != strip_diacritics(part):
                return False
        elif written != part:
            return False
    return True


def asks_to_buy(text: str) -> bool:
    """Whether the comment asks a price, stock or size, or asks the page to message them."""
    words = _words(text)
    if not words:
        return False
    if all(word in ONLY_WHEN_ALONE for word, _ in words):
        return True
    return any(
        _at(words, start, cue) for start in range(len(words)) for cue in _CUES if " ".join(cue) not in ONLY_WHEN_ALONE
    )


def read_comment(text: str) -> str:
    """``QUESTION``, ``COMPLAINT`` or ``OTHER``; an upset comment is a complaint even when it names a price."""
    if score_mood(text).upset:
        return COMPLAINT
    return QUESTION if asks_to_buy(text) else OTHER
