"""The admin pages of the console over HTTP: role checks, FAQ editing into the draft, analytics, unanswered."""

import re

import pytest
import requests

from bot.admin import draft
from bot.sandbox import ADMIN_PASSWORD, CSRF_FIELD, DeskAgent

pytestmark = pytest.mark.slow  # starts the bot's servers or loads the trained model


@pytest.fixture(scope="module")
def admin(desk_stack) -> DeskAgent:
    settings, _, _ = desk_stack
    return DeskAgent(settings.desk_url, "admin", ADMIN_PASSWORD)


@pytest.fixture
def restore_draft(desk_stack):
    """Each test starts from the live FAQ: the desk's draft (in the stack's own var dir) is dropped after it."""
    yield
    draft.discard(desk_stack[0])


def test_agents_without_the_admin_role_cannot_open_admin_pages(desk_stack) -> None:
    settings, workdir, _ = desk_stack
    import sqlalchemy as sa

    from bot.desk.accounts import AccountStore

    accounts = AccountStore(sa.create_engine(f"sqlite:///{workdir / 'cskh.db'}", future=True))
    if accounts.agent("hoa") is None:
        accounts.add_agent("hoa", "hoa-password-123", "Hoa")
    hoa = DeskAgent(settings.desk_url, "hoa", "hoa-password-123")
    for path in ("/admin/faq", "/admin/analytics", "/admin/unanswered", "/admin/faq.csv"):
        assert hoa.http.get(f"{settings.desk_url}{path}", timeout=10).status_code == 403
    assert hoa.http.post(f"{settings.desk_url}/admin/retrain", headers={"X-CSRF-Token": hoa.csrf},
                         timeout=10).status_code == 403  # fmt: skip
    assert requests.get(f"{settings.desk_url}/admin/faq", timeout=10).url.endswith("/login")


def test_an_admin_edits_a_topic_and_a_bad_edit_is_explained(desk_stack, admin, restore_draft) -> None:
    settings, _, _ = desk_stack
    page = admin.http.get(f"{settings.desk_url}/admin/faq/shipping_fee", timeout=10)
    version = re.search(r'name="version" value="([^"]+)"', page.text).group(1)
    questions = re.search(r'<textarea name="questions"[^>]*>(.*?)</textarea>', page.text, re.S).group(1)
    form = {"csrf_token": CSRF_FIELD.search(page.text).group(1), "version": version,
            "answer": "Phí ship nội thành là {shipping.fee_inner_city} bạn nhé."}  # fmt: skip
    bad = admin.http.post(f"{settings.desk_url}/admin/faq/shipping_fee",
                          data={**form, "questions": questions + "\ncho gặp nhân viên"}, timeout=30)  # fmt: skip
    assert bad.status_code == 422 and "đã thuộc về “request_human”" in bad.text
    good = admin.http.post(
        f"{settings.desk_url}/admin/faq/shipping_fee",
        data={**form, "questions": questions + "\nphí ship đi Côn Đảo bao nhiêu"},
        timeout=30,
    )
    assert good.status_code == 200 and "Đã lưu vào bản nháp" in good.text
    saved_answer = draft.draft(settings).topic("shipping_fee").answer
    assert saved_answer == "Phí ship nội thành là {shipping.fee_inner_city} bạn nhé."
    stale = admin.http.post(
        f"{settings.desk_url}/admin/faq/shipping_fee", data={**form, "questions": questions}, timeout=30
    )  # the version it was based on is old
    assert stale.status_code == 422 and "đã được người khác thay đổi" in stale.text


def test_an_admin_creates_a_topic_from_the_new_topic_form(desk_stack, admin, restore_draft) -> None:
    settings, _, _ = desk_stack
    page = admin.http.get(f"{settings.desk_url}/admin/faq/new", timeout=10)
    assert 'action="/admin/faq/new"' in page.text
    form = {
        "csrf_token": CSRF_FIELD.search(page.text).group(1),
        "version": re.search(r'name="version" value="([^"]+)"', page.text).group(1),
        "name": "gift_wrap",
        "questions": "shop có gói quà không\ncó dịch vụ gói quà tặng không ạ\ngoi qua tang duoc ko shop",
        "answer": "Shop gói quà miễn phí kèm thiệp bạn nhé.",
    }
    saved = admin.http.post(f"{settings.desk_url}/admin/faq/new", data=form, timeout=30)
    assert saved.status_code == 200 and "Đã lưu vào bản nháp" in saved.text, saved.text[:300]
    assert draft.draft(settings).topic("gift_wrap").answer == "Shop gói quà miễn phí kèm thiệp bạn nhé."


def test_analytics_and_unanswered_pages_show_what_happened(desk_stack, admin) -> None:
    settings, _, _ = desk_stack
    # one message per customer: two misunderstood messages in a row would hand the customer over
    for number, text in enumerate(("phí ship về Hà Nội bao nhiêu", "xqzt vlorp kwyy", "xqzt vlorpp kwy")):
        requests.post(f"{settings.rasa_url}/webhooks/rest/webhook",
                      json={"sender": f"analytics-check-{number}", "message": text}, timeout=30)  # fmt: skip
    page = admin.http.get(f"{settings.desk_url}/admin/analytics", timeout=30)
    assert page.status_code == 200 and "shipping_fee" in page.text
    assert int(re.search(r'<dd id="conversations">(\d+)</dd>', page.text).group(1)) >= 1
    csv = admin.http.get(f"{settings.desk_url}/admin/analytics.csv", timeout=30)
    assert csv.content.startswith(b"\xef\xbb\xbfngay,hoi_thoai")
    unanswered = admin.http.get(f"{settings.desk_url}/admin/unanswered", timeout=30)
    assert "xqzt vlorp kwyy" in unanswered.text and "xqzt vlorpp kwy" in unanswered.text
