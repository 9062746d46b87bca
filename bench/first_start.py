"""``make bench-first-start``: a fresh clone's ``make run`` until the bot's first answer.

The checkout's committed HEAD is cloned into an empty folder and ``make run`` is started
there exactly as the README says (it creates the venv, installs from requirements.lock,
installs the widget, trains, starts the servers), on free loopback ports. The clock
stops at the first REST reply to "chào shop". Printed: the whole time, and when the
install finished and the model file appeared. Package caches (uv's, npm's) are this
machine's, as after any earlier install here; the model is trained cold (a clone has
no ``models/`` and no Rasa cache).
"""

import argparse
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import requests

from bot.paths import PROJECT_ROOT
from bot.sandbox import free_port
from bot.settings import inherited_environment

GREETING = "chào shop"


def first_answer(url: str, deadline: float) -> bool:
    """Whether the bot answered before ``deadline`` (a connection refused or an empty reply is "not yet")."""
    while time.monotonic() < deadline:
        try:
            reply = requests.post(url, json={"sender": "first-start", "message": GREETING}, timeout=10)
            if reply.ok and reply.json():
                return True
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.5)
    return False


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=900, help="seconds before giving up")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        clone = Path(folder) / "cskh-bot"
        subprocess.run(["git", "clone", "--quiet", str(PROJECT_ROOT), str(clone)], check=True)
        ports = {"RASA_PORT": free_port(), "ACTION_PORT": free_port(), "DESK_PORT": free_port()}
        env = inherited_environment({name: str(port) for name, port in ports.items()})
        log = (Path(folder) / "make-run.log").open("w")
        started, wall = time.monotonic(), time.time()
        run = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)  # fmt: skip
        try:
            url = f"http://127.0.0.1:{ports['RASA_PORT']}/webhooks/rest/webhook"
            answered = first_answer(url, started + args.timeout)
            total = time.monotonic() - started
        finally:
            os.killpg(run.pid, signal.SIGTERM)
            run.wait(timeout=60)
        if not answered:
            print(f"no answer within {args.timeout:.0f} s; the log was {log.name}")
            return
        installed = (clone / ".venv" / ".installed").stat().st_mtime - wall
        trained = min(p.stat().st_mtime for p in (clone / "models").glob("*.tar.gz")) - wall
        print(f"\nfresh clone, make run -> first answer: {total:.0f} s")
        print(f"  venv and packages installed at {installed:.0f} s, model trained at {trained:.0f} s (training and the")
        print(f"  widget's npm ci {trained - installed:.0f} s), servers answering {total - trained:.0f} s after that")


if __name__ == "__main__":
    main()
