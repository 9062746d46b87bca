"""Vietnamese word segmentation with offsets into the customer's original text.

The pipeline per message:
1. split the original text into pieces (words, numbers, e-mails, emoji) and
   drop bare punctuation;
2. normalize each piece (NFC, tone placement, case, stretched letters) and
   expand teencode from the lexicon ("ko" -> "không", "sđt" -> "số điện thoại");
3. let underthesea group the normalized syllables into words ("kiểm tra");
4. map each word back to the span of the original pieces it came from, so an
   expansion never moves offsets and a compound spans its original letters.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from underthesea import word_tokenize

from bot.text.normalize import normalize_syllable, strip_diacritics

# A word/number possibly joined by . - @ _ + (e-mails, "0912.345.678", "a-b"),
# or any single non-space character (punctuation, emoji).
_PIECE = re.compile(r"\w+(?:[.\-@_+']\w+)*|\S", re.UNICODE)
_HAS_WORD_CHAR = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class Segment:
    """One word of the message: normalized text and its span in the original."""

    text: str
    start: int
    end: int

    @property
    def folded(self) -> str:
        """The word without diacritics, for diacritic-insensitive features."""
        return strip_diacritics(self.text)


@dataclass(frozen=True)
class _Syllable:
    text: str
    piece: int


def _is_emoji_or_symbol(char: str) -> bool:
    return (
        not _HAS_WORD_CHAR.match(char)
        and ord(char) > 0x2000
        and not (
            0x2010 <= ord(char) <= 0x205F  # general punctuation: dashes, quotes, ellipsis
        )
    )


def _pieces(text: str) -> list[re.Match]:
    """Words, numbers and emoji of ``text``; bare punctuation is noise for intents."""
    return [m for m in _PIECE.finditer(text) if _HAS_WORD_CHAR.search(m.group()) or _is_emoji_or_symbol(m.group())]


def _syllables(pieces: Sequence[re.Match], lexicon: dict[str, str]) -> list[_Syllable]:
    syllables: list[_Syllable] = []
    for index, piece in enumerate(pieces):
        normalized = normalize_syllable(piece.group())
        expansion = lexicon.get(normalized, normalized)
        syllables.extend(_Syllable(part, index) for part in expansion.split())
    return syllables


def _word_starts(syllables: Sequence[_Syllable]) -> list[bool]:
    """Which syllables start a word according to underthesea.

    underthesea may re-space or re-normalize its input, so its words are aligned
    to ours character by character (spaces ignored); on any disagreement every
    syllable stays its own word rather than guessing.
    """
    starts = [True] * len(syllables)
    owner = [i for i, s in enumerate(syllables) for _ in s.text]
    joined = "".join(s.text for s in syllables)
    position = 0
    word_start_syllables = set()
    for word in word_tokenize(" ".join(s.text for s in syllables)):
        compact = word.replace(" ", "").lower()
        if joined[position : position + len(compact)] != compact:
            return starts
        word_start_syllables.add(owner[position])
        position += len(compact)
    for i in range(len(syllables)):
        # a word boundary inside one original piece (an expansion) is ignored
        same_piece = i > 0 and syllables[i - 1].piece == syllables[i].piece
        starts[i] = i == 0 or (i in word_start_syllables and not same_piece)
    return starts


def segment(text: str, lexicon: dict[str, str]) -> list[Segment]:
    """Segment ``text`` into normalized words with spans into ``text`` itself."""
    pieces = _pieces(text)
    syllables = _syllables(pieces, lexicon)
    if not syllables:
        return []
    segments: list[Segment] = []
    group: list[_Syllable] = []
    for syllable, starts_word in zip(syllables, _word_starts(syllables), strict=True):
        if starts_word and group:
            segments.append(_to_segment(group, pieces))
            group = []
        group.append(syllable)
    segments.append(_to_segment(group, pieces))
    return segments


def _to_segment(group: Sequence[_Syllable], pieces: Sequence[re.Match]) -> Segment:
    return Segment(
        text="_".join(s.text for s in group),
        start=pieces[group[0].piece].start(),
        end=pieces[group[-1].piece].end(),
    )
