"""Rasa's check of the action server's replies, with its JSON schema compiled once.

Rasa 3.6 checks every reply of the action server with ``jsonschema.validate``, which first checks
the schema itself against its meta-schema and compiles it again: 6% of the Rasa server's CPU under
load (docs/BENCHMARKS.md), for a schema that never changes. ``install`` gives ``RemoteAction`` the
same check with a validator built once: the same schema, the same error (jsonschema's best match,
with Rasa's hint appended).
"""

from functools import cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@cache
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    kind = validator_for(schema)
    kind.check_schema(schema)
    return kind(schema)


def _validate_action_result(_action: RemoteAction, result: dict[str, Any]) -> bool:
    error: ValidationError | None = best_match(_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> None:
    """Called once by the Rasa server before it serves (bot/serve.py)."""
    RemoteAction._validate_action_result = _validate_action_result
