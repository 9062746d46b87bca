"""`rasa test` on the end-to-end test stories, with the real action server answering."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.paths import ENDPOINTS_FILE, PROJECT_ROOT
from bot.settings import Settings

pytestmark = pytest.mark.slow  # starts the bot's servers or loads the trained model

STORIES = PROJECT_ROOT / "tests" / "stories" / "test_stories.yml"


def test_every_test_story_is_predicted_as_written(bot_stack: Settings, trained_model: Path, tmp_path) -> None:
    env = {
        **os.environ,
        "ACTION_SERVER_URL": bot_stack.action_url,
        "DESK_URL": bot_stack.desk_url,
        "DESK_SERVICE_TOKEN": bot_stack.desk_token,
        "TRACKER_DB": str(tmp_path / "rasa_test_trackers.db"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    result = subprocess.run(
        [
            sys.executable, "-m", "rasa", "test", "core", "--model", str(trained_model),
            "--stories", str(STORIES), "--endpoints", str(ENDPOINTS_FILE), "--out", str(tmp_path / "results"),
            "--fail-on-prediction-errors", "--no-plot",
        ],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    failed = tmp_path / "results" / "failed_test_stories.yml"
    details = failed.read_text(encoding="utf-8") if failed.exists() else result.stdout[-4000:] + result.stderr[-4000:]
    assert result.returncode == 0, details
