"""The agent console in a real browser: Playwright driving Debian's chromium, headless."""

import uuid

import pytest

from bot.sandbox import ADMIN_PASSWORD, RestCustomer

pytestmark = pytest.mark.slow  # starts the bot's servers or loads the trained model


def test_an_agent_logs_in_claims_replies_and_closes_in_the_browser(desk_stack, browser) -> None:
    settings, _, _ = desk_stack
    page = browser.new_page()
    page.goto(f"{settings.desk_url}/")
    assert page.url.endswith("/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{settings.desk_url}/")

    # a customer writes HTML and asks for a human while the queue page is open: the row appears live
    customer = RestCustomer(settings.rasa_url, f"browser-{uuid.uuid4().hex[:8]}")
    customer.say("<script>window.pwned = true</script>")
    customer.say("cho mình gặp nhân viên về đơn DH123456")
    row = page.locator("#waiting tr", has_text="DH123456")
    row.wait_for(timeout=10_000)
    row.get_by_role("button", name="Nhận").click()
    page.wait_for_url("**/handoffs/*")

    # the script is shown as text, never run
    page.locator(".msg.customer .text", has_text="<script>window.pwned = true</script>").wait_for()
    assert page.evaluate("window.pwned") is None

    # a new customer message arrives live, and agent assist suggests the FAQ answer for it
    customer.say("phí ship về Hà Nội bao nhiêu vậy")
    page.locator(".msg.customer .text", has_text="phí ship về Hà Nội").wait_for(timeout=5_000)
    suggestion = page.locator("#suggestions button", has_text="20.000đ")
    suggestion.first.wait_for(timeout=10_000)
    # named as staff know the topic; the id is kept on the label for tooling
    label = page.locator("#suggestions .confidence", has_text="Phí giao hàng")
    assert label.first.get_attribute("data-topic") == "shipping_fee"
    suggestion.first.click()
    assert "20.000đ" in page.input_value("#reply-text")

    page.fill("#reply-text", "Chào bạn, phí ship về Hà Nội là 20.000đ nhé")
    page.click("#reply-form button[type=submit]")
    reply = customer.wait_for(lambda m: m.get("agent") == "CSKH")
    assert reply["text"] == "Chào bạn, phí ship về Hà Nội là 20.000đ nhé"
    page.locator(".msg.agent .text", has_text="phí ship về Hà Nội là 20.000đ").wait_for(timeout=5_000)

    page.fill("#resolution", "Đã báo phí ship")
    page.click("#close-form button[type=submit]")
    page.wait_for_url("**/?notice=closed")
    assert "Đã đóng cuộc trò chuyện" in page.text_content(".notice")
    assert customer.wait_for(lambda m: bool(m.get("buttons")))["buttons"][4]["title"].startswith("5")
    page.close()
