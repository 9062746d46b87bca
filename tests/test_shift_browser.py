"""A whole shift of the agent desk in real browsers (Playwright driving Debian's chromium, headless) on the bot's
real servers: a widget customer reports broken goods with a photo and asks for a person, Lan is alerted, takes
the conversation, reads the customer's history, answers with a canned reply and a picture and passes the
customer to "Kế toán"; Hoa takes it there and resolves the ticket, and the customer reads every step in the
widget. Then the same reply and picture on Zalo and on Messenger, through their loopback fakes.

Agents act only through the pages (clicks and keys); HTTP and the project's stores only set the scene.
"""

import io
import re
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import expect

from bot.desk.accounts import AccountStore
from bot.desk.queue import HandoffQueue
from bot.ownership import OwnershipLedger, ProofMethod
from bot.sandbox import ADMIN_PASSWORD, CSRF_FIELD, DeskAgent, eventually
from bot.tickets import TicketStore
from tests.fakes.messenger_api import attachment_event
from tests.test_console_alerts_browser import WATCH_NOTIFICATIONS, look_away, look_back
from tests.test_messenger_channel import PAGE_ID, Person
from tests.test_zalo_channel import ZaloStack, media_event

pytestmark = pytest.mark.slow  # starts the bot's servers and a browser

ORDER, PHONE = "DH777888", "0901234567"  # the demo shop's order and its owner's phone
CANNED_TEXT = "Dạ mình rất tiếc vì đơn {order_number} đến tay bạn bị vỡ. Mình gửi bạn ảnh hướng dẫn đóng gói lại ạ."
CANNED_SENT = CANNED_TEXT.format(order_number=ORDER)
TRANSFER_LINE = "Mình chuyển bạn sang bộ phận Kế toán để hỗ trợ tiếp nhé, bạn chờ mình một chút ạ."
JOINED = "Nhân viên {} đã tham gia cuộc trò chuyện và đang xem lại thông tin của bạn."
RESOLUTION = "Shop đã hoàn tiền nồi chiên vào tài khoản của bạn, bạn kiểm tra giúp mình nhé."


