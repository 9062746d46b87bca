"""Tickets get unique human-readable codes and the right team, on SQLite and PostgreSQL."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.support import issue_types
from bot.tickets import TicketStore
from tests.databases import KINDS, engine_on, project_database


@pytest.fixture(params=KINDS)
def store(request, tmp_path) -> TicketStore:
    engine = engine_on(
        project_database(request, tmp_path, "tickets", "ticket_counters")
    )  # others' tickets would take the numbers
    yield TicketStore(engine)
    engine.dispose()


def test_ticket_has_a_dated_code_and_is_routed_by_issue_type(store) -> None:
    ticket = store.create(
        channel="rest", sender_id="c1", issue_type="late_delivery", description="Đơn giao trễ 5 ngày",
        order_number="DH123456", contact_phone="0912345678",
    )  # fmt: skip
    assert re.fullmatch(r"TK-\d{8}-0001", ticket.code)
    row = store.get(ticket.code)
    assert (row["team"], row["order_number"], row["status"]) == ("shipping", "DH123456", "open")
    assert ticket.issue.response_time == issue_types()["late_delivery"].response_time


def test_unknown_issue_type_goes_to_customer_care(store) -> None:
    ticket = store.create(channel="rest", sender_id="c1", issue_type="??", description="x")
    assert ticket.issue.team == "customer_care"


def test_concurrent_tickets_never_share_a_code(store) -> None:
    def create(i: int) -> str:
        return store.create(channel="rest", sender_id=f"c{i}", issue_type="damaged", description=f"#{i}").code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(create, range(40)))
    assert len(set(codes)) == 40
    numbers = sorted(int(c[-4:]) for c in codes)
    assert numbers == list(range(numbers[0], numbers[0] + 40))  # no gaps, no repeats


def test_every_issue_type_routes_to_a_named_team() -> None:
    types = issue_types()
    assert set(types) == {"damaged", "wrong_item", "late_delivery", "payment", "other"}
    assert all(t.team_name and t.response_time and t.label for t in types.values())


def test_a_phone_is_added_only_to_a_ticket_of_that_conversation_that_has_none(store) -> None:
    ticket = store.create(channel="rest", sender_id="web:a", issue_type="other", description="Không ai nhận")
    assert not store.add_contact_phone(ticket.code, "web:intruder", "0987654321")  # another conversation
    assert store.add_contact_phone(ticket.code, "web:a", "0912345678")
    assert not store.add_contact_phone(ticket.code, "web:a", "0987654321")  # not overwritten once set
    assert store.get(ticket.code)["contact_phone"] == "0912345678"
