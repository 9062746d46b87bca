"""Two desk processes behind nginx on PostgreSQL (the scaled stack, one Rasa replica to spare the machine):
agents on either see the same queue at once, an agent whose desk dies carries on on the other with
nothing lost, and a timer one desk started is finished by the other.
"""

import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from bot.desk.accounts import AccountStore
from bot.desk.queue import HandoffQueue
from bot.processes import Stack
from bot.sandbox import (
    ADMIN_PASSWORD,
    ALWAYS_OPEN_DESK,
    CSRF_FIELD,
    DeskAgent,
    LiveStream,
    RestCustomer,
    eventually,
    free_port,
    isolated_settings,
)  # fmt: skip
from bot.scaled import Scale, running_scaled_stack
from bot.schema import handoffs_table
from bot.settings import Settings

pytestmark = pytest.mark.slow  # starts the bot's servers or loads the trained model

HANDOFFS_MEASURED = 10


@dataclass(frozen=True)
class TwoDesks:
    settings: Settings
    stack: Stack
    instances: tuple[str, str]  # each desk process's own address
    console: str  # where agents go: nginx
    engine: sa.engine.Engine
    workdir: Path

    def revive(self, role: str) -> None:
        """Starts a desk that was killed (a restart by the operator or the supervisor)."""
        if self.stack.processes[role].poll() is not None:
            self.stack.start(role, self.stack.services[role])
            self.stack.wait_ready(role, 60)


