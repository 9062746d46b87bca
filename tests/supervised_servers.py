"""``make run``'s supervisor over the two servers that need no model (the action server and the desk)
and a stand-in for a server that starts a process of its own, as the desk does for a retrain (a shell
that leaves a ``sleep`` running and becomes Python's http.server): what tests/test_supervisor.py starts,
kills and signals, as its own process.

Its settings come from the environment the test gives it (``Settings.to_environment``), like any child
of the stack; the servers' logs go to ``<var dir>/logs``.
"""

import argparse
import sys

from bot.processes import Service, actions_service, desk_service, running_services, supervise
from bot.settings import current_settings

BANNER = "supervising the action server, the desk and a server with a child"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--helper-port", type=int, required=True)
    port = parser.parse_args().helper_port
    settings = current_settings()
    helper = f"sleep 600 & exec {sys.executable} -m http.server {port} --bind 127.0.0.1"
    services = {
        "actions": actions_service(settings),
        "desk": desk_service(settings),
        "helper": Service("helper", [], f"http://127.0.0.1:{port}/", program=["sh", "-c", helper]),
    }
    return supervise(running_services(settings, services, settings.var_dir / "logs", timeout=60), lambda: BANNER)


if __name__ == "__main__":
    raise SystemExit(main())
