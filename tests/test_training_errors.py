"""A broken edit of the training data is reported in one clear line, never a traceback."""

import shutil
import subprocess
import sys

import pytest

from bot.paths import DATA_DIR, PROJECT_ROOT

BROKEN = 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n  - broken: [\n'


@pytest.mark.slow  # runs the training entry point in a child process (Rasa and TensorFlow load)
def test_make_train_names_the_broken_file_without_a_traceback(tmp_path) -> None:
    # a copy of the data: a broken file in the checkout's data/ would break every other training meanwhile
    data = shutil.copytree(DATA_DIR, tmp_path / "data", ignore=shutil.ignore_patterns("responses"))
    (data / "nlu" / "zz_broken_by_test.yml").write_text(BROKEN, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot.training", "--data", str(data), "--models", str(tmp_path / "models")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "Cannot train" in result.stderr and "zz_broken_by_test.yml" in result.stderr
    assert list((tmp_path / "models").glob("*.tar.gz")) == []  # no model for data that cannot be read
