"""Where the project's files live, so every process agrees on one layout."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
LEXICON_DIR = DATA_DIR / "lexicon"
SHOP_DIR = DATA_DIR / "shop"
GENERATED_RESPONSES = DATA_DIR / "responses" / "faq.yml"
MODELS_DIR = PROJECT_ROOT / "models"
# Secrets, databases and logs by default; ``Settings.var_dir`` (CSKH_VAR_DIR) moves them elsewhere.
VAR_DIR = PROJECT_ROOT / "var"
CONFIG_FILE = PROJECT_ROOT / "config.yml"
DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
ENDPOINTS_FILE = PROJECT_ROOT / "endpoints.yml"
CREDENTIALS_FILE = PROJECT_ROOT / "credentials.yml"
DESK_FILE = PROJECT_ROOT / "desk.yml"
NOTICES_FILE = PROJECT_ROOT / "notices.yml"  # order-update messages per status (bot/order_updates.py)
FACEBOOK_POSTS_FILE = PROJECT_ROOT / "facebook_posts.yml"  # the product each Facebook post sells
# Files the servers create: owner-only, so another local user cannot read tokens, customers' data or logs.
PRIVATE_UMASK = 0o077


def private_var_dir(var_dir: Path) -> Path:
    """``var_dir``, created 0700 (only the bot's own user may read it); an existing one (0755 before issue G)
    is tightened too."""
    var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    var_dir.chmod(0o700)
    return var_dir
