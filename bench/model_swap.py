"""``make bench-swap``: a new model going live on the scaled stack, and what customers notice meanwhile.

``make run-scaled`` on this machine's PostgreSQL and Redis (2 Rasa replicas behind nginx); customers
ask through nginx every 0.05 s while the retrain's deploy step (bot/admin/retrain.py ``_go_live``, the
step after the quality gate) makes every replica serve another model. Printed: the time from the gate
to every replica reporting the new model in ``/status``, and the customers' latencies during the swap.
"""

import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import requests

from bot.admin.retrain import _go_live
from bot.sandbox import isolated_settings
from bot.scaled import Scale, running_scaled_stack
from bot.settings import Settings, current_settings
from bot.training import ensure_model


def main() -> None:
    model = ensure_model()
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        settings = isolated_settings(workdir)
        stores = current_settings()  # BENCH_PG_URL, BENCH_REDIS_URL: not the stores `make run-scaled` uses
        scale = Scale(stores.bench_pg_url, stores.bench_redis_url)
        with running_scaled_stack(settings, model, scale, workdir / "run", workdir / "logs") as stack:
            replicas = Settings.from_environment(stack.env)  # the stack's own: every replica's API
            new = workdir / f"{model.name.removesuffix('.tar.gz')}-next.tar.gz"  # the same weights, another file
            shutil.copyfile(model, new)
            latencies: list[float] = []
            failures = 0
            stop = threading.Event()

            def customer() -> None:
                nonlocal failures
                while not stop.is_set():
                    started = time.perf_counter()
                    body = {"sender": f"swap-{time.monotonic_ns()}", "message": "phí ship bao nhiêu"}
                    try:
                        reply = requests.post(f"{settings.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
                        if reply.ok and reply.json():
                            latencies.append(time.perf_counter() - started)
                        else:
                            failures += 1
                    except requests.RequestException:
                        failures += 1
                    time.sleep(0.05)

            customers = [threading.Thread(target=customer) for _ in range(2)]
            for thread in customers:
                thread.start()
            time.sleep(2)
            started = time.monotonic()
            _go_live(new, model, replicas)
            live_after = time.monotonic() - started
            stop.set()
            for thread in customers:
                thread.join()
    ordered = sorted(latencies)
    print(f"gate passed → {len(replicas.model_server_urls)} replicas serving the new model: {live_after:.1f} s")
    print(f"customers during the swap: {len(ordered)} answered, {failures} failed, "
          f"p50 {statistics.median(ordered) * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
