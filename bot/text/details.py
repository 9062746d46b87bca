"""Whether a message is little more than a detail the customer was asked for.

Customers answer with the detail itself: "DH903175", "0935716248", "email là hoa.tran@gmail.com",
"mã đơn của mình là DH 287640". Such a message has almost no words of its own for the classifiers
to go on, so they leave it to the fallback or read it as an uncovered question, and the customer
who pasted their order number was told "mình chưa hiểu". What is left once the details are cut out
decides: a few words ("mã đơn của mình là") are framing, a sentence is a request of its own.
"""

import re
from collections.abc import Iterable

# "mã đơn của mình là" is five words; a request adds a verb and an object on top of that
MAX_FRAMING_WORDS = 5
_WORD = re.compile(r"\w+")


def is_mostly_details(text: str, spans: Iterable[tuple[int, int]]) -> bool:
    """True when ``spans`` (the details found in ``text``) leave at most a few framing words."""
    kept, cursor = [], 0
    for start, end in sorted(spans):
        kept.append(text[cursor:start])
        cursor = max(cursor, end)
    if not cursor:
        return False
    kept.append(text[cursor:])
    return len(_WORD.findall(" ".join(kept))) <= MAX_FRAMING_WORDS
