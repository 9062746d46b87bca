"""An agent finds a customer by phone in a real browser (Playwright, Debian's chromium, headless) on the
in-process console, opens the conversation and sees the customer's past ticket in the panel."""

from pathlib import Path

import pytest

from bot.desk.accounts import AccountStore
from bot.desk.queue import HandoffQueue
from bot.orders.demo_shop import DemoShop
from bot.ownership import OwnershipLedger, ProofMethod
from bot.tickets import TicketStore
from tests.console_server import console_server

pytestmark = pytest.mark.slow  # starts a browser


def test_searching_a_phone_shows_the_conversation_whose_panel_lists_the_past_ticket(tmp_path: Path, browser) -> None:
    DemoShop.open(tmp_path / "demo_shop.db")
    with console_server(tmp_path) as server:
        AccountStore(server.engine).add_agent("lan", "lan-password-123", "Lan")
        OwnershipLedger(server.engine).attempt("web:an", "DH123456", True, ProofMethod.FULL_PHONE)
        code = TicketStore(server.engine).create(
            channel="rest", sender_id="web:an", issue_type="damaged", description="Hộp bị móp khi nhận",
            order_number="DH123456", contact_phone="0912345678", order_verified=True,
        ).code  # fmt: skip
        handoff = HandoffQueue(server.engine).open(
            channel="rest", sender_id="web:an", reason="customer_request", summary="Khách hỏi lại về phiếu",
            slots={}, contact_phone="0912345678",
            transcript=[{"role": "customer", "text": "số mình là 0912 345 678", "sent_at": 1.0}],
        )  # fmt: skip
        page = browser.new_page()
        page.goto(f"{server.url}/login")
        page.fill("input[name=username]", "lan")
        page.fill("input[name=password]", "lan-password-123")
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/")

        page.get_by_role("link", name="Tìm kiếm").click()
        page.get_by_label("Số điện thoại, mã đơn, mã phiếu hoặc nội dung").fill("+84 912 345 678")
        page.get_by_role("button", name="Tìm").click()
        row = page.locator(f"#results tr[data-kind=conversation][data-key='{handoff.id}']")
        row.locator("mark").wait_for()
        row.get_by_role("link", name=f"Cuộc trò chuyện #{handoff.id}").click()
        page.wait_for_url(f"{server.url}/handoffs/{handoff.id}")

        assert "DH123456 · đang giao" in page.locator("#customer-orders").inner_text()
        tickets = page.locator("#customer-tickets")
        assert "Mới" in tickets.inner_text()
        tickets.get_by_role("link", name=code).click()
        page.wait_for_url(f"{server.url}/tickets/{code}")
        assert "Hộp bị móp" in page.content()
        page.close()
