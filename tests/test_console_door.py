"""The console's door as an attacker tries it: lockouts, name probing, floods of names, live streams
after logout, and agents reading each other's conversations.

Runs the desk app in this process (tests/console_server.py): no Rasa, no trained model.
"""

import base64
import hashlib
import os
import statistics
import threading
import time
from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa

from bot.client_address import client_address
from bot.desk import console, throttle
from bot.desk.accounts import AccountStore, agents_table, sessions_table
from bot.desk.queue import NOTE, HandoffQueue
from bot.desk.throttle import LoginThrottle
from bot.sandbox import ADMIN_PASSWORD, CSRF_FIELD
from bot.settings import Settings
from tests.console_server import ConsoleServer, console_server

AGENTS = {"lan": "lan-password-123", "minh": "minh-password-123"}


@pytest.fixture(scope="module")
def door(tmp_path_factory) -> Iterator[ConsoleServer]:
    with console_server(tmp_path_factory.mktemp("console-door")) as server:
        accounts = AccountStore(server.engine)
        for username, password in AGENTS.items():
            accounts.add_agent(username, password, username.title())
        yield server


# --- login ----------------------------------------------------------------------------------------


def test_an_attacker_elsewhere_cannot_lock_the_admin_out(door) -> None:
    statuses = [door.login("admin", f"guess-{n}", address="203.0.113.7")[2] for n in range(10)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    # the attacker's own address stays locked for that name, even with the right password ...
    assert door.login("admin", ADMIN_PASSWORD, address="203.0.113.7")[2] == 429
    # ... but the admin, from their own address, logs in at once
    _, csrf, status = door.login("admin", ADMIN_PASSWORD, address="198.51.100.20")
    assert status == 200 and csrf


def test_one_address_trying_many_names_is_slowed_down(door) -> None:
    statuses = [door.login(f"nobody-{n}", "guess-password", address="203.0.113.50")[2] for n in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429
    assert door.login("lan", AGENTS["lan"], address="203.0.113.50")[2] == 429  # even a real account, from there
    assert door.login("lan", AGENTS["lan"], address="198.51.100.21")[2] == 200


def test_a_refused_login_says_how_long_to_wait(door) -> None:
    for n in range(5):
        door.login("minh", f"guess-{n}", address="203.0.113.60")
    http, _, _ = door.login("minh", "guess-5", address="203.0.113.60")
    page = http.get(f"{door.url}/login", timeout=10)
    assert page.status_code == 200  # the login page itself stays reachable
    reply = http.post(
        f"{door.url}/login", timeout=10,
        data={"username": "minh", "password": "x", "csrf_token": CSRF_FIELD.search(page.text).group(1)},
    )  # fmt: skip
    assert reply.status_code == 429 and "Bạn đợi khoảng 1 phút" in reply.text
    assert 0 < int(reply.headers["Retry-After"]) <= 30


def test_unknown_names_take_as_long_as_wrong_passwords(door) -> None:
    accounts = AccountStore(door.engine)
    known, unknown = [], []
    for n in range(20):  # interleaved, so load on the machine hits both alike
        started = time.perf_counter()
        assert accounts.authenticate("lan", f"wrong-{n}") is None
        known.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert accounts.authenticate(f"nobody-{n}", f"wrong-{n}") is None
        unknown.append(time.perf_counter() - started)
    known_ms, unknown_ms = statistics.median(known) * 1000, statistics.median(unknown) * 1000
    print(f"median login check over 20 tries: known name {known_ms:.1f} ms, unknown name {unknown_ms:.1f} ms")
    assert 0.75 < unknown_ms / known_ms < 1.33


def test_client_addresses_come_from_x_forwarded_for_only_behind_a_trusted_proxy() -> None:
    unset = {"RASA_AUTH_TOKEN": "t", "DESK_SERVICE_TOKEN": "t", "ACTION_SERVER_TOKEN": "t"}
    assert Settings.from_environment(unset).trusted_proxies == ()
    # no proxy configured: a client cannot pick the address it is counted under
    assert client_address("198.51.100.9", "203.0.113.1", ()) == "198.51.100.9"
    proxies = Settings.from_environment({**unset, "CSKH_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}).trusted_proxies
    assert client_address("198.51.100.9", "203.0.113.1", proxies) == "198.51.100.9"  # peer is no proxy
    # behind the proxy, the rightmost address no trusted proxy vouches for; what the client wrote is left of it
    assert client_address("127.0.0.1", "203.0.113.1, 198.51.100.4", proxies) == "198.51.100.4"
    assert client_address("127.0.0.1", "198.51.100.4, 10.1.2.3", proxies) == "198.51.100.4"
    assert client_address("127.0.0.1", "bogus, 10.1.2.3", proxies) == "10.1.2.3"
    assert client_address("127.0.0.1", None, proxies) == "127.0.0.1"


def test_failure_counts_stay_bounded_under_a_flood_of_names_and_addresses() -> None:
    counts = LoginThrottle()
    for n in range(100_000):
        address = f"2001:db8:{n:x}::1" if n % 2 else f"10.{n >> 16}.{n >> 8 & 255}.{n & 255}"
        counts.failed(f"name-{n}-" + "x" * 200, address)
    assert len(counts) <= 2 * throttle.CAPACITY
    # the latest attacker is still being counted: eviction takes the stalest first
    for _ in range(5):
        counts.failed("admin", "203.0.113.9")
    assert counts.wait("admin", "203.0.113.9") > 0


def test_delays_grow_with_each_failure_and_are_forgotten_after_an_hour() -> None:
    now = [1000.0]
    counts = LoginThrottle(clock=lambda: now[0])
    waits = []
    for _ in range(10):
        counts.failed("admin", "203.0.113.9")
        waits.append(round(counts.wait("admin", "203.0.113.9")))
        now[0] += waits[-1]  # the attacker waits exactly as long as told
    assert waits == [0, 0, 0, 0, 30, 60, 120, 240, 480, 900]
    assert counts.wait("admin", "198.51.100.1") == 0  # another address is never slowed by it
    now[0] += throttle.FORGET_AFTER
    assert counts.wait("admin", "203.0.113.9") == 0


def _scrypt_hash(password: str, n: int) -> str:
    """A hash as the console made them before Argon2id."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1, dklen=32)
    return f"scrypt${n}$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


@pytest.mark.parametrize(
    "old_hash",
    [
        _scrypt_hash("hoa-password-123", 2**14),
        "$argon2id$v=19$m=4096,t=1,p=1$YWFhYWFhYWFhYWFhYWFhYQ$" + "A" * 43,  # weaker: replaced below
    ],
    ids=["scrypt-2^14", "argon2id-4MiB"],
)
def test_old_password_hashes_are_upgraded_at_the_next_login(tmp_path, old_hash: str) -> None:
    from argon2 import PasswordHasher, Type

    if old_hash.startswith("$argon2id"):
        old_hash = PasswordHasher(time_cost=1, memory_cost=4096, parallelism=1, type=Type.ID).hash("hoa-password-123")
    accounts = AccountStore(sa.create_engine(f"sqlite:///{tmp_path / 'desk.db'}", future=True))
    accounts.add_agent("hoa", "placeholder-password", "Hoa")
    with accounts._engine.begin() as connection:
        connection.execute(agents_table.update().values(password_hash=old_hash))

    def stored() -> str:
        with accounts._engine.connect() as connection:
            return connection.execute(sa.select(agents_table.c.password_hash)).scalar_one()

    assert accounts.authenticate("hoa", "wrong-password-1") is None
    assert stored() == old_hash  # a wrong password changes nothing
    assert accounts.authenticate("hoa", "hoa-password-123").username == "hoa"
    assert stored().startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert accounts.authenticate("hoa", "hoa-password-123").username == "hoa"


# --- live streams ---------------------------------------------------------------------------------


class Stream:
    """Reads an SSE response in the background; ``ended`` is set when the server closes it."""

    def __init__(self, http: requests.Session, url: str) -> None:
        self.response = http.get(url, stream=True, timeout=30)
        self.lines: list[str] = []
        self.ended = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for raw in self.response.iter_lines(chunk_size=None):
                self.lines.append(raw.decode())
        except requests.RequestException:
            pass
        self.ended.set()


@pytest.fixture
def quick_streams(monkeypatch) -> None:
    """The server runs in this process: make its stream checks and heartbeats frequent."""
    monkeypatch.setattr(console, "SESSION_CHECK_SECONDS", 0.3)
    monkeypatch.setattr(console, "HEARTBEAT_SECONDS", 0.3)


def _last_seen(door: ConsoleServer, username: str):
    with door.engine.connect() as connection:
        return connection.execute(
            sa.select(agents_table.c.last_seen).where(agents_table.c.username == username)
        ).scalar_one()


def test_a_live_stream_ends_at_logout_and_stops_marking_the_agent_online(door, quick_streams) -> None:
    http, csrf, _ = door.login("lan", AGENTS["lan"], address="198.51.100.30")
    stream = Stream(http, f"{door.url}/stream")
    time.sleep(1)
    assert not stream.ended.is_set() and _last_seen(door, "lan") is not None
    http.post(f"{door.url}/logout", data={"csrf_token": csrf}, timeout=10)
    logged_out = time.monotonic()
    assert stream.ended.wait(5), "the stream went on after logout"
    print(f"stream ended {time.monotonic() - logged_out:.2f} s after logout")
    assert 'data: {"reason": "session"}' in stream.lines
    time.sleep(1)  # several heartbeats' worth
    assert _last_seen(door, "lan") is None


def test_a_live_stream_ends_when_its_session_expires(door, quick_streams) -> None:
    http, _, _ = door.login("lan", AGENTS["lan"], address="198.51.100.31")
    stream = Stream(http, f"{door.url}/stream")
    time.sleep(0.5)
    with door.engine.begin() as connection:  # as if the idle limit had passed
        connection.execute(sessions_table.update().values(expires_at=sa.func.datetime("now", "-1 minute")))
    assert stream.ended.wait(5), "the stream outlived its session"


# --- who sees which conversation ------------------------------------------------------------------


def _handoff(door: ConsoleServer, sender: str, claimed_by: str | None = None) -> int:
    queue = HandoffQueue(door.engine)
    handoff = queue.open(
        channel="rest", sender_id=sender, reason="customer_request", summary=f"Khách {sender} hỏi đơn DH123456",
        slots={"order_number": "DH123456"},
        transcript=[{"role": "customer", "text": "đơn của mình đâu", "sent_at": 1.0}],
    )  # fmt: skip
    if claimed_by:
        assert queue.claim(handoff.id, claimed_by)
        queue.add_message(handoff.id, NOTE, f"ghi chú riêng của {claimed_by} cho {sender}", 2.0, claimed_by)
    return handoff.id


def test_an_agent_cannot_read_stream_or_change_another_agents_conversation(door) -> None:
    lans = _handoff(door, "customer-of-lan", claimed_by="lan")
    waiting = _handoff(door, "customer-waiting")
    minh, minh_csrf, _ = door.login("minh", AGENTS["minh"], address="198.51.100.40")
    lan, _, _ = door.login("lan", AGENTS["lan"], address="198.51.100.41")
    admin, _, _ = door.login("admin", ADMIN_PASSWORD, address="198.51.100.42")
    secret = "ghi chú riêng của lan cho customer-of-lan"

    base = f"{door.url}/handoffs/{lans}"
    refused = [
        minh.get(base, timeout=10), minh.get(f"{base}/messages.json", timeout=10),
        minh.get(f"{base}/suggestions.json", timeout=10),
        minh.get(f"{door.url}/stream", params={"handoff": lans}, timeout=10),
        *(minh.post(f"{base}/{action}", json={"text": "x", "resolution": "x"}, headers={"X-CSRF-Token": minh_csrf},
                    timeout=10) for action in ("reply", "note", "handback", "close")),
    ]  # fmt: skip
    assert [r.status_code for r in refused] == [404] * 8
    assert not any(secret in r.text or "customer-of-lan" in r.text for r in refused)
    # what an agent may see: the waiting queue, and their own conversations
    assert minh.get(f"{door.url}/handoffs/{waiting}", timeout=10).status_code == 200
    assert secret in lan.get(base, timeout=10).text
    # admins see every conversation, notes included
    assert admin.get(base, timeout=10).status_code == 200
    assert secret in [m["text"] for m in admin.get(f"{base}/messages.json", timeout=10).json()]


def test_watching_a_waiting_conversation_stops_once_another_agent_claims_it(door, quick_streams) -> None:
    waiting = _handoff(door, "customer-claimed-later")
    minh, _, _ = door.login("minh", AGENTS["minh"], address="198.51.100.43")
    stream = Stream(minh, f"{door.url}/stream?handoff={waiting}")
    time.sleep(0.5)
    assert not stream.ended.is_set()
    assert HandoffQueue(door.engine).claim(waiting, "lan")
    assert stream.ended.wait(5), "the other agent kept watching lan's conversation"
    assert 'data: {"reason": "access"}' in stream.lines
