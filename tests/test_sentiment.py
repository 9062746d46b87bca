"""The mood scorer on held-out customer messages (tests/data/mood_heldout.yml), and the cues agents see."""

from pathlib import Path

import yaml

from bot.text.sentiment import ANGRY, NEUTRAL, asks_for_person, score_mood

HELDOUT = yaml.safe_load((Path(__file__).parent / "data" / "mood_heldout.yml").read_text(encoding="utf-8"))


def test_upset_customers_are_heard_and_plain_questions_stay_neutral() -> None:
    upset, neutral = HELDOUT["upset"], HELDOUT["neutral"]
    assert len(upset) + len(neutral) >= 60
    caught = [t for t in upset if score_mood(t).upset]
    false_alarms = [t for t in neutral if score_mood(t).upset]
    precision = len(caught) / (len(caught) + len(false_alarms))
    recall = len(caught) / len(upset)
    assert precision >= 0.95 and recall >= 0.9, (precision, recall, set(upset) - set(caught), false_alarms)


def test_the_examples_of_the_issue() -> None:
    assert score_mood("bực mình quá, gọi hotline hoài ko ai nghe").upset
    assert score_mood("đơn DH123456 của mình giao lâu quá, cho gặp nhân viên").upset
    assert score_mood("phí ship bao nhiêu").label == NEUTRAL
    assert score_mood("cái bàn gỗ tròn màu óc chó còn hàng ko").label == NEUTRAL


def test_swearing_caps_and_exclamations_make_it_angry() -> None:
    assert score_mood("dm giao sai hàng nữa rồi").label == ANGRY
    assert score_mood("SHOP TRẢ LỜI ĐI!!!").upset
    assert score_mood("giao chậm quá").label != ANGRY
    assert "!!!" in score_mood("giao chậm quá!!!").cues


def test_a_request_for_a_person_is_read_but_not_a_refusal() -> None:
    assert asks_for_person("giao lâu quá, cho gặp nhân viên")
    assert asks_for_person("cho gap nv di")
    assert not asks_for_person("ko cần gặp nhân viên đâu")
    assert not asks_for_person("shop có tuyển nhân viên không")


def test_everyday_words_typed_without_diacritics_are_not_complaints() -> None:
    """Typed without diacritics, "toi" is "tối" (evening), "tới" (until) and "tôi" as often as "tồi"
    (lousy), and "lam" is "làm" (to work): a question about tonight's opening hours is no complaint."""
    for text in ("shop lam viec toi may gio toi", "nen xem phim gi toi nay z", "toi nay shop mo cua toi may gio vay",
                 "lam on chan giup minh don nay"):  # fmt: skip
        assert not score_mood(text).upset, (text, score_mood(text))
    for text in ("hang toi qua", "chan qua di", "rat toi", "dich vu te vl", "giao cham qua, chan lam"):
        assert score_mood(text).upset, text
