"""The website chat widget on the demo shop page, in Debian's chromium driven by Playwright.

Rasa's real socket.io channel, action server and desk are running (``desk_stack``).
"""

import re

import pytest

from bot.sandbox import ADMIN_PASSWORD, DeskAgent

pytestmark = pytest.mark.slow  # starts the bot's servers or loads the trained model


def bot_texts(page) -> list[str]:
    return page.locator(".cskh-msg .cskh-text").all_text_contents()


def settled_texts(page, quiet_seconds: float = 1.0) -> list[str]:
    """The chat once no new bubble arrived for ``quiet_seconds`` (long answers come in parts)."""
    texts = bot_texts(page)
    while True:
        page.wait_for_timeout(quiet_seconds * 1000)
        if (latest := bot_texts(page)) == texts:
            return texts
        texts = latest


def test_customer_chats_in_the_widget_across_reloads_and_hears_from_an_agent(desk_stack, browser) -> None:
    settings, _, _ = desk_stack
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{settings.rasa_url}/webhooks/socketio/demo")
    page.click(".cskh-launcher")
    page.locator(".cskh-bot").first.wait_for(timeout=15_000)  # the bot greets when the chat opens

    page.fill(".cskh-input", "phí ship về Hà Nội bao nhiêu vậy")
    page.click(".cskh-send")
    page.locator(".cskh-bot .cskh-text", has_text="20.000đ").first.wait_for(timeout=10_000)
    assert page.locator(".cskh-typing").is_hidden()

    html = '<img src=x onerror="window.pwned=1"> có ship hỏa tốc không'
    page.fill(".cskh-input", html)
    page.click(".cskh-send")
    page.locator(".cskh-user .cskh-text", has_text=html).wait_for()
    page.locator(".cskh-bot").nth(2).wait_for(timeout=10_000)  # answered (not "not understood" twice)
    assert page.evaluate("window.pwned") is None  # shown as text, never run

    page.fill(".cskh-input", "qwzx plorb vvk")
    page.click(".cskh-send")
    page.locator(".cskh-quick-reply", has_text="Đổi trả hàng").wait_for(timeout=10_000)
    page.click(".cskh-quick-reply >> text=Đổi trả hàng")
    page.locator(".cskh-user .cskh-text", has_text="Đổi trả hàng").wait_for()
    page.locator(".cskh-bot .cskh-text", has_text="7 ngày").first.wait_for(timeout=10_000)

    before = settled_texts(page)
    page.reload()
    page.locator(".cskh-msg").first.wait_for()
    assert bot_texts(page) == before  # history and the open panel survive a reload
    assert page.locator(".cskh-panel").is_visible()

    for message, expected in (("kiểm tra đơn DH123456", "số điện thoại"), ("0912345678", "đang giao")):
        page.fill(".cskh-input", message)
        page.click(".cskh-send")
        page.locator(".cskh-bot .cskh-text", has_text=expected).last.wait_for(timeout=10_000)

    agent = DeskAgent(settings.desk_url, "admin", ADMIN_PASSWORD)
    page.fill(".cskh-input", "cho mình gặp nhân viên về đơn DH654321")
    page.click(".cskh-send")
    page.locator(".cskh-bot .cskh-text", has_text="vị trí số").wait_for(timeout=10_000)
    row = agent.waiting_for("DH654321")
    agent.claim(row["id"])
    agent.post(row["id"], "reply", text="Chào bạn, mình là nhân viên CSKH đây")
    reply = page.locator(".cskh-agent", has_text="Chào bạn, mình là nhân viên CSKH đây")
    reply.wait_for(timeout=10_000)
    assert reply.locator(".cskh-who").text_content() == "Nhân viên CSKH"

    # a reply sent while the page is closed is there when the customer comes back
    page.close()
    agent.post(row["id"], "reply", text="Đơn của bạn đang được đóng gói nhé")
    page = context.new_page()
    page.goto(f"{settings.rasa_url}/webhooks/socketio/demo")
    page.locator(".cskh-agent", has_text="Đơn của bạn đang được đóng gói").wait_for(timeout=10_000)
    agent.post(row["id"], "close", resolution="Đã báo tình trạng đơn")
    page.locator(".cskh-quick-reply", has_text=re.compile("^5")).wait_for(timeout=10_000)
    context.close()


def test_the_widget_fills_a_phone_screen(desk_stack, browser) -> None:
    settings, _, _ = desk_stack
    page = browser.new_page(viewport={"width": 375, "height": 700})
    page.goto(f"{settings.rasa_url}/webhooks/socketio/demo")
    page.click(".cskh-launcher")
    box = page.locator(".cskh-panel").bounding_box()
    assert (box["width"], box["height"]) == (375, 700)
    page.close()
