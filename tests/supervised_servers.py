"""``make run``'s supervisor, as its own process, over the desk (a real server that needs no model) and
a stand-in for a server that starts a process of its own, as the desk does for a retrain: a shell that
leaves a ``sleep`` running and becomes Python's http.server. Started again, the stand-in never gets
ready (it only sleeps). What tests/test_supervisor.py starts, kills and signals.

Its settings come from the environment the test gives it (``Settings.to_environment``), like any child
of the stack; the servers' logs go to ``<var dir>/logs``.
"""

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from bot.processes import Service, Stack, desk_service, running_services, supervise
from bot.settings import current_settings

BANNER = "supervising the desk and a server with a child"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--helper-port", type=int, required=True)
    parser.add_argument("--restart-timeout", type=float, required=True, help="how long a restart may take")
    args = parser.parse_args()
    settings = current_settings()
    started_once = settings.var_dir / "helper-started"
    helper = (
        f"if [ -e {started_once} ]; then exec sleep 600; fi; touch {started_once}; "
        f"sleep 600 & exec {sys.executable} -m http.server {args.helper_port} --bind 127.0.0.1"
    )
    services = {
        "desk": desk_service(settings),
        "helper": Service("helper", [], f"http://127.0.0.1:{args.helper_port}/", program=["sh", "-c", helper]),
    }

    @contextmanager
    def starting() -> Iterator[Stack]:
        # the first start may be slow on a busy machine; a restart that never gets ready is what a test waits out
        with running_services(settings, services, settings.var_dir / "logs", timeout=90) as stack:
            stack.ready_timeout = args.restart_timeout
            yield stack

    return supervise(starting(), lambda: BANNER)


if __name__ == "__main__":
    raise SystemExit(main())
