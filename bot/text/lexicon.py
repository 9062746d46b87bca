"""The teencode / abbreviation lexicon, kept as data in ``data/lexicon/``.

Admins extend it by adding ``short: long form`` lines to any YAML file there;
keys are matched on whole words, case- and diacritic-form-insensitively.
"""

from pathlib import Path

import yaml

from bot.paths import LEXICON_DIR
from bot.text.normalize import normalize_syllable


class LexiconError(ValueError):
    """A lexicon file is not a mapping of words to their long forms."""


def load_lexicon(directory: Path = LEXICON_DIR) -> dict[str, str]:
    """Read every ``*.yml`` file in ``directory`` into one normalized mapping."""
    lexicon: dict[str, str] = {}
    for path in sorted(directory.glob("*.yml")):
        with path.open(encoding="utf-8") as handle:
            content = yaml.safe_load(handle) or {}
        entries = content.get("expansions", {}) if isinstance(content, dict) else None
        if not isinstance(entries, dict):
            raise LexiconError(f"{path}: expected a mapping under 'expansions:'")
        for short, long_form in entries.items():
            if not isinstance(long_form, str) or not long_form.strip():
                raise LexiconError(f"{path}: '{short}' needs a non-empty long form")
            key = normalize_syllable(str(short).strip())
            lexicon[key] = " ".join(normalize_syllable(w) for w in long_form.split())
    return lexicon
