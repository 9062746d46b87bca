"""LinearIntentClassifier: rare intents heard over a majority one, the same answer after loading, and
its probabilities averaged with the ranking DIET left on the message."""

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.linear_intent import LinearIntentClassifier
from bot.nlu.tokenizer import VietnameseTokenizer

CONTEXT = ExecutionContext(graph_schema=None, model_id="test")  # type: ignore[arg-type]
CITIES = ["hà nội", "đà nẵng", "huế", "cần thơ", "vinh", "đà lạt", "hải phòng", "quy nhơn", "nha trang", "sài gòn"]
# what customers ask most (many examples) and two rarer questions (three examples each)
EXAMPLES = [(f"cho mình xem các chuyến bay từ {a} đến {b}", "flight") for a in CITIES for b in CITIES[:4] if a != b] + [
    ("các chuyến bay và giá vé từ huế đến vinh", "airfare#flight"),
    ("cho tôi xem chuyến bay kèm giá vé từ đà lạt đi hà nội", "airfare#flight"),
    ("liệt kê chuyến bay và giá vé tương ứng từ cần thơ", "airfare#flight"),
    ("sân bay nào ở đà nẵng", "airport"),
    ("hà nội có những sân bay nào", "airport"),
    ("tên các sân bay tại huế", "airport"),
]


@pytest.fixture
def storage(tmp_path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


@pytest.fixture
def tokenizer(storage) -> VietnameseTokenizer:
    config = VietnameseTokenizer.get_default_config()
    return VietnameseTokenizer.create(config, storage, Resource("tokenizer"), CONTEXT)


def tokenized(tokenizer: VietnameseTokenizer, text: str, **data) -> Message:
    message = Message({TEXT: text, **data})
    tokenizer.process([message])
    return message


@pytest.fixture
def trained(storage, tokenizer) -> LinearIntentClassifier:
    data = TrainingData([tokenized(tokenizer, text, intent=label) for text, label in EXAMPLES])
    classifier = LinearIntentClassifier.create({}, storage, Resource("linear"), CONTEXT)
    classifier.train(data)
    return classifier


def intent_of(classifier: LinearIntentClassifier, message: Message) -> str:
    classifier.process([message])
    return message.get(INTENT)["name"]


def test_a_rare_intent_is_heard_over_the_majority_one(trained, tokenizer) -> None:
    # words of the majority intent ("chuyến bay từ … đến …") with the rare pair's "giá vé"
    message = tokenized(tokenizer, "cho tôi các chuyến bay và giá vé từ nha trang đến sài gòn")
    assert intent_of(trained, message) == "airfare#flight"
    assert intent_of(trained, tokenized(tokenizer, "chuyến bay từ quy nhơn đến huế")) == "flight"
    assert intent_of(trained, tokenized(tokenizer, "san bay o hai phong la gi")) == "airport"


def test_a_loaded_model_answers_as_the_trained_one(trained, storage, tokenizer) -> None:
    loaded = LinearIntentClassifier.load({}, storage, Resource("linear"), CONTEXT)
    for text in ["giá vé và chuyến bay từ huế", "sân bay ở vinh", "các chuyến bay đến đà lạt"]:
        before, after = tokenized(tokenizer, text), tokenized(tokenizer, text)
        trained.process([before])
        loaded.process([after])
        assert before.get(INTENT_RANKING_KEY) == pytest.approx(after.get(INTENT_RANKING_KEY))


def test_its_probabilities_are_averaged_with_the_earlier_ranking(trained, tokenizer) -> None:
    alone = tokenized(tokenizer, "sân bay nào ở cần thơ")
    trained.process([alone])
    own = {r["name"]: r["confidence"] for r in alone.get(INTENT_RANKING_KEY)}
    # DIET was sure of another intent the linear model has never seen
    earlier = [{"name": "greet", "confidence": 0.9}, {"name": "airport", "confidence": 0.1}]
    blended = tokenized(tokenizer, "sân bay nào ở cần thơ", intent=earlier[0], intent_ranking=earlier)
    trained.process([blended])
    ranking = {r["name"]: r["confidence"] for r in blended.get(INTENT_RANKING_KEY)}
    assert ranking["greet"] == pytest.approx(0.7 * 0.9)
    assert ranking["airport"] == pytest.approx(0.3 * own["airport"] + 0.7 * 0.1)
    assert blended.get(INTENT)["name"] == max(ranking, key=ranking.__getitem__)
    assert sum(ranking.values()) <= 1.0 + 1e-9


def test_an_untrained_model_leaves_the_message_alone(storage, tokenizer) -> None:
    classifier = LinearIntentClassifier.create({}, storage, Resource("empty"), CONTEXT)
    classifier.train(TrainingData([tokenized(tokenizer, "xin chào", intent="greet")]))
    message = tokenized(tokenizer, "xin chào", intent={"name": "greet", "confidence": 0.8})
    classifier.process([message])
    assert message.get(INTENT) == {"name": "greet", "confidence": 0.8}
