"""Rule-based entities: every accepted written form, and the near-misses."""

import pytest
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from actions.services import shared_finder
from bot.nlu.entities import VietnameseEntityExtractor
from bot.support import issue_synonyms


def values(text: str, entity: str):
    return [e.value for e in shared_finder().find(text) if e.entity == entity]


@pytest.mark.parametrize(
    "text",
    [
        "kiểm tra đơn DH123456 giúp mình",
        "don dh123456",
        "mã đơn #DH123456",
        "đơn DH-123456 nhé",
        "DH 123456",
        "#dh 123456.",
        "mã là Dh–123456, cảm ơn",
    ],
)
def test_order_number_forms_normalize_to_dh_and_six_digits(text: str) -> None:
    assert values(text, "order_number") == ["DH123456"]


@pytest.mark.parametrize("text", ["DH12345", "DH1234567", "đơn 123456", "DHX123456", "ADH123456"])
def test_order_number_near_misses_are_rejected(text: str) -> None:
    assert values(text, "order_number") == []


@pytest.mark.parametrize(
    "text",
    [
        "sdt 0912345678",
        "0912.345.678",
        "0912 345 678",
        "0912-345-678",
        "+84 912 345 678",
        "+84912345678",
        "84912345678",
        "(+84)912345678",
        "sđt:0912.345.678!",
    ],
)
def test_phone_forms_normalize_to_ten_digits(text: str) -> None:
    assert values(text, "phone") == ["0912345678"]


@pytest.mark.parametrize(
    "text",
    [
        "091234567",  # 9 digits
        "09123456789",  # 11 digits
        "0912 345 678 9",  # a stray digit: mistyped, not a phone
        "0212345678",  # landline prefix, not a mobile
        "849123456789",
        "DH123456",
    ],
)
def test_phone_near_misses_are_rejected(text: str) -> None:
    assert values(text, "phone") == []


def test_order_number_and_phone_side_by_side() -> None:
    found = shared_finder().find("DH 123456 0987654321")
    assert [(e.entity, e.value) for e in found] == [("order_number", "DH123456"), ("phone", "0987654321")]


def test_email_is_lower_cased_and_trailing_dot_excluded() -> None:
    text = "email mình là Lan.Nguyen@Gmail.com."
    [found] = shared_finder().find(text)
    assert (found.entity, found.value) == ("email", "lan.nguyen@gmail.com")
    assert text[found.start : found.end] == "Lan.Nguyen@Gmail.com"


@pytest.mark.parametrize("text", ["lan@", "@gmail.com", "lan at gmail dot com"])
def test_email_near_misses_are_rejected(text: str) -> None:
    assert values(text, "email") == []


def test_rasa_component_adds_entities_with_spans_into_the_original_text() -> None:
    extractor = VietnameseEntityExtractor(issue_synonyms())
    text = "Đơn #dh-654321 của mình, sđt +84 987 654 321"
    message = Message({TEXT: text})
    extractor.process([message])
    entities = {e["entity"]: e for e in message.get(ENTITIES)}
    assert entities["order_number"]["value"] == "DH654321"
    assert entities["phone"]["value"] == "0987654321"
    assert text[entities["phone"]["start"] : entities["phone"]["end"]] == "+84 987 654 321"
    assert entities["order_number"]["extractor"] == "VietnameseEntityExtractor"


def test_empty_and_emoji_messages_have_no_entities() -> None:
    extractor = VietnameseEntityExtractor(issue_synonyms())
    messages = [Message({TEXT: ""}), Message({TEXT: "😀😀"})]
    extractor.process(messages)
    assert all(not m.get(ENTITIES) for m in messages)


@pytest.mark.parametrize(
    ("text", "issue_type"),
    [
        ("hàng bị vỡ rồi shop ơi", "damaged"),
        ("hang bi loi khong len nguon", "damaged"),
        ("giao sai màu rồi", "wrong_item"),
        ("thieu hang nha shop", "wrong_item"),
        ("giao chậm quá", "late_delivery"),
        ("bị trừ tiền 2 lần", "payment"),
        ("Thanh toán / hoàn tiền", "payment"),
    ],
)
def test_issue_type_from_the_customers_words_with_or_without_diacritics(text: str, issue_type: str) -> None:
    assert set(values(text, "issue_type")) == {issue_type}


def test_no_issue_type_in_an_ordinary_question() -> None:
    assert values("phí ship về Hà Nội bao nhiêu", "issue_type") == []


def test_trained_extractor_keeps_its_issue_types_in_the_model(tmp_path) -> None:
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    storage, resource = LocalModelStorage(tmp_path), Resource("entities")
    context = ExecutionContext(graph_schema=None, model_id="test")  # type: ignore[arg-type]
    VietnameseEntityExtractor({"gift_missing": ["thiếu quà tặng"]}, storage, resource).train(TrainingData())

    loaded = VietnameseEntityExtractor.load({}, storage, resource, context)
    message = Message({TEXT: "đơn của mình bị thieu qua tang"})
    loaded.process([message])
    assert [(e["entity"], e["value"]) for e in message.get(ENTITIES)] == [("issue_type", "gift_missing")]
