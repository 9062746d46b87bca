"""A throw-away copy of the project, for tests that change its data or models (retraining, releases).

The copy holds the project's files (as git sees them), the trained model and
the generated responses; its servers and tools are started with it as the
working directory, so they import and write the copy, never the checkout.
"""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.paths import GENERATED_RESPONSES, PROJECT_ROOT


def copy_project(destination: Path, model: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    for name in listed:
        source = PROJECT_ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    for generated in (GENERATED_RESPONSES, model):
        target = destination / generated.relative_to(PROJECT_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(generated, target)
    (destination / "widget" / "node_modules").symlink_to(PROJECT_ROOT / "widget" / "node_modules")
    return destination


@contextmanager
def stack_of_copy(root: Path, workdir: Path) -> Iterator[dict[str, str]]:
    """The copy's own servers; yields the environment that points its tools at them."""
    runner = subprocess.Popen(
        [sys.executable, "-m", "tests.stack_runner", str(workdir)],
        cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = runner.stdout.readline()
        if not line:
            raise RuntimeError(f"the copy's stack did not start; see {workdir / 'logs'}")
        yield {**os.environ, **json.loads(line)}
    finally:
        runner.stdin.close()
        runner.wait(timeout=60)
