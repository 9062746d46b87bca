"""Class-weighted logistic regression on TF-IDF n-grams of a tokenized message.

What both linear components share (the intent classifier and the FAQ response selector): three views
of a message — words as typed, words without diacritics, characters without diacritics — each a
sublinear TF-IDF vectorizer, and one regression with balanced class weights over all three. It trains
in seconds and scores a message in well under a millisecond (docs/BENCHMARKS.md, "PhoATIS").

Stored as plain JSON and arrays inside the Rasa model: nothing is unpickled at load time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.nlu.model_resources import read_json, write_json
from bot.nlu.multi_intent import fit_shared_parts, is_multi_intent

# The three views of a message: words as typed, words without diacritics, characters without diacritics.
VIEWS = ("words", "folded_words", "folded_chars")
# Settings measured on PhoATIS dev and the shop's held-out sets (docs/BENCHMARKS.md).
# ``multi_intent_symbol``: what joins the intents of a multi-intent label (Rasa's convention, "+").
DEFAULT_CONFIG: dict[str, Any] = {"max_word_ngram": 2, "min_char_ngram": 2, "max_char_ngram": 5, "C": 100.0,
                                  "max_iter": 3000, "multi_intent_symbol": "+"}  # fmt: skip


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
class LinearModel:
    """What training learned: a vectorizer per view and the regression's weights."""

    vectorizers: dict[str, TfidfVectorizer]
    classes: list[str]
    coef: np.ndarray
    intercept: np.ndarray

    @classmethod
    def fit(cls, messages: Sequence[Message], labels: Sequence[str], config: dict[str, Any]) -> LinearModel | None:
        """The regression learned from tokenized messages and their labels; None with fewer than two labels."""
        if len(set(labels)) < 2:
            return None
        documents = [_views(m) for m in messages]
        vectorizers = {view: _vectorizer(view, config) for view in VIEWS}
        features = hstack([vectorizers[v].fit_transform([d[v] for d in documents]) for v in VIEWS]).tocsr()
        symbol = config["multi_intent_symbol"]
        if any(is_multi_intent(label, symbol) for label in labels):
            classes, coef, intercept = fit_shared_parts(features, labels, symbol, config["C"], config["max_iter"])
            return cls(vectorizers, classes, coef, intercept)
        model = LogisticRegression(C=config["C"], class_weight="balanced", max_iter=config["max_iter"], random_state=7)
        model.fit(features, list(labels))
        return cls(vectorizers, [str(c) for c in model.classes_], model.coef_, model.intercept_)

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

    @cached_property
    def _analyzers(self) -> dict[str, Callable[[str], list[str]]]:
        return {view: vectorizer.build_analyzer() for view, vectorizer in self.vectorizers.items()}

    def probabilities(self, messages: Sequence[Message]) -> np.ndarray:
        """One row per message: the probability of each of ``classes``."""
        scores = np.tile(self.intercept, (len(messages), 1))
        for row, message in enumerate(messages):
            for view, document in _views(message).items():
                indices, weights = self._tfidf(view, document)
                if len(indices):
                    scores[row] += weights @ self.view_weights[view][indices]
        if scores.shape[1] == 1:  # two classes: one column, the second class's log-odds
            scores = np.hstack([np.zeros_like(scores), scores])
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def _tfidf(self, view: str, document: str) -> tuple[np.ndarray, np.ndarray]:
        """The document's known terms and their weights, as the view's ``TfidfVectorizer.transform`` gives
        them (sublinear tf times idf, unit length). sklearn's ``transform`` builds sparse matrices and
        re-checks the fitted vectorizer for every message: 17% of the Rasa server's CPU for one message."""
        vocabulary = self.vectorizers[view].vocabulary_
        counts = Counter(term for term in self._analyzers[view](document) if term in vocabulary)
        indices = np.fromiter((vocabulary[term] for term in counts), dtype=np.intp, count=len(counts))
        weights = (1 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * self._idf[view][indices]
        norm = np.sqrt(weights @ weights)
        return indices, weights / norm if norm else weights

    @cached_property
    def _idf(self) -> dict[str, np.ndarray]:
        return {view: np.asarray(vectorizer.idf_) for view, vectorizer in self.vectorizers.items()}

    def save(self, model_storage: ModelStorage, resource: Resource, name: str) -> None:
        """``<name>.json`` (classes, vocabularies) and ``<name>.npz`` (weights, IDF) in the resource."""
        vocabularies = {
            view: {term: int(index) for term, index in vectorizer.vocabulary_.items()}
            for view, vectorizer in self.vectorizers.items()
        }
        write_json(model_storage, resource, f"{name}.json", {"classes": self.classes, "vocabularies": vocabularies})
        idf = {f"idf_{view}": vectorizer.idf_ for view, vectorizer in self.vectorizers.items()}
        with model_storage.write_to(resource) as directory:
            np.savez(directory / f"{name}.npz", coef=self.coef, intercept=self.intercept, **idf)

    @classmethod
    def load(
        cls, model_storage: ModelStorage, resource: Resource, name: str, config: dict[str, Any]
    ) -> LinearModel | None:
        """What ``save`` stored, or None for a resource trained without a model."""
        stored = read_json(model_storage, resource, f"{name}.json")
        if stored is None:
            return None
        with model_storage.read_from(resource) as directory:
            arrays = np.load(directory / f"{name}.npz", allow_pickle=False)
            vectorizers = {}
            for view in VIEWS:
                vectorizer = _vectorizer(view, config)
                vectorizer.vocabulary_ = stored["vocabularies"][view]
                vectorizer.idf_ = arrays[f"idf_{view}"]
                vectorizers[view] = vectorizer
            return cls(vectorizers, stored["classes"], arrays["coef"], arrays["intercept"])


class LinearComponent(GraphComponent, IntentClassifier):
    """What the intent classifier and the FAQ selector share as Rasa components: the tokens they read, their
    settings over their defaults, where they store the model, and the model once trained or loaded."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Reads the tokens (text and folded lemma) a tokenizer set."""
        return [Tokenizer]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        trained: LinearModel | None = None,
    ) -> None:
        """A model is trained (``train``) or loaded; until then the component leaves messages alone."""
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
    ) -> GraphComponent:
        """An untrained model."""
        return cls(config, model_storage, resource)
