"""How the action server reaches the shop's order API: once per customer message, never holding up others.

The actions run in this process through rasa-sdk's own ``ActionExecutor`` (as the action server
runs them), against the real local fake of the shop's order API (tests/fakes/order_api.py).
"""

import asyncio
import threading
import time
import uuid
from typing import Any

import pytest
from rasa_sdk.executor import ActionExecutor

from bot.database import project_engine
from bot.ownership import OwnershipLedger
from bot.settings import Settings, current_settings, settings_in_force
from tests.fakes.order_api import FakeOrderApi
from tests.test_order_backends import api_order

# what Rasa sends about the form with each call (domain.yml)
DOMAIN = {"forms": {"order_status_form": {"required_slots": ["order_number", "ownership_answer"]}}, "slots": {}}


@pytest.fixture
def order_api(tmp_path):
    """The shop's own order API with two orders, configured as the action server would find it."""
    with (
        FakeOrderApi({n: api_order(n) for n in ("DH111111", "DH222222")}) as api,
        settings_in_force(Settings.under(tmp_path, order_api_url=api.url, order_api_timeout=5.0)),
    ):
        yield api


@pytest.fixture(scope="module")
def executor() -> ActionExecutor:
    registry = ActionExecutor()
    registry.register_package("actions")
    return registry


def turn(
    sender: str, text: str, extracted: dict[str, Any], action: str, known: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Rasa's call of ``action`` in the turn started by the customer's ``text``, which filled ``extracted``."""
    slots = {**(known or {}), **extracted}
    message = {"intent": {"name": "inform"}, "entities": [], "text": text, "message_id": uuid.uuid4().hex}
    events = [
        {"event": "user", "text": text, "timestamp": time.time(), "parse_data": message},
        *({"event": "slot", "name": name, "value": value} for name, value in extracted.items()),
    ]
    return {
        "next_action": action,
        "sender_id": sender,
        "domain": DOMAIN,
        "tracker": {
            "sender_id": sender, "slots": {"requested_slot": None, **slots}, "latest_message": message,
            "events": events, "paused": False, "followup_action": None,
            "active_loop": {"name": "order_status_form"}, "latest_action_name": "action_listen",
        },
    }  # fmt: skip


def same_turn(call: dict[str, Any], action: str, slots: dict[str, Any]) -> dict[str, Any]:
    """The next action Rasa calls in the same turn, with the slots the previous one set."""
    tracker = call["tracker"]
    return {**call, "next_action": action, "tracker": {**tracker, "slots": {**tracker["slots"], **slots}}}


def slots_set(result: dict[str, Any]) -> dict[str, Any]:
    return {event["name"]: event["value"] for event in result["events"] if event["event"] == "slot"}


def order_lookups(api: FakeOrderApi) -> int:
    return sum(1 for method, _ in api.requests if method == "GET")


def test_a_status_check_asks_the_order_api_once_per_message(order_api, executor) -> None:
    asked = turn("web:a", "DH111111", {"order_number": "DH111111"}, "validate_order_status_form")
    assert slots_set(asyncio.run(executor.run(asked))) == {"order_number": "DH111111"}
    assert order_lookups(order_api) == 1

    # the phone proves the order and the form ends: ownership and the status told from one look-up
    proof = turn("web:a", "0987654321", {"ownership_answer": "0987654321"}, "validate_order_status_form",
                 known={"order_number": "DH111111"})  # fmt: skip
    validated = asyncio.run(executor.run(proof))
    assert slots_set(validated)["ownership_answer"] == "verified"
    status = asyncio.run(executor.run(same_turn(proof, "action_order_status", slots_set(validated))))
    assert "DH111111" in status["responses"][0]["text"] and "đang giao" in status["responses"][0]["text"]
    assert order_lookups(order_api) == 2

    # the customer asks again later: a new message, so the order is read afresh
    order_api.orders["DH111111"]["status"] = "delivered"
    again = turn("web:a", "còn đơn DH111111 thì sao", {"order_number": "DH111111"}, "validate_order_status_form")
    validated = asyncio.run(executor.run(again))
    status = asyncio.run(executor.run(same_turn(again, "action_order_status", slots_set(validated))))
    assert "đã giao" in status["responses"][0]["text"]
    assert order_lookups(order_api) == 3


def test_a_slow_order_api_does_not_hold_up_another_customer(order_api, executor) -> None:
    order_api.hang_seconds = 1.0

    async def two_customers_at_once() -> list[dict[str, Any]]:
        calls = [
            turn(sender, number, {"order_number": number}, "validate_order_status_form")
            for sender, number in (("web:a", "DH111111"), ("web:b", "DH222222"))
        ]
        return await asyncio.gather(*(executor.run(call) for call in calls))

    started = time.monotonic()
    answers = asyncio.run(two_customers_at_once())
    elapsed = time.monotonic() - started
    assert [slots_set(a)["order_number"] for a in answers] == ["DH111111", "DH222222"]
    assert elapsed < 1.6, f"the second customer waited for the first one's look-up ({elapsed:.1f} s)"


def test_a_proof_waiting_for_a_database_lock_does_not_hold_up_another_customer(order_api, executor) -> None:
    """Proof attempts are serialised per order by a lock in the project database (bot/ownership.py):
    while one waits for it, the action server goes on answering everybody else."""
    engine = project_engine(current_settings())
    OwnershipLedger(engine)  # its tables exist before the lock is taken
    holding, done = threading.Event(), threading.Event()

    def another_writer_holds_the_database() -> None:
        with engine.connect() as connection:
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite's write lock, as a concurrent proof takes it
            holding.set()
            time.sleep(1.0)
            connection.exec_driver_sql("ROLLBACK")
        done.set()

    async def two_customers_at_once() -> dict[str, float]:
        proof = turn("web:a", "0987654321", {"ownership_answer": "0987654321"}, "validate_order_status_form",
                     known={"order_number": "DH111111"})  # fmt: skip
        other = turn("web:b", "DH222222", {"order_number": "DH222222"}, "validate_order_status_form")
        finished: dict[str, float] = {}

        async def timed(name: str, call: dict[str, Any]) -> None:
            result = await executor.run(call)
            finished[name] = time.monotonic() - started
            assert slots_set(result), result

        started = time.monotonic()
        await asyncio.gather(timed("waiting proof", proof), timed("other customer", other))
        return finished

    writer = threading.Thread(target=another_writer_holds_the_database)
    writer.start()
    holding.wait(5)
    finished = asyncio.run(two_customers_at_once())
    writer.join()
    assert done.is_set() and finished["waiting proof"] >= 0.8  # it really waited for the lock
    assert finished["other customer"] < 0.5, finished
