"""``python -m tests.stack_runner WORKDIR``: the stack of the project this file is in, until stdin closes.

Prints one JSON line: the environment variables that point tools (cskh, the
retrain job, the REST client) at the running servers and their database.
"""

import json
import sys
from pathlib import Path

from bot.training import ensure_model
from tests.conftest import processes_in


def main() -> None:
    workdir = Path(sys.argv[1])
    with processes_in(workdir, ensure_model()) as (settings, _):
        print(json.dumps({
            "RASA_PORT": str(settings.rasa_port), "RASA_AUTH_TOKEN": settings.rasa_token,
            "DESK_PORT": str(settings.desk_port), "DESK_SERVICE_TOKEN": settings.desk_token,
            "CSKH_DATABASE_URL": f"sqlite:///{workdir / 'cskh.db'}",
        }), flush=True)  # fmt: skip
        sys.stdin.read()


if __name__ == "__main__":
    main()
