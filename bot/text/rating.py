"""A message that is only a 1-5 rating: "5", "5*", "4 sao", "năm sao", "5/5", "⭐⭐⭐⭐".

Right after the desk asks how the agent conversation went, customers answer with a bare number or
stars more often than with a sentence, and a bare "5" carries too little for the intent classifier.
"""

import re

from bot.text.normalize import strip_diacritics

_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5}
_DIGIT = re.compile(r"^([1-5])\s*(?:\*|sao|diem|/\s*5)?\s*[.!]*$")
_WORD = re.compile(r"^(mot|hai|ba|bon|tu|nam)\s*(?:\*|sao|diem)\s*[.!]*$")
_STARS = re.compile(r"^(?:[⭐★*]\s*){1,5}$")


def rating_in(text: str) -> int | None:
    """The score when the whole message is a rating, else None (a rating inside a sentence is the model's job)."""
    folded = " ".join(strip_diacritics(text).lower().replace("\ufe0f", "").split())
    if not folded:
        return None
    if _STARS.match(folded):
        return sum(1 for ch in folded if ch in "⭐★*")
    digit = _DIGIT.match(folded)
    if digit:
        return int(digit.group(1))
    word = _WORD.match(folded)
    return _WORDS[word.group(1)] if word else None
