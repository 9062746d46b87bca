"""The tickets page follows the desk without a reload, in a real browser (Playwright, Debian's chromium, headless)
on the in-process console: a ticket the bot files while Lan looks at her team's tickets appears, highlighted, and
one of another team does not (her filter holds); a ticket Minh resolves meanwhile shows as resolved on her page.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot.desk import console
from bot.desk.accounts import AccountStore
from bot.sandbox import DeskAgent
from bot.tickets import TicketStore
from tests.console_server import console_server
from tests.test_desk_console import RASA_TOKEN, FakeRasa
from tests.test_tickets_page import act

pytestmark = pytest.mark.slow  # starts a browser


def file_ticket(store: TicketStore, sender: str, issue_type: str) -> str:
    """As the action server files it: straight into the project database."""
    return store.create(channel="rest", sender_id=sender, issue_type=issue_type, description="Khách báo lỗi").code


def test_the_tickets_page_shows_a_new_ticket_and_another_agents_resolution_without_a_reload(
    tmp_path: Path, browser, monkeypatch
) -> None:
    monkeypatch.setattr(console, "HEARTBEAT_SECONDS", 0.5)  # the page's stream ends promptly at the test's end
    with FakeRasa() as rasa:
        port = int(rasa.url.rsplit(":", 1)[1])
        with console_server(tmp_path, rasa_port=port, rasa_token=RASA_TOKEN, desk_tick_seconds=0.2) as server:
            accounts, store = AccountStore(server.engine), TicketStore(server.engine)
            accounts.add_agent("lan", "lan-password-123", "Lan")
            accounts.add_agent("minh", "minh-password-123", "Minh")
            earlier = file_ticket(store, "web:truoc", "damaged")
            page = browser.new_page()
            page.goto(f"{server.url}/login")
            page.fill("input[name=username]", "lan")
            page.fill("input[name=password]", "lan-password-123")
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.url}/")
            page.goto(f"{server.url}/tickets?team=warehouse")
            expect(page.locator("#tickets tr[data-code]")).to_have_count(1)
            page.evaluate("window.__stayed = true")  # gone if the page reloads

            broken = file_ticket(store, "web:moi", "damaged")  # the warehouse's
            late = file_ticket(store, "web:cham", "late_delivery")  # shipping's: not under her filter
            row = page.locator(f"#tickets tr[data-code='{broken}']")
            expect(row).to_be_visible(timeout=10_000)
            expect(row).to_have_class("ticket-new")
            expect(page.locator("#tickets-count")).to_have_text("2")
            assert page.locator(f"#tickets tr[data-code='{late}']").count() == 0
            before = page.locator(f"#tickets tr[data-code='{earlier}']")
            assert "ticket-new" not in (before.get_attribute("class") or "")

            minh = DeskAgent(server.url, "minh", "minh-password-123")
            assert act(minh, earlier, "resolve", message="Shop đã đổi hàng cho bạn ạ.").status_code == 302
            expect(before.locator(".status")).to_have_text("Đã xử lý", timeout=10_000)
            expect(before).to_have_class("ticket-changed")
            expect(row).to_have_class("ticket-new")  # still marked as arrived while she looked
            assert page.evaluate("window.__stayed") is True
            assert page.url == f"{server.url}/tickets?team=warehouse"
            page.close()
