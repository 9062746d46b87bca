"""A customer who asks for a person after filing a report is about that report: the bot clears the report's
slots once the ticket is filed, so the hand-off carries no issue type, and the desk routes it to the team of
the customer's newest unresolved ticket of the last day (the rule a transfer uses to find the conversation's
ticket, bot/tickets.py ``conversation_ticket``); the conversation page names that ticket in its summary.

Over HTTP against the console in this process, with the teams and agents of tests/test_desk_transfer.py.
"""

import re
from datetime import datetime, timedelta

from bot.schema import tickets_table
from bot.tickets import SHOP_TIMEZONE, TicketStore
from tests import test_desk_transfer
from tests.test_desk_transfer import agent, open_handoff

desk = test_desk_transfer.desk  # the fixture: the console with Lan (customer care), Hoa (accounting), Minh (warehouse)


def file_report(server, sender: str, issue_type: str = "damaged") -> str:
    """A ticket as the bot's report form files it (the action server writes the project database)."""
    return TicketStore(server.engine).create(
        channel="rest", sender_id=sender, issue_type=issue_type, description="Nồi chiên bị vỡ nắp",
        order_number="DH123456",
    ).code  # fmt: skip


def queue_row(who, handoff_id: int) -> dict:
    return next(row for row in who.queue()["waiting"] if row["id"] == handoff_id)


def summary_ticket(who, handoff_id: int) -> str:
    """What the conversation page's summary says of the conversation's ticket ("" when it names none)."""
    page = who.http.get(f"{who.desk_url}/handoffs/{handoff_id}", timeout=10).text
    found = re.search(r'<p id="conversation-ticket">(.*?)</p>', page, re.S)
    return re.sub(r"<[^>]+>|\s+", " ", found.group(1)).strip() if found else ""


def test_asking_for_a_person_after_a_damaged_goods_report_waits_for_the_warehouse_with_the_ticket_shown(desk) -> None:
    server, _ = desk
    minh, lan = agent(server, "minh"), agent(server, "lan")  # warehouse, customer care
    code = file_report(server, "web:khach-kho")
    handoff_id = open_handoff(server, "web:khach-kho")  # no issue type: the slots were cleared at filing

    row = queue_row(minh, handoff_id)
    assert row["team_name"] == "Kho vận" and row["my_team"]
    assert not queue_row(lan, handoff_id)["my_team"]
    assert minh.queue()["waiting"][0]["id"] == handoff_id  # first: his team's
    shown = summary_ticket(minh, handoff_id)
    assert code in shown and "Hàng lỗi / hư hỏng" in shown and "Mới" in shown
    assert f'href="/tickets/{code}"' in minh.http.get(f"{server.url}/handoffs/{handoff_id}", timeout=10).text


def test_a_resolved_or_old_ticket_or_another_customers_leaves_the_hand_off_with_customer_care(desk) -> None:
    server, _ = desk
    lan = agent(server, "lan")
    store = TicketStore(server.engine)
    store.resolve(file_report(server, "web:da-xong"), "Đã đổi hàng")
    old = file_report(server, "web:hom-kia")
    with server.engine.begin() as connection:  # filed two days ago: another matter
        connection.execute(tickets_table.update().where(tickets_table.c.code == old)
                           .values(created_at=datetime.now(SHOP_TIMEZONE) - timedelta(days=2)))  # fmt: skip
    file_report(server, "web:nguoi-khac")
    for sender in ("web:da-xong", "web:hom-kia", "web:khach-moi"):
        handoff_id = open_handoff(server, sender)
        assert queue_row(lan, handoff_id)["team_name"] == "Chăm sóc khách hàng", sender
        assert queue_row(lan, handoff_id)["my_team"]
        assert summary_ticket(lan, handoff_id) == "", sender


def test_an_issue_the_customer_named_when_asking_wins_over_an_earlier_ticket(desk) -> None:
    server, _ = desk
    hoa = agent(server, "hoa")
    file_report(server, "web:hoan-tien", "damaged")
    handoff_id = open_handoff(server, "web:hoan-tien", issue_type="payment")
    assert queue_row(hoa, handoff_id)["team_name"] == "Kế toán"


def test_the_ticket_that_routed_the_conversation_follows_it_when_it_is_passed_on(desk) -> None:
    server, _ = desk
    minh, hoa = agent(server, "minh"), agent(server, "hoa")
    code = file_report(server, "web:chuyen")
    handoff_id = open_handoff(server, "web:chuyen")
    assert minh.claim(handoff_id).status_code == 200
    moved = minh.post(handoff_id, "transfer", target="team:accounting", note="Khách muốn hoàn tiền", owner="minh")
    assert moved.status_code == 200, moved.text
    assert TicketStore(server.engine).get(code)["team"] == "accounting"
    assert code in summary_ticket(hoa, handoff_id)
