"""``python -m tests.stack_runner WORKDIR``: the stack of the project this file is in, until stdin closes.

Prints one JSON line: the stack's settings as environment variables, which point tools (cskh, the
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
        print(json.dumps(settings.to_environment()), flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
