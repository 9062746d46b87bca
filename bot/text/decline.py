"""Whether a polite message is a way of leaving ("khỏi đi, cảm ơn bạn", "để sau nhé, cảm ơn shop").

The classifiers hear the thanks and answer "Dạ không có gì ạ!", and a form then asks its question
again: the customer who wanted to stop is kept in it. A thank-you that also says "not now / no need"
is a no. The words are only those of leaving; "cảm ơn, mình chờ hàng nhé" stays a thank-you.
"""

import itertools
import re

from bot.text.normalize import nfc, strip_diacritics

LEAVING = {"thôi", "khỏi", "để sau", "để mai", "lúc khác", "không cần", "ko cần", "k cần", "hông cần", "bỏ qua"}
# the same typed without diacritics; a word written with them must match exactly ("thời" is not "thôi")
_FOLDED = {strip_diacritics(phrase) for phrase in LEAVING}
_WORD = re.compile(r"\w+")


def says_leaving(text: str) -> bool:
    """True when the message says the customer does not want to go on now."""
    words = _WORD.findall(nfc(text).lower())
    phrases = [*words, *(" ".join(pair) for pair in itertools.pairwise(words))]
    return any(p in LEAVING or (p == strip_diacritics(p) and p in _FOLDED) for p in phrases)
