"""Retraining on the admins' draft: the quality gate stops a harmful edit; a good one goes live without downtime.

The stack's settings point the data dir, the models dir, the pipeline config and the var dir (draft,
releases) at a temporary folder: retraining publishes there, and the checkout's data/ and models/ are
never written. These tests are about the retrain (gate, progress, release, swap under traffic); the
quality of the real model is measured in test_nlu_accuracy.py.
"""

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bench.retrain import GIFT_WRAP_ANSWER, GIFT_WRAP_QUESTIONS
from bot.admin import cli, retrain
from bot.admin.faq import FaqFiles
from bot.paths import CONFIG_FILE, DATA_DIR
from bot.sandbox import ADMIN_PASSWORD, stack_in
from bot.settings import Settings
from bot.training import ensure_model, fingerprint

pytestmark = pytest.mark.slow  # starts the bot's servers, trains and loads models


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Iterator[Settings]:
    """The servers of a shop whose data, models and pipeline config are copies in a temporary folder."""
    folder = tmp_path_factory.mktemp("retrain")
    shutil.copytree(DATA_DIR, folder / "data")
    shutil.copy(CONFIG_FILE, folder / "config.yml")
    live = ensure_model(folder / "data", folder / "models", folder / "config.yml")
    with stack_in(
        folder / "var", live, data_dir=folder / "data", models_dir=folder / "models", model_config=folder / "config.yml"
    ) as settings:
        yield settings


def cskh(settings: Settings, *args: str) -> int:
    return cli.main(["--as", "admin-test", *args], settings)


def live_faq(data_dir: Path) -> FaqFiles:
    return FaqFiles(data_dir / "nlu" / "faq.yml", data_dir / "shop" / "answers.yml")


def ask(settings: Settings, text: str) -> str:
    reply = requests.post(
        f"{settings.rasa_url}/webhooks/rest/webhook",
        json={"sender": f"retrain-{time.monotonic_ns()}", "message": text}, timeout=60,
    )  # fmt: skip
    reply.raise_for_status()
    return " ".join(m.get("text", "") for m in reply.json())


TAILS = (" nha shop", " vậy ạ")


def test_contradictory_examples_are_stopped_by_the_quality_gate(shop: Settings) -> None:
    live, checkout = live_faq(shop.data_dir), live_faq(DATA_DIR)
    before, checkout_before = live.version(), checkout.version()
    # every topic's questions, reworded, filed under the next topic too: valid one by one, harmful together
    # (measured: 91.9% -> 79.3%; stealing into one topic moved the linear selector by 1.5 points only, its
    # balanced class weights dilute one swollen topic)
    topics = live.topics()
    for topic, successor in zip(topics, topics[1:] + topics[:1], strict=True):
        stolen = [f"{q}{tail}" for q in topic.examples for tail in TAILS]
        assert cskh(shop, "faq", "edit", successor.name, *[a for q in stolen for a in ("--add-question", q)]) == 0
    progress: list[retrain.Progress] = []
    outcome = retrain.retrain("admin-test", progress.append, shop)
    assert outcome.status == "rejected", outcome
    assert outcome.candidate_accuracy < outcome.live_accuracy - 0.02
    assert any(w["got"].startswith("faq/") and w["got"] != w["expected"] for w in outcome.worse)
    percents = [p.percent for p in progress]
    assert percents == sorted(percents)
    assert len({p.percent for p in progress if p.stage == "train"}) >= 5  # the bar moves as each part is trained
    assert live.version() == before  # the shop's data untouched
    assert checkout.version() == checkout_before  # and the checkout's
    assert "20.000đ" in ask(shop, "phí ship về Hà Nội bao nhiêu")  # the live bot is unchanged
    assert cskh(shop, "faq", "discard") == 0


def test_an_admin_adds_a_topic_in_the_browser_and_it_goes_live_without_a_failed_request(
    shop: Settings, browser, capsys
) -> None:
    desk = shop.desk_url
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
                answered.append("20.000đ" in ask(shop, "phí ship nội thành bao nhiêu"))
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
    assert "gói quà miễn phí" in ask(shop, "shop có gói quà tặng cho mẹ không")
    assert "gift_wrap" in (shop.data_dir / "shop" / "answers.yml").read_text(encoding="utf-8")
    assert "gift_wrap" not in (DATA_DIR / "shop" / "answers.yml").read_text(encoding="utf-8")  # the checkout's
    # filed under the name `make run` looks for with the published data: no training at the next start
    served = shop.models_dir / f"cskh-{fingerprint(shop.data_dir, shop.model_config)}.tar.gz"
    assert retrain.load_releases(shop)[-1]["model"] == str(served) and served.exists()
    page.reload()
    assert page.locator("text=đang dùng").count() == 1  # the release list shows the new model in use
    capsys.readouterr()
    assert cskh(shop, "releases") == 0 and "admin" in capsys.readouterr().out
    page.close()
