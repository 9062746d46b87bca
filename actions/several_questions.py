"""Answering every question a message asks: "có trả góp ko, với lại có xuất hóa đơn ko".

The NLU gives a whole message one intent, and Rasa answers that one as before. When the message
splits into several clauses (bot/text/clauses.py), each clause is classified by the same model
through Rasa's own ``/model/parse`` endpoint and every other FAQ topic asked is answered in the same
reply group; a clause no topic covers is named and honestly not answered, with a person on offer; a clause about a
product is answered from the live catalog (actions/product_answers.py), or named honestly when the
catalog cannot answer.
A clause that asks about an order (status, cancelling, a problem) starts that order form after the
answers, so "phí ship bao nhiêu, mà kiểm tra giúp mình đơn DH123456" gets both.
"""

import asyncio
import logging
from typing import Any

import requests
from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.mood import CALM
from actions.product_answers import live_catalog, product_message
from actions.services import nlu_endpoint
from bot.catalog.model import Product
from bot.text.clauses import asks_several, is_question, split_clauses, without_opening
from bot.text.sentiment import NEUTRAL

logger = logging.getLogger(__name__)

MIN_CONFIDENCE = 0.5  # config.yml's FallbackClassifier threshold: below it a clause is not understood
MAX_CLAUSES = 5  # a long message is not parsed piece by piece without end
PARSE_TIMEOUT = 3.0
UNCOVERED = "uncovered_question"  # shop questions no FAQ topic answers (data/nlu/uncovered.yml)
PRODUCT = "product_question"  # price, stock, sizes of a product: answered from the catalog
ORDER_FORMS = {
    "check_order_status": "order_status_form",
    "cancel_order": "cancel_order_form",
    "report_issue": "issue_report_form",
}


def _parse(text: str) -> dict[str, Any] | None:
    url, token = nlu_endpoint()
    try:
        reply = requests.post(f"{url}/model/parse", params={"token": token}, json={"text": text}, timeout=PARSE_TIMEOUT)
        reply.raise_for_status()
        return reply.json()
    except (requests.RequestException, ValueError) as error:
        logger.warning("clause not parsed: %s", type(error).__name__)
        return None


def _confident_intent(parse: dict[str, Any] | None) -> str | None:
    intent = (parse or {}).get("intent") or {}
    return intent.get("name") if (intent.get("confidence") or 0) >= MIN_CONFIDENCE else None


def faq_response(parse: dict[str, Any] | None) -> str | None:
    """The response the ResponseSelector picked for a parse ("utter_faq/shipping_fee"), whatever the intent."""
    response = ((parse or {}).get("response_selector") or {}).get("faq", {}).get("response") or {}
    return response.get("utter_action")


def faq_topic(parse: dict[str, Any] | None) -> str | None:
    """ "utter_faq/shipping_fee" when the message is a confident FAQ question, else None."""
    return faq_response(parse) if _confident_intent(parse) == "faq" else None


async def parse_clauses(text: str) -> list[tuple[str, dict[str, Any] | None]]:
    """Each clause of a message that asks several things, with its parse; empty for a single question."""
    if not asks_several(text):
        return []
    clauses = split_clauses(text)[:MAX_CLAUSES]
    parses = await asyncio.gather(*(asyncio.to_thread(_parse, without_opening(clause)) for clause in clauses))
    return list(zip(clauses, parses, strict=True))


def uncovered_question(parsed: list[tuple[str, dict[str, Any] | None]]) -> str | None:
    """The first clause asking something no topic covers ("có size XXL không"), to be told so honestly."""
    return next((c for c, p in parsed if _confident_intent(p) == UNCOVERED and is_question(c)), None)


def product_clause(parsed: list[tuple[str, dict[str, Any] | None]]) -> str | None:
    """The first clause asking about a product."""
    return next((c for c, p in parsed if _confident_intent(p) == PRODUCT), None)


async def catalog_if_asked(parsed: list[tuple[str, dict[str, Any] | None]]) -> list[Product] | None:
    """The live catalog when a clause asks about a product (read only then)."""
    return await live_catalog() if product_clause(parsed) else None


