"""A transfer in a real browser (Playwright, Debian's chromium, headless) on the in-process console: Lan
passes her customer to the "Kế toán" team with a note, Hoa of accounting sees the customer at the top of
her queue without reloading, takes it and reads the note; the customer only got the polite line."""

from pathlib import Path

import pytest

from bot.desk.accounts import AccountStore
from bot.desk.queue import HandoffQueue
from bot.desk.teams import TeamStore
from tests.console_server import console_server
from tests.test_desk_console import RASA_TOKEN, FakeRasa

pytestmark = pytest.mark.slow  # starts a browser

PASSWORD = "mat-khau-dai-123"
DUPLICATE_IDS = "Array.from(document.querySelectorAll('[id]'), (e) => e.id).filter((id, i, ids) => ids.indexOf(id) < i)"


def log_in(browser, url: str, username: str):
    page = browser.new_context().new_page()  # a context each: two agents, two sets of cookies
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return page


def test_an_agent_transfers_to_accounting_with_a_note_and_the_accounting_agent_sees_it(tmp_path: Path, browser) -> None:
    with FakeRasa() as rasa:
        port = int(rasa.url.rsplit(":", 1)[1])
        with console_server(tmp_path, rasa_port=port, rasa_token=RASA_TOKEN) as server:
            accounts, teams = AccountStore(server.engine), TeamStore(server.engine)
            for username, name, team in (("lan", "Lan", "customer_care"), ("hoa", "Hoa", "accounting")):
                accounts.add_agent(username, PASSWORD, name)
                teams.set_teams(username, [team])
            queue = HandoffQueue(server.engine)
            other = queue.open(channel="rest", sender_id="web:khach-a", reason="customer_request",
                               summary="Khách hỏi đổi size", slots={}, transcript=[],
                               team="customer_care")  # fmt: skip
            handoff = queue.open(channel="rest", sender_id="web:khach-b", reason="customer_request",
                                 summary="Khách bị trừ tiền hai lần", slots={}, transcript=[],
                                 team="customer_care")  # fmt: skip
            lan, hoa = log_in(browser, server.url, "lan"), log_in(browser, server.url, "hoa")
            assert hoa.locator(f"#waiting tr[data-id='{other.id}']").count() == 1  # not her team's, still shown

            lan.locator(f"#waiting tr[data-id='{handoff.id}']").get_by_role("button", name="Nhận").click()
            lan.wait_for_url(f"**/handoffs/{handoff.id}")
            # the department stays itself next to the colleagues' statuses (once both were id="team")
            assert lan.text_content("#conversation-team") == "Chăm sóc khách hàng"
            assert lan.evaluate(DUPLICATE_IDS) == []
            lan.select_option("#transfer-target", label="Kế toán")
            lan.fill("#transfer-note", "Khách bị trừ tiền hai lần, nhờ Kế toán hoàn tiền")
            lan.get_by_role("button", name="Chuyển").click()
            lan.wait_for_url("**/?notice=transferred")
            assert "Đã chuyển cuộc trò chuyện" in lan.text_content(".notice")

            # Hoa's queue page, open all along, shows it first and marked as her team's
            first = hoa.locator("#waiting tr").first
            first.locator(".team", has_text="Kế toán · chuyển từ Lan").wait_for(timeout=10_000)
            assert first.get_attribute("data-id") == str(handoff.id)
            assert "my-team" in (first.get_attribute("class") or "")
            first.get_by_role("button", name="Nhận").click()
            hoa.wait_for_url(f"**/handoffs/{handoff.id}")
            note = hoa.locator(".msg.note .text", has_text="Chuyển từ Lan sang bộ phận Kế toán")
            assert "nhờ Kế toán hoàn tiền" in note.text_content()
            assert hoa.text_content("#conversation-team") == "Kế toán · chuyển từ Lan"
            lan.close()
            hoa.close()

            said = [event["text"] for event in rasa.appended["web:khach-b"] if event["event"] == "bot"]
            assert "Mình chuyển bạn sang bộ phận Kế toán để hỗ trợ tiếp nhé, bạn chờ mình một chút ạ." in said
            assert not any("hoàn tiền" in text for text in said)
