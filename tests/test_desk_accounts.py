"""Agent accounts and console sessions: real KDF, expiry, presence, first admin."""

import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bot.desk import accounts
from bot.desk.accounts import AccountStore, ensure_first_admin, hash_password, verify_password


@pytest.fixture
def store(tmp_path) -> AccountStore:
    return AccountStore(sa.create_engine(f"sqlite:///{tmp_path / 'desk.db'}", future=True))


def test_passwords_are_stored_as_salted_argon2id_hashes_at_owasp_parameters() -> None:
    first, second = hash_password("mat-khau-rat-dai"), hash_password("mat-khau-rat-dai")
    assert first.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and "mat-khau" not in first
    assert first != second  # salted
    assert verify_password("mat-khau-rat-dai", first)
    assert not verify_password("mat-khau-rat-dai!", first)
    assert not verify_password("anything", "not-a-hash")


def test_login_with_the_right_password_only(store) -> None:
    store.add_agent("lan", "mat-khau-cua-lan", "Lan")
    assert store.authenticate("lan", "mat-khau-cua-lan").display_name == "Lan"
    assert store.authenticate("lan", "sai-mat-khau") is None
    assert store.authenticate("khong-co", "mat-khau-cua-lan") is None
    with pytest.raises(ValueError):
        store.add_agent("minh", "ngan", "Minh")


def test_sessions_expire_when_idle_and_at_logout(store, monkeypatch) -> None:
    agent = store.add_agent("lan", "mat-khau-cua-lan", "Lan")
    cookie, session = store.start_session(agent)
    assert store.session(cookie).csrf_token == session.csrf_token
    assert store.session("forged-cookie") is None
    later = datetime.now(timezone.utc) + accounts.SESSION_IDLE + timedelta(minutes=1)
    monkeypatch.setattr(accounts, "_now", lambda: later)
    assert store.session(cookie) is None
    monkeypatch.undo()
    cookie, _ = store.start_session(agent)
    store.end_session(cookie)
    assert store.session(cookie) is None


def test_an_agent_counts_as_online_only_while_seen_recently(store, monkeypatch) -> None:
    agent = store.add_agent("lan", "mat-khau-cua-lan", "Lan")
    assert store.online_count() == 0
    store.start_session(agent)
    assert store.online_count() == 1
    later = datetime.now(timezone.utc) + accounts.ONLINE_WINDOW + timedelta(seconds=5)
    monkeypatch.setattr(accounts, "_now", lambda: later)
    assert store.online_count() == 0


def test_the_first_admin_gets_a_generated_secret_when_no_password_is_set(store, tmp_path) -> None:
    password_file = tmp_path / "var" / "admin_password.secret"
    password = ensure_first_admin(store, None, password_file)
    assert len(password) >= 12 and store.authenticate("admin", password).role == "admin"
    assert password_file.stat().st_mode & 0o077 == 0
    assert ensure_first_admin(store, None, password_file) == password  # not replaced on the next start


def test_desk_instances_starting_together_create_one_admin_with_the_kept_password(tmp_path) -> None:
    """The scaled stack starts two desks on a new database at once: neither fails, the file names the account."""
    password_file = tmp_path / "var" / "admin_password.secret"
    stores = [AccountStore(sa.create_engine(f"sqlite:///{tmp_path / 'desk.db'}", future=True)) for _ in range(4)]
    start = threading.Barrier(len(stores))
    answers: list[str | None] = []

    def start_desk(store: AccountStore) -> None:
        start.wait()
        answers.append(ensure_first_admin(store, None, password_file))

    threads = [threading.Thread(target=start_desk, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4 and len(set(answers)) == 1  # no start failed, all name the same password
    assert stores[0].authenticate("admin", password_file.read_text()).role == "admin"
    assert [path.name for path in password_file.parent.iterdir()] == ["admin_password.secret"]


def test_the_first_admin_takes_the_configured_password_and_writes_no_file(store, tmp_path) -> None:
    password_file = tmp_path / "admin_password.secret"
    assert ensure_first_admin(store, "configured-password-1", password_file) is None
    assert store.authenticate("admin", "configured-password-1").role == "admin"
    assert not password_file.exists()
