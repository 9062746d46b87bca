"""Agents' status and capacity at the console, in this process: an agent sets online/busy/away for
themselves and colleagues see it; an admin sets how many conversations each takes at once; a claim beyond
that is refused, even sent many times at once; only agents who may take a customer now are alerted to one,
and an away agent neither is alerted nor counts as a human online for the bot's call-back promise.

The desk's sanic app runs in the test process (tests/console_server.py); Rasa is the loopback stand-in of
tests/test_desk_console.py, and the bot's requests come in through the desk's service API as in production.
"""

import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from bot.admin.audit import AuditLog
from bot.desk.accounts import AccountStore
from bot.desk.queue import ACTIVE, WAITING, HandoffQueue
from bot.handoff_protocol import HANDOFF_QUEUED, NO_AGENT_ONLINE
from bot.sandbox import ADMIN_PASSWORD, DeskAgent, LiveStream
from tests.console_server import ConsoleServer, console_server
from tests.test_desk_console import RASA_TOKEN, FakeRasa

DESK_TOKEN = "desk-token-for-tests"


@pytest.fixture
def desk(tmp_path: Path):
    with FakeRasa() as rasa:
        port = int(rasa.url.rsplit(":", 1)[1])
        with console_server(tmp_path, rasa_port=port, rasa_token=RASA_TOKEN) as server:
            accounts = AccountStore(server.engine)
            for username, name in (("lan", "Lan"), ("minh", "Minh"), ("hoa", "Hoa")):
                accounts.add_agent(username, f"{username}-password-123", name)
            yield server


def login(server: ConsoleServer, username: str) -> DeskAgent:
    password = ADMIN_PASSWORD if username == "admin" else f"{username}-password-123"
    agent = DeskAgent(server.url, username, password)
    assert agent.status == 200 and agent.csrf
    return agent


def set_status(agent: DeskAgent, status: str, csrf: str | None = None) -> requests.Response:
    token = agent.csrf if csrf is None else csrf
    return agent.http.post(f"{agent.desk_url}/me/status", json={"status": status},
                           headers={"X-CSRF-Token": token}, timeout=10)  # fmt: skip


def roster(agent: DeskAgent) -> dict[str, str]:
    return {row["username"]: row["label"] for row in agent.http.get(f"{agent.desk_url}/agents.json", timeout=10).json()}


def hand_off(server: ConsoleServer, summary: str) -> dict:
    """What the action server sends when a customer asks for a person."""
    request = {
        "channel": "zalo", "sender_id": f"zalo:{uuid.uuid4().hex[:10]}", "reason": "customer_request",
        "summary": summary, "slots": {}, "transcript": [], "contact_phone": None, "mood": None,
    }  # fmt: skip
    reply = requests.post(
        f"{server.url}/api/handoffs", json=request, headers={"Authorization": f"Bearer {DESK_TOKEN}"}, timeout=10
    )
    assert reply.status_code == 200, reply.text
    return {**reply.json(), "sender_id": request["sender_id"]}


def customer_says(server: ConsoleServer, sender_id: str, text: str) -> None:
    event = {"event": "user", "sender_id": sender_id, "text": text, "timestamp": time.time()}
    reply = requests.post(
        f"{server.url}/api/events", json=[event], headers={"Authorization": f"Bearer {DESK_TOKEN}"}, timeout=10
    )
    assert reply.status_code == 200, reply.text


def set_capacity(admin: DeskAgent, username: str, capacity: str, csrf: str | None = None) -> requests.Response:
    return admin.http.post(
        f"{admin.desk_url}/admin/agents/{username}/capacity",
        data={"capacity": capacity, "csrf_token": admin.csrf if csrf is None else csrf}, timeout=10,
    )  # fmt: skip


def test_an_agent_sets_their_own_status_and_colleagues_see_it(desk) -> None:
    lan, minh = login(desk, "lan"), login(desk, "minh")
    assert roster(minh)["lan"] == "Sẵn sàng"
    assert set_status(lan, "busy").json() == {"status": "busy", "label": "Đang bận"}
    assert roster(minh)["lan"] == "Đang bận"
    assert 'value="busy" selected' in lan.http.get(f"{desk.url}/", timeout=10).text  # the header shows it

    # forged or malformed changes are refused and change nothing
    assert set_status(lan, "away", csrf="not-the-token").status_code == 403
    assert set_status(lan, "offline").status_code == 400
    assert set_status(lan, "<script>").status_code == 400
    anonymous = requests.post(f"{desk.url}/me/status", json={"status": "away"}, timeout=10)
    assert anonymous.status_code == 401
    assert requests.get(f"{desk.url}/agents.json", timeout=10).status_code == 401
    assert roster(minh)["lan"] == "Đang bận"

    # an agent changes nobody's status but their own: the session decides whose, not the request
    forged = minh.http.post(f"{desk.url}/me/status", json={"status": "away", "username": "lan"},
                            headers={"X-CSRF-Token": minh.csrf}, timeout=10)  # fmt: skip
    assert forged.status_code == 200 and roster(lan) == {"admin": "Ngoại tuyến", "hoa": "Ngoại tuyến",
                                                         "lan": "Đang bận", "minh": "Vắng mặt"}  # fmt: skip


def test_an_away_agent_does_not_count_as_a_human_online_for_the_customer(desk) -> None:
    lan = login(desk, "lan")
    accounts = AccountStore(desk.engine)
    assert accounts.online_count() == 1
    assert hand_off(desk, "Khách hỏi đơn DH100001")["status"] == HANDOFF_QUEUED
    set_status(lan, "busy")  # still at the desk, finishing their conversations
    assert accounts.online_count() == 1
    set_status(lan, "away")
    assert accounts.online_count() == 0
    # the only agent with an open console is away: the customer gets the call-back promise, not a queue
    answer = hand_off(desk, "Khách hỏi đơn DH100002")
    assert answer["status"] == NO_AGENT_ONLINE and answer["callback"]
    login(desk, "lan")  # logging in again says "I am here"
    assert accounts.online_count() == 1 and roster(lan)["lan"] == "Sẵn sàng"


