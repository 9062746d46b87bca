"""Staff search (/search) and the customer panel of a conversation, on the in-process console.

The database is seeded through the real stores (hand-off queue, tickets, ownership ledger, the demo shop the
desk reads), as the actions and the desk write it; an agent then searches and opens conversations over HTTP.
"""

import re
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from bot.desk.accounts import ADMIN, AccountStore
from bot.desk.queue import HandoffQueue
from bot.desk.search import ORDER, PHONE, TICKET_CODE, WORDS, Query, escape_like, read_query, words_pattern
from bot.orders.demo_shop import DemoShop
from bot.ownership import OwnershipLedger, ProofMethod
from bot.sandbox import DeskAgent
from bot.schema import handoffs_table
from bot.tickets import TicketStore
from tests.console_server import ConsoleServer, console_server

ROW = re.compile(r'<tr data-kind="(\w+)" data-key="([^"]+)">(.*?)</tr>', re.S)


class Seeded:
    """The people and records every test reads."""

    def __init__(self, server: ConsoleServer) -> None:
        engine, queue, tickets = server.engine, HandoffQueue(server.engine), TicketStore(server.engine)
        ledger = OwnershipLedger(engine)
        self.server = server

        def handoff(sender: str, lines: list[str], channel: str = "rest", phone: str | None = None) -> int:
            transcript = [{"role": "customer", "text": text, "sent_at": float(i + 1)} for i, text in enumerate(lines)]
            return queue.open(channel=channel, sender_id=sender, reason="customer_request", summary="Khách cần hỗ trợ",
                              slots={}, transcript=transcript, contact_phone=phone).id  # fmt: skip

        # An: proved DH123456 (0912345678) by the full phone; an earlier conversation rated 5, a ticket, and now waiting
        ledger.attempt("web:an", "DH123456", True, ProofMethod.FULL_PHONE)
        said = ["Mình muốn hoàn tiền đơn DH-123456", "sđt mình 0912 345 678"]
        self.an_before = handoff("web:an", said, phone="0912345678")
        queue.claim(self.an_before, "lan")
        queue.close(self.an_before, "lan", "Đã hướng dẫn hoàn tiền")
        queue.record_csat("web:an", 5)
        self.an_ticket = tickets.create(
            channel="rest", sender_id="web:an", issue_type="damaged", description="Hộp bị móp khi nhận",
            order_number="DH123456", contact_phone="0912345678", order_verified=True,
        ).code  # fmt: skip
        self.an_now = handoff("web:an", ["chào shop, mình hỏi tiếp về đơn hôm trước"])

        # Minh's conversation: nobody else may see it, though it says the same things
        self.minhs = handoff("web:binh", ["mình cũng cần hoàn tiền, gọi +84 912 345 678"], phone="0912345678")
        queue.claim(self.minhs, "minh")

        # a ticket whose customer lan has no conversation with: its phone is masked for her
        self.stranger_ticket = tickets.create(
            channel="rest", sender_id="web:em", issue_type="other", description="Gọi lại giúp em số 0912.345.678",
            contact_phone="0912345678",
        ).code  # fmt: skip

        # the same phone (0987654321) proven on Zalo (DH111222) and on the web (DH333444)
        ledger.attempt("zalo:999", "DH111222", True, ProofMethod.FULL_PHONE)
        ledger.attempt("web:chi", "DH333444", True, ProofMethod.FULL_PHONE)
        self.chi_before = handoff("web:chi", ["đơn DH333444 giao chậm quá"], phone="0987654321")
        self.chi_ticket = tickets.create(
            channel="rest", sender_id="web:chi", issue_type="late_delivery", description="Giao chậm",
            order_number="DH333444", contact_phone="0987654321", order_verified=True,
        ).code  # fmt: skip
        self.zalo_now = handoff("zalo:999", ["alo shop"], channel="zalo")

        # Dung named an order she never proved: nothing about it may show
        self.dung_ticket = tickets.create(
            channel="rest", sender_id="web:dung", issue_type="other", description="Đơn của mình sao rồi",
            order_number="DH777888",
        ).code  # fmt: skip
        self.dung_now = handoff("web:dung", ["đơn DH777888 của mình đâu"])

        # literal % and _ in what customers wrote
        self.percent = handoff("web:giam", ["shop giảm 50% nhé", "mã a_b"])
        self.five_hundred = handoff("web:k", ["giảm 500k được không", "mã axb"])


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Seeded:
    workdir = tmp_path_factory.mktemp("desk-search")
    DemoShop.open(workdir / "demo_shop.db")  # the shop the desk reads (its seeded orders, with fixed phones)
    with console_server(workdir) as server:
        accounts = AccountStore(server.engine)
        accounts.add_agent("lan", "lan-password-123", "Lan")
        accounts.add_agent("minh", "minh-password-123", "Minh")
        accounts.add_agent("chu", "chu-password-123", "Chủ", role=ADMIN)
        yield Seeded(server)


@pytest.fixture(scope="module")
def lan(seeded: Seeded) -> DeskAgent:
    return DeskAgent(seeded.server.url, "lan", "lan-password-123")


