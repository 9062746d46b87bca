"""``make bench-retrain``: how long an admin's FAQ change takes to go live, and what customers notice.

A shop of its own (a copy of data/, its own models and var dirs, its own servers): add a
12-question topic to the draft, run the retrain job as the console does (``python -m
bot.admin.retrain --json``: validate, train, evaluate, gate, deploy) while a customer sends a
message every 0.1 s, and print the time of each stage and the latency and errors customers saw
meanwhile.
"""

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from bot.admin import cli
from bot.paths import DATA_DIR, PROJECT_ROOT
from bot.sandbox import stack_in
from bot.settings import child_environment
from bot.training import ensure_model

# the topic an admin adds (tests/test_admin_retrain.py adds it through the console)
GIFT_WRAP_QUESTIONS = [
    "shop có gói quà không", "có dịch vụ gói quà tặng không ạ", "gói quà sinh nhật giúp mình được không",
    "mua làm quà thì shop có gói giúp không", "shop nhận gói quà kèm thiệp không", "phí gói quà bao nhiêu",
    "goi qua tang duoc ko shop", "co goi qua khong ad", "cho mình gói quà tặng mẹ nhé", "có giấy gói quà không",
    "gói quà đẹp được không shop", "shop có hộp quà không ạ",
]  # fmt: skip
GIFT_WRAP_ANSWER = "Có bạn nhé! Shop gói quà miễn phí kèm thiệp viết tay, bạn ghi lời nhắn ở phần ghi chú đơn hàng."


def main() -> None:
    model = ensure_model()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        shutil.copytree(DATA_DIR, folder / "data")
        (folder / "models").mkdir()
        (folder / "models" / model.name).symlink_to(model)
        with stack_in(folder / "var", model, data_dir=folder / "data", models_dir=folder / "models") as settings:
            url = f"{settings.rasa_url}/webhooks/rest/webhook"
            questions = [a for q in GIFT_WRAP_QUESTIONS for a in ("--question", q)]
            add = ["--as", "bench", "faq", "add", "gift_wrap", *questions, "--answer", GIFT_WRAP_ANSWER]
            if cli.main(add, settings) != 0:
                raise SystemExit("could not add the topic to the draft")
            latencies: list[float] = []
            errors: list[float] = []
            stop = threading.Event()

            def customer() -> None:
                while not stop.is_set():
                    started = time.perf_counter()
                    try:
                        # a new customer each time: one sender this fast would be rate-limited (connectors/guard.py)
                        body = {"sender": f"bench-{time.monotonic_ns()}", "message": "phí ship bao nhiêu"}
                        reply = requests.post(url, json=body, timeout=60)
                        (latencies if reply.ok and reply.json() else errors).append(time.perf_counter() - started)
                    except requests.RequestException:
                        errors.append(time.perf_counter() - started)
                    time.sleep(0.1)

            thread = threading.Thread(target=customer)
            thread.start()
            stages: dict[str, float] = {}
            started = time.monotonic()
            job = subprocess.Popen(
                [sys.executable, "-m", "bot.admin.retrain", "--json"], cwd=PROJECT_ROOT,
                env=child_environment(settings), stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            outcome = {}
            assert job.stdout is not None  # stdout=PIPE
            for line in job.stdout:
                event = json.loads(line)
                if event["event"] == "progress":
                    stages.setdefault(event["stage"], time.monotonic() - started)
                else:
                    outcome = event
            job.wait()
            stop.set()
            thread.join()
            answered = requests.post(url, json={"sender": "bench2", "message": "shop có gói quà không"}, timeout=60)
    print(f"outcome: {outcome.get('status')} — {outcome.get('message')}")
    marks = ", ".join(f"{stage} {seconds:.0f}" for stage, seconds in stages.items())
    print(f"total {outcome.get('seconds')} s; stage started at (s): {marks}")
    ordered = sorted(latencies)
    print(f"customer during retrain+swap: {len(latencies)} answered, {len(errors)} failed, "
          f"p50 {statistics.median(ordered) * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms")  # fmt: skip
    print(f"after: {answered.json()[0]['text'][:80]}")


if __name__ == "__main__":
    main()
