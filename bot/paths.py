"""Where the project's files live, so every process agrees on one layout."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
LEXICON_DIR = DATA_DIR / "lexicon"
SHOP_DIR = DATA_DIR / "shop"
GENERATED_RESPONSES = DATA_DIR / "responses" / "faq.yml"
MODELS_DIR = PROJECT_ROOT / "models"
VAR_DIR = PROJECT_ROOT / "var"
CONFIG_FILE = PROJECT_ROOT / "config.yml"
DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
ENDPOINTS_FILE = PROJECT_ROOT / "endpoints.yml"
CREDENTIALS_FILE = PROJECT_ROOT / "credentials.yml"