def asked_topics(parsed: list[tuple[str, dict[str, Any] | None]]) -> list[str]:
    """The FAQ topics asked, in order, each once; a clause that tells rather than asks is left out."""
    topics: list[str] = []
    for clause, parse in parsed:
        topic = faq_topic(parse)
        if topic and is_question(clause) and topic not in topics:
            topics.append(topic)
    return topics


def order_request(parsed: list[tuple[str, dict[str, Any] | None]]) -> str | None:
    """The order form a clause asks for ("kiểm tra giúp mình đơn DH123456"), if any."""
    return next((ORDER_FORMS[i] for _, p in parsed if (i := _confident_intent(p)) in ORDER_FORMS), None)


def answer_clauses(
    dispatcher: CollectingDispatcher,
    parsed: list[tuple[str, dict[str, Any] | None]],
    answered: str | None = None,
    catalog: list[Product] | None = None,
) -> list[dict[str, Any]] | None:
    """Answers every topic the clauses ask (but ``answered``) and a product asked about (from ``catalog``),
    says which one is not covered, starts an order form asked for; the events, or None when the clauses
    asked nothing more."""
    topics = [t for t in asked_topics(parsed) if t != answered]
    form, uncovered, product = order_request(parsed), uncovered_question(parsed), product_clause(parsed)
    if not (topics or form or uncovered or product):
        return None
    for topic in topics:
        dispatcher.utter_message(response=topic)
    if product and catalog is not None:
        dispatcher.utter_message(**product_message(product, catalog))
    elif product:  # the catalog cannot answer now: named, not guessed
        dispatcher.utter_message(response="utter_uncovered_part", question=product)
    if uncovered:
        dispatcher.utter_message(response="utter_uncovered_part", question=uncovered)
    return [FollowupAction(form)] if form else []


class ActionAnswerOtherQuestions(Action):
    """After the FAQ answer (``utter_faq``, which needs no action server) or a product's, the other questions
    of the message.

    The whole message's answer comes from Rasa itself, so an FAQ is answered even while the action server
    is down; this only adds what the message asked besides.
    """

    def name(self) -> str:
        return "action_answer_other_questions"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        parsed = await parse_clauses(tracker.latest_message.get("text") or "")
        if (tracker.latest_message.get("intent") or {}).get("name") == PRODUCT:  # the product is answered
            parsed = [(clause, parse) for clause, parse in parsed if _confident_intent(parse) != PRODUCT]
            return answer_clauses(dispatcher, parsed) or []
        answered = faq_response(tracker.latest_message)
        return answer_clauses(dispatcher, parsed, answered, await catalog_if_asked(parsed)) or []


class ActionAnswerUncovered(Action):
    """A question no topic covers gets an honest answer — unless it is several covered questions at once.

    A message asking two covered things shares too few words with either topic for the coverage guard
    (bot/nlu/coverage.py) and arrives as uncovered; its clauses, classified one by one, are each covered.
    """

    def name(self) -> str:
        return "action_answer_uncovered"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        parsed = await parse_clauses(tracker.latest_message.get("text") or "")
        if asked_topics(parsed):
            return answer_clauses(dispatcher, parsed) or []
        dispatcher.utter_message(response="utter_uncovered")
        return []


class ActionAnswerSideQuestions(Action):
    """Before an order form starts: an apology if the customer is upset, then the FAQ questions asked beside.

    An upset message about an order ("giao trễ quá, đặt cả tuần rồi!!!") keeps its task — the form is
    the fastest help — but is not met with a bare form question.
    """

    def name(self) -> str:
        return "action_answer_side_questions"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if (tracker.latest_message.get("mood") or CALM).get("label", NEUTRAL) != NEUTRAL:
            dispatcher.utter_message(response="utter_sorry_for_the_trouble")
        for topic in asked_topics(await parse_clauses(tracker.latest_message.get("text") or "")):
            dispatcher.utter_message(response=topic)
        return []
