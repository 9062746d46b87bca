"""Multi-turn conversations written as real customers write, run against the real stack over REST.

Each file in tests/conversations/ holds conversations; each turn says something and states what a
customer must (``expect``: every fragment; ``any``: at least one) and must not (``not``) see in the
bot's reply, compared without case. ``orders`` after a conversation checks the demo shop's statuses,
so a conversation can prove that nothing changed. The pass rate is pytest's count of these cases.
"""

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.sandbox import RestCustomer
from bot.settings import Settings

FOLDER = Path(__file__).parent / "conversations"


def load_conversations() -> list[dict[str, Any]]:
    conversations = []
    for path in sorted(FOLDER.glob("*.yml")):
        for conversation in yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]:
            conversations.append({**conversation, "file": path.stem})
    return conversations


CONVERSATIONS = load_conversations()


def reply_text(replies: list[dict]) -> str:
    """What the customer reads: the texts and the buttons' titles."""
    parts = [r.get("text") or "" for r in replies]
    parts += [b.get("title", "") for r in replies for b in r.get("buttons", [])]
    return "\n".join(parts)


def check_turn(turn: dict[str, Any], reply: str) -> list[str]:
    """What is wrong with one reply; empty when it is right."""
    seen = reply.casefold()
    problems = [f"missing {f!r}" for f in turn.get("expect", []) if f.casefold() not in seen]
    if turn.get("any") and not any(f.casefold() in seen for f in turn["any"]):
        problems.append(f"none of {turn['any']!r}")
    problems += [f"should not say {f!r}" for f in turn.get("not", []) if f.casefold() in seen]
    return problems


def test_the_set_is_large_enough() -> None:
    assert len(CONVERSATIONS) >= 80, len(CONVERSATIONS)


@pytest.mark.slow
@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[f"{c['file']}: {c['name']}" for c in CONVERSATIONS])
def test_conversation(bot_stack: Settings, stack_shop, conversation: dict[str, Any]) -> None:
    customer = RestCustomer(bot_stack.rasa_url)
    for number, turn in enumerate(conversation["turns"], start=1):
        reply = reply_text(customer.say(turn["say"]))
        problems = check_turn(turn, reply)
        assert not problems, f"turn {number} ({turn['say']!r}): {problems}\nthe bot said:\n{reply}"
    for order, status in (conversation.get("orders") or {}).items():
        assert stack_shop.get(order).status.value == status, f"{order} should still be {status}"
