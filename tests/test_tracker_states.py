"""Dialogue states worked out once per version of a conversation: the same states as Rasa's, never stale."""

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.paths import DOMAIN_FILE
from bot.rasa_plugins import tracker_states

DOMAIN = Domain.load(str(DOMAIN_FILE))
ORIGINAL = tracker_states._computed


@pytest.fixture(autouse=True)
def installed(monkeypatch) -> None:
    monkeypatch.setattr(DialogueStateTracker, "past_states", DialogueStateTracker.past_states)
    tracker_states.install()


def said(intent: str) -> UserUttered:
    return UserUttered(intent, {"name": intent, "confidence": 1.0})


def conversation() -> DialogueStateTracker:
    return DialogueStateTracker.from_events("states-test", [
        ActionExecuted("action_listen"), said("check_order_status"), ActionExecuted("order_status_form"),
        ActiveLoop("order_status_form"), SlotSet("order_number", "DH123456"), ActionExecuted("action_listen"),
    ])  # fmt: skip


def test_the_states_are_rasas_own_as_the_conversation_goes_on() -> None:
    tracker = conversation()
    assert tracker.past_states(DOMAIN) == ORIGINAL(tracker, DOMAIN)
    tracker.update(said("inform"))  # a new event: the kept states no longer apply
    assert tracker.past_states(DOMAIN) == ORIGINAL(tracker, DOMAIN)
    assert tracker.past_states(DOMAIN)[-1]["user"]["intent"] == "inform"
    tracker.update(ActiveLoop(None))
    assert "active_loop" not in tracker.past_states(DOMAIN)[-1]
    assert tracker.past_states(DOMAIN, omit_unset_slots=True) == ORIGINAL(tracker, DOMAIN, omit_unset_slots=True)


def test_a_caller_changing_its_states_does_not_change_the_next_callers() -> None:
    tracker = conversation()
    tracker.update(said("inform"))
    first = tracker.past_states(DOMAIN)
    del first[-1]["user"]["intent"]  # what the rule policy does when it reads the text instead
    first.pop(0)
    assert tracker.past_states(DOMAIN) == ORIGINAL(tracker, DOMAIN)


def test_another_domain_or_rule_only_data_computes_them_again(monkeypatch) -> None:
    tracker = conversation()
    tracker.past_states(DOMAIN)
    calls = []
    monkeypatch.setattr(tracker_states, "_computed", lambda *args: calls.append(args) or ORIGINAL(*args))
    tracker.past_states(DOMAIN)
    assert calls == []  # the same version: kept
    tracker.past_states(Domain.load(str(DOMAIN_FILE)))
    rules = {"slots": ["order_number"], "loops": []}
    tracker.past_states(DOMAIN, ignore_rule_only_turns=True, rule_only_data=rules)
    assert len(calls) == 2
