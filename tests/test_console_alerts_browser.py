"""Alerts and keyboard shortcuts of the console in a real browser (Playwright, Debian's chromium, headless)
on the in-process console; customers come in through the desk's service API as the action server sends them.

The browser's Notification API is replaced by a recorder in an init script (what the page asked the
system to show), and ``document.hasFocus`` answers as the test says: whether the agent is looking at the tab.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot.desk.accounts import AccountStore
from bot.sandbox import DeskAgent
from tests.console_server import ConsoleServer, console_server
from tests.test_desk_console import RASA_TOKEN, FakeRasa
from tests.test_desk_presence import customer_says, hand_off

pytestmark = pytest.mark.slow  # starts a browser

WATCH_NOTIFICATIONS = """
window.__notifications = [];
window.__asked = 0;
window.__looking = true;
window.Notification = class {
  constructor(title, options) { window.__notifications.push({ title, ...options }); }
  close() {}
  static requestPermission() {
    window.__asked += 1;
    window.Notification.permission = "granted";
    return Promise.resolve("granted");
  }
};
window.Notification.permission = "default";
document.hasFocus = () => window.__looking;
"""


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[ConsoleServer, FakeRasa]]:
    with FakeRasa() as rasa:
        port = int(rasa.url.rsplit(":", 1)[1])
        with console_server(tmp_path, rasa_port=port, rasa_token=RASA_TOKEN) as server:
            accounts = AccountStore(server.engine)
            accounts.add_agent("lan", "lan-password-123", "Lan")
            accounts.add_agent("minh", "minh-password-123", "Minh")
            yield server, rasa


def logged_in(browser, server: ConsoleServer):
    context = browser.new_context(permissions=["notifications"])
    context.add_init_script(WATCH_NOTIFICATIONS)
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "lan")
    page.fill("input[name=password]", "lan-password-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    page.locator("#team li[data-username=lan]").wait_for()  # the page's scripts run and its stream is open
    return context, page


def look_away(page) -> None:
    page.evaluate("window.__looking = false")


def look_back(page) -> None:
    page.evaluate("window.__looking = true; window.dispatchEvent(new Event('focus'))")


def test_a_new_waiting_customer_beeps_counts_in_the_title_and_notifies(console, browser) -> None:
    server, _ = console
    context, page = logged_in(browser, server)
    assert page.title() == "Hàng chờ · cskh-bot"

    # permission is asked only when the agent clicks the button, never on load
    enable = page.get_by_role("button", name="Bật thông báo trên máy tính")
    assert enable.is_visible() and page.evaluate("window.__asked") == 0
    enable.click()
    assert page.evaluate("window.__asked") == 1
    enable.wait_for(state="hidden")

    look_away(page)
    first = hand_off(server, "Khách hỏi đơn DH300001")
    expect(page).to_have_title("(1) Hàng chờ · cskh-bot", timeout=10_000)
    hand_off(server, "Khách hỏi đơn DH300002")
    expect(page).to_have_title("(2) Hàng chờ · cskh-bot", timeout=10_000)
    notes = page.evaluate("window.__notifications")
    assert [n["title"] for n in notes] == ["Khách mới đang chờ", "Khách mới đang chờ"]
    assert notes[0]["body"] == "Khách yêu cầu gặp nhân viên · kênh zalo"  # no customer words on a locked screen
    assert notes[0]["tag"] == f"waiting-{first['handoff_id']}"
    page.locator("#waiting tr", has_text="DH300002").wait_for()

    look_back(page)  # the agent comes back to the tab: the count clears
    expect(page).to_have_title("Hàng chờ · cskh-bot")

    # while away: no count, no notification (the row still shows up; Minh is there to take it)
    assert DeskAgent(server.url, "minh", "minh-password-123").status == 200
    page.select_option("#agent-status-select", "away")
    expect(page.locator("#team li[data-username=lan]")).to_contain_text("Vắng mặt")
    look_away(page)
    hand_off(server, "Khách hỏi đơn DH300003")
    page.locator("#waiting tr", has_text="DH300003").wait_for(timeout=10_000)
    page.wait_for_timeout(500)
    assert page.title() == "Hàng chờ · cskh-bot" and len(page.evaluate("window.__notifications")) == 2
    context.close()


def test_a_customer_writing_in_the_agents_conversation_alerts_them(console, browser) -> None:
    server, _ = console
    context, page = logged_in(browser, server)
    customer = hand_off(server, "Khách hỏi đơn DH400001")
    page.locator("#waiting tr", has_text="DH400001").get_by_role("button", name="Nhận").click()
    page.wait_for_url(f"**/handoffs/{customer['handoff_id']}")
    page.locator("#reply-text").wait_for()
    page.get_by_role("button", name="Bật thông báo trên máy tính").click()  # on this page too, as an agent would
    page.wait_for_timeout(300)  # the conversation's stream is open

    look_away(page)
    customer_says(server, customer["sender_id"], "shop ơi mình cần gấp")
    page.locator(".msg.customer .text", has_text="mình cần gấp").wait_for(timeout=10_000)
    expect(page).to_have_title(f"(1) Cuộc trò chuyện #{customer['handoff_id']} · cskh-bot")
    assert page.evaluate("window.__notifications")[-1]["title"] == "Khách vừa nhắn"
    look_back(page)
    expect(page).to_have_title(f"Cuộc trò chuyện #{customer['handoff_id']} · cskh-bot")
    context.close()


def test_keyboard_shortcuts_are_listed_and_work(console, browser) -> None:
    server, rasa = console
    context, page = logged_in(browser, server)
    first, second = hand_off(server, "Khách hỏi đơn DH500001"), hand_off(server, "Khách hỏi đơn DH500002")
    page.locator("#waiting tr", has_text="DH500002").wait_for()

    page.keyboard.press("?")
    help = page.get_by_role("dialog", name="Phím tắt")
    help.wait_for()
    for listed in ("n", "c", "Ctrl + Enter", "Ctrl + Shift + X", "?", "Esc"):
        assert help.locator("kbd", has_text=listed).count() >= 1
    page.keyboard.press("Escape")
    help.wait_for(state="hidden")

    page.keyboard.press("n")  # the longest-waiting customer
    page.wait_for_url(f"**/handoffs/{first['handoff_id']}")
    page.keyboard.press("n")  # and the next one
    page.wait_for_url(f"**/handoffs/{second['handoff_id']}")
    page.keyboard.press("c")  # claim the one shown
    page.locator("#reply-text").wait_for()

    page.locator("#reply-text").click()
    page.keyboard.type("n?c")  # typed into the reply box: text, not shortcuts
    assert page.url.endswith(f"/handoffs/{second['handoff_id']}") and page.locator("#shortcuts-help").is_hidden()
    page.fill("#reply-text", "Chào bạn, mình xem đơn DH500002 giúp bạn nhé")
    page.keyboard.press("Control+Enter")
    page.locator(".msg.agent .text", has_text="mình xem đơn DH500002").wait_for(timeout=10_000)
    said = [e["text"] for e in rasa.appended[second["sender_id"]] if e["event"] == "bot"]
    assert "Chào bạn, mình xem đơn DH500002 giúp bạn nhé" in said

    page.locator("h1").click()  # out of the text box
    page.keyboard.press("Control+Shift+X")  # no resolution yet: the box to write it in gets the focus
    assert page.evaluate("document.activeElement.id") == "resolution"
    page.keyboard.type("Đã báo tình trạng đơn")
    page.keyboard.press("Control+Shift+X")
    page.wait_for_url("**/?notice=closed")
    context.close()


def test_the_next_waiting_shortcut_offers_no_new_customer_beyond_capacity_or_while_busy(console, browser) -> None:
    server, _ = console
    AccountStore(server.engine).set_capacity("lan", 1)
    context, page = logged_in(browser, server)
    first, second = hand_off(server, "Khách hỏi đơn DH600001"), hand_off(server, "Khách hỏi đơn DH600002")
    page.locator("#waiting tr", has_text="DH600001").get_by_role("button", name="Nhận").click()
    page.wait_for_url(f"**/handoffs/{first['handoff_id']}")
    page.locator("#reply-text").wait_for()

    page.locator("h1").click()
    page.keyboard.press("n")  # one conversation is all she takes at once: the waiting customer is not opened
    expect(page.locator("#shortcut-hint")).to_contain_text("tối đa")
    page.goto(f"{server.url}/")
    page.locator("#waiting tr", has_text="DH600002").wait_for()
    page.keyboard.press("n")
    expect(page.locator("#shortcut-hint")).to_contain_text("tối đa")
    assert page.url == f"{server.url}/"

    # with room again but busy: still not offered; ready: the next customer opens
    AccountStore(server.engine).set_capacity("lan", 2)
    page.select_option("#agent-status-select", "busy")
    expect(page.locator("#team li[data-username=lan]")).to_contain_text("Đang bận")
    page.keyboard.press("n")
    expect(page.locator("#shortcut-hint")).to_contain_text("Sẵn sàng")
    assert page.url == f"{server.url}/"
    page.select_option("#agent-status-select", "online")
    expect(page.locator("#team li[data-username=lan]")).to_contain_text("Sẵn sàng")
    page.locator("h1").first.click()
    page.keyboard.press("n")
    page.wait_for_url(f"**/handoffs/{second['handoff_id']}")
    context.close()