def png(size: tuple[int, int], colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def as_admin(desk_url: str) -> DeskAgent:
    admin = DeskAgent(desk_url, "admin", ADMIN_PASSWORD)
    assert admin.status == 200
    return admin


def canned_reply(admin: DeskAgent, shortcut: str) -> None:
    """The shop's canned reply ``/shortcut``, made on the admin page's form as an admin would."""
    page = admin.http.get(f"{admin.desk_url}/admin/canned", timeout=10)
    if f"/{shortcut}<" in page.text:  # made by an earlier test on this stack
        return
    form = admin.http.get(f"{admin.desk_url}/admin/canned/new", timeout=10)
    saved = admin.http.post(
        f"{admin.desk_url}/admin/canned/new",
        data={"csrf_token": CSRF_FIELD.search(form.text).group(1), "shortcut": shortcut, "title": "Hàng bị vỡ",
              "text": CANNED_TEXT},
        timeout=10,
    )  # fmt: skip
    assert saved.url.endswith("/admin/canned?notice=created"), saved.text[:500]


def agent_in_teams(admin: DeskAgent, engine: sa.engine.Engine, username: str, name: str, teams: list[str]) -> None:
    """An agent account (the CLI's job, here the store's) whose teams the admin sets on the agents page."""
    accounts = AccountStore(engine)
    if accounts.agent(username) is None:
        accounts.add_agent(username, f"{username}-password-123", name)
    page = admin.http.get(f"{admin.desk_url}/admin/agents", timeout=10)
    saved = admin.http.post(
        f"{admin.desk_url}/admin/agents/{username}/teams",
        data={"csrf_token": CSRF_FIELD.search(page.text).group(1), "team": teams}, timeout=10,
    )  # fmt: skip
    assert saved.url.endswith("/admin/agents?notice=teams")


def log_in(browser, desk_url: str, username: str, password: str, watch_alerts: bool = False):
    """A page of its own context (an agent's own cookies), on the queue with its live stream open."""
    context = browser.new_context(permissions=["notifications"] if watch_alerts else [])
    if watch_alerts:
        context.add_init_script(WATCH_NOTIFICATIONS)
    page = context.new_page()
    page.goto(f"{desk_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{desk_url}/")
    page.locator(f"#team li[data-username='{username}']").wait_for()  # the page's scripts run
    return page


def last_visit(engine: sa.engine.Engine) -> tuple[int, str]:
    """The same customer last week, on another widget session: they proved the order with their phone, Lan
    helped them and closed the conversation, and their late-delivery ticket was resolved."""
    earlier = "web:" + uuid.uuid4().hex
    OwnershipLedger(engine).attempt(earlier, ORDER, True, ProofMethod.FULL_PHONE)
    queue = HandoffQueue(engine)
    visit = queue.open(
        channel="socketio", sender_id=earlier, reason="customer_request", summary="Khách hỏi đơn giao trễ",
        slots={"order_number": ORDER}, contact_phone=PHONE,
        transcript=[{"role": "customer", "text": f"đơn {ORDER} sao chưa tới shop", "sent_at": 1.0}],
    )  # fmt: skip
    assert queue.claim(visit.id, "lan") and queue.close(visit.id, "lan", "Đã báo ngày giao mới")
    tickets = TicketStore(engine)
    code = tickets.create(
        channel="socketio", sender_id=earlier, issue_type="late_delivery", description="Đơn giao trễ ba ngày",
        order_number=ORDER, contact_phone=PHONE, order_verified=True,
    ).code  # fmt: skip
    tickets.resolve(code, "Đã giao bù")
    return visit.id, code


def bot_says(widget, part: str, timeout: float = 20_000) -> str:
    """The text of the bot's latest line holding ``part``, once it is there."""
    line = widget.locator(".cskh-bot .cskh-text", has_text=part).last
    line.wait_for(timeout=timeout)
    return line.text_content()


def customer_types(widget, text: str) -> None:
    widget.fill(".cskh-input", text)
    widget.press(".cskh-input", "Enter")


def insert_canned(page, shortcut: str) -> None:
    """A "/" in the reply box, the reply picked from the list with the keyboard, then sent with the button."""
    box = page.locator("#reply-text")
    box.click()
    box.press_sequentially(f"/{shortcut[:4]}")
    option = page.locator("#canned-popup [aria-selected=true] strong")
    expect(option).to_have_text(f"/{shortcut}")
    box.press("Enter")
    expect(box).to_have_value(CANNED_SENT)
    page.get_by_role("button", name="Gửi", exact=True).click()
    page.locator("#messages .msg.agent .text", has_text=CANNED_SENT).wait_for(timeout=10_000)


def send_picture(page, picture: Path) -> None:
    page.set_input_files("#file-input", str(picture))
    page.click("#file-form button[type=submit]")
    page.locator("#file-status", has_text="Đã gửi").wait_for(timeout=15_000)
    page.locator(".msg.agent .sent-file img").wait_for(timeout=10_000)


def shows_picture(page, selector: str, width: int) -> None:
    """``selector``'s picture is loaded, at ``width`` pixels: the bytes themselves arrived."""
    page.locator(selector).first.wait_for(timeout=15_000)
    page.wait_for_function(
        "([s, w]) => Array.from(document.querySelectorAll(s)).some(i => i.complete && i.naturalWidth === w)",
        arg=[selector, width], timeout=15_000,
    )  # fmt: skip


def test_a_shift_from_the_widget_photo_to_the_resolved_ticket(desk_stack, browser, tmp_path: Path) -> None:
    settings, workdir, _ = desk_stack
    engine = sa.create_engine(f"sqlite:///{workdir / 'cskh.db'}", future=True, connect_args={"timeout": 15})
    admin = as_admin(settings.desk_url)
    canned_reply(admin, "vo-hang")
    agent_in_teams(admin, engine, "lan", "Lan", ["customer_care", "warehouse"])
    agent_in_teams(admin, engine, "hoa", "Hoa", ["accounting"])
    past_visit, past_ticket = last_visit(engine)
    broken = tmp_path / "noi-chien-vo.jpg"
    Image.new("RGB", (320, 240), (180, 40, 40)).save(broken, "JPEG")
    guide = tmp_path / "huong-dan-dong-goi.png"
    guide.write_bytes(png((240, 180), "teal"))

    lan = log_in(browser, settings.desk_url, "lan", "lan-password-123", watch_alerts=True)
    lan.get_by_role("button", name="Bật thông báo trên máy tính").click()
    hoa = log_in(browser, settings.desk_url, "hoa", "hoa-password-123")

    # the customer reports the broken fryer in the widget, photo included, then asks for a person
    widget = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    widget.goto(f"{settings.rasa_url}/webhooks/socketio/demo")
    widget.click(".cskh-launcher")
    widget.locator(".cskh-bot").first.wait_for(timeout=15_000)
    customer_types(widget, f"kiểm tra giúp mình đơn {ORDER}")
    bot_says(widget, "số điện thoại")
    customer_types(widget, "0901 234 567")  # the whole phone: the order is proven theirs
    bot_says(widget, "đã giao")
    customer_types(widget, f"mình muốn khiếu nại đơn {ORDER}")
    widget.locator(".cskh-quick-reply", has_text="Hàng lỗi / hư hỏng").last.click(timeout=20_000)
    bot_says(widget, "mô tả")
    widget.set_input_files(".cskh-file", str(broken))  # what the paperclip's picker hands the widget
    bot_says(widget, "đính kèm vào phiếu")
    customer_types(widget, "Nồi chiên bị vỡ nắp và móp một góc khi mình mở hộp")
    summary = bot_says(widget, "Hàng lỗi / hư hỏng")  # the proven owner's phone is offered back, not asked
    assert "nồi chiên bị vỡ nắp" in summary.lower() and "09******67" in summary
    customer_types(widget, "gửi đi")
    code = re.search(r"TK-\d{8}-\d{4}", bot_says(widget, "TK-")).group(0)

    look_away(lan)  # Lan is on another tab when the customer asks for her
    customer_types(widget, "cho mình gặp nhân viên")
    bot_says(widget, "vị trí số")
    expect(lan).to_have_title("(1) Hàng chờ · cskh-bot", timeout=10_000)
    alert = lan.evaluate("window.__notifications")[-1]
    assert alert["title"] == "Khách mới đang chờ" and alert["tag"].startswith("waiting-")
    handoff = int(alert["tag"].removeprefix("waiting-"))
    look_back(lan)
    expect(lan).to_have_title("Hàng chờ · cskh-bot")

    # Lan takes it, with the customer's history and photo before her
    row = lan.locator(f"#waiting tr[data-id='{handoff}']")
    expect(row).to_contain_text(ORDER)
    assert "my-team" in (row.get_attribute("class") or "")  # asked after the report was filed: its team's
    row.get_by_role("button", name="Nhận").click()
    lan.wait_for_url(f"**/handoffs/{handoff}")
    expect(lan.locator("#conversation-team")).to_have_text("Kho vận")
    expect(lan.locator("#conversation-ticket")).to_contain_text(f"Phiếu {code} · Hàng lỗi / hư hỏng · Kho vận")
    bot_says(widget, "đã tham gia")
    shows_picture(lan, ".msg.customer .attachment-image img", 320)
    history = lan.locator("#customer-conversations")
    expect(history.get_by_role("link", name=f"#{past_visit}")).to_be_visible()
    assert "cùng SĐT" in history.inner_text()
    tickets = lan.locator("#customer-tickets")
    expect(tickets.get_by_role("link", name=code)).to_be_visible()
    expect(tickets.get_by_role("link", name=past_ticket)).to_be_visible()
    assert "Đã xử lý" in tickets.locator("li", has_text=past_ticket).inner_text()

    # she answers with the canned reply and a picture, then passes the customer on to accounting
    insert_canned(lan, "vo-hang")
    send_picture(lan, guide)
    lan.select_option("#transfer-target", label="Kế toán")
    lan.fill("#transfer-note", "Khách muốn hoàn tiền thay vì đổi hàng, nhờ Kế toán xử lý phiếu " + code)
    lan.get_by_role("button", name="Chuyển").click()
    lan.wait_for_url("**/?notice=transferred")

    # Hoa's queue, open all along, shows the customer first as her team's; she takes it and reads the note
    first = hoa.locator("#waiting tr").first
    first.locator(".team", has_text="Kế toán · chuyển từ Lan").wait_for(timeout=10_000)
    assert first.get_attribute("data-id") == str(handoff)
    first.get_by_role("button", name="Nhận").click()
    hoa.wait_for_url(f"**/handoffs/{handoff}")
    hoa.locator(".msg.note .text", has_text="nhờ Kế toán xử lý phiếu").wait_for()

    # she opens the ticket from the tickets page, takes it and resolves it with a message to the customer
    hoa.get_by_role("link", name="Phiếu").click()
    hoa.locator(f"#tickets tr[data-code='{code}']").get_by_role("link").first.click()
    hoa.wait_for_url(f"**/tickets/{code}")
    hoa.get_by_role("button", name="Nhận phiếu này").click()
    hoa.locator("#assignee", has_text="hoa").wait_for()
    hoa.fill("#resolve textarea[name=message]", RESOLUTION)
    hoa.get_by_role("button", name="Xử lý xong và nhắn khách").click()
    hoa.locator("#status", has_text="Đã xử lý").wait_for()

    # the customer read every step in the widget, in order: Lan's reply and picture under her name, the
    # transfer in the shop's voice (nothing of the note), then Hoa's resolution under hers
    resolved = f"Yêu cầu {code} của bạn đã được xử lý: {RESOLUTION}"
    widget.locator(".cskh-agent .cskh-text", has_text=resolved).wait_for(timeout=15_000)
    shows_picture(widget, ".cskh-agent .cskh-image", 240)
    lines = [
        (line["who"], line["text"]) for line in widget.evaluate("""() => Array.from(
            document.querySelectorAll(".cskh-msg"), (item) => ({
                who: item.querySelector(".cskh-who")?.textContent || item.className,
                text: item.querySelector(".cskh-text")?.textContent || "" }))""")
    ]  # fmt: skip
    after_lan = lines[lines.index(("cskh-msg cskh-bot", JOINED.format("Lan"))) + 1 :]
    assert after_lan == [
        ("Nhân viên Lan", CANNED_SENT),
        ("Nhân viên Lan", f"Gửi bạn ảnh {guide.name}"),
        ("cskh-msg cskh-bot", TRANSFER_LINE),
        ("cskh-msg cskh-bot", JOINED.format("Hoa")),
        ("Nhân viên Hoa", resolved),
    ]

    for page in (lan, hoa):  # off duty: the session stack's other tests count who is online
        page.locator("form[action='/logout'] button").click()
        page.wait_for_url("**/login*")
        page.context.close()
    widget.context.close()
    engine.dispose()


@pytest.mark.parametrize("platform", ["zalo", "messenger"])
def test_the_agents_canned_reply_and_picture_reach_zalo_and_messenger(channels_stack, browser, tmp_path, platform):
    settings = channels_stack.settings
    canned_reply(as_admin(settings.desk_url), "vo-hang")
    agent = log_in(browser, settings.desk_url, "admin", ADMIN_PASSWORD)
    photo = png((64, 48), "orange")
    guide = tmp_path / "huong-dan.png"
    guide.write_bytes(png((120, 90), "navy"))

    if platform == "zalo":
        zalo = ZaloStack(settings, channels_stack.workdir, channels_stack.zalo_api)
        customer = zalo.user()
        customer.say(f"cho mình gặp nhân viên về đơn {ORDER}")
        customer.hears("vị trí số")

        def send_photo() -> None:
            customer.send(media_event(customer.id, "image", {"url": zalo.api.host_file(photo, "vo.png")}))

        def heard(text: str) -> None:
            customer.hears(text)

        def pictures() -> list[bytes]:
            return [data for kind, data in zalo.api.media_to(customer.id) if kind == "image"]
    else:
        facebook = channels_stack.messenger_api
        person = Person(settings, facebook)
        person.says(f"cho mình gặp nhân viên về đơn {ORDER}", "vị trí số")

        def send_photo() -> None:
            person.send(attachment_event(person.psid, PAGE_ID, "image", url=facebook.host_file(photo, "vo.png")))

        def heard(text: str) -> None:
            facebook.wait_for(person.psid, lambda m: m["message"].get("text") == text)

        def pictures() -> list[bytes]:
            return [data for kind, data in facebook.attachments(person.psid) if kind == "image"]

    admin = as_admin(settings.desk_url)
    waiting = eventually(
        lambda: [r["id"] for r in admin.queue()["waiting"] if r["channel"] == platform and ORDER in r["summary"]],
        describe=admin.queue,
    )  # fmt: skip
    agent.locator(f"#waiting tr[data-id='{max(waiting)}']").get_by_role("button", name="Nhận").click(timeout=10_000)
    agent.wait_for_url(re.compile(r".*/handoffs/\d+$"))
    send_photo()
    shows_picture(agent, ".msg.customer .attachment-image img", 64)

    insert_canned(agent, "vo-hang")
    heard(f"CSKH: {CANNED_SENT}")
    send_picture(agent, guide)
    [sent] = eventually(pictures, timeout=20)
    assert Image.open(io.BytesIO(sent)).size == (120, 90)
    agent.context.close()
