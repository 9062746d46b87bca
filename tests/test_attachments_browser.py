"""A widget customer sends a photo during a hand-off, and the agent sees it in the console: Playwright driving
Debian's chromium, headless, against the whole stack."""

import pytest
from PIL import Image

from bot.sandbox import ADMIN_PASSWORD, DeskAgent

pytestmark = pytest.mark.slow  # starts the bot's servers or loads the trained model


def test_a_photo_sent_in_the_widget_during_a_hand_off_shows_inline_for_the_agent(desk_stack, browser, tmp_path) -> None:
    settings, _, _ = desk_stack
    photo = tmp_path / "coc-vo.jpg"
    Image.new("RGB", (320, 240), (180, 40, 40)).save(photo, "JPEG")

    customer = browser.new_page()
    customer.goto(f"{settings.rasa_url}/webhooks/socketio/demo")
    customer.click(".cskh-launcher")
    customer.locator(".cskh-bot").first.wait_for(timeout=15_000)
    agent = DeskAgent(settings.desk_url, "admin", ADMIN_PASSWORD)  # online, so the hand-off queues
    customer.fill(".cskh-input", "cho mình gặp nhân viên về đơn DH246810")
    customer.click(".cskh-send")
    customer.locator(".cskh-bot .cskh-text", has_text="vị trí số").wait_for(timeout=10_000)
    row = agent.waiting_for("DH246810")

    console = browser.new_page()
    console.goto(f"{settings.desk_url}/login")
    console.fill("input[name=username]", "admin")
    console.fill("input[name=password]", ADMIN_PASSWORD)
    console.click("button[type=submit]")
    console.wait_for_url(f"{settings.desk_url}/")
    console.locator("#waiting tr", has_text="DH246810").get_by_role("button", name="Nhận").click()
    console.wait_for_url(f"**/handoffs/{row['id']}")
    customer.locator(".cskh-text", has_text="đã tham gia").wait_for(timeout=10_000)

    customer.set_input_files(".cskh-file", str(photo))  # what the paperclip's picker hands the widget
    thumbnail = customer.locator(".cskh-user img.cskh-thumb")
    thumbnail.wait_for(timeout=5_000)
    assert thumbnail.get_attribute("src").startswith("data:image/jpeg")  # drawn from the customer's own file

    picture = console.locator(".msg.customer .attachment-image img")
    picture.wait_for(timeout=10_000)  # arrives live, shown as the picture itself
    console.wait_for_function("img => img.complete && img.naturalWidth === 320", arg=picture.element_handle())
    link = console.locator(".msg.customer a.attachment-image")
    with console.context.expect_page() as opened:
        link.click()
    full = opened.value
    full.wait_for_load_state()
    assert full.url == f"{settings.desk_url}{link.get_attribute('href')}"
    assert full.evaluate("document.contentType") == "image/jpeg"

    # after a reload the transcript still shows it (rendered by the server, then by attachments.js)
    console.reload()
    console.locator(".msg.customer .attachment-image img").wait_for(timeout=5_000)
    assert not any("nhận được ảnh" in (t or "") for t in customer.locator(".cskh-bot .cskh-text").all_text_contents())
    customer.close()
    console.close()
