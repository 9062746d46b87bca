"""Character-level normalization of Vietnamese chat text.

Customers mix Unicode forms (composed / decomposed), old and new tone-mark
placement ("hoà" / "hòa"), stretched letters ("shoppp") and often skip
diacritics entirely. Everything here works on one syllable at a time so the
caller can keep a mapping back to the original text.
"""

import re
import unicodedata

from underthesea import text_normalize

_STRETCHED = re.compile(r"(\w)\1{2,}", re.UNICODE)
_LETTER_OR_DIGIT = re.compile(r"\w", re.UNICODE)


def nfc(text: str) -> str:
    """Compose characters so "e" + combining acute equals "é"."""
    return unicodedata.normalize("NFC", text)


def squeeze_repeats(word: str) -> str:
    """Collapse a letter typed three or more times in a row ("shoppp" -> "shop")."""
    return _STRETCHED.sub(r"\1", word)


def normalize_syllable(word: str) -> str:
    """Lower-case, compose, unify tone placement and squeeze stretched letters.

    underthesea's ``text_normalize`` owns the tone-placement rules ("thuý" ->
    "thúy"); it also re-spaces punctuation, which is harmless on one syllable.
    """
    word = squeeze_repeats(nfc(word).lower())
    if not _LETTER_OR_DIGIT.search(word):
        return word
    normalized = text_normalize(word)
    # text_normalize may insert spaces around inner punctuation ("a.b" -> "a . b");
    # only its tone fixes are wanted here.
    return normalized if " " not in normalized else word


def strip_diacritics(text: str) -> str:
    """Drop Vietnamese diacritics ("kiểm tra đơn" -> "kiem tra don")."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped.replace("đ", "d").replace("Đ", "D"))
