"""``make bench-retrain``: how long an admin's FAQ change takes to go live, and what customers notice.

In a throw-away copy of the project with its own servers: add a 12-question
topic to the draft, run the retrain job (validate, train, evaluate, gate,
deploy) while a customer sends a message every 0.1 s, and print the time of
each stage and the latency and errors customers saw meanwhile.
"""

import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from bot.training import ensure_model
from tests.project_copy import copy_project, stack_of_copy
from tests.test_admin_retrain import GIFT_WRAP_ANSWER, GIFT_WRAP_QUESTIONS


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = copy_project(Path(folder) / "project", ensure_model())
        with stack_of_copy(root, Path(folder) / "stack") as env:
            url = f"http://127.0.0.1:{env['RASA_PORT']}/webhooks/rest/webhook"
            args = [a for q in GIFT_WRAP_QUESTIONS for a in ("--question", q)]
            subprocess.run([sys.executable, "-m", "bot.admin.cli", "faq", "add", "gift_wrap", *args, "--answer",
                            GIFT_WRAP_ANSWER], cwd=root, env=env, check=True, capture_output=True)  # fmt: skip
            latencies, errors, stop = [], [], threading.Event()

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
            job = subprocess.Popen([sys.executable, "-m", "bot.admin.retrain", "--json"], cwd=root, env=env,
                                   stdout=subprocess.PIPE, text=True)  # fmt: skip
            outcome = {}
            for line in job.stdout:
                if not line.startswith("{"):  # Rasa's own output, not the job's events
                    continue
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
