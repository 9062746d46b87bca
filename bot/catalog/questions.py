"""What a customer asks about a product: price, stock, a size or colour, the options, a comparison,
a suggestion by need and budget. Read from the words (already normalized by ``matching.words``),
without diacritics, as customers type both ways."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.text.normalize import strip_diacritics

PRICE, STOCK, OPTIONS, COMPARE, RECOMMEND = "price", "stock", "options", "compare", "recommend"

_BUDGET = re.compile(
    r"\b(?:duoi|khong qua|toi da|tam|khoang|trong vong|ngan sach|budget|re hon|<)\s*"
    r"(\d+(?:[.,]\d+)?)\s*(tr|trieu|k|nghin|ngan|cu)?\s*(\d)?\b"
)
_PEOPLE = re.compile(r"\b(\d+)\s*(?:nguoi|ng|thanh vien|mieng an)\b")
_CUES = {
    COMPARE: ("so sanh", "khac gi", "khac nhau", "hon gi", "cai nao", "loai nao", "mau nao", "chon cai nao"),
    RECOMMEND: ("tu van", "goi y", "nen mua", "nen chon", "nen lay", "phu hop", "hop voi", "cho nha", "gia dinh"),
    STOCK: ("con", "het hang", "co san", "san hang", "ton kho", "co hang"),
    PRICE: ("gia", "bao nhieu", "nhieu tien", "may tien", "tien", "nhiu", "bao tien"),
    OPTIONS: ("mau gi", "mau nao", "may mau", "mau khac", "nhung mau", "cac mau", "size nao", "size gi",
              "nhung size", "cac size", "may size", "co size", "co mau", "kich thuoc nao"),
}  # fmt: skip


def _has(folded: str, cue: str) -> bool:
    return re.search(rf"\b{re.escape(cue)}\b", folded) is not None


def _money(number: str, unit: str | None, tail: str | None) -> int:
    value = float(number.replace(",", "."))
    if unit in ("tr", "trieu", "cu"):
        return int(value * 1_000_000 + (int(tail) * 100_000 if tail else 0))
    if unit in ("k", "nghin", "ngan"):
        return int(value * 1_000)
    return int(value * 1_000_000) if value < 100 else int(value * (1_000 if value < 100_000 else 1))


@dataclass(frozen=True)
class Question:
    asks: frozenset[str]
    budget: int | None = None  # VND
    people: int | None = None
    folded: str = ""  # the message's words without diacritics, for finding a size or colour

    def asks_for(self, what: str) -> bool:
        return what in self.asks


def read_question(words: Sequence[str]) -> Question:
    """What ``words`` (a message's, from ``matching.words``) ask."""
    folded = strip_diacritics(" ".join(words)).lower()
    asks = {what for what, cues in _CUES.items() if any(_has(folded, cue) for cue in cues)}
    budget_match = _BUDGET.search(folded)
    budget = _money(*budget_match.groups()) if budget_match else None
    people_match = _PEOPLE.search(folded)
    people = int(people_match.group(1)) if people_match else None
    if budget or people:
        asks.add(RECOMMEND)
    if OPTIONS in asks and STOCK not in asks and "co" in folded.split():
        asks.discard(PRICE)
    return Question(frozenset(asks), budget, people, f" {folded} ")


def mentions(question: Question, value: str) -> bool:
    """Whether the message names this size or colour ("size M", "màu đen", "xxl", "oc cho")."""
    folded = strip_diacritics(value).lower()
    if not folded:
        return False
    if len(folded) <= 2 and folded.isalpha():  # S, M, L, XL: only after "size" ("sz") or alone as a word
        return re.search(rf"\b(?:size|sz|co|sai)\s+{re.escape(folded)}\b", question.folded) is not None or (
            len(folded) == 2 and f" {folded} " in question.folded
        )
    return f" {folded} " in question.folded or f" {folded.replace('2xl', 'xxl')} " in question.folded
