"""An agent sends a picture from the console and the customer sees it in the website widget: Debian's chromium
driven by Playwright, the bot's real servers running (``desk_stack``)."""

import io

import pytest
from PIL import Image

from bot.sandbox import ADMIN_PASSWORD

pytestmark = pytest.mark.slow  # starts the bot's servers or loads the trained model


def test_an_agent_sends_a_picture_and_the_widget_customer_sees_it(desk_stack, browser, tmp_path) -> None:
    settings, _, _ = desk_stack
    agent = browser.new_context().new_page()
    agent.goto(f"{settings.desk_url}/login")
    agent.fill("input[name=username]", "admin")
    agent.fill("input[name=password]", ADMIN_PASSWORD)
    agent.click("button[type=submit]")
    agent.wait_for_url(f"{settings.desk_url}/")  # online: the customer can be queued

    customer = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    customer.goto(f"{settings.rasa_url}/webhooks/socketio/demo")
    customer.click(".cskh-launcher")
    customer.locator(".cskh-bot").first.wait_for(timeout=15_000)
    customer.fill(".cskh-input", "cho mình gặp nhân viên về đơn DH777888")
    customer.click(".cskh-send")
    customer.locator(".cskh-bot .cskh-text", has_text="vị trí số").wait_for(timeout=10_000)
    row = agent.locator("#waiting tr", has_text="DH777888")
    row.wait_for(timeout=10_000)
    row.get_by_role("button", name="Nhận").click()
    agent.wait_for_url("**/handoffs/*")

    chart = tmp_path / "bảng size.png"
    Image.new("RGB", (320, 240), "purple").save(chart)
    agent.set_input_files("#file-input", str(chart))
    agent.click("#file-form button[type=submit]")
    agent.locator("#file-status", has_text="Đã gửi").wait_for(timeout=10_000)
    sent = agent.locator(".msg.agent .sent-file img")
    sent.wait_for(timeout=10_000)  # the transcript shows the picture it sent
    assert agent.evaluate("document.querySelector('.msg.agent .sent-file img').naturalWidth") == 320

    # the customer, with no staff session, sees the picture itself under the agent's name
    shown = customer.locator(".cskh-agent .cskh-image")
    shown.wait_for(timeout=10_000)
    customer.wait_for_function("document.querySelector('.cskh-agent .cskh-image').naturalWidth > 0", timeout=10_000)
    assert customer.evaluate("document.querySelector('.cskh-agent .cskh-image').naturalWidth") == 320
    assert customer.locator(".cskh-agent .cskh-text").last.text_content() == "Gửi bạn ảnh bảng size.png"
    source = shown.get_attribute("src")
    picture = customer.request.get(source)
    assert picture.status == 200 and Image.open(io.BytesIO(picture.body())).size == (320, 240)
    assert customer.request.get(source.replace("s=", "s=0")).status == 404  # the link only works as signed

    # a pasted screenshot goes the same way
    agent.locator("#reply-text").focus()
    agent.evaluate("""async () => {
        const canvas = document.createElement("canvas"); canvas.width = 50; canvas.height = 40;
        const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
        const data = new DataTransfer(); data.items.add(new File([blob], "image.png", { type: "image/png" }));
        document.getElementById("reply-text").dispatchEvent(new ClipboardEvent("paste", { clipboardData: data }));
    }""")
    customer.locator(".cskh-agent .cskh-image").nth(1).wait_for(timeout=10_000)
