"""Rule-based entities on a blank spaCy Vietnamese pipeline (no downloaded model).

spaCy's "vi" tokenizer without pyvi only splits on whitespace, so the blank
pipeline gets spaCy's rule-based ``Tokenizer`` with the standard punctuation
rules, plus ":" and brackets as infixes and whole e-mails kept as one token.
The ``Matcher`` proposes candidate spans; the validators below decide and
normalize the value, because "is this a valid Vietnamese mobile" is a rule on
the digits, not on token shapes.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

import spacy
from spacy.lang.punctuation import TOKENIZER_INFIXES, TOKENIZER_PREFIXES, TOKENIZER_SUFFIXES
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc, Span
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, filter_spans

from bot.text.normalize import strip_diacritics

ORDER_NUMBER = "order_number"
PHONE = "phone"
EMAIL = "email"
ISSUE_TYPE = "issue_type"

_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$", re.UNICODE)
_MOBILE = re.compile(r"^0[35789]\d{8}$")
_ORDER_DIGITS = re.compile(r"\d{6}$")
_DIGIT_GROUP = r"^\+?\d(?:[\d.\-]*\d)?$"
_MAX_PHONE_GROUPS = 5
# digit groups next to a phone that are this long are separate numbers
# (an order code, an amount); shorter ones mean the phone was mistyped
_SEPARATE_NUMBER_DIGITS = 5


@dataclass(frozen=True)
class Entity:
    """An entity found in a message, with its normalized value."""

    entity: str
    value: str
    start: int
    end: int
    text: str


def build_pipeline() -> spacy.language.Language:
    """A blank Vietnamese pipeline whose tokenizer separates punctuation."""
    nlp = spacy.blank("vi", config={"nlp": {"tokenizer": {"use_pyvi": False}}})
    infixes = [*TOKENIZER_INFIXES, r"[:()\[\]]"]
    nlp.tokenizer = Tokenizer(
        nlp.vocab,
        prefix_search=compile_prefix_regex(TOKENIZER_PREFIXES).search,
        suffix_search=compile_suffix_regex(TOKENIZER_SUFFIXES).search,
        infix_finditer=compile_infix_regex(infixes).finditer,
        token_match=_EMAIL.match,
    )
    return nlp


def _order_patterns() -> list[list]:
    return [
        [{"TEXT": {"REGEX": r"(?i)^dh[-–]?\d{6}$"}}],
        [{"LOWER": "dh"}, {"TEXT": {"IN": ["-", "–"]}, "OP": "?"}, {"TEXT": {"REGEX": r"^\d{6}$"}}],
    ]


def _phone_patterns() -> list[list]:
    group = {"TEXT": {"REGEX": _DIGIT_GROUP}}
    separator = {"TEXT": {"IN": [".", "-"]}, "OP": "?"}
    country = [{"ORTH": "("}, {"TEXT": {"REGEX": r"^\+?84$"}}, {"ORTH": ")"}]
    patterns = []
    for groups in range(1, _MAX_PHONE_GROUPS + 1):
        digits = [group] + [separator, group] * (groups - 1)
        patterns += [digits, country + digits]
    return patterns


def normalize_order_number(text: str) -> str | None:
    """ "#dh-123456" -> "DH123456"; None when it is not DH + exactly 6 digits."""
    compact = re.sub(r"[\s#\-–]", "", text).upper()
    if compact.startswith("DH") and len(compact) == 8 and _ORDER_DIGITS.match(compact[2:]):
        return compact
    return None


def normalize_phone(text: str) -> str | None:
    """Any written form of a Vietnamese mobile -> 10 digits starting with 0."""
    digits = re.sub(r"\D", "", text)
    if digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if _MOBILE.match(digits) else None


def _fold_norms(doc: Doc) -> Doc:
    """Token norms without case or diacritics, so "hang bi loi" meets "hàng bị lỗi"."""
    for token in doc:
        token.norm_ = strip_diacritics(token.lower_)
    return doc


class EntityFinder:
    """Finds order numbers, phones, e-mails and issue types in one message.

    ``issue_synonyms`` maps an issue type to the phrases customers use for it.
    """

    def __init__(self, issue_synonyms: dict[str, list[str]] | None = None) -> None:
        self._nlp = build_pipeline()
        self._issue_matcher = PhraseMatcher(self._nlp.vocab, attr="NORM")
        for issue_type, phrases in (issue_synonyms or {}).items():
            self._issue_matcher.add(issue_type, [_fold_norms(self._nlp.make_doc(p)) for p in phrases])
        self._matcher = Matcher(self._nlp.vocab)
        self._matcher.add(ORDER_NUMBER, _order_patterns())
        self._matcher.add(PHONE, _phone_patterns())
        self._matcher.add(EMAIL, [[{"LIKE_EMAIL": True}]])
        self._validators: dict[str, Callable[[Span], str | None]] = {
            ORDER_NUMBER: lambda span: normalize_order_number(span.text),
            PHONE: self._validate_phone,
            EMAIL: lambda span: span.text.lower() if _EMAIL.match(span.text) else None,
        }

    def find(self, text: str) -> list[Entity]:
        """All entities in ``text``, longest first where candidates overlap."""
        doc = _fold_norms(self._nlp(text))
        spans = [
            self._with_value(Span(doc, start, end, label=ISSUE_TYPE), self._nlp.vocab.strings[match_id])
            for match_id, start, end in self._issue_matcher(doc)
        ]
        for match_id, start, end in self._matcher(doc):
            label = self._nlp.vocab.strings[match_id]
            span = Span(doc, start, end, label=label)
            value = self._validators[label](span)
            if value is not None:
                spans.append(self._with_value(span, value))
        return [
            Entity(s.label_, s._.value, s.start_char, s.end_char, s.text)
            for s in sorted(filter_spans(spans), key=lambda s: s.start_char)
        ]

    @staticmethod
    def _with_value(span: Span, value: str) -> Span:
        span._.value = value
        return span

    @staticmethod
    def _validate_phone(span: Span) -> str | None:
        value = normalize_phone(span.text)
        if value is None:
            return None
        doc = span.doc
        neighbours = [doc[span.start - 1]] if span.start > 0 else []
        neighbours += [doc[span.end]] if span.end < len(doc) else []
        for token in neighbours:
            # "0912 345 678 9" is a mistyped number, not a phone plus a stray 9
            digits = re.sub(r"\D", "", token.text)
            if re.match(_DIGIT_GROUP, token.text) and len(digits) < _SEPARATE_NUMBER_DIGITS:
                return None
        return value


if not Span.has_extension("value"):
    Span.set_extension("value", default=None)
