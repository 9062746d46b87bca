"""A conversation's dialogue states, worked out once per version of it instead of once per policy call.

To choose the next action Rasa 3.6 turns the whole conversation into dialogue states by replaying
every event from the start (``DialogueStateTracker.past_states``), and it does so for every policy
call: the rule policy twice (once reading the last message's text, once its intent), the
memoization policy once, after every action of the turn. Those calls ask for the same states of the
same events, and together they were 18% of the Rasa server's CPU per message (docs/BENCHMARKS.md).

``install`` makes ``past_states`` keep its last answer on the tracker and give a copy of it back while
the tracker's events are the same ones (the same deque, as long, ending in the same event object; the
same domain object and arguments); any new event, or another domain, computes them again. The callers change the states
they get (the rule policy drops the text or the intent of the last message), so each gets its own copy
of every state's parts.
"""

from typing import Any

from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker

_MEMO = "_cskh_past_states"  # the tracker's attribute that holds (key, states)
_computed = DialogueStateTracker.past_states


def _version(tracker: DialogueStateTracker, domain: Domain, arguments: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """What the states depend on: objects (compared by identity) first, then values."""
    events = tracker.events
    if events.maxlen is not None:  # a bounded history drops old events: its length says nothing
        return None
    omit_unset_slots, ignore_rule_only_turns, rule_only_data = arguments
    # rule_only_data is read only when rule-only turns are ignored (Domain.states_for_tracker_history)
    rules = rule_only_data if ignore_rule_only_turns else None
    last = events[-1] if events else None
    return domain, events, last, rules, len(events), omit_unset_slots, ignore_rule_only_turns


def _same(kept: tuple[Any, ...], version: tuple[Any, ...]) -> bool:
    objects = 4
    same_objects = all(a is b for a, b in zip(kept[:objects], version[:objects], strict=True))
    return same_objects and kept[objects:] == version[objects:]


def _copy(states: list[State]) -> list[State]:
    return [{part: dict(values) for part, values in state.items()} for state in states]


def past_states(
    self: DialogueStateTracker,
    domain: Domain,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """``DialogueStateTracker.past_states``, computed once per version of the tracker."""
    version = _version(self, domain, (omit_unset_slots, ignore_rule_only_turns, rule_only_data))
    kept = self.__dict__.get(_MEMO)
    if version is not None and kept is not None and _same(kept[0], version):
        return _copy(kept[1])
    states = _computed(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    if version is not None:
        self.__dict__[_MEMO] = (version, _copy(states))
    return states


def install() -> None:
    """Called once by the Rasa server before it serves (bot/serve.py)."""
    DialogueStateTracker.past_states = past_states
