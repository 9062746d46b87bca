"""Rasa graph component: a problem named on a named order, or one the customer asks to report, is a report.

"đơn DH123456 giao lâu quá vậy shop" names an order and one of the shop's issue types (the
``issue_type`` entity, from data/shop/support.yml); the customer wants it dealt with, which is the
issue report's job. The model alone sends such messages to a complaint, an FAQ or the fallback, and
they answer nothing about the order. The same holds for "đơn này giao trễ quá, mình muốn báo lỗi": the
order is the one in the conversation and the customer says what they want done. Runs after the
classifiers (and the mood), and leaves alone a task the customer chose (status, cancelling), a request
for a person, and a bare complaint that names neither an order nor a report.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_override import RuleComponent, override_intent
from bot.text.normalize import strip_diacritics

REPORT = "report_issue"
# what the model says about such messages when it does not see a report (a late order read as a status
# request included: "đơn DH123456 giao trễ quá" is a complaint to file, not a status to show)
REROUTED = frozenset({"complain", "faq", "nlu_fallback", "out_of_scope", "inform", "check_order_status"})
# the customer naming the action, compared without diacritics: "báo lỗi", "khiếu nại", "phản ánh"
ASKS_TO_REPORT = ("bao loi", "bao cao", "khieu nai", "phan anh")
# "giao sai" reads as a no to the model ("sai" is one); a problem's name with no word of refusal is not a no
# "hoàn tiền mất bao lâu? mình muốn huỷ đơn DH333444" names a problem word and an order, but asks to cancel
CANCEL_WORDS = frozenset({"huy"})  # compared without diacritics, like the rest
REFUSAL_WORDS = frozenset({"khong", "ko", "k", "kg", "chua", "thoi", "khoi", "hong", "khum", "dung", "bo", "huy"})


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class OrderComplaintRouter(RuleComponent):
    """Sends a known problem on a named order to the issue report."""

    def process(self, messages: list[Message]) -> list[Message]:
        """Replaces the intent of a message naming both an order and an issue type."""
        for message in messages:
            intent = message.get(INTENT) or {}
            kinds = {entity.get("entity") for entity in message.get(ENTITIES) or []}
            folded = strip_diacritics(str(message.get(TEXT) or "")).lower()
            named = "order_number" in kinds or any(words in folded for words in ASKS_TO_REPORT)
            a_problem_not_a_no = intent.get(INTENT_NAME_KEY) == "deny" and not REFUSAL_WORDS & set(folded.split())
            if (
                "issue_type" not in kinds
                or CANCEL_WORDS & set(folded.split())
                or not ((intent.get(INTENT_NAME_KEY) in REROUTED and named) or a_problem_not_a_no)
            ):
                continue
            override_intent(message, REPORT)
        return messages
