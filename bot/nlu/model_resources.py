"""Data a component keeps inside the trained model, as one JSON file per resource.

Both Vietnamese components store what they read from ``data/`` at training
time, so a model behaves the same wherever it is loaded.
"""

import json
import logging
from typing import Any

from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

logger = logging.getLogger(__name__)


def write_json(model_storage: ModelStorage, resource: Resource, filename: str, data: Any) -> None:
    """Stores ``data`` in the model under this component's resource."""
    with model_storage.write_to(resource) as directory:
        (directory / filename).write_text(json.dumps(data, ensure_ascii=False), "utf-8")


def read_json(model_storage: ModelStorage, resource: Resource, filename: str) -> Any | None:
    """The stored data, or None for a model trained without it."""
    try:
        with model_storage.read_from(resource) as directory:
            return json.loads((directory / filename).read_text("utf-8"))
    except (ValueError, FileNotFoundError):
        logger.warning("Model has no stored %s for %s; reading the data folder.", filename, resource.name)
        return None
