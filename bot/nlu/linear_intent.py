"""A class-weighted linear intent model on TF-IDF n-grams; config.yml's only intent classifier.

A logistic regression with balanced class weights over sublinear TF-IDF of word uni/bigrams (as typed
and without diacritics) and character n-grams trains in seconds, hears rare intents that thousands of
examples of a majority intent drown, and gets pairs such as "chuyến bay và giá vé" (PhoATIS's
"airfare#flight") right. Alone it scored above DIET, and above DIET averaged with it, on PhoATIS and on
the shop's held-out sets, with 30% less of the Rasa server's CPU per message (docs/BENCHMARKS.md,
"PhoATIS"). When an earlier classifier has ranked the intents, the two rankings are averaged with
``linear_weight``.

Rasa's own ``LogisticRegressionClassifier`` is not used: it reads the featurizers' raw counts (no
bigrams from the tokenizer's segmentation, no TF-IDF, no class weights to set) and replaces an earlier
answer instead of blending with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.nlu.model_resources import read_json, write_json

logger = logging.getLogger(__name__)

MODEL_FILE = "linear_intent.json"
WEIGHTS_FILE = "linear_intent.npz"
RANKING_LENGTH = 10
# The three views of a message: words as typed, words without diacritics, characters without diacritics.
VIEWS = ("words", "folded_words", "folded_chars")


def _views(message: Message) -> dict[str, str]:
    """The message as three documents for the vectorizers; a multi-syllable word stays one term."""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    words = " ".join(t.text.lower().replace(" ", "_") for t in tokens)
    folded = " ".join((t.lemma or t.text).lower().replace(" ", "_") for t in tokens)
    return {"words": words, "folded_words": folded, "folded_chars": folded.replace("_", " ")}


def _vectorizer(view: str, config: dict[str, Any]) -> TfidfVectorizer:
    if view == "folded_chars":
        return TfidfVectorizer(
            analyzer="char_wb", ngram_range=(config["min_char_ngram"], config["max_char_ngram"]), sublinear_tf=True
        )
    return TfidfVectorizer(token_pattern=r"\S+", ngram_range=(1, config["max_word_ngram"]), sublinear_tf=True)


@dataclass(frozen=True)
class _Trained:
    """What training learned: a vectorizer per view and the regression's weights."""

    vectorizers: dict[str, TfidfVectorizer]
    classes: list[str]
    coef: np.ndarray
    intercept: np.ndarray

    @cached_property
    def view_weights(self) -> dict[str, np.ndarray]:
        """Each view's block of the weights, transposed: scoring a message per view skips stacking its
        sparse features (scipy's ``hstack`` was most of the model's time per message)."""
        blocks, start = {}, 0
        for view in VIEWS:
            end = start + len(self.vectorizers[view].vocabulary_)
            blocks[view] = np.ascontiguousarray(self.coef[:, start:end].T)
            start = end
        return blocks


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Logistic regression over TF-IDF n-grams, averaged with the previous classifier's ranking."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Reads the tokens (text and folded lemma) a tokenizer set."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Settings measured on PhoATIS dev and the shop's held-out set (docs/BENCHMARKS.md)."""
        return {
            "max_word_ngram": 2,
            "min_char_ngram": 2,
            "max_char_ngram": 5,
            "C": 100.0,
            # share of this model in the averaged ranking; the rest is the previous classifier's
            "linear_weight": 0.3,
            "max_iter": 3000,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        trained: _Trained | None = None,
    ) -> None:
        """A model is trained (``train``) or loaded; until then it leaves messages alone."""
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._trained = trained

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        """An untrained model."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fits the vectorizers and the class-weighted logistic regression, and stores them."""
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        labels = [e.get(INTENT) for e in examples]
        if len(set(labels)) < 2:
            logger.debug("LinearIntentClassifier: fewer than two intents, nothing to learn.")
            return self._resource
        documents = [_views(e) for e in examples]
        vectorizers = {view: _vectorizer(view, self._config) for view in VIEWS}
        features = hstack([vectorizers[v].fit_transform([d[v] for d in documents]) for v in VIEWS]).tocsr()
        model = LogisticRegression(
            C=self._config["C"], class_weight="balanced", max_iter=self._config["max_iter"], random_state=7
        )
        model.fit(features, labels)
        self._trained = _Trained(vectorizers, [str(c) for c in model.classes_], model.coef_, model.intercept_)
        self._persist(self._trained)
        return self._resource

    def _persist(self, trained: _Trained) -> None:
        vocabularies = {
            view: {term: int(index) for term, index in vectorizer.vocabulary_.items()}
            for view, vectorizer in trained.vectorizers.items()
        }
        stored = {"classes": trained.classes, "vocabularies": vocabularies}
        write_json(self._model_storage, self._resource, MODEL_FILE, stored)
        idf = {f"idf_{view}": vectorizer.idf_ for view, vectorizer in trained.vectorizers.items()}
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / WEIGHTS_FILE, coef=trained.coef, intercept=trained.intercept, **idf)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        """The stored vocabularies, IDF weights and coefficients (plain arrays: nothing unpickled)."""
        stored = read_json(model_storage, resource, MODEL_FILE)
        if stored is None:
            return cls(config, model_storage, resource)
        merged = {**cls.get_default_config(), **config}
        with model_storage.read_from(resource) as directory:
            arrays = np.load(directory / WEIGHTS_FILE, allow_pickle=False)
            vectorizers = {}
            for view in VIEWS:
                vectorizer = _vectorizer(view, merged)
                vectorizer.vocabulary_ = stored["vocabularies"][view]
                vectorizer.idf_ = arrays[f"idf_{view}"]
                vectorizers[view] = vectorizer
            trained = _Trained(vectorizers, stored["classes"], arrays["coef"], arrays["intercept"])
        return cls(config, model_storage, resource, trained)

    @staticmethod
    def _probabilities(trained: _Trained, messages: list[Message]) -> np.ndarray:
        documents = [_views(m) for m in messages]
        scores = np.tile(trained.intercept, (len(messages), 1))
        for view in VIEWS:
            scores += trained.vectorizers[view].transform([d[view] for d in documents]) @ trained.view_weights[view]
        if scores.shape[1] == 1:  # two classes: one column, the second class's log-odds
            scores = np.hstack([np.zeros_like(scores), scores])
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def process(self, messages: list[Message]) -> list[Message]:
        """Averages this model's probabilities with the ranking already on each message."""
        if self._trained is None or not messages:
            return messages
        weight = self._config["linear_weight"]
        for message, probabilities in zip(messages, self._probabilities(self._trained, messages), strict=True):
            earlier = {r[INTENT_NAME_KEY]: r[PREDICTED_CONFIDENCE_KEY] for r in message.get(INTENT_RANKING_KEY) or []}
            own = dict(zip(self._trained.classes, probabilities.tolist(), strict=True))
            share = weight if earlier else 1.0
            blended = {
                name: share * own.get(name, 0.0) + (1 - share) * earlier.get(name, 0.0) for name in {*own, *earlier}
            }
            ranking = sorted(
                ({INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: p} for name, p in blended.items()),
                key=lambda r: -r[PREDICTED_CONFIDENCE_KEY],
            )[:RANKING_LENGTH]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