@pytest.fixture(scope="module")
def chu(seeded: Seeded) -> DeskAgent:
    return DeskAgent(seeded.server.url, "chu", "chu-password-123")


def found(agent: DeskAgent, query: str, **params: str) -> dict[tuple[str, str], str]:
    """The result rows of a search: (kind, id or code) -> the row's HTML, in the page's order."""
    page = agent.http.get(f"{agent.desk_url}/search", params={"q": query, **params}, timeout=10)
    assert page.status_code == 200, page.text
    return {(kind, key): row for kind, key, row in ROW.findall(page.text)}


def conversation(seeded: Seeded, handoff_id: int) -> tuple[str, str]:
    return "conversation", str(handoff_id)


def ticket(code: str) -> tuple[str, str]:
    return "ticket", code


def test_the_query_is_read_as_a_phone_an_order_a_ticket_code_or_words() -> None:
    for written in ("0912 345 678", "+84912345678", "84912345678", "0912.345.678"):
        assert read_query(written) == Query(PHONE, "0912345678")
    assert read_query("#dh-123456") == Query(ORDER, "DH123456")
    assert read_query("tk-20261125-0007") == Query(TICKET_CODE, "TK-20261125-0007")
    assert read_query("  Hoàn   TIỀN ") == Query(WORDS, "hoan tien")


def test_like_patterns_escape_what_the_agent_typed(tmp_path: Path) -> None:
    assert escape_like("50%_\\") == "50\\%\\_\\\\"
    assert words_pattern("a_b") == "%_\\_b%"
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'like.db'}", future=True)
    texts = sa.Table("texts", sa.MetaData(), sa.Column("text", sa.Text))
    texts.create(engine)
    with engine.begin() as connection:
        connection.execute(texts.insert(), [{"text": t} for t in ("giảm 50% nhé", "giảm 500k", "mã a_b", "mã axb")])
        for query, expected in (("50%", ["giảm 50% nhé"]), ("a_b", ["mã a_b"])):
            condition = read_query(query).narrow(texts.c.text)
            assert connection.execute(sa.select(texts.c.text).where(condition)).scalars().all() == expected


def test_a_phone_in_any_format_finds_the_conversations_and_tickets_the_agent_may_see(seeded, lan, chu) -> None:
    for written in ("0912 345 678", "+84912345678", "84912345678"):
        rows = found(lan, written)
        assert conversation(seeded, seeded.an_before) in rows  # hers, closed: she had claimed it
        assert ticket(seeded.an_ticket) in rows and ticket(seeded.stranger_ticket) in rows
        assert conversation(seeded, seeded.minhs) not in rows  # Minh's conversation is not hers to see
    assert conversation(seeded, seeded.minhs) in found(chu, "0912345678")  # the admin sees every one
    row = found(lan, "0912345678")[conversation(seeded, seeded.an_before)]
    assert "<mark>0912 345 678</mark>" in row or "<mark>0912345678</mark>" in row
    assert f"/handoffs/{seeded.an_before}" in row and "rest" in row and "Đã đóng" in row


def test_phones_in_the_list_are_masked_unless_the_agent_may_see_the_customers_conversation(seeded, lan, chu) -> None:
    stranger = found(lan, "0912345678")[ticket(seeded.stranger_ticket)]
    assert "0912345678" not in stranger and "0912.345.678" not in stranger
    assert "<mark>09******78</mark>" in stranger
    assert "<mark>0912345678</mark>" in found(chu, "0912345678")[ticket(seeded.stranger_ticket)]
    assert "0912345678" in found(lan, "0912345678")[ticket(seeded.an_ticket)]  # An's conversation is lan's
    described = found(lan, "gọi lại giúp")[ticket(seeded.stranger_ticket)]  # a phone inside the matched text
    assert "09**.***.*78" in described and "0912.345.678" not in described
    assert "0912.345.678" in found(chu, "gọi lại giúp")[ticket(seeded.stranger_ticket)]


def test_an_order_number_finds_the_ticket_and_the_conversation_that_named_or_proved_it(seeded, lan) -> None:
    rows = found(lan, "DH123456")
    assert ticket(seeded.an_ticket) in rows
    assert "<mark>DH-123456</mark>" in rows[conversation(seeded, seeded.an_before)]
    # the waiting conversation never names it, but An proved the order is hers
    assert "Khách đã xác minh sở hữu đơn" in rows[conversation(seeded, seeded.an_now)]


def test_a_ticket_code_finds_the_ticket(seeded, lan) -> None:
    rows = found(lan, seeded.an_ticket.lower())
    assert list(rows) == [ticket(seeded.an_ticket)]
    assert "/tickets/" + seeded.an_ticket in rows[ticket(seeded.an_ticket)]


