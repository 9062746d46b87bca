"""The handoff queue on SQLite and PostgreSQL: order, estimates, the claim race, restarts."""

import threading
from datetime import datetime, timedelta, timezone

import pytest

from bot.desk.queue import ACTIVE, CANCELLED, CUSTOMER, EXPIRED, HandoffQueue, estimate_wait_minutes
from tests.databases import KINDS, engine_on, project_database


@pytest.fixture(params=KINDS)
def engine(request, tmp_path):
    engine = engine_on(project_database(request, tmp_path, "handoff_messages", "handoffs"))
    yield engine
    engine.dispose()


def open_for(queue: HandoffQueue, sender: str, **extra):
    return queue.open(
        channel="rest", sender_id=sender, reason=extra.get("reason", "request_human"),
        summary=f"Khách {sender} cần hỗ trợ", slots={"order_number": "DH123456", "phone": "09******78"},
        transcript=[{"role": "customer", "text": "cho mình gặp nhân viên", "sent_at": 1764000000.25}],
        expires_at=extra.get("expires_at"),
    )  # fmt: skip


def test_customers_are_served_in_arrival_order(engine) -> None:
    queue = HandoffQueue(engine)
    first, second, third = (open_for(queue, s) for s in ("a", "b", "c"))
    assert [queue.position(h.id) for h in (first, second, third)] == [1, 2, 3]
    assert queue.claim(first.id, "agent-lan")
    assert queue.position(first.id) is None
    assert [queue.position(h.id) for h in (second, third)] == [1, 2]


def test_asking_twice_keeps_the_customers_place(engine) -> None:
    queue = HandoffQueue(engine)
    first = open_for(queue, "a")
    open_for(queue, "b")
    again = open_for(queue, "a")
    assert again.id == first.id and queue.position(again.id) == 1


def test_context_survives_a_restart(engine) -> None:
    handoff = open_for(HandoffQueue(engine), "a")
    reopened = HandoffQueue(engine)
    assert reopened.get(handoff.id).slots == {"order_number": "DH123456", "phone": "09******78"}
    assert [m.text for m in reopened.messages(handoff.id)] == ["cho mình gặp nhân viên"]


def test_the_same_event_reported_twice_is_stored_once(engine) -> None:
    queue = HandoffQueue(engine)
    handoff = open_for(queue, "a")
    # the event broker reports the message the opening transcript already had
    assert queue.add_message(handoff.id, CUSTOMER, "cho mình gặp nhân viên", 1764000000.25) is None
    assert queue.add_message(handoff.id, CUSTOMER, "đơn DH123456 nha", 1764000001.5) is not None
    assert [m.text for m in queue.messages(handoff.id)] == ["cho mình gặp nhân viên", "đơn DH123456 nha"]


def race_to_claim(queue: HandoffQueue, handoff_id: int, agents: tuple[str, ...]) -> dict[str, bool]:
    """Every agent claims at the same instant; who got it?"""
    start = threading.Barrier(len(agents))
    results: dict[str, bool] = {}

    def claim(agent: str) -> None:
        start.wait()
        results[agent] = queue.claim(handoff_id, agent)

    threads = [threading.Thread(target=claim, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_agents_claiming_at_once_never_both_get_it(engine) -> None:
    queue = HandoffQueue(engine)
    for round_number in range(10):
        handoff = open_for(queue, f"race-{round_number}")
        results = race_to_claim(queue, handoff.id, ("lan", "minh"))
        assert sorted(results.values()) == [False, True]
        winner = next(agent for agent, won in results.items() if won)
        claimed = queue.get(handoff.id)
        assert (claimed.status, claimed.claimed_by) == (ACTIVE, winner)


def test_unclaimed_customers_expire_at_their_due_time(engine) -> None:
    queue, now, timeout = HandoffQueue(engine), datetime.now(timezone.utc), timedelta(minutes=5)
    waiting = open_for(queue, "a", expires_at=now + timedelta(minutes=1))
    undated = open_for(queue, "b")  # queued before due times were stored: due when the timeout has passed
    assert queue.due_to_expire(now, timeout) == []
    assert [h.id for h in queue.due_to_expire(now + timedelta(minutes=2), timeout)] == [waiting.id]
    assert [h.id for h in queue.due_to_expire(now + timedelta(minutes=6), timeout)] == [waiting.id, undated.id]
    assert queue.expire(waiting.id, [{"event": "resume"}], leased_until=now)
    assert not queue.expire(waiting.id, [{"event": "resume"}], leased_until=now)  # expired once
    assert queue.get(waiting.id).status == EXPIRED
    assert not queue.claim(waiting.id, "agent-lan")


def test_a_claim_and_the_customers_cancel_have_one_outcome(engine) -> None:
    queue = HandoffQueue(engine)
    handoff = open_for(queue, "a")
    assert queue.cancel(handoff.id)
    assert not queue.claim(handoff.id, "agent-lan")
    assert not queue.expire(handoff.id, [], leased_until=datetime.now(timezone.utc))
    assert queue.get(handoff.id).status == CANCELLED
    assert queue.open_for("a") is None


def test_only_the_agent_who_claimed_can_close(engine) -> None:
    queue = HandoffQueue(engine)
    handoff = open_for(queue, "a")
    queue.claim(handoff.id, "lan")
    assert not queue.close(handoff.id, "minh", "đóng hộ")
    assert queue.close(handoff.id, "lan", "Đã hướng dẫn khách đổi size")


def test_csat_is_stored_only_for_a_closed_conversation_and_only_1_to_5(engine) -> None:
    queue = HandoffQueue(engine)
    handoff = open_for(queue, "a")
    assert queue.record_csat("a", 5) is None  # still open: nothing to rate yet
    queue.claim(handoff.id, "agent-lan")
    assert queue.close(handoff.id, "agent-lan", "Đã đổi hàng mới cho khách")
    with pytest.raises(ValueError):
        queue.record_csat("a", 6)
    assert queue.record_csat("a", 5).csat == 5
    assert queue.record_csat("a", 1) is None  # rated once
    assert queue.get(handoff.id).csat == 5


@pytest.mark.parametrize(
    ("position", "agents", "expected"),
    [(1, 1, 3), (2, 1, 9), (3, 2, 9), (1, 3, 3), (4, 2, 9), (1, 0, None)],
)
def test_wait_estimate_from_position_and_agents_online(position, agents, expected) -> None:
    assert estimate_wait_minutes(position, agents, 6) == expected
