"""The Rasa server's graph runner without dask and its kept dialogue states: the same parses and the same
next actions as Rasa's own."""

import asyncio

import pytest
import rasa.core.processor
from rasa.core.agent import Agent
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_plugins import tracker_states
from bot.rasa_plugins.graph_runner import SequentialGraphRunner, install

pytestmark = pytest.mark.slow  # loads the trained model twice

MESSAGES = ["chào shop", "phi ship ve ha noi bao nhieu", "kiểm tra đơn DH123456 giúp mình", "0912345678",
            "shop làm ăn chán quá, cho gặp người thật", "how much is shipping?", "😀", ""]  # fmt: skip


def _load(model, runner, monkeypatch) -> Agent:
    monkeypatch.setattr(rasa.core.processor, "DaskGraphRunner", runner)
    agent = Agent.load(str(model))
    assert isinstance(agent.processor.graph_runner, runner)
    return agent


async def _replies(agent: Agent) -> list:
    seen = []
    for text in MESSAGES:
        parsed = await agent.parse_message(text)
        said = UserUttered(text, parsed["intent"], parsed["entities"], parsed)
        tracker = DialogueStateTracker.from_events("runner-test", [ActionExecuted("action_listen"), said])
        prediction = agent.processor._predict_next_with_tracker(tracker)
        action = agent.domain.action_names_or_texts[prediction.max_confidence_index]
        seen.append((parsed["intent"], parsed.get("response_selector"), action, prediction.policy_name))
    return seen


def test_parses_and_predictions_equal_rasas_own(trained_model, monkeypatch) -> None:
    rasas = asyncio.run(_replies(_load(trained_model, DaskGraphRunner, monkeypatch)))
    # with the dialogue states kept per version of the conversation too, as the server runs
    monkeypatch.setattr(DialogueStateTracker, "past_states", DialogueStateTracker.past_states)
    tracker_states.install()
    assert asyncio.run(_replies(_load(trained_model, SequentialGraphRunner, monkeypatch))) == rasas


def test_install_makes_the_server_load_models_with_it(monkeypatch) -> None:
    monkeypatch.setattr(rasa.core.processor, "DaskGraphRunner", DaskGraphRunner)
    install()
    assert rasa.core.processor.DaskGraphRunner is SequentialGraphRunner
