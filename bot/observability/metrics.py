"""The metrics, defined once, each in the registry of the one process that can see it.

Every server is its own process (bot/serve.py), so each keeps plain in-memory metrics in its own
``CollectorRegistry`` (no multiprocess mode); Prometheus scrapes each replica and sums. What lives
in the database (customers waiting, agents online) is read at scrape time, so every desk instance
reports the same truth instead of a count of what it happened to see. docs/OPERATIONS.md is the
operator's table of these names.
"""

import math
from collections.abc import Callable, Iterable
from functools import cache

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# A customer waits for the bot's reply: seconds, most well under one.
REPLY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)
ACTION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
# A customer waits for an agent: minutes.
WAIT_BUCKETS = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0)

# The bot's responses that mean it did not answer the question (domain.yml): kind of fallback by response.
FALLBACK_RESPONSES = {
    "utter_ask_rephrase": "not_understood",  # nlu_fallback (actions/fallback.py)
    "utter_not_understood_handoff": "not_understood",  # nlu_fallback again: handed to a person
    "utter_answer_rejected": "answer_rejected",  # "that's not what I asked"
    "utter_uncovered": "uncovered",  # the honest "no FAQ covers this" answer
    "utter_uncovered_part": "uncovered",
}


def fallback_kinds(responses: Iterable[str | None]) -> list[str]:
    """The kind of each fallback among the names of one turn's responses (``utter_action``)."""
    return [FALLBACK_RESPONSES[name] for name in responses if name in FALLBACK_RESPONSES]


def _or_nan(read: Callable[[], float]) -> Callable[[], float]:
    """A gauge's reading, NaN while the database is unreachable: the scrape still succeeds, and
    ``/ready`` (503) is where the outage shows."""

    def reading() -> float:
        try:
            return float(read())
        except Exception:
            return math.nan

    return reading


class RasaServerMetrics:
    """What one Rasa server sees: customers' turns on every channel, and the model it serves."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "cskh_messages", "Customer messages that reached a Rasa turn, by channel.",
            ["channel"], registry=self.registry,
        )  # fmt: skip
        self.reply_seconds = Histogram(
            "cskh_reply_seconds", "From a customer's message to the bot's reply being ready (one Rasa turn).",
            ["channel"], buckets=REPLY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.fallbacks = Counter(
            "cskh_fallbacks", "Turns the bot answered with a fallback: not understood, answer rejected, uncovered.",
            ["channel", "kind"], registry=self.registry,
        )  # fmt: skip
        self.apologies = Counter(
            "cskh_apologies",
            "Turns answered with the apology instead of the bot's reply: storage (the tracker store failed), "
            "error (the turn raised), no_reply (the bot said nothing to an unpaused customer).",
            ["channel", "reason"], registry=self.registry,
        )  # fmt: skip
        self.send_failures = Counter(
            "cskh_send_failures", "Messages the platform (Zalo, Messenger) finally refused or never took.",
            ["channel"], registry=self.registry,
        )  # fmt: skip
        self.model = Gauge(
            "cskh_model_info", "1 for the model this server answers with (its fingerprint is the model_id).",
            ["model_id", "model_file"], registry=self.registry,
        )  # fmt: skip

    def turn(self, channel: str, seconds: float, responses: Iterable[str | None]) -> None:
        """One customer message through Rasa, and the names of the responses it produced."""
        self.messages.labels(channel).inc()
        self.reply_seconds.labels(channel).observe(seconds)
        for kind in fallback_kinds(responses):
            self.fallbacks.labels(channel, kind).inc()

    def apologised(self, channel: str, reason: str) -> None:
        self.apologies.labels(channel, reason).inc()

    def send_failed(self, channel: str) -> None:
        self.send_failures.labels(channel).inc()

    def serving(self, model_id: str | None, model_file: str | None) -> None:
        """The model loaded now: the previous one's series disappears, so replicas compare at a glance."""
        self.model.clear()
        if model_id:
            self.model.labels(model_id, model_file or "").set(1)


class ActionServerMetrics:
    """What one action server sees: each custom action Rasa asked for, and how it ended."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter(
            "cskh_action_runs", "Custom action calls by action and outcome (ok, rejected, not_found, error).",
            ["action", "outcome"], registry=self.registry,
        )  # fmt: skip
        self.seconds = Histogram(
            "cskh_action_seconds", "How long a custom action took.",
            ["action"], buckets=ACTION_BUCKETS, registry=self.registry,
        )  # fmt: skip

    def ran(self, action: str, status: int, seconds: float) -> None:
        """One ``POST /webhook``, by rasa-sdk's status: 200 ok, 400 rejected, 404 not found, else error."""
        outcome = {200: "ok", 400: "rejected", 404: "not_found"}.get(status, "error")
        self.runs.labels(action, outcome).inc()
        self.seconds.labels(action).observe(seconds)


class DeskMetrics:
    """What the desk sees: customers waiting for a person, agents online, pick-ups and retrains."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.waiting = Gauge(
            "cskh_handoffs_waiting", "Customers waiting in the queue for an agent now.", registry=self.registry
        )
        self.oldest_wait = Gauge(
            "cskh_handoff_oldest_wait_seconds", "How long the longest-waiting customer has waited (0: nobody).",
            registry=self.registry,
        )  # fmt: skip
        self.agents_online = Gauge("cskh_agents_online", "Agents signed in to the console now.", registry=self.registry)
        self.wait_seconds = Histogram(
            "cskh_handoff_wait_seconds", "How long a customer waited before an agent took the conversation.",
            buckets=WAIT_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.retrains = Counter(
            "cskh_retrains", "Finished retrains by outcome: deployed, unchanged, rejected (quality gate), failed.",
            ["status"], registry=self.registry,
        )  # fmt: skip

    def read_from(
        self, waiting: Callable[[], float], oldest_wait: Callable[[], float], agents_online: Callable[[], float]
    ) -> None:
        """Where the gauges are read at each scrape (the database, shared by every desk instance)."""
        self.waiting.set_function(_or_nan(waiting))
        self.oldest_wait.set_function(_or_nan(oldest_wait))
        self.agents_online.set_function(_or_nan(agents_online))

    def claimed(self, waited_seconds: float) -> None:
        self.wait_seconds.observe(max(0.0, waited_seconds))

    def retrain_finished(self, status: str) -> None:
        self.retrains.labels(status).inc()


@cache
def rasa_server_metrics() -> RasaServerMetrics:
    """This process's Rasa server metrics, for the channels Rasa builds without arguments."""
    return RasaServerMetrics()


@cache
def action_server_metrics() -> ActionServerMetrics:
    return ActionServerMetrics()


@cache
def desk_metrics() -> DeskMetrics:
    """This process's desk metrics; for a desk app built in a test, the same registry serves again."""
    return DeskMetrics()
