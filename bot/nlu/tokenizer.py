"""Rasa tokenizer for Vietnamese on underthesea word segmentation.

Tokens carry the normalized word (teencode expanded, tone marks unified) as
``text`` and the same word without diacritics as ``lemma``; featurizers pick
one view or the other with Rasa's own ``use_lemma`` option. Offsets always
point into the message as the customer typed it.

The teencode lexicon is copied into the model at training time, like
``JiebaTokenizer`` does with its dictionaries, so a model behaves the same
wherever it is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.model_resources import read_json, write_json
from bot.paths import LEXICON_DIR
from bot.text.lexicon import load_lexicon
from bot.text.segment import segment

LEXICON_FILE = "lexicon.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class VietnameseTokenizer(Tokenizer):
    """Segments Vietnamese chat text into normalized words."""

    @staticmethod
    def supported_languages() -> list[str] | None:
        """Only Vietnamese (see parent class for full docstring)."""
        return ["vi"]

    @staticmethod
    def required_packages() -> list[str]:
        """Packages this component imports."""
        return ["underthesea"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Returns the component's default config."""
        return {
            # folder of teencode YAML files read at training time
            "lexicon_path": str(LEXICON_DIR),
            # lemma = word without diacritics; False keeps lemma == text
            "fold_diacritics_in_lemma": True,
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        lexicon: dict[str, str],
    ) -> None:
        """Initializes the tokenizer with its lexicon."""
        super().__init__(config)
        self._model_storage = model_storage
        self._resource = resource
        self._lexicon = lexicon

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseTokenizer:
        """Creates a tokenizer with the lexicon read from the data folder."""
        lexicon = load_lexicon(Path(config["lexicon_path"]))
        return cls(config, model_storage, resource, lexicon)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> VietnameseTokenizer:
        """Loads the tokenizer with the lexicon it was trained with."""
        lexicon = read_json(model_storage, resource, LEXICON_FILE)
        if lexicon is None:
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, lexicon)

    def train(self, training_data: TrainingData) -> Resource:
        """Stores the lexicon in the model."""
        write_json(self._model_storage, self._resource, LEXICON_FILE, self._lexicon)
        return self._resource

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokenizes the text of the provided attribute of the incoming message."""
        text = message.get(attribute)
        fold = self._config["fold_diacritics_in_lemma"]
        tokens = [
            Token(s.text, s.start, s.end, lemma=s.folded if fold else s.text) for s in segment(text, self._lexicon)
        ]
        if not tokens:
            # punctuation or emoji only: keep one token so featurizers see something
            tokens = [Token(text, 0)]
        return self._apply_token_pattern(tokens)
