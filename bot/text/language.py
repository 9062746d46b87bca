"""Is a message Vietnamese, English, or in another script?

The NLU is trained on Vietnamese only, so an English question gets a random
Vietnamese FAQ answer. This detector lets the bot answer in English instead.
It is a rule over the words rather than a language-id package because the hard
case is Vietnamese typed without diacritics ("phi ship bao nhieu", "don hang
cua minh dau"), mixed with the loanwords shops use every day ("ship", "size",
"order", "ok", "hello shop"): general-purpose detectors are trained on edited
text and guess wrong on two-word chat messages, and this must never turn a
Vietnamese customer away. So it errs towards Vietnamese:

- any Vietnamese letter (ă â đ ê ô ơ ư or a tone mark) means Vietnamese;
- mostly non-Latin letters (Chinese, Thai, Korean, Cyrillic, …) is another language;
- otherwise English needs at least one unambiguous English word ("how", "is",
  "where", "you", "shipping"), two English words in all, and more English words
  than Vietnamese syllables. Words that are also Vietnamese without their marks
  ("to" = to/tô, "can" = cần, "do" = đỏ/đó, "the" = thế, "an" = ăn) count only
  as weak evidence, and chat loanwords ("hello", "ok", "shop", "ship", "size",
  "thank you") count for neither side: "hello shop" and "thank you shop" stay
  Vietnamese, which is what they nearly always are in a Vietnamese shop's chat.
"""

import re
import unicodedata
from enum import Enum


class Language(str, Enum):
    VIETNAMESE = "vi"
    ENGLISH = "en"
    OTHER = "other"


_STRONG_ENGLISH = {
    "how", "what", "where", "when", "why", "which", "who", "whose", "is", "are", "was", "were", "does", "did",
    "you", "your", "have", "has", "this", "that", "these", "there", "with", "from", "for", "of", "and", "or",
    "will", "would", "could", "should", "please", "want", "need", "cost", "costs", "take", "takes", "many",
    "much", "get", "help", "speak", "talk", "person", "human", "someone", "somebody", "open", "hours", "day",
    "days", "price", "buy", "bought", "cancel", "track", "package", "parcel", "arrive", "deliver", "delivery",
    "shipping", "shipped", "send", "pay", "paid", "payment", "card", "cash", "item", "items", "exchange",
    "return", "returns", "refund", "warranty", "store", "address", "here", "english", "receive", "received",
    "yet", "still", "any", "about", "our", "we", "they", "it's", "i'm", "don't", "can't", "doesn't", "isn't",
    "like", "know", "tell", "fee", "fees", "week", "weeks", "if", "been", "wrong", "broken",
    "damaged", "money", "invoice", "support", "staff", "anyone", "available", "stock", "via",
}  # fmt: skip
# English words that are also Vietnamese syllables typed without marks.
_WEAK_ENGLISH = {
    "to", "can", "do", "the", "an", "me", "my", "on", "in", "a", "i", "it", "at", "be", "so", "not", "no",
    "long", "he", "she", "by", "up", "go", "time",
}  # fmt: skip
# Loanwords in everyday Vietnamese shop chat: evidence for neither language.
_LOANWORDS = {
    "hello", "hi", "hey", "ok", "okay", "oke", "shop", "ship", "size", "order", "check", "sale", "online",
    "free", "freeship", "cod", "admin", "ad", "inbox", "ib", "link", "voucher", "code", "review",
    "feedback", "hotline", "email", "mail", "thank", "thanks", "thankyou", "sorry", "bye", "yes",
    "showroom", "app", "web", "website", "zalo", "fb", "facebook", "sms", "card", "visa", "momo", "tiki",
}  # fmt: skip
# A Vietnamese syllable without diacritics: onset, vowels, coda.
_SYLLABLE = re.compile(
    r"^(ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|[bcdghklmnpqrstvx])?"
    r"(uye|uya|ieu|yeu|uoi|oai|oay|oeo|uay|[aeiouy]{1,3})"
    r"(ng|nh|ch|[cmnpt])?$"
)
_TEENCODE = {"ko", "k", "hok", "dc", "đc", "j", "z", "v", "bn", "nhiu", "mk", "mn", "ntn", "sdt", "dh", "sp", "ctv"}
_WORD = re.compile(r"[a-z']+")


def _is_vietnamese_letter(char: str) -> bool:
    """A Latin letter with a Vietnamese mark: the message is Vietnamese."""
    if char in "đĐ":
        return True
    decomposed = unicodedata.normalize("NFD", char)
    return len(decomposed) > 1 and decomposed[0].isascii() and decomposed[0].isalpha()


def detect(text: str) -> Language:
    """The language a customer wrote in; Vietnamese whenever it is not clearly something else."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return Language.VIETNAMESE
    if any(_is_vietnamese_letter(c) for c in letters):
        return Language.VIETNAMESE
    foreign = sum(not c.isascii() for c in letters)
    if foreign * 2 > len(letters):
        return Language.OTHER
    words = _WORD.findall(text.lower().replace("thank you", "thanks"))
    strong = sum(w in _STRONG_ENGLISH and w not in _LOANWORDS for w in words)
    weak = sum(w in _WEAK_ENGLISH for w in words)
    vietnamese = sum(
        w in _TEENCODE
        or (w not in _STRONG_ENGLISH and w not in _WEAK_ENGLISH and w not in _LOANWORDS and bool(_SYLLABLE.match(w)))
        for w in words
    )
    if strong >= 1 and strong + weak >= 2 and strong + weak > vietnamese:
        return Language.ENGLISH
    return Language.VIETNAMESE
