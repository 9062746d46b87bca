"""The action server and the desk run no Rasa model, so they start without TensorFlow (bot/serve.py)."""

import subprocess
import sys

from bot.paths import PROJECT_ROOT

# What `python -m bot.serve actions|desk` loads before serving: every action, the console app, spaCy's rules.
LOAD_BOTH_APPS = """
import sys
from bot.serve import without_tensorflow
without_tensorflow()
from rasa_sdk.executor import ActionExecutor
ActionExecutor().register_package("actions")
import bot.console_app
from bot.text.entities import EntityFinder
assert EntityFinder().find("đơn DH123456, sđt 0912345678")
assert "spacy" in sys.modules and sys.modules["tensorflow"] is None
# this process's own peak (getrusage would count the parent it was forked from)
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(int(peak.split()[1]) // 1024)
"""


def test_the_action_server_and_the_desk_load_every_module_without_tensorflow() -> None:
    """A module that needs TensorFlow in these processes fails here, not at a customer's first message;
    without it both apps together stay far below the ~350 MB TensorFlow alone added to each."""
    loaded = subprocess.run([sys.executable, "-c", LOAD_BOTH_APPS], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert int(loaded.stdout.split()[-1]) < 400  # MB, both apps in one process
