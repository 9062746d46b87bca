"""How much of a message the vocabulary of its predicted FAQ topic covers.

The intent model and the ResponseSelector always pick *some* topic, often with confidence
~1.0, even for "nồi chiên này dung tích mấy lít" (→ showroom address). A topic
whose training questions never use the message's telling words did not
understand it. "Telling" words are read from the data itself: a syllable used
in the questions of fewer than ``rare_below`` labels (intents and FAQ topics)
says what a message is about; one used almost everywhere ("shop", "không",
"bao nhiêu") says nothing. Syllables never seen in training are telling too.
Compared without diacritics, as customers type both ways.
"""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.text.normalize import strip_diacritics

_SYLLABLE = re.compile(r"[a-z0-9]+")


def syllables(text: str) -> list[str]:
    """The message's syllables, lower case, without diacritics."""
    return _SYLLABLE.findall(strip_diacritics(text).lower())


@dataclass
class TopicVocabulary:
    """Which syllables each label's training questions use."""

    by_label: dict[str, set[str]]
    spread: dict[str, int] = field(init=False)  # syllable -> how many labels use it

    def __post_init__(self) -> None:
        self.spread = defaultdict(int)
        for words in self.by_label.values():
            for word in words:
                self.spread[word] += 1

    @classmethod
    def learn(cls, examples: Iterable[tuple[str, str]]) -> "TopicVocabulary":
        """From (text, label) training examples."""
        by_label: dict[str, set[str]] = defaultdict(set)
        for text, label in examples:
            by_label[label].update(syllables(text))
        return cls(dict(by_label))

    def knows_any(self, text: str) -> bool:
        """Whether any syllable of the message occurs in some training question ("zzkq blarp" does not)."""
        return any(s in self.spread for s in syllables(text))

    def coverage(self, text: str, label: str, rare_share: float) -> float | None:
        """The share of the message's telling syllables that the label's questions use; None if it has none."""
        rare_below = rare_share * len(self.by_label)
        telling = [s for s in syllables(text) if self.spread.get(s, 0) < rare_below]
        if not telling:
            return None
        known = self.by_label.get(label, set())
        return sum(s in known for s in telling) / len(telling)
