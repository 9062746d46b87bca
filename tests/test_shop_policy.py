"""FAQ answers come from one policy file: change a fact there and every answer follows."""

import shutil

import pytest
import yaml

from bot.paths import SHOP_DIR
from bot.shop_policy import PolicyError, render_answers, write_responses
from tests.test_training_data import CONTRACT

FAQ_TOPICS = [label.split("/", 1)[1] for label in CONTRACT if label.startswith("faq/")]


@pytest.fixture
def shop_copy(tmp_path):
    target = tmp_path / "shop"
    shutil.copytree(SHOP_DIR, target)
    return target


def test_every_faq_topic_has_a_rendered_answer_in_vietnamese() -> None:
    answers = render_answers()
    assert set(FAQ_TOPICS) <= set(answers)
    for topic, text in answers.items():
        assert "{" not in text and "}" not in text, topic
        assert any(c in text for c in "ạảãàáâầấậẩẫăằắặẳẵêềếệểễôồốộổỗơờớợởỡưừứựửữđ"), topic


def test_a_fee_changed_in_the_policy_appears_in_the_answer(shop_copy) -> None:
    policy = yaml.safe_load((shop_copy / "policy.yml").read_text(encoding="utf-8"))
    before = render_answers(shop_copy)["shipping_fee"]
    section = policy["shipping"]
    key = next(k for k, v in section.items() if isinstance(v, str) and v in before)
    section[key] = "12.345đ"
    (shop_copy / "policy.yml").write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    assert "12.345đ" in render_answers(shop_copy)["shipping_fee"]


def test_a_placeholder_missing_from_the_policy_names_the_topic(shop_copy) -> None:
    answers = yaml.safe_load((shop_copy / "answers.yml").read_text(encoding="utf-8"))
    answers["answers"]["refund"] = "Hoàn tiền trong {refund.does_not_exist}."
    (shop_copy / "answers.yml").write_text(yaml.safe_dump(answers, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError, match="refund"):
        render_answers(shop_copy)


def test_broken_yaml_is_a_clear_error_not_a_trace(shop_copy) -> None:
    (shop_copy / "policy.yml").write_text("shipping: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"policy\.yml is not valid YAML"):
        render_answers(shop_copy)


def test_responses_file_is_rewritten_from_the_policy(shop_copy, tmp_path) -> None:
    target = write_responses(shop_copy, tmp_path / "faq.yml")
    responses = yaml.safe_load(target.read_text(encoding="utf-8"))["responses"]
    assert responses["utter_faq/shipping_fee"][0]["text"] == render_answers(shop_copy)["shipping_fee"]
