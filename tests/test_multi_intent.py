"""A multi-intent label ("order_status+shipping_fee") learns from its parts' examples too."""

from types import SimpleNamespace

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.optimize import check_grad
from scipy.sparse import csr_matrix

from bot.nlu import multi_intent
from bot.nlu.linear_model import DEFAULT_CONFIG, LinearModel
from bot.nlu.tokenizer import VietnameseTokenizer

CONTEXT = ExecutionContext(graph_schema=None, model_id="test")  # type: ignore[arg-type]
ORDER = ["đơn hàng của mình tới đâu rồi", "kiểm tra đơn giúp mình", "đơn DH123456 giao chưa",
         "bao giờ đơn của mình đến", "tra cứu tình trạng đơn hàng", "đơn mình đang ở đâu vậy"]  # fmt: skip
SHIPPING = ["phí ship bao nhiêu", "tiền vận chuyển tính thế nào", "ship về hà nội hết bao nhiêu tiền",
            "phí giao hàng là bao nhiêu", "có miễn phí ship không", "cước ship đi đà nẵng bao nhiêu"]  # fmt: skip
BOTH = "order_status+shipping_fee"
EXAMPLES = [
    *((text, "order_status") for text in ORDER),
    *((text, "shipping_fee") for text in SHIPPING),
    ("chào shop", "greet"), ("xin chào ạ", "greet"), ("hello shop ơi", "greet"),
    ("đơn của mình tới đâu rồi, phí ship bao nhiêu vậy", BOTH),
    ("kiểm tra đơn giúp mình với cho hỏi tiền vận chuyển luôn", BOTH),
]  # fmt: skip
# what the customers of the pair write: one question of each part in one message, none of them an example
ASKING_BOTH = [f"{order}, {shipping}" for order, shipping in zip(ORDER, SHIPPING, strict=True)]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory) -> VietnameseTokenizer:
    storage = LocalModelStorage(tmp_path_factory.mktemp("tok"))
    return VietnameseTokenizer.create(VietnameseTokenizer.get_default_config(), storage, Resource("tok"), CONTEXT)


def tokenized(tokenizer: VietnameseTokenizer, texts: list[str]) -> list[Message]:
    messages = [Message({TEXT: text}) for text in texts]
    tokenizer.process(messages)
    return messages


def pair_probability(tokenizer: VietnameseTokenizer, symbol: str, tmp_path) -> float:
    """The mean probability of the pair over messages asking both, from a model stored and loaded again."""
    config = {**DEFAULT_CONFIG, "multi_intent_symbol": symbol}
    model = LinearModel.fit(tokenized(tokenizer, [t for t, _ in EXAMPLES]), [lab for _, lab in EXAMPLES], config)
    assert model is not None
    folder = tmp_path / ("shared" if symbol else "alone")
    folder.mkdir()
    storage, resource = LocalModelStorage(folder), Resource("linear")
    model.save(storage, resource, "linear")
    loaded = LinearModel.load(storage, resource, "linear", config)
    assert loaded is not None and BOTH in loaded.classes
    probabilities = loaded.probabilities(tokenized(tokenizer, ASKING_BOTH))
    return float(probabilities[:, loaded.classes.index(BOTH)].mean())


def test_the_pair_is_heard_more_when_its_parts_teach_it(tokenizer, tmp_path) -> None:
    shared = pair_probability(tokenizer, "+", tmp_path)
    alone = pair_probability(tokenizer, "", tmp_path)  # no symbol: every label learns from its own examples
    assert shared > alone * 1.1


def test_the_regression_follows_the_gradient_of_its_objective(monkeypatch) -> None:
    """L-BFGS trusts the gradient it is given: a wrong one would stop at a model that is not the optimum."""
    rng = np.random.default_rng(7)
    features = csr_matrix(rng.random((12, 5)) * (rng.random((12, 5)) > 0.5))
    labels = ["a", "b", "a+b", "c", "a", "b", "a+b", "c", "a", "b", "c", "a"]
    objectives = []

    def record(objective, start, **_):
        objectives.append((objective, len(start)))
        return SimpleNamespace(x=start)

    monkeypatch.setattr(multi_intent, "minimize", record)
    multi_intent.fit_shared_parts(features, labels, "+", 3.0, 100)
    [(objective, size)] = objectives
    for _ in range(3):
        point = rng.normal(size=size)
        error = check_grad(lambda w: objective(w)[0], lambda w: objective(w)[1], point)
        assert error < 1e-5 * np.linalg.norm(objective(point)[1])
