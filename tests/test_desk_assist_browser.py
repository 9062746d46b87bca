"""An agent's canned replies and labels in a real browser (Playwright, Debian's chromium, headless) on the
in-process console: "/" in the reply box lists the shop's replies, filtered as the agent types (accents or
not), chosen with the keyboard or the mouse and inserted filled for this customer; a label added on the
conversation shows in the queue. Rasa is the loopback stand-in that records what reaches the customer.
"""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from bot.desk.accounts import AccountStore
from bot.desk.canned import CannedStore
from bot.desk.queue import HandoffQueue
from tests.console_server import console_server
from tests.test_desk_console import RASA_TOKEN, FakeRasa

pytestmark = pytest.mark.slow  # starts a browser


@pytest.fixture
def conversation(tmp_path: Path, browser):
    """Lan's page of the conversation she just took (a customer whose name and order the bot collected)."""
    with FakeRasa() as rasa:
        port = int(rasa.url.rsplit(":", 1)[1])
        with console_server(tmp_path, rasa_port=port, rasa_token=RASA_TOKEN) as server:
            AccountStore(server.engine).add_agent("lan", "lan-password-123", "Lan")
            canned = CannedStore(server.engine)
            canned.create("admin", "chao", "Chào khách", "Chào {customer_name}, mình xem đơn {order_number} ngay ạ.")
            canned.create("admin", "cam-on", "Cảm ơn", "Cảm ơn {customer_name} đã chờ ạ.")
            canned.create("admin", "phi-ship", "Phí giao hàng", "Phí ship nội thành là {shipping.fee_inner_city} ạ.")
            handoff = HandoffQueue(server.engine).open(
                channel="rest", sender_id="web:khach-an", reason="customer_request", summary="Khách hỏi đơn hàng",
                slots={"customer_name": "chị An", "order_number": "DH123456"},
                transcript=[{"role": "customer", "text": "đơn DH123456 của mình đâu", "sent_at": 1.0}],
            ).id  # fmt: skip
            page = browser.new_page()
            page.goto(f"{server.url}/login")
            page.fill("input[name=username]", "lan")
            page.fill("input[name=password]", "lan-password-123")
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.url}/")
            page.locator(f"#waiting tr[data-id='{handoff}']").get_by_role("button", name="Nhận").click()
            page.wait_for_url(f"{server.url}/handoffs/{handoff}")
            yield page, server, rasa
            page.close()


def options(page) -> list[str]:
    return [text.strip() for text in page.locator("#canned-popup [role=option] strong").all_text_contents()]


def test_slash_lists_canned_replies_and_the_keyboard_inserts_one_filled_for_this_customer(conversation) -> None:
    page, _, rasa = conversation
    box, popup = page.locator("#reply-text"), page.locator("#canned-popup")
    box.click()
    box.press_sequentially("Dạ /")
    popup.wait_for(state="visible")
    assert options(page) == ["/cam-on", "/chao", "/phi-ship"]

    box.press_sequentially("hàng")  # "Phí giao hàng", found with or without accents
    expect(page.locator("#canned-popup [role=option]")).to_have_count(1)
    assert options(page) == ["/phi-ship"]
    box.press("Escape")
    popup.wait_for(state="hidden")
    assert box.input_value() == "Dạ /hàng"  # Esc closes the list and leaves the text alone

    box.fill("")
    box.press_sequentially("Dạ /c")
    expect(page.locator("#canned-popup [role=option]")).to_have_count(2)
    assert options(page) == ["/cam-on", "/chao"]
    assert page.locator("#canned-popup [aria-selected=true] strong").text_content() == "/cam-on"
    box.press("ArrowDown")
    assert page.locator("#canned-popup [aria-selected=true] strong").text_content() == "/chao"
    box.press("Enter")
    popup.wait_for(state="hidden")
    expect(box).to_have_value("Dạ Chào chị An, mình xem đơn DH123456 ngay ạ.")

    box.press_sequentially(" /ph")  # the caret is after the inserted text; Tab inserts too
    expect(page.locator("#canned-popup [role=option]")).to_have_count(1)
    box.press("Tab")
    expected = "Dạ Chào chị An, mình xem đơn DH123456 ngay ạ. Phí ship nội thành là 20.000đ ạ."
    expect(box).to_have_value(expected)

    page.get_by_role("button", name="Gửi", exact=True).click()
    page.locator("#messages .msg.agent", has_text="20.000đ").wait_for()
    said = [event["text"] for event in rasa.appended["web:khach-an"] if event["event"] == "bot"]
    assert said[-1] == expected and "{" not in said[-1]


def test_a_click_inserts_a_reply_and_a_missing_value_is_a_gap_selected_for_the_agent(conversation) -> None:
    page, server, _ = conversation
    handoff = int(page.locator("#conversation").get_attribute("data-handoff"))
    with server.engine.begin() as connection:  # a customer whose name the bot never learnt
        connection.execute(sa.text("UPDATE handoffs SET slots = '{}' WHERE id = :id"), {"id": handoff})
    box = page.locator("#reply-text")
    box.click()
    box.press_sequentially("/")
    page.locator("#canned-popup [role=option]", has_text="/cam-on").click()
    expect(box).to_have_value("Cảm ơn [tên khách] đã chờ ạ.")
    # the gap is selected: what the agent types replaces it
    box.press_sequentially("anh Bảo")
    assert box.input_value() == "Cảm ơn anh Bảo đã chờ ạ."


def test_an_agent_labels_the_conversation_and_the_queue_shows_it(conversation) -> None:
    page, server, _ = conversation
    page.fill("#label-text", "VIP")
    page.get_by_role("button", name="Thêm nhãn").click()
    page.locator("#labels li[data-label='VIP']").wait_for()
    page.fill("#label-text", "đổi trả")
    page.press("#label-text", "Enter")
    page.locator("#labels li[data-label='đổi trả']").wait_for()
    page.fill("#label-text", "x" * 30 + "y")  # the box holds 30: the 31st character never gets in
    assert page.input_value("#label-text") == "x" * 30

    page.get_by_role("button", name="Bỏ nhãn VIP").click()
    page.locator("#labels li[data-label='VIP']").wait_for(state="detached")
    page.goto(f"{server.url}/")
    assert page.locator("#mine .label").all_text_contents() == ["đổi trả"]


def test_a_list_that_loads_late_does_not_reopen_over_the_inserted_reply(conversation) -> None:
    """The agent types "/c" and Enter faster than the server answers: a list answer that arrives after the
    choice must not open the list again over the reply box and the Send button."""
    page, _, _ = conversation
    lists, fills = [], []
    page.route(
        lambda url: urlsplit(url).path.endswith("/canned.json"),
        lambda route: (fills if "reply=" in route.request.url else lists).append(route),
    )
    box, popup = page.locator("#reply-text"), page.locator("#canned-popup")
    box.click()
    box.press_sequentially("Dạ /c")
    while not lists:
        page.wait_for_timeout(20)
    lists.pop(0).continue_()
    popup.wait_for(state="visible")
    box.press("Enter")
    while not fills:
        page.wait_for_timeout(20)
    for late in lists:  # answers to the keys typed after "/", arriving after the choice
        late.continue_()
    page.wait_for_timeout(300)
    fills[0].continue_()
    expect(box).to_have_value("Dạ Cảm ơn chị An đã chờ ạ.")
    expect(popup).to_be_hidden()
    page.get_by_role("button", name="Gửi", exact=True).click(timeout=2_000)
    page.locator("#messages .msg.agent", has_text="đã chờ ạ").wait_for()
