"""LinearResponseSelector: the FAQ topic a question asks for, filed where Rasa's ``utter_faq`` reads it."""

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.linear_selector import LinearResponseSelector
from bot.nlu.tokenizer import VietnameseTokenizer

CONTEXT = ExecutionContext(graph_schema=None, model_id="test")  # type: ignore[arg-type]
QUESTIONS = {
    "faq/shipping_fee": ["phí ship bao nhiêu", "ship về hà nội mất bao nhiêu tiền", "tiền vận chuyển tính sao"],
    "faq/refund": ["hoàn tiền mất bao lâu", "khi nào mình nhận lại tiền", "trả hàng thì hoàn tiền thế nào"],
    "faq/warranty": ["bảo hành bao lâu", "máy hỏng có được bảo hành không", "chính sách bảo hành ra sao"],
}
RESPONSES = {f"utter_{topic}": [{"text": f"answer of {topic}"}] for topic in QUESTIONS}


@pytest.fixture
def storage(tmp_path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


@pytest.fixture
def tokenizer(storage) -> VietnameseTokenizer:
    return VietnameseTokenizer.create(VietnameseTokenizer.get_default_config(), storage, Resource("tok"), CONTEXT)


def tokenized(tokenizer: VietnameseTokenizer, message: Message) -> Message:
    tokenizer.process([message])
    return message


@pytest.fixture
def trained(storage, tokenizer) -> LinearResponseSelector:
    examples = [tokenized(tokenizer, Message.build(q, intent=t)) for t, qs in QUESTIONS.items() for q in qs]
    examples.append(tokenized(tokenizer, Message.build("xin chào shop", intent="greet")))  # not a topic
    selector = LinearResponseSelector.create({"retrieval_intent": "faq"}, storage, Resource("selector"), CONTEXT)
    selector.train(TrainingData(examples, responses=RESPONSES))
    return selector


def selected(selector: LinearResponseSelector, tokenizer: VietnameseTokenizer, text: str) -> dict:
    message = tokenized(tokenizer, Message({TEXT: text}))
    selector.process([message])
    return message.as_dict_nlu()["response_selector"]


def test_the_topic_is_filed_as_rasas_response_selector_files_it(trained, tokenizer) -> None:
    output = selected(trained, tokenizer, "phi ship ve da nang bao nhieu vay")  # typed without diacritics
    assert output["all_retrieval_intents"] == ["faq"]
    response = output["faq"]["response"]
    assert response["intent_response_key"] == "faq/shipping_fee"
    assert response["utter_action"] == "utter_faq/shipping_fee"  # what utter_faq sends
    assert response["responses"] == [{"text": "answer of faq/shipping_fee"}]
    ranking = output["faq"]["ranking"]
    assert ranking[0]["intent_response_key"] == "faq/shipping_fee"
    assert {r["intent_response_key"] for r in ranking} == set(QUESTIONS)  # "greet" is no topic
    assert ranking[0]["confidence"] == response["confidence"] > ranking[1]["confidence"]


@pytest.mark.parametrize(
    ("text", "topic"),
    [("bao lâu thì được hoàn tiền vậy", "faq/refund"), ("bao hanh may bao lau", "faq/warranty")],
)
def test_each_question_gets_its_own_topic(trained, tokenizer, text: str, topic: str) -> None:
    assert selected(trained, tokenizer, text)["faq"]["response"]["intent_response_key"] == topic


def test_a_loaded_selector_answers_as_the_trained_one(trained, storage, tokenizer) -> None:
    loaded = LinearResponseSelector.load({"retrieval_intent": "faq"}, storage, Resource("selector"), CONTEXT)
    for text in ["phí vận chuyển", "hoàn tiền", "bảo hành mấy tháng"]:
        before, after = selected(trained, tokenizer, text), selected(loaded, tokenizer, text)
        assert before["faq"]["response"] == pytest.approx(after["faq"]["response"])


def test_without_two_topics_messages_are_left_alone(storage, tokenizer) -> None:
    selector = LinearResponseSelector.create({}, storage, Resource("empty"), CONTEXT)
    selector.train(TrainingData([tokenized(tokenizer, Message.build("phí ship bao nhiêu", intent="faq/shipping_fee"))]))
    message = tokenized(tokenizer, Message({TEXT: "phí ship bao nhiêu"}))
    selector.process([message])
    assert message.get("response_selector") is None
