"""What non-technical staff read instead of internal ids: topic titles and shop-fact chips.

Runs the desk app in this process (tests/console_server.py) on a copy of the data folder, so renaming a
topic here never touches the project's files.
"""

import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore

from bot.admin import draft
from bot.admin.analytics import SHOP_TIMEZONE
from bot.admin.audit import AuditLog
from bot.desk.queue import HandoffQueue
from bot.paths import DATA_DIR
from bot.sandbox import ADMIN_PASSWORD, CSRF_FIELD
from bot.topic_titles import answer_pieces, fact_chips, save_title, topic_titles
from bot.training import fingerprint
from tests.console_server import ConsoleServer, console_server
from tests.test_admin_analytics import action_event, user_event


def _data_copy(folder: Path) -> Path:
    shutil.copytree(DATA_DIR, folder, ignore=shutil.ignore_patterns("eval"))
    return folder


def _seed_trackers(tracker_db: Path) -> None:
    """Today's questions as Rasa's tracker store keeps them: two on shipping, one on refunds, one not understood."""
    trackers = sa.create_engine(f"sqlite:///{tracker_db}", future=True)
    SQLTrackerStore.Base.metadata.create_all(trackers)
    now = datetime.now(SHOP_TIMEZONE) - timedelta(minutes=5)
    rows = [
        user_event("a", now, "faq", "phí ship bao nhiêu", "shipping_fee"),
        user_event("b", now, "faq", "ship ra Huế nhiêu", "shipping_fee"),
        user_event("c", now, "faq", "hoàn tiền bao lâu", "refund"),
        user_event("d", now, "nlu_fallback", "có gói quà ko"),
        action_event("d", now, "action_fallback_help"),
    ]
    with trackers.begin() as connection:
        connection.execute(SQLTrackerStore.SQLEvent.__table__.insert(), rows)
    trackers.dispose()


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> tuple[ConsoleServer, Path]:
    data_dir = _data_copy(tmp_path_factory.mktemp("staff-view") / "data")
    workdir = tmp_path_factory.mktemp("staff-view-desk")
    _seed_trackers(workdir / "trackers.db")
    with console_server(workdir, data_dir=data_dir, tracker_db=str(workdir / "trackers.db")) as server:
        yield server, data_dir


@pytest.fixture(scope="module")
def admin(desk) -> requests.Session:
    http, _, status = desk[0].login("admin", ADMIN_PASSWORD)
    assert status == 200
    return http


def test_every_faq_topic_has_a_vietnamese_title() -> None:
    titles = topic_titles(DATA_DIR)
    for topic in draft.live().topics():
        assert titles.get(topic.name, topic.name) != topic.name, f"{topic.name} has no title in data/staff/titles.yml"


def test_renaming_a_topic_does_not_retrain_the_bot(tmp_path) -> None:
    data_dir = _data_copy(tmp_path / "data")
    before = fingerprint(data_dir)
    save_title(data_dir, "shipping_fee", "Phí ship")
    assert topic_titles(data_dir)["shipping_fee"] == "Phí ship"
    assert fingerprint(data_dir) == before
    # the file keeps the header that says why it exists
    assert (data_dir / "staff" / "titles.yml").read_text(encoding="utf-8").startswith("# The names staff see")


def test_a_placeholder_is_a_chip_with_the_facts_current_value() -> None:
    chips = fact_chips("Phí {shipping.fee_inner_city}, gọi {shop.hotline} hoặc {shipping.no_such_fact}.", DATA_DIR)
    assert [c.text for c in chips] == ["Phí nội thành: 20.000đ", "Hotline: 1900 6868", "chưa có giá trị"]
    pieces = answer_pieces("Phí {shipping.fee_inner_city} nhé", DATA_DIR)
    assert pieces[0] == "Phí " and pieces[1].placeholder == "shipping.fee_inner_city" and pieces[2] == " nhé"


def test_the_faq_list_shows_titles_and_chips_with_the_id_kept_small(desk, admin) -> None:
    server, _ = desk
    page = admin.get(f"{server.url}/admin/faq", timeout=10)
    row = re.search(r'<tr><td class="topic">.*?</tr>', page.text, re.S).group(0)
    assert '<a href="/admin/faq/shipping_fee">Phí giao hàng</a>' in row
    assert '<small class="topic-id">shipping_fee</small>' in row
    assert 'title="{shipping.fee_inner_city}: 20.000đ"' in row and ">Phí nội thành: 20.000đ</span>" in row
    assert "{shipping.fee_inner_city}</" not in row  # staff never read the raw placeholder


def test_an_admin_renames_a_topic_at_once_while_the_answer_keeps_its_placeholders(desk, admin) -> None:
    server, data_dir = desk
    page = admin.get(f"{server.url}/admin/faq/shipping_fee", timeout=10)
    assert 'name="title" value="Phí giao hàng"' in page.text
    assert ">Phí nội thành: 20.000đ</span>" in page.text  # the chip under the answer box
    answer = re.search(r'<textarea name="answer"[^>]*>(.*?)</textarea>', page.text, re.S).group(1)
    assert "{shipping.fee_inner_city}" in answer  # what is edited and stored is the placeholder
    form = {
        "csrf_token": CSRF_FIELD.search(page.text).group(1),
        "version": re.search(r'name="version" value="([^"]+)"', page.text).group(1),
        "title": "Phí vận chuyển",
        "questions": re.search(r'<textarea name="questions"[^>]*>(.*?)</textarea>', page.text, re.S).group(1),
        "answer": "Phí ship nội thành là {shipping.fee_inner_city} bạn nhé.",
    }
    saved = admin.post(f"{server.url}/admin/faq/shipping_fee", data=form, timeout=30)
    assert saved.status_code == 200 and "Phí vận chuyển" in admin.get(f"{server.url}/admin/faq", timeout=10).text
    assert topic_titles(data_dir)["shipping_fee"] == "Phí vận chuyển"  # live at once: no draft, no retrain
    assert draft.draft().topic("shipping_fee").answer == "Phí ship nội thành là {shipping.fee_inner_city} bạn nhé."
    latest = AuditLog(server.engine).latest(5)
    assert any(e.action == "faq_title" and e.target == "shipping_fee" for e in latest)


