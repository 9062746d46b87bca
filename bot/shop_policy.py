"""Renders customer-facing text from the one shop-policy source.

``data/shop/policy.yml`` holds the facts (fees, addresses, hours) and
``data/shop/answers.yml`` the FAQ wording with ``{section.key}`` placeholders;
the answers are written as Rasa retrieval responses to ``data/responses/faq.yml``.
An admin changes a fee in one place and every answer follows.
"""

import string
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from bot.paths import GENERATED_RESPONSES, SHOP_DIR

HEADER = "# Generated from data/shop/policy.yml and answers.yml by bot.shop_policy; do not edit.\n"


class PolicyError(ValueError):
    """The policy or an answer template is malformed; the message says where."""


def _namespace(value: Any) -> Any:
    if isinstance(value, dict):
        return SimpleNamespace(**{k: _namespace(v) for k, v in value.items()})
    return value


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise PolicyError(f"{path.name} is not valid YAML: {error}") from error
    if not isinstance(content, dict):
        raise PolicyError(f"{path.name} must be a mapping")
    return content


def load_policy(shop_dir: Path = SHOP_DIR) -> dict[str, Any]:
    """The shop facts as nested mappings."""
    return _read_yaml(shop_dir / "policy.yml")


def _fill(template: str, policy: SimpleNamespace, where: str) -> str:
    try:
        return string.Formatter().vformat(template, (), vars(policy)).strip()
    except (AttributeError, KeyError, IndexError, ValueError) as error:
        raise PolicyError(f"{where}: cannot fill {error}") from error


def render_text(template: str, shop_dir: Path = SHOP_DIR) -> str:
    """One message with ``{section.key}`` placeholders filled from the policy."""
    return _fill(template, _namespace(load_policy(shop_dir)), "message")


def render_answers(shop_dir: Path = SHOP_DIR) -> dict[str, str]:
    """Every FAQ topic's answer with the policy facts filled in."""
    policy = _namespace(load_policy(shop_dir))
    templates = _read_yaml(shop_dir / "answers.yml").get("answers")
    if not isinstance(templates, dict) or not templates:
        raise PolicyError("answers.yml needs an 'answers:' mapping of topic -> text")
    return {topic: _fill(str(text), policy, f"answer '{topic}'") for topic, text in templates.items()}


def write_responses(shop_dir: Path = SHOP_DIR, target: Path = GENERATED_RESPONSES) -> Path:
    """Writes the rendered answers as ``utter_faq/<topic>`` retrieval responses."""
    responses = {f"utter_faq/{topic}": [{"text": text}] for topic, text in render_answers(shop_dir).items()}
    content = HEADER + yaml.safe_dump(
        {"version": "3.1", "responses": responses}, allow_unicode=True, sort_keys=True, width=1000
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_text(encoding="utf-8") != content:
        target.write_text(content, encoding="utf-8")
    return target


if __name__ == "__main__":
    print(write_responses())
