"""Which catalog products a customer's message names: one, several (ask which) or none (say so).

Customers write product names with or without diacritics, with typos ("noi chein"), in teencode
and in part ("nồi chiên" for "Nồi chiên không dầu 5L"). A product is named when its kind, one of its
aliases or its name appears in the message, word by word, each word compared with rapidfuzz (typos
forgiven on words of five letters or more); a word the customer wrote with diacritics is compared
with diacritics ("bán gối" is not "bàn gỗ"), one written without is compared without. Among the
products named, the words of the name that tell them apart ("5L" against "3.5L") decide; when no
such word is there, every product of that kind is named and the caller asks which one.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.catalog.model import Product
from bot.text.normalize import strip_diacritics
from bot.text.segment import segment

WORD_SIMILARITY = 75  # rapidfuzz ratio a word of 5+ letters needs ("chein" ~ "chien" is 80)
_QUANTITY = re.compile(r"\b(\d+(?:[.,]\d+)?)\s*(l|lit|lít)\b")
_DECIMAL_COMMA = re.compile(r"(\d),(\d)")


def words(text: str, lexicon: dict[str, str]) -> list[str]:
    """The message's syllables, normalized by the project's tokenizer (teencode expanded), quantities
    joined with their unit ("5 lít", "5 lit" -> "5l"; "3,5L" -> "3.5l")."""
    text = _DECIMAL_COMMA.sub(r"\1.\2", text)  # "3,5 lít" is one number, as "3.5"
    syllables = [part for s in segment(text, lexicon) for part in s.text.split("_")]
    joined = _QUANTITY.sub(lambda m: m.group(1).replace(",", ".") + "l", " ".join(syllables))
    return joined.split()


def _has_marks(word: str) -> bool:
    return strip_diacritics(word) != word


def _same_word(said: str, known: str) -> bool:
    """Whether the customer's word is the catalog's, as written (with or without diacritics), typos forgiven."""
    if not _has_marks(said):
        known = strip_diacritics(known)
    if said == known:
        return True
    if len(known) < 5 or any(c.isdigit() for c in known):  # "khan" is not "hang"
        return False
    return fuzz.ratio(said, known) >= WORD_SIMILARITY


def _phrase_at(said: Sequence[str], phrase: Sequence[str]) -> bool:
    """Whether ``phrase`` occurs in ``said``, word by word, or written without its spaces ("noichien")."""
    size = len(phrase)
    for start in range(len(said) - size + 1):
        if all(_same_word(w, p) for w, p in zip(said[start : start + size], phrase, strict=True)):
            return True
    glued = "".join(strip_diacritics(p) for p in phrase)
    return size > 1 and any(strip_diacritics(w) == glued or fuzz.ratio(strip_diacritics(w), glued) >= 90 for w in said)


def _phrase(text: str) -> list[str]:
    return words(text, {})


def _telling_words(product: Product) -> list[str]:
    """The words of the name that are not the kind's: what tells products of one kind apart."""
    common = {strip_diacritics(w) for phrase in (product.kind, *product.aliases) for w in _phrase(phrase)}
    return [w for w in _phrase(product.name) if strip_diacritics(w) not in common]


@dataclass(frozen=True)
class ProductMatch:
    """The products a message names, best first; ``one`` when exactly one."""

    products: tuple[Product, ...]

    @property
    def one(self) -> Product | None:
        return self.products[0] if len(self.products) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.products) > 1


def match_products(text: str, products: Sequence[Product], lexicon: dict[str, str]) -> ProductMatch:
    """The products ``text`` names (see the module's docstring)."""
    said = words(text, lexicon)
    named: list[tuple[int, Product]] = []
    for product in products:
        phrases = [_phrase(p) for p in (product.name, product.kind, *product.aliases)]
        if not any(phrase and _phrase_at(said, phrase) for phrase in phrases):
            continue
        telling = sum(any(_same_word(w, t) for w in said) for t in _telling_words(product))
        named.append((telling, product))
    if not named:
        return ProductMatch(())
    best = max(telling for telling, _ in named)
    return ProductMatch(tuple(p for telling, p in named if telling == best))