def test_analytics_and_unanswered_pages_name_topics_by_title(desk, admin) -> None:
    server, data_dir = desk
    analytics = admin.get(f"{server.url}/admin/analytics", timeout=30).text
    chart = analytics[analytics.index("Chủ đề được hỏi nhiều nhất") :]
    assert f">{topic_titles(data_dir)['shipping_fee']}</text>" in chart and ">Hoàn tiền</text>" in chart
    assert "<title>refund</title>" in chart  # the id stays on hover, for whoever reads the logs
    unanswered = admin.get(f"{server.url}/admin/unanswered", timeout=30).text
    assert "có gói quà ko" in unanswered and '<option value="refund">Hoàn tiền</option>' in unanswered


# --- in Chromium: where the transcript opens, and layouts at a laptop's and a tablet's width ------------------

WIDTHS = {"laptop": (1280, 800), "tablet": (768, 1024)}


def _rated_handoffs(engine: sa.engine.Engine) -> int:
    """Two closed conversations rated 4 and 5, so the CSAT card reads "4.50 / 5 (2 đánh giá)"; and a waiting
    customer with a long transcript (returned: its id)."""
    queue = HandoffQueue(engine)
    now = datetime.now(timezone.utc) - timedelta(minutes=30)
    table = sa.table("handoffs", sa.column("id"), sa.column("created_at"), sa.column("claimed_at"),
                     sa.column("first_reply_at"), sa.column("closed_at"), sa.column("status"), sa.column("csat"),
                     sa.column("claimed_by"))  # fmt: skip
    for sender, score in (("a", 4), ("b", 5)):
        rated = queue.open(channel="web", sender_id=sender, reason="customer_request", summary="", slots={},
                           transcript=[])  # fmt: skip
        with engine.begin() as connection:
            connection.execute(table.update().where(table.c.id == rated.id).values(
                created_at=now, claimed_at=now + timedelta(minutes=1), first_reply_at=now + timedelta(minutes=2),
                closed_at=now + timedelta(minutes=9), status="closed", csat=score, claimed_by="admin",
            ))  # fmt: skip
    said = [{"role": "customer" if n % 2 == 0 else "bot", "text": f"Tin nhắn số {n}: đơn DH{100000 + n} ạ",
             "sent_at": now.timestamp() + n} for n in range(40)]  # fmt: skip
    return queue.open(channel="web", sender_id="web:long", reason="customer_request", summary="Khách hỏi nhiều",
                      slots={}, transcript=said).id  # fmt: skip


@pytest.fixture(scope="module")
def long_conversation(desk) -> int:
    return _rated_handoffs(desk[0].engine)


def _logged_in_page(browser, url: str, width: int, height: int):
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return page


@pytest.mark.slow
def test_the_transcript_opens_at_the_newest_message(desk, browser, long_conversation) -> None:
    server, _ = desk
    page = _logged_in_page(browser, server.url, *WIDTHS["laptop"])
    page.goto(f"{server.url}/handoffs/{long_conversation}")
    newest = page.locator("#messages .msg", has_text="Tin nhắn số 39:")
    newest.wait_for()
    scroll = page.evaluate("(() => { const l = document.getElementById('messages');"
                           " return [l.scrollTop, l.scrollHeight, l.clientHeight]; })()")  # fmt: skip
    top, height, visible = scroll
    assert height > visible * 2  # the transcript is much longer than its box
    assert top + visible >= height - 2, scroll
    box, shown = page.locator("#messages").bounding_box(), newest.bounding_box()
    assert box["y"] <= shown["y"] and shown["y"] + shown["height"] <= box["y"] + box["height"] + 1
    page.context.close()


@pytest.mark.slow
@pytest.mark.parametrize("device", WIDTHS)
def test_pages_hold_at_a_laptops_and_a_tablets_width(desk, browser, long_conversation, device, tmp_path) -> None:
    server, _ = desk
    width, height = WIDTHS[device]
    page = _logged_in_page(browser, server.url, width, height)
    for name, path in (("analytics", "/admin/analytics"), ("faq", "/admin/faq"), ("topic", "/admin/faq/refund"),
                       ("queue", "/"), ("conversation", f"/handoffs/{long_conversation}")):  # fmt: skip
        page.goto(f"{server.url}{path}")
        page.wait_for_load_state("load")
        page.screenshot(path=tmp_path / f"{name}-{width}.png", full_page=True)
        overflow = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert overflow[0] <= overflow[1], f"{name} scrolls sideways at {width} px: {overflow}"
    page.goto(f"{server.url}/admin/analytics")
    assert "4.50 / 5" in page.text_content("#csat") and "2 đánh giá" in page.text_content("#csat")
    cards = page.evaluate("""[...document.querySelectorAll('.figures dt, .figures dd')].map(e => [
        e.textContent.trim(), e.getBoundingClientRect().height, parseFloat(getComputedStyle(e).lineHeight)])""")
    assert len(cards) == 16
    for text, box_height, line in cards:
        assert box_height < line * 1.5, f"“{text}” wraps onto {box_height / line:.1f} lines at {width} px"
    page.context.close()
