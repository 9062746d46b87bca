"""Where the project's files live, so every process agrees on one layout."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
LEXICON_DIR = DATA_DIR / "lexicon"
SHOP_DIR = DATA_DIR / "shop"
GENERATED_RESPONSES = DATA_DIR / "responses" / "faq.yml"
MODELS_DIR = PROJECT_ROOT / "models"
# Secrets, databases and logs: only the bot's own user may read them (``private_var_dir``).
VAR_DIR = Path(os.environ.get("CSKH_VAR_DIR") or PROJECT_ROOT / "var")
CONFIG_FILE = PROJECT_ROOT / "config.yml"
DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
ENDPOINTS_FILE = PROJECT_ROOT / "endpoints.yml"
CREDENTIALS_FILE = PROJECT_ROOT / "credentials.yml"
# Files the servers create: owner-only, so another local user cannot read tokens, customers' data or logs.
PRIVATE_UMASK = 0o077


def private_var_dir() -> Path:
    """``VAR_DIR``, created 0700; an existing one (0755 before issue G) is tightened too."""
    VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    VAR_DIR.chmod(0o700)
    return VAR_DIR
