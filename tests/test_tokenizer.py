"""VietnameseTokenizer: words, normalization and offsets into the original text."""

import time
from itertools import pairwise

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.tokenizer import VietnameseTokenizer
from bot.text.normalize import strip_diacritics


@pytest.fixture
def storage(tmp_path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


@pytest.fixture
def tokenizer(storage) -> VietnameseTokenizer:
    return VietnameseTokenizer.create(
        VietnameseTokenizer.get_default_config(),
        storage,
        Resource("tokenizer"),
        ExecutionContext(graph_schema=None, model_id="test"),  # type: ignore[arg-type]
    )


def tokens_of(tokenizer: VietnameseTokenizer, text: str):
    message = Message({TEXT: text})
    tokenizer.process([message])
    return message.get(TOKENS_NAMES[TEXT])


def test_compound_words_are_one_token(tokenizer) -> None:
    tokens = tokens_of(tokenizer, "Kiểm tra đơn hàng giúp mình")
    assert tokens[0].text == "kiểm_tra"
    assert (tokens[0].start, tokens[0].end) == (0, 8)


def test_offsets_point_into_the_original_text_after_normalization(tokenizer) -> None:
    text = "Shoppp ơi, sđt của mk là 0912.345.678 nhé 😀 Hoà"
    tokens = tokens_of(tokenizer, text)
    originals = [text[t.start : t.end] for t in tokens]
    assert originals == ["Shoppp", "ơi", "sđt", "của", "mk", "là", "0912.345.678", "nhé", "😀", "Hoà"]
    by_original = dict(zip(originals, tokens, strict=True))
    assert by_original["Shoppp"].text == "shop"
    assert by_original["sđt"].text == "số_điện_thoại"
    assert by_original["mk"].text == "mình"
    assert by_original["Hoà"].text == "hòa"


def test_lemma_is_the_word_without_diacritics(tokenizer) -> None:
    with_marks = tokens_of(tokenizer, "Kiểm tra ĐƠN hàng")
    assert with_marks[0].lemma == "kiem_tra"
    assert all(t.lemma == strip_diacritics(t.text) for t in with_marks)


def test_empty_and_punctuation_only_messages_still_give_one_token(tokenizer) -> None:
    assert [t.text for t in tokens_of(tokenizer, "")] == [""]
    tokens = tokens_of(tokenizer, " ??? ")
    assert len(tokens) == 1


def test_emoji_are_kept_as_tokens(tokenizer) -> None:
    tokens = tokens_of(tokenizer, "hàng vỡ rồi 😡😡")
    assert [t.text for t in tokens][-2:] == ["😡", "😡"]


def test_a_5000_character_message_is_tokenized_with_valid_offsets(tokenizer) -> None:
    text = ("Mình đặt hàng hôm qua mà chưa thấy giao, shop kiểm tra giúp mình với. " * 80)[:5000]
    started = time.monotonic()
    tokens = tokens_of(tokenizer, text)
    assert time.monotonic() - started < 5  # a generous bound: the bot must not hang
    assert len(tokens) > 500
    assert all(0 <= t.start < t.end <= len(text) for t in tokens)
    assert all(a.end <= b.start for a, b in pairwise(tokens))


def test_trained_tokenizer_keeps_its_lexicon_in_the_model(storage, tmp_path) -> None:
    lexicon_dir = tmp_path / "lexicon"
    lexicon_dir.mkdir()
    (lexicon_dir / "x.yml").write_text("expansions:\n  thik: thích\n", encoding="utf-8")
    config = {**VietnameseTokenizer.get_default_config(), "lexicon_path": str(lexicon_dir)}
    context = ExecutionContext(graph_schema=None, model_id="test")  # type: ignore[arg-type]
    trained = VietnameseTokenizer.create(config, storage, Resource("tok"), context)
    trained.train(TrainingData())
    (lexicon_dir / "x.yml").write_text("expansions:\n  thik: khác\n", encoding="utf-8")

    loaded = VietnameseTokenizer.load(config, storage, Resource("tok"), context)
    assert tokens_of(loaded, "thik lắm")[0].text == "thích"
