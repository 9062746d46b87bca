"""The linear model's own TF-IDF scoring gives what sklearn's vectorizers and regression give."""

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import hstack

from bot.nlu.linear_model import DEFAULT_CONFIG, VIEWS, LinearModel, _views
from bot.nlu.tokenizer import VietnameseTokenizer

CONTEXT = ExecutionContext(graph_schema=None, model_id="test")  # type: ignore[arg-type]
EXAMPLES = [
    ("phí ship về hà nội bao nhiêu", "shipping"), ("ship đi đà nẵng mất bao nhiêu tiền", "shipping"),
    ("tiền vận chuyển tính thế nào", "shipping"), ("kiểm tra đơn DH123456 giúp mình", "order"),
    ("đơn hàng của mình tới đâu rồi", "order"), ("tra cứu đơn hàng", "order"),
    ("chào shop", "greet"), ("xin chào ạ", "greet"), ("hello shop ơi", "greet"),
]  # fmt: skip


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory) -> VietnameseTokenizer:
    storage = LocalModelStorage(tmp_path_factory.mktemp("tok"))
    return VietnameseTokenizer.create(VietnameseTokenizer.get_default_config(), storage, Resource("tok"), CONTEXT)


def tokenized(tokenizer: VietnameseTokenizer, text: str) -> Message:
    message = Message({TEXT: text})
    tokenizer.process([message])
    return message


def sklearn_probabilities(model: LinearModel, messages: list[Message]) -> np.ndarray:
    documents = [_views(m) for m in messages]
    features = hstack([model.vectorizers[v].transform([d[v] for d in documents]) for v in VIEWS])
    scores = features @ model.coef.T + model.intercept
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def test_scores_equal_sklearns_on_seen_unseen_and_empty_messages(tokenizer) -> None:
    model = LinearModel.fit([tokenized(tokenizer, t) for t, _ in EXAMPLES], [lab for _, lab in EXAMPLES],
                            DEFAULT_CONFIG)  # fmt: skip
    assert model is not None
    texts = ["phi ship ve hue bao nhieu vay", "đơn DH123456 của mình đâu rồi shop", "chào chào chào", "😀", "",
             "zzzz qqqq"]  # fmt: skip
    messages = [tokenized(tokenizer, t) for t in texts]
    assert model.probabilities(messages) == pytest.approx(sklearn_probabilities(model, messages), abs=1e-12)