def test_a_claim_beyond_the_agents_capacity_is_refused_politely(desk) -> None:
    admin, lan = login(desk, "admin"), login(desk, "lan")
    assert set_capacity(admin, "lan", "1").url.endswith("/admin/agents?notice=saved")
    first, second = hand_off(desk, "Khách thứ nhất"), hand_off(desk, "Khách thứ hai")
    lan = login(desk, "lan")  # any request reads the capacity anew; a fresh login is the plainest
    assert lan.claim(first["handoff_id"]).url.endswith(f"/handoffs/{first['handoff_id']}")

    refused = lan.claim(second["handoff_id"])
    assert refused.url.endswith("/?notice=full")
    assert "Bạn đã nhận đủ số cuộc trò chuyện tối đa cùng lúc" in refused.text
    assert HandoffQueue(desk.engine).get(second["handoff_id"]).status == WAITING  # still there for a colleague

    # once one conversation is closed, there is room again
    assert lan.post(first["handoff_id"], "close", resolution="Đã trả lời").json()["ok"]
    assert lan.claim(second["handoff_id"]).url.endswith(f"/handoffs/{second['handoff_id']}")


def test_claims_sent_all_at_once_never_pass_the_capacity(desk) -> None:
    admin, lan = login(desk, "admin"), login(desk, "lan")
    set_capacity(admin, "lan", "2")
    handoffs = [hand_off(desk, f"Khách số {n}")["handoff_id"] for n in range(6)]
    start = threading.Barrier(len(handoffs))

    def claim(handoff_id: int) -> None:
        start.wait()
        lan.claim(handoff_id)

    threads = [threading.Thread(target=claim, args=(handoff_id,)) for handoff_id in handoffs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    queue = HandoffQueue(desk.engine)
    assert [queue.get(h).status for h in handoffs].count(ACTIVE) == 2
    assert len(queue.active_for("lan")) == 2


def test_only_an_admin_sets_capacities_within_bounds(desk) -> None:
    admin, lan = login(desk, "admin"), login(desk, "lan")
    page = admin.http.get(f"{desk.url}/admin/agents", timeout=10)
    assert page.status_code == 200 and "Tối đa cùng lúc" in page.text and 'value="3"' in page.text

    assert set_capacity(lan, "lan", "20").status_code == 403  # an agent raising their own limit
    assert lan.http.get(f"{desk.url}/admin/agents", timeout=10).status_code == 403
    assert set_capacity(admin, "lan", "5", csrf="forged").status_code == 403
    for bad in ("0", "-1", "abc", "99999", "5; DROP TABLE agents", ""):
        refused = set_capacity(admin, "lan", bad)
        assert refused.status_code == 400 and "phải từ 1 đến 50" in refused.text
    assert set_capacity(admin, "nobody", "5").status_code == 404
    assert AccountStore(desk.engine).agent("lan").capacity == 3

    assert set_capacity(admin, "lan", "5").status_code == 200
    assert AccountStore(desk.engine).agent("lan").capacity == 5
    change = AuditLog(desk.engine).latest(1)[0]
    assert (change.actor, change.action, change.target, change.detail) == ("admin", "agent_capacity", "lan",
                                                                          {"capacity": 5})  # fmt: skip


def test_new_customers_alert_only_agents_who_may_take_them_and_own_customers_alert_unless_away(desk) -> None:
    admin = login(desk, "admin")
    lan, minh, hoa = login(desk, "lan"), login(desk, "minh"), login(desk, "hoa")
    set_status(minh, "away")
    set_capacity(admin, "hoa", "1")
    busy_customer = hand_off(desk, "Khách của Hoa")
    login(desk, "hoa").claim(busy_customer["handoff_id"])  # Hoa is now at her capacity
    streams = {name: LiveStream(agent) for name, agent in (("lan", lan), ("minh", minh), ("hoa", hoa))}
    try:
        time.sleep(0.3)
        new = hand_off(desk, "Khách mới hỏi đơn DH200001")
        wanted = new["handoff_id"]
        streams["lan"].wait_for("waiting", lambda data: data["handoff_id"] == wanted)
        for name in ("minh", "hoa"):  # everyone's queue changes, but only Lan is called to it
            streams[name].wait_for("queue", lambda data: data["handoff_id"] == wanted)
        time.sleep(0.3)
        assert [e for _, e, _ in streams["minh"].events + streams["hoa"].events if e == "waiting"] == []
        waiting = next(data for _, e, data in streams["lan"].events if e == "waiting")
        assert waiting == {"handoff_id": wanted, "channel": "zalo", "reason": "Khách yêu cầu gặp nhân viên"}

        # a customer writes in Hoa's conversation: Hoa hears it wherever her console is, nobody else does
        customer_says(desk, busy_customer["sender_id"], "shop ơi còn đó không")
        streams["hoa"].wait_for("customer_message", lambda data: data["handoff_id"] == busy_customer["handoff_id"])
        # ...unless she is away
        set_status(hoa, "away")
        customer_says(desk, busy_customer["sender_id"], "alo alo")
        streams["hoa"].wait_for("queue", lambda data: data["handoff_id"] == busy_customer["handoff_id"])
        time.sleep(0.3)
        said = [e for _, e, _ in streams["hoa"].events if e == "customer_message"]
        assert len(said) == 1
        assert [e for _, e, _ in streams["lan"].events if e == "customer_message"] == []
    finally:
        for stream in streams.values():
            stream.close()
