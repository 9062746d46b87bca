"""Retraining on the admins' draft: the quality gate stops a harmful edit; a good one goes live without downtime.

Runs in a copy of the project (tests/project_copy.py): retraining publishes
into data/ and models/, which must not be the checkout's.
"""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from bot.admin.faq import FaqFiles
from tests.conftest import ADMIN_PASSWORD
from tests.project_copy import copy_project, stack_of_copy

GIFT_WRAP_QUESTIONS = [
    "shop có gói quà không", "có dịch vụ gói quà tặng không ạ", "gói quà sinh nhật giúp mình được không",
    "mua làm quà thì shop có gói giúp không", "shop nhận gói quà kèm thiệp không", "phí gói quà bao nhiêu",
    "goi qua tang duoc ko shop", "co goi qua khong ad", "cho mình gói quà tặng mẹ nhé", "có giấy gói quà không",
    "gói quà đẹp được không shop", "shop có hộp quà không ạ",
]  # fmt: skip
GIFT_WRAP_ANSWER = "Có bạn nhé! Shop gói quà miễn phí kèm thiệp viết tay, bạn ghi lời nhắn ở phần ghi chú đơn hàng."


@pytest.fixture(scope="module")
def copy(trained_model: Path, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    root = copy_project(tmp_path_factory.mktemp("project"), trained_model)
    with stack_of_copy(root, tmp_path_factory.mktemp("copy-stack")) as env:
        yield root, env


def cskh(copy, *args: str) -> subprocess.CompletedProcess:
    root, env = copy
    return subprocess.run(
        [sys.executable, "-m", "bot.admin.cli", "--as", "admin-test", *args],
        cwd=root, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def retrain(copy) -> tuple[list[dict], dict]:
    root, env = copy
    result = subprocess.run(
        [sys.executable, "-m", "bot.admin.retrain", "--as", "admin-test", "--json"],
        cwd=root, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return [e for e in events if e["event"] == "progress"], events[-1]


def ask(copy, text: str) -> str:
    _, env = copy
    reply = requests.post(
        f"http://127.0.0.1:{env['RASA_PORT']}/webhooks/rest/webhook",
        json={"sender": f"retrain-{time.monotonic_ns()}", "message": text}, timeout=60,
    )  # fmt: skip
    reply.raise_for_status()
    return " ".join(m.get("text", "") for m in reply.json())


TAILS = (" nha shop", " vậy ạ")


def test_contradictory_examples_are_stopped_by_the_quality_gate(copy) -> None:
    root, _ = copy
    live = FaqFiles(root / "data" / "nlu" / "faq.yml", root / "data" / "shop" / "answers.yml")
    before = live.version()
    # paraphrases of every other topic's questions filed under "refund": valid one by one, harmful together
    # (two of each: with the uncovered class and the coverage guard, one paraphrase each moved the held-out
    # accuracy by about 2 points, right at the gate's margin)
    stolen = [f"{q}{tail}" for t in live.topics() if t.name != "refund" for q in t.examples for tail in TAILS]
    assert cskh(copy, "faq", "edit", "refund", *[a for q in stolen for a in ("--add-question", q)]).returncode == 0

    progress, outcome = retrain(copy)
    assert outcome["status"] == "rejected", outcome
    assert outcome["candidate_accuracy"] < outcome["live_accuracy"] - 0.02
    assert any(w["got"] == "faq/refund" for w in outcome["worse"])
    assert [p["percent"] for p in progress] == sorted(p["percent"] for p in progress)
    assert live.version() == before  # data/ untouched
    assert "20.000đ" in ask(copy, "phí ship về Hà Nội bao nhiêu")  # the live bot is unchanged
    assert cskh(copy, "faq", "discard").returncode == 0


def test_an_admin_adds_a_topic_in_the_browser_and_it_goes_live_without_a_failed_request(copy, browser) -> None:
    root, env = copy
    desk = f"http://127.0.0.1:{env['DESK_PORT']}"
    page = browser.new_page()
    page.goto(f"{desk}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{desk}/admin/faq/new")
    page.fill("input[name=name]", "gift_wrap")
    page.fill("textarea[name=questions]", "\n".join(GIFT_WRAP_QUESTIONS))
    page.fill("textarea[name=answer]", GIFT_WRAP_ANSWER)
    page.click("form[action='/admin/faq/new'] button[type=submit]")
    # saved either straight away or with warnings about how the live model files some questions
    page.locator("text=Đã lưu vào bản nháp").first.wait_for(timeout=30_000)
    page.goto(f"{desk}/admin/faq")

    failures, answered, stop = [], [], threading.Event()

    def keep_asking() -> None:  # customers keep chatting through the whole retrain and the swap
        while not stop.is_set():
            try:
                answered.append("20.000đ" in ask(copy, "phí ship nội thành bao nhiêu"))
            except requests.RequestException as error:
                failures.append(repr(error))
            time.sleep(0.2)

    customers = threading.Thread(target=keep_asking)
    customers.start()
    try:
        page.click("#retrain-start")
        page.locator("#retrain-progress progress").wait_for(timeout=10_000)
        page.locator("#retrain-outcome.notice").wait_for(timeout=900_000)
    finally:
        stop.set()
        customers.join()
    assert "Đã đưa mô hình mới vào sử dụng" in page.text_content("#retrain-outcome")
    assert failures == [] and answered and all(answered)
    assert "gói quà miễn phí" in ask(copy, "shop có gói quà tặng cho mẹ không")
    assert "gift_wrap" in (root / "data" / "shop" / "answers.yml").read_text(encoding="utf-8")
    page.reload()
    assert page.locator("text=đang dùng").count() == 1  # the release list shows the new model in use
    releases = cskh(copy, "releases")
    assert releases.returncode == 0 and "admin" in releases.stdout
    page.close()
