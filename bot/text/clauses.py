"""Splitting one customer message into the questions it asks.

"shop ơi cho hỏi có trả góp ko, với lại có xuất hóa đơn ko" is two questions; the NLU sees one
message and picks one intent. Customers join questions with question marks, commas, line breaks
and a handful of connectors ("với lại", "và", "còn", "mà", "thêm nữa", "ngoài ra"); each piece is
classified on its own by the caller, which keeps only pieces that ask something (``is_question``),
so splitting a little too eagerly costs a parse, not a wrong answer. Words that only join when
they start a new clause ("còn", "mà") split only after a comma, because inside a clause they mean
something else ("còn hàng không" = in stock?, "mà sao" = but why).
"""

import re

from bot.text.normalize import nfc

# Always a join between clauses, wherever they stand (with or without diacritics, and teencode).
_JOINERS = r"với lại|voi lai|vs lại|vs lai|thêm nữa|them nua|ngoài ra|ngoai ra|cho (?:mình |em |mk )?hỏi thêm|và|va"
# A join only right after a comma or at the start of a line: elsewhere they belong to the clause.
_CLAUSE_STARTERS = r"còn|con|mà|ma|rồi|roi|thế|the|vậy|vay|với|voi|sẵn tiện|san tien|tiện thể|tien the"
_SPLIT = re.compile(
    rf"(?<=[?!])\s*|[;\n]+|,\s*(?:(?:{_JOINERS}|{_CLAUSE_STARTERS})(?!\w))?|(?<!\w)(?:{_JOINERS})(?!\w)",
    re.IGNORECASE | re.UNICODE,
)
# Vietnamese questions nearly always carry one of these; "mình đặt áo" (split off "mình đặt áo và quần
# nhưng chỉ nhận được áo") carries none and is not a question of its own.
_QUESTION = re.compile(
    r"\?|(?<!\w)(?:bao nhiêu|bao nhieu|bn|bao lâu|bao lau|bao giờ|bao gio|mấy|may|không|khong|ko|k|hông|hong|"
    r"chưa|chua|sao|thế nào|the nao|ntn|nào|nao|gì|gi|j|đâu|dau|hả|ha|hem|hok|hỏi|hoi|được hông|có .+ không)(?!\w)",
    re.IGNORECASE | re.UNICODE,
)
# How a message opens before it asks ("shop ơi cho hỏi", "chào ad, cho mk hỏi chút"): a clause is classified
# without it, or the greeting outweighs a short question.
_ADDRESS = r"(?:shop|sốp|ad|admin|bạn|ban|em|chị|chi|anh)"
_OPENING = re.compile(
    rf"^(?:(?:chào|chao|hi|hello|alo)(?:\s+{_ADDRESS})?(?!\w)|{_ADDRESS}\s*(?:ơi+|oi+)(?!\w))?[\s,]*"
    r"(?:cho\s+(?:(?:mình|minh|mk|em|tôi|toi|chị|chi|anh)\s+)?(?:hỏi|hoi)(?:\s+(?:chút|chut|xíu|xiu|tí|ti))?"
    r"(?:\s+(?:là|la))?(?!\w))?[\s,]*",
    re.IGNORECASE | re.UNICODE,
)
_WORD = re.compile(r"\w+", re.UNICODE)
MIN_WORDS = 2  # "và" between two nouns ("áo và quần") leaves one-word pieces: not separate questions


def is_question(clause: str) -> bool:
    """Does this clause ask something (as opposed to telling: "mình đặt áo")?"""
    return bool(_QUESTION.search(nfc(clause)))


def split_clauses(text: str) -> list[str]:
    """The message's clauses, in order; the whole message when it holds one question."""
    pieces = [p.strip(" ,.") for p in _SPLIT.split(nfc(text)) if p]
    clauses = [p for p in pieces if len(_WORD.findall(p)) >= MIN_WORDS]
    return clauses if len(clauses) > 1 else [text.strip()]


def asks_several(text: str) -> bool:
    """Whether the message holds more than one clause: only then has ``action_answer_other_questions``
    anything to add, so Rasa calls the action server for it only then (bot/rasa_plugins/action_skips.py)."""
    return len(split_clauses(text)) > 1


def without_opening(clause: str) -> str:
    """The clause without the greeting it opens with ("shop ơi cho hỏi có trả góp ko" -> "có trả góp ko"),
    unless nothing would be left."""
    rest = _OPENING.sub("", nfc(clause), count=1).strip()
    return rest if len(_WORD.findall(rest)) >= MIN_WORDS else clause
