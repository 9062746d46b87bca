"""Action-server calls Rasa can tell are empty before making them.

``action_answer_other_questions`` follows every FAQ answer (data/stories/rules.yml) and answers the
other questions of a message that asks several (actions/several_questions.py); a message of one
clause gets nothing from it. Most FAQ messages are one clause, and the call cost the Rasa server a
request, a JSON round trip and a reply check, and the action server a turn, on 6 of the latency
benchmark's 10 messages. Rasa now answers such a call itself with the action server's own empty
reply; the clause split is the one the action uses (``bot.text.clauses.asks_several``).
"""

from typing import Any

from bot.text.clauses import asks_several


def _other_questions_asked(tracker: dict[str, Any]) -> bool:
    return asks_several((tracker.get("latest_message") or {}).get("text") or "")


# action -> whether a call can add anything, from the tracker Rasa would send
NEEDS_THE_SERVER = {"action_answer_other_questions": _other_questions_asked}


def reply_without_server(body: dict[str, Any]) -> dict[str, list[Any]] | None:
    """The action server's reply to ``body`` when it is known to be empty; None when the server must answer."""
    needs = NEEDS_THE_SERVER.get(body.get("next_action") or "")
    if needs is None or needs(body.get("tracker") or {}):
        return None
    return {"events": [], "responses": []}