@pytest.fixture(scope="module")
def desks(trained_model: Path, own_postgres_url: str, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("two-desks")
    settings = isolated_settings(workdir)
    database = own_postgres_url.rsplit("/", 1)[1]
    scale = Scale(f"postgresql://postgres@127.0.0.1:5432/{database}", "redis://127.0.0.1:6379/4", replicas=1)
    ports = (free_port(), free_port())
    with running_scaled_stack(
        settings, trained_model, scale, workdir / "run", workdir / "logs", desk_ports=ports
    ) as stack:
        engine = sa.create_engine(own_postgres_url, future=True)
        accounts = AccountStore(engine)
        for username, name in (("lan", "Lan"), ("minh", "Minh")):
            accounts.add_agent(username, f"{username}-password-123", name)
        yield TwoDesks(
            settings, stack, (f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"),
            f"http://127.0.0.1:{settings.desk_port}", engine, workdir,
        )  # fmt: skip
        engine.dispose()


@pytest.fixture
def both_up(desks: TwoDesks):
    """Both desks running at the start and the end of a test, whatever it killed."""
    for role in ("desk-1", "desk-2"):
        desks.revive(role)
    yield desks
    for role in ("desk-1", "desk-2"):
        desks.revive(role)


def login(url: str, username: str) -> DeskAgent:
    password = ADMIN_PASSWORD if username == "admin" else f"{username}-password-123"
    agent = DeskAgent(url, username, password)
    assert agent.status == 200 and agent.csrf
    return agent


def hand_off(desk_url: str, settings: Settings, summary: str) -> int:
    """What an action server sends when a customer asks for a person, straight to one desk instance."""
    request = {
        "channel": "rest", "sender_id": f"web:two-desks-{uuid.uuid4().hex[:10]}", "reason": "customer_request",
        "summary": summary, "slots": {}, "transcript": [], "contact_phone": "0912345678", "mood": None,
    }  # fmt: skip
    reply = requests.post(
        f"{desk_url}/api/handoffs", json=request, headers={"Authorization": f"Bearer {settings.desk_token}"}, timeout=10
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["handoff_id"]


def test_a_handoff_taken_by_one_desk_shows_on_the_others_agents_within_a_second(both_up: TwoDesks) -> None:
    desks = both_up
    on_first, on_second = login(desks.instances[0], "lan"), login(desks.instances[1], "minh")
    streams = [LiveStream(on_first), LiveStream(on_second)]
    time.sleep(0.5)
    delays = []
    try:
        for number in range(HANDOFFS_MEASURED):
            taker = number % 2  # the other desk's agent must see it
            sent = time.time()
            handoff_id = hand_off(desks.instances[taker], desks.settings, f"Khách số {number} hỏi đơn DH55{number:04d}")
            arrived = streams[1 - taker].wait_for(
                "queue", lambda data, wanted=handoff_id: data.get("handoff_id") == wanted, 5
            )
            delays.append(arrived - sent)
        watcher = (on_second, on_first)[taker]
        assert handoff_id in [row["id"] for row in watcher.queue()["waiting"]]
    finally:
        for stream in streams:
            stream.close()
        with desks.engine.begin() as connection:  # these customers do not exist: nobody waits for them
            connection.execute(
                handoffs_table.update().where(handoffs_table.c.status == "waiting").values(status="cancelled")
            )
    print(f"\nhand-off on one desk → the other's agent: median {statistics.median(delays) * 1000:.0f} ms, "
          f"max {max(delays) * 1000:.0f} ms over {len(delays)}")  # fmt: skip
    assert max(delays) < 1.0


def test_a_customer_asking_through_the_balancer_shows_to_agents_on_both_desks(both_up: TwoDesks) -> None:
    desks = both_up
    agents = [login(desks.instances[0], "lan"), login(desks.instances[1], "minh")]
    streams = [LiveStream(agent) for agent in agents]
    time.sleep(0.5)
    try:
        customer = RestCustomer(desks.settings.rasa_url, f"two-desks-{uuid.uuid4().hex[:10]}")
        queued = customer.says("cho mình gặp nhân viên, đơn DH246810")  # the action posts to nginx: either desk
        assert "vị trí số" in queued, queued
        answered = time.time()
        row = agents[0].waiting_for("DH246810")
        for stream in streams:
            assert stream.wait_for("queue", lambda data: data.get("handoff_id") == row["id"], 5) - answered < 1.0
        assert row["id"] in [r["id"] for r in agents[1].queue()["waiting"]]
    finally:
        for stream in streams:
            stream.close()


def test_an_agent_whose_desk_dies_carries_on_on_the_other_and_loses_nothing(both_up: TwoDesks) -> None:
    desks = both_up
    lan = login(desks.instances[0], "lan")
    customer = RestCustomer(desks.settings.rasa_url, f"two-desks-{uuid.uuid4().hex[:10]}")
    assert "vị trí số" in customer.says("cho mình gặp nhân viên, đơn DH135790")
    row = lan.waiting_for("DH135790")
    assert lan.claim(row["id"]).url.endswith(f"/handoffs/{row['id']}")
    customer.wait_for(lambda m: "tham gia" in m["text"])
    first_reply = "Chào bạn, mình là Lan, mình xem đơn DH135790 ngay nhé"
    assert lan.post(row["id"], "reply", text=first_reply).json() == {"ok": True}
    assert customer.wait_for(lambda m: m.get("agent") == "Lan")["text"] == first_reply

    desks.stack.kill("desk-1")  # the agent's desk dies mid-conversation

    lan.desk_url = desks.console  # the browser's next request and its stream go through nginx to desk 2
    assert row["id"] in [r["id"] for r in lan.queue()["mine"]]  # still logged in, still theirs
    stream = LiveStream(lan, row["id"])
    time.sleep(0.5)
    customer.say("mình đợi lâu rồi đó shop")  # Rasa's broker reaches desk 2 through nginx
    stream.wait_for_message("mình đợi lâu rồi đó shop", timeout=10)
    stream.close()
    second_reply = "Xin lỗi bạn, shop giao lại đúng hàng cho bạn ngày mai"
    assert lan.post(row["id"], "reply", text=second_reply).json() == {"ok": True}  # the page's CSRF token still works
    assert customer.wait_for(lambda m: m.get("text") == second_reply)["agent"] == "Lan"

    lines = [(m["role"], m["text"]) for m in lan.messages(row["id"])]
    for line in [("agent", first_reply), ("customer", "mình đợi lâu rồi đó shop"), ("agent", second_reply)]:
        assert lines.count(line) == 1, lines
    assert lan.post(row["id"], "close", resolution="Giao lại hàng đúng mẫu").json()["ok"]
    assert customer.wait_for(lambda m: bool(m.get("buttons")))  # the rating question reached the customer
    handoff = HandoffQueue(desks.engine).get(row["id"])
    assert (handoff.status, handoff.claimed_by) == ("closed", "lan")


def notices(customer: RestCustomer) -> list[str]:
    """Every "nobody accepted" notice the customer ever got."""
    customer.since = 0.0
    return [m["text"] for m in customer.inbox() if "đang bận" in m["text"]]


def test_a_handoff_opened_by_a_desk_that_died_expires_on_the_other_and_the_customer_hears_it_once(
    both_up: TwoDesks,
) -> None:
    desks = both_up
    desk_yml = desks.workdir / "desk.yml"
    desk_yml.write_text(ALWAYS_OPEN_DESK.replace("accept_timeout_minutes: 5", "accept_timeout_minutes: 0.1"))
    try:
        login(desks.console, "lan")  # someone is online, so the customer is queued
        desks.stack.kill("desk-2")  # only desk 1 can take the hand-off
        customer = RestCustomer(desks.settings.rasa_url, f"two-desks-{uuid.uuid4().hex[:10]}")
        assert "vị trí số" in customer.says("cho mình gặp nhân viên, đơn DH975310")
        handoff = HandoffQueue(desks.engine).open_for(f"web:{customer.sender}")
        assert handoff is not None and handoff.status == "waiting"
        desks.stack.kill("desk-1")  # before its accept timeout: desk 1 never expires it
        desks.revive("desk-2")  # a fresh process, nothing of desk 1 in memory
        notice = customer.wait_for(lambda m: "đang bận" in m["text"], timeout=60)
        assert "TK-" in notice["text"]
        desks.revive("desk-1")
        time.sleep(3)  # both desks sweep a few more times
        assert notices(customer) == [notice["text"]]
        with desks.engine.connect() as connection:
            resume = connection.execute(
                sa.select(handoffs_table.c.status, handoffs_table.c.resume_events).where(
                    handoffs_table.c.id == handoff.id
                )
            ).one()
        assert tuple(resume) == ("expired", None)

        # and with both desks running, a second customer's timer is still finished once
        other = RestCustomer(desks.settings.rasa_url, f"two-desks-{uuid.uuid4().hex[:10]}")
        assert "vị trí số" in other.says("cho mình gặp nhân viên, đơn DH864200")
        notice = other.wait_for(lambda m: "đang bận" in m["text"], timeout=30)
        time.sleep(3)
        assert notices(other) == [notice["text"]]
    finally:
        desk_yml.write_text(ALWAYS_OPEN_DESK)


def test_a_login_on_one_desk_is_a_login_on_the_other(both_up: TwoDesks) -> None:
    desks = both_up
    form = requests.Session()
    page = form.get(f"{desks.instances[0]}/login", timeout=10)  # the login page from desk 1 ...
    token = CSRF_FIELD.search(page.text).group(1)
    signed_in = form.post(
        f"{desks.instances[1]}/login", data={"username": "minh", "password": "minh-password-123", "csrf_token": token},
        timeout=30,
    )  # fmt: skip
    assert signed_in.url.endswith("/")  # ... submitted to desk 2
    assert form.get(f"{desks.instances[0]}/queue.json", timeout=10).status_code == 200
    eventually(lambda: form.get(f"{desks.console}/queue.json", timeout=10).status_code == 200)
