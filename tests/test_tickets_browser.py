"""An agent resolves a ticket in a real browser (Playwright, Debian's chromium, headless) on the in-process
console: the resolution reaches the customer's conversation through the loopback stand-in for Rasa."""

from pathlib import Path

import pytest

from bot.desk.accounts import AccountStore
from bot.tickets import TicketStore
from tests.console_server import console_server
from tests.test_desk_console import RASA_TOKEN, FakeRasa

pytestmark = pytest.mark.slow  # starts a browser


def test_an_agent_takes_and_resolves_a_ticket_in_the_browser(tmp_path: Path, browser) -> None:
    with FakeRasa() as rasa:
        port = int(rasa.url.rsplit(":", 1)[1])
        with console_server(tmp_path, rasa_port=port, rasa_token=RASA_TOKEN) as server:
            AccountStore(server.engine).add_agent("lan", "lan-password-123", "Lan")
            code = TicketStore(server.engine).create(
                channel="rest", sender_id="web:khach-9", issue_type="damaged", description="Máy bị vỡ màn hình",
                order_number="DH123456", contact_phone="0912345678",
            ).code  # fmt: skip
            page = browser.new_page()
            page.goto(f"{server.url}/login")
            page.fill("input[name=username]", "lan")
            page.fill("input[name=password]", "lan-password-123")
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.url}/")

            page.get_by_role("link", name="Phiếu").click()
            page.locator(f"#tickets tr[data-code='{code}']", has_text="0912345678").get_by_role("link").click()
            page.get_by_role("button", name="Nhận phiếu này").click()
            page.locator("#assignee", has_text="lan").wait_for()
            page.fill("#resolve textarea[name=message]", "Shop đổi máy mới cho bạn ạ.")
            page.get_by_role("button", name="Xử lý xong và nhắn khách").click()
            page.locator("#status", has_text="Đã xử lý").wait_for()
            page.close()

            said = [event["text"] for event in rasa.appended["web:khach-9"] if event["event"] == "bot"]
            assert said == [f"Yêu cầu {code} của bạn đã được xử lý: Shop đổi máy mới cho bạn ạ."]
