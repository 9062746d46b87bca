"""Issue G, finding 10: secrets readable from files and logs.

Zalo's OA tokens were stored in plain text, the admin password was printed into
the `make run` log and the scaled banner printed the PostgreSQL URL with its password.
"""

import logging
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import run, scaled
from bot.settings import Settings, settings_in_force
from connectors.zalo_client import Tokens, TokenStore, tokens_table

ACCESS, REFRESH = "ACCESS-7f3a9c2e51d84b06", "REFRESH-0b1e6d9f43a27c85"
NEW_ACCESS, NEW_REFRESH = "ACCESS-new-5c8e2a7d", "REFRESH-new-9d4b1f6e"
KEY = "a-long-random-secret-from-the-shops-vault"


def raw_rows(engine: sa.engine.Engine) -> str:
    """What someone holding a copy of the database file reads."""
    with engine.connect() as connection:
        return repr(connection.execute(sa.select(tokens_table)).all())


@pytest.fixture
def engine(tmp_path: Path) -> sa.engine.Engine:
    return sa.create_engine(f"sqlite:///{tmp_path / 'cskh.db'}", future=True)


def test_zalo_tokens_are_encrypted_in_the_database_and_still_work(engine) -> None:
    store = TokenStore(engine, "app-1", ACCESS, REFRESH, secret_key=KEY)
    assert store.load() == Tokens(ACCESS, REFRESH, None)
    assert ACCESS not in raw_rows(engine) and REFRESH not in raw_rows(engine)
    # the refresh cycle compares the stored token: it must still find the row
    assert store.claim_refresh(REFRESH, 30)
    assert store.save_refreshed(REFRESH, Tokens(NEW_ACCESS, NEW_REFRESH, 1e12))
    assert NEW_ACCESS not in raw_rows(engine) and NEW_REFRESH not in raw_rows(engine)
    # another replica with the same key reads the new pair and can refresh it in turn
    replica = TokenStore(engine, "app-1", ACCESS, REFRESH, secret_key=KEY)
    assert replica.load() == Tokens(NEW_ACCESS, NEW_REFRESH, 1e12)
    assert replica.claim_refresh(NEW_REFRESH, 30)
    assert not store.claim_refresh(REFRESH, 30)  # the spent token no longer matches


def test_a_plain_text_row_from_before_is_read_then_encrypted_by_the_next_refresh(engine) -> None:
    TokenStore(engine, "app-1", ACCESS, REFRESH, secret_key="").load()  # written without a key
    assert REFRESH in raw_rows(engine)
    store = TokenStore(engine, "app-1", ACCESS, REFRESH, secret_key=KEY)
    assert store.load() == Tokens(ACCESS, REFRESH, None)
    assert store.claim_refresh(REFRESH, 30)
    assert store.save_refreshed(REFRESH, Tokens(NEW_ACCESS, NEW_REFRESH, 1e12))
    assert NEW_REFRESH not in raw_rows(engine) and REFRESH not in raw_rows(engine)
    assert store.load() == Tokens(NEW_ACCESS, NEW_REFRESH, 1e12)


def test_a_wrong_key_reads_no_token_and_says_why(engine, caplog) -> None:
    TokenStore(engine, "app-1", ACCESS, REFRESH, secret_key=KEY).load()
    with caplog.at_level(logging.ERROR, logger="connectors.zalo_client"):
        assert TokenStore(engine, "app-1", ACCESS, REFRESH, secret_key="another key").load().access_token == ""
    assert "CSKH_SECRET_KEY" in caplog.text and ACCESS not in caplog.text


def test_the_key_comes_from_the_settings(engine, tmp_path) -> None:
    with settings_in_force(Settings.under(tmp_path, secret_key=KEY)):  # CSKH_SECRET_KEY, as the channel reads it
        TokenStore(engine, "app-1", ACCESS, REFRESH).load()
    assert ACCESS not in raw_rows(engine)


def test_make_run_prints_where_the_admin_password_is_not_the_password(tmp_path) -> None:
    settings = Settings.under(tmp_path, admin_password=None)
    shown = run._banner(settings, run._admin_login(settings), datetime.now(timezone.utc))
    password_file = tmp_path / "admin_password.secret"
    password = password_file.read_text().strip()
    assert password and password not in shown
    assert str(password_file) in shown


def test_the_scaled_banner_masks_the_database_password(tmp_path) -> None:
    settings = Settings.under(tmp_path)
    scale = scaled.Scale(
        "postgresql://cskh:Pg-pass-8d1f@db.internal:5432/cskh", "redis://:Redis-pass-3e9a@cache:6379/0"
    )
    shown = scaled.banner(settings, scale, tmp_path, [40001, 40002])
    assert "Pg-pass-8d1f" not in shown and "Redis-pass-3e9a" not in shown
    assert "postgresql://cskh:***@db.internal:5432/cskh" in shown and "redis://:***@cache:6379/0" in shown


def test_a_refused_refresh_under_encryption_leaves_the_next_try_free(engine) -> None:
    store = TokenStore(engine, "app-1", ACCESS, REFRESH, secret_key=KEY)
    store.load()
    assert store.claim_refresh(REFRESH, 30)
    assert store.adopt_initial(REFRESH) is None  # the environment holds the same pair: nothing newer
    store.release(REFRESH)
    assert store.claim_refresh(REFRESH, 30)
