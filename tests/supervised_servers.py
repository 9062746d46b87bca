"""``make run``'s supervisor over the two servers that need no model (the action server and the desk),
as its own process: what tests/test_supervisor.py starts, kills and signals.

Its settings come from the environment the test gives it (``Settings.to_environment``), like any child
of the stack; the servers' logs go to ``<var dir>/logs``.
"""

from bot.processes import actions_service, desk_service, running_services, supervise
from bot.settings import current_settings

BANNER = "supervising the action server and the desk"


def main() -> int:
    settings = current_settings()
    services = {"actions": actions_service(settings), "desk": desk_service(settings)}
    return supervise(running_services(settings, services, settings.var_dir / "logs", timeout=60), lambda: BANNER)


if __name__ == "__main__":
    raise SystemExit(main())
