"""One Settings object: only bot/settings.py reads the environment, and settings for a folder keep
every file the bot writes in that folder."""

import ast
import ipaddress
import os
from pathlib import Path

import pytest
import requests

from actions import services
from bot import run
from bot.database import project_engine
from bot.ownership import OwnershipLedger, ProofMethod
from bot.paths import PROJECT_ROOT, VAR_DIR
from bot.settings import KNOBS, Settings, child_environment, current_settings, settings_in_force
from tests.console_server import console_server

READERS = {"environ", "getenv", "environb", "getenvb"}


def environment_reads(path: Path) -> list[int]:
    """Lines of ``path`` that touch ``os.environ`` / ``os.getenv`` however they were imported."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in READERS:
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            lines += [node.lineno for alias in node.names if alias.name in READERS]
    return lines


def test_no_module_but_bot_settings_reads_the_environment() -> None:
    sources = [p for folder in ("bot", "actions", "connectors") for p in (PROJECT_ROOT / folder).rglob("*.py")]
    assert len(sources) > 50
    readers = {
        str(path.relative_to(PROJECT_ROOT)): lines
        for path in sources
        if path != PROJECT_ROOT / "bot" / "settings.py" and (lines := environment_reads(path))
    }
    assert readers == {}, f"read the environment through bot/settings.py instead: {readers}"


def test_the_scan_sees_every_way_of_reading_the_environment(tmp_path) -> None:
    source = tmp_path / "reader.py"
    for text in ('import os\nos.environ.get("X")', 'import os\nos.getenv("X")', "from os import environ",
                 'from os import getenv as g\ng("X")'):  # fmt: skip
        source.write_text(text)
        assert environment_reads(source), text


def test_settings_travel_to_a_child_process_unchanged(tmp_path) -> None:
    settings = Settings.under(
        tmp_path, host="0.0.0.0", admin_password="first-admin-password", secret_key="k" * 40,
        order_api_url="http://127.0.0.1:9/api", order_api_token="order-token", order_api_timeout=0.5,
        catalog_api_url="http://127.0.0.1:9/catalog", catalog_api_token="catalog-token", catalog_api_timeout=0.7,
        public_url="https://bot.shop.example", secure_cookies=True, widget_origins=("https://shop.example", "https://m.shop.example"),
        trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1")),
        action_balancer_url="http://127.0.0.1:7000/webhook", desk_tick_seconds=1.5, replicas=3,
        widget_redis_url="redis://127.0.0.1:6379/5",
        log_format="json", metrics_token="prometheus-token",
        desk_live_url="redis://127.0.0.1:6379/2",
    )  # fmt: skip
    assert set(settings.to_environment()) == KNOBS
    assert Settings.from_environment(settings.to_environment()) == settings


def test_the_metrics_token_is_generated_once_per_install_and_a_bad_log_format_is_refused(tmp_path) -> None:
    first, again = Settings.under(tmp_path), Settings.under(tmp_path)
    assert len(first.metrics_token) >= 32 and first.metrics_token == again.metrics_token
    assert first.metrics_token not in (first.rasa_token, first.desk_token, first.action_token)
    assert (tmp_path / "metrics_token.secret").stat().st_mode & 0o077 == 0
    with pytest.raises(ValueError, match="CSKH_LOG_FORMAT"):
        Settings.from_environment({"CSKH_VAR_DIR": str(tmp_path), "CSKH_LOG_FORMAT": "xml"})


def test_a_knob_set_in_the_parents_environment_does_not_leak_into_a_child(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ORDER_API_URL", "http://shop.example/api")  # the developer's own shell
    monkeypatch.setenv("CSKH_DATABASE_URL", "postgresql://elsewhere/cskh")
    env = child_environment(Settings.under(tmp_path))
    assert "ORDER_API_URL" not in env
    assert env["CSKH_DATABASE_URL"] == f"sqlite:///{tmp_path / 'cskh.db'}"
    assert env["PATH"] == os.environ["PATH"]  # what is no knob is inherited


def test_settings_in_force_are_what_the_actions_use_and_end_with_the_block(tmp_path) -> None:
    outer = current_settings()
    first, second = Settings.under(tmp_path / "one"), Settings.under(tmp_path / "two")
    with settings_in_force(first):
        code = services.ticket_store().create(channel="rest", sender_id="c1", issue_type="other", description="a").code
        with settings_in_force(second):
            assert services.desk_endpoint() == (second.desk_url, second.desk_token)
            assert services.ticket_store().get(code) is None  # the second folder's own database
        assert services.ticket_store().get(code)["description"] == "a"
    assert current_settings() is outer


def files_in(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()} if folder.exists() else set()


def test_settings_for_a_folder_keep_the_desk_the_project_db_and_the_actions_data_there(tmp_path) -> None:
    """Before issue I the var dir, the database and the desk's files came from module constants read from
    the environment at import: a test had to set variables and clear caches to keep out of the repo's var/."""
    before = files_in(VAR_DIR)
    var_dir = tmp_path / "var"
    settings = Settings.under(var_dir, admin_password=None)
    with console_server(tmp_path / "desk") as desk:  # the desk app in this process, on isolated settings
        assert requests.get(f"{desk.url}/login", timeout=10).status_code == 200
    assert (tmp_path / "desk" / "cskh.db").exists()  # its accounts and sessions
    with settings_in_force(settings):
        services.ownership_ledger().attempt("web:c1", "DH123456", True, ProofMethod.FULL_PHONE)
        services.ticket_store().create(channel="rest", sender_id="c1", issue_type="other", description="x")
        assert services.order_backend().get("DH123456") is not None  # the demo shop, seeded in var_dir
    assert "admin_password.secret" in run._admin_login(settings)  # make run's first admin, generated
    assert {path.name for path in files_in(var_dir)} >= {"cskh.db", "demo_shop.db", "admin_password.secret"}
    assert OwnershipLedger(project_engine(settings)).proven("web:c1", "DH123456", full_phone=True)
    assert files_in(VAR_DIR) == before, "nothing may be written into the repo's var/"
