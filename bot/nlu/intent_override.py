"""Setting a message's intent from a rule, the way Rasa's own FallbackClassifier does.

Several components after the classifiers know better than the model in narrow cases (a bare
rating, a message in English, an upset message, a topic the words do not support). Each puts its
intent first with confidence 1 and keeps the model's ranking behind it, so the dialogue follows the
rule while the model's own guess stays visible in the parse data and the stored events.
``RuleComponent`` is their common base: Rasa's constructor hook, written once.
"""

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message


def override_intent(message: Message, name: str) -> None:
    """Makes ``name`` the message's intent, first in its ranking (once)."""
    intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)


class RuleComponent(GraphComponent):
    """A graph component whose rules are fixed in code: nothing to configure, learn or persist.

    Subclasses still register themselves with ``DefaultV1Recipe.register`` (Rasa reads the type there).
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "RuleComponent":
        """Rasa's constructor hook; the rules need none of its arguments."""
        return cls()
