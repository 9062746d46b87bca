"""A broken edit of the training data is reported in one clear line, never a traceback."""

import subprocess
import sys

import pytest

from bot.paths import DATA_DIR, PROJECT_ROOT

BROKEN = 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n  - broken: [\n'


@pytest.fixture
def broken_data_file():
    path = DATA_DIR / "nlu" / "zz_broken_by_test.yml"
    path.write_text(BROKEN, encoding="utf-8")
    yield path
    path.unlink()


@pytest.mark.slow  # runs the training entry point in a child process (Rasa and TensorFlow load)
def test_make_train_names_the_broken_file_without_a_traceback(broken_data_file) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.training"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "Cannot train" in result.stderr and "zz_broken_by_test.yml" in result.stderr