def test_words_are_found_without_accents_newest_first_and_a_page_at_a_time(seeded, lan) -> None:
    rows = found(lan, "hoan tien")
    assert list(rows) == [conversation(seeded, seeded.an_before)]  # Minh's "hoàn tiền" stays hidden
    assert "<mark>hoàn tiền</mark>" in rows[conversation(seeded, seeded.an_before)]
    newest = list(found(lan, "shop"))
    assert newest == [conversation(seeded, h) for h in (seeded.percent, seeded.zalo_now, seeded.an_now)]
    first = found(lan, "giảm", limit="1")
    second = found(lan, "giam", limit="1", page="2")
    assert list(first) == [conversation(seeded, seeded.five_hundred)]
    assert list(second) == [conversation(seeded, seeded.percent)]


def test_percent_and_underscore_are_literal(seeded, lan) -> None:
    assert list(found(lan, "50%")) == [conversation(seeded, seeded.percent)]
    assert list(found(lan, "a_b")) == [conversation(seeded, seeded.percent)]


def test_short_queries_and_strangers_are_refused(seeded, lan) -> None:
    short = lan.http.get(f"{seeded.server.url}/search", params={"q": " x "}, timeout=10)
    assert short.status_code == 400 and "ít nhất 2 ký tự" in short.text and 'id="results"' not in short.text
    long = lan.http.get(f"{seeded.server.url}/search", params={"q": "hoàn tiền " * 20, "limit": "9999"}, timeout=10)
    assert long.status_code == 400 and "dài quá 100 ký tự" in long.text
    url = f"{seeded.server.url}/search"
    anonymous = requests.get(url, params={"q": "0912345678"}, allow_redirects=False, timeout=10)
    assert anonymous.status_code == 302 and anonymous.headers["Location"] == "/login"
    assert 'href="/search"' in lan.http.get(f"{seeded.server.url}/", timeout=10).text


def panel(agent: DeskAgent, handoff_id: int) -> str:
    page = agent.http.get(f"{agent.desk_url}/handoffs/{handoff_id}", timeout=10)
    assert page.status_code == 200
    return page.text.split('id="customer-panel"', 1)[1].split("</section>", 1)[0]


def test_the_panel_lists_the_customers_past_conversation_ticket_orders_and_ratings(seeded, lan) -> None:
    shown = panel(lan, seeded.an_now)
    assert f'href="/handoffs/{seeded.an_before}"' in shown and f'href="/tickets/{seeded.an_ticket}"' in shown
    assert "DH123456 · đang giao" in shown and "SĐT đầy đủ" in shown
    assert "5/5" in shown and "09******78" in shown
    assert f'href="/handoffs/{seeded.minhs}"' not in shown  # another customer, though the same phone was typed


def test_the_panel_finds_the_same_verified_phone_on_another_channel(seeded, lan) -> None:
    shown = panel(lan, seeded.zalo_now)
    assert f'href="/handoffs/{seeded.chi_before}"' in shown and "cùng SĐT" in shown
    assert f'href="/tickets/{seeded.chi_ticket}"' in shown
    assert "DH111222" in shown and "DH333444" not in shown  # Chi's order: this customer never proved it


def test_the_panel_says_nothing_of_an_order_the_customer_did_not_prove(seeded, lan) -> None:
    shown = panel(lan, seeded.dung_now)
    assert f'href="/tickets/{seeded.dung_ticket}"' in shown
    assert "DH777888" not in shown and "Khách chưa xác minh đơn nào" in shown


def test_the_panel_links_only_conversations_the_agent_may_see(seeded, lan) -> None:
    HandoffQueue(seeded.server.engine).claim(seeded.an_now, "minh")  # An's waiting conversation goes to Minh
    try:
        shown = panel(lan, seeded.an_before)
        assert f'href="/handoffs/{seeded.an_now}"' not in shown and "1 cuộc do nhân viên khác phụ trách" in shown
        assert f'href="/tickets/{seeded.an_ticket}"' in shown
    finally:
        with seeded.server.engine.begin() as connection:  # back as the other tests found it
            connection.execute(handoffs_table.update().where(handoffs_table.c.id == seeded.an_now)
                               .values(status="waiting", claimed_by=None, claimed_at=None))  # fmt: skip


def test_the_search_sees_exactly_the_conversations_the_console_lets_an_agent_open(tmp_path: Path) -> None:
    from bot.desk.accounts import Agent
    from bot.desk.console import _may_see
    from bot.desk.search import visible_to

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'visible.db'}", future=True)
    queue = HandoffQueue(engine)
    ids = [queue.open(channel="rest", sender_id=f"web:{n}", reason="customer_request", summary="", slots={},
                      transcript=[]).id for n in range(4)]  # fmt: skip
    queue.claim(ids[1], "lan")
    queue.claim(ids[2], "minh")
    queue.claim(ids[3], "lan")
    queue.close(ids[3], "lan", "xong")
    for agent in (Agent("lan", "Lan", "agent"), Agent("minh", "Minh", "agent"), Agent("chu", "Chủ", ADMIN)):
        with engine.connect() as connection:
            seen = set(connection.execute(sa.select(handoffs_table.c.id).where(visible_to(agent))).scalars())
        assert seen == {i for i in ids if _may_see(agent, queue.get_existing(i))}
