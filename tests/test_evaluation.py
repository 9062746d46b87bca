"""Labels from parse results, as the held-out accuracy counts them."""

from bot.evaluation import evaluate, predicted_label


def selection(key: str, topic: str) -> dict:
    return {"all_retrieval_intents": ["faq"], key: {"response": {"intent_response_key": topic}}}


def test_faq_prediction_counts_with_its_topic() -> None:
    parse = {"intent": {"name": "faq"}, "response_selector": selection("faq", "faq/refund")}
    assert predicted_label(parse) == "faq/refund"


def test_rasa_default_response_selector_is_read_too() -> None:
    parse = {"intent": {"name": "faq"}, "response_selector": selection("default", "faq/warranty")}
    assert predicted_label(parse) == "faq/warranty"


def test_fallback_counts_as_wrong() -> None:
    report = evaluate(lambda text: {"intent": {"name": "nlu_fallback"}}, [("phí ship", "faq/shipping_fee")])
    assert report.accuracy == 0.0
    assert report.misses == [("phí ship", "faq/shipping_fee", "nlu_fallback")]
