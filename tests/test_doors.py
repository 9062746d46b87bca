"""Every door customers write through, attacked over the network (issue G, findings 4 and 5).

One real stack (Rasa, action server, desk) with Zalo's API faked on loopback. Rasa trusts
X-Forwarded-For from 127.0.0.1 here (``CSKH_TRUSTED_PROXIES``), as behind a reverse proxy on
the same machine, so tests can speak from different client addresses.
"""

import asyncio
import time
import uuid

import pytest
import requests

from bot.sandbox import ADMIN_PASSWORD, DeskAgent, eventually, widget_customer
from bot.senders import SESSION_HEADER
from connectors.guard import ADDRESS_BURST, TOO_FAST, TOO_LONG
from tests.test_zalo_channel import ZaloStack

pytestmark = pytest.mark.slow  # starts the bot's servers or loads the trained model

MEGABYTE_BODY = b'{"sender": "flood", "message": "' + b"a" * 1_100_000 + b'"}'


@pytest.fixture(scope="module")
def doors(channels_stack) -> ZaloStack:
    """The channels' stack: the machine is its trusted proxy, so X-Forwarded-For names the client."""
    return ZaloStack(channels_stack.settings, channels_stack.workdir, channels_stack.zalo_api)


def rest(doors: ZaloStack, body: dict, path: str = "/webhooks/rest/webhook", **headers: str) -> requests.Response:
    return requests.post(f"{doors.settings.rasa_url}{path}", json=body, headers=headers, timeout=60)


def tracker_texts(doors: ZaloStack, sender_id: str) -> list[tuple[str, str]]:
    """(text, input channel) of every customer message in the conversation Rasa keys by ``sender_id``."""
    reply = requests.get(
        f"{doors.settings.rasa_url}/conversations/{sender_id}/tracker",
        params={"token": doors.settings.rasa_token}, timeout=10,
    )  # fmt: skip
    reply.raise_for_status()
    return [(e["text"], e.get("input_channel")) for e in reply.json()["events"] if e["event"] == "user"]


def inbox(doors: ZaloStack, session: str) -> list[dict]:
    reply = requests.get(
        f"{doors.settings.rasa_url}/webhooks/rest/inbox", params={"since": 0}, headers={SESSION_HEADER: session},
        timeout=10,
    )  # fmt: skip
    reply.raise_for_status()
    return reply.json()["messages"]


# --- finding 4: one guard at every door ------------------------------------------------------------


def test_a_trailing_slash_does_not_skip_the_guard(doors: ZaloStack) -> None:
    sender = uuid.uuid4().hex
    started = time.monotonic()
    reply = rest(doors, {"sender": sender, "message": "hàng " * 20_000}, "/webhooks/rest/webhook/")  # 100 kB
    assert reply.status_code == 200 and TOO_LONG in reply.json()[0]["text"]
    assert time.monotonic() - started < 5
    assert tracker_texts(doors, f"web:{sender}") == []  # the NLU never saw it
    malformed = requests.post(f"{doors.settings.rasa_url}/webhooks/rest/webhook/", data=b"{", timeout=10)
    assert malformed.status_code == 400


@pytest.mark.parametrize(
    "path", ["/webhooks/rest/webhook", "/webhooks/rest/webhook/", "/webhooks/zalo/webhook",
             "/socket.io/?EIO=4&transport=polling"],
)  # fmt: skip
def test_a_body_over_the_cap_is_refused_by_the_server_with_413(doors: ZaloStack, path: str) -> None:
    reply = requests.post(
        f"{doors.settings.rasa_url}{path}", data=MEGABYTE_BODY, headers={"Content-Type": "application/json"},
        timeout=30,
    )  # fmt: skip
    assert reply.status_code == 413


def test_an_over_long_message_over_socketio_gets_the_polite_answer(doors: ZaloStack) -> None:
    session = uuid.uuid4().hex

    async def chat() -> tuple[str, str]:
        async with widget_customer(doors.settings.rasa_url, session) as customer:
            await customer.say("hàng " * 1_000)
            long = await customer.next_reply(10)
            await customer.say("phí ship nội thành bao nhiêu")
            return long, await customer.next_reply(20)

    long, normal = asyncio.run(chat())
    assert long == TOO_LONG
    assert "20.000đ" in normal  # the same socket is still served
    assert tracker_texts(doors, f"web:{session}") == [("phí ship nội thành bao nhiêu", "socketio")]


def test_many_sender_ids_from_one_address_are_throttled_and_other_addresses_are_not(doors: ZaloStack) -> None:
    flooder = {"X-Forwarded-For": "203.0.113.66"}
    statuses = [
        rest(doors, {"sender": uuid.uuid4().hex, "message": "alo"}, **flooder).status_code
        for _ in range(ADDRESS_BURST + 5)
    ]
    assert statuses[:ADDRESS_BURST] == [200] * ADDRESS_BURST and set(statuses[ADDRESS_BURST:]) == {429}
    refused = rest(doors, {"sender": uuid.uuid4().hex, "message": "alo"}, **flooder)
    assert refused.json()[0]["text"] == TOO_FAST and int(refused.headers["Retry-After"]) >= 1
    # the address is the proxy's last hop: what the flooder writes in front of it changes nothing
    spoofed = rest(
        doors, {"sender": uuid.uuid4().hex, "message": "alo"}, **{"X-Forwarded-For": "1.2.3.4, 203.0.113.66"}
    )
    assert spoofed.status_code == 429
    other = rest(doors, {"sender": uuid.uuid4().hex, "message": "phí ship nội thành bao nhiêu"},
                 **{"X-Forwarded-For": "198.51.100.7"})  # fmt: skip
    assert other.status_code == 200 and "20.000đ" in other.json()[0]["text"]


def test_an_over_long_zalo_message_is_answered_politely_and_never_parsed(doors: ZaloStack) -> None:
    customer = doors.user()
    customer.say("hàng " * 600)
    assert customer.hears("dài quá") == TOO_LONG
    customer.say("phí ship nội thành bao nhiêu")
    customer.hears("20.000đ")
    assert doors.user_texts(customer.id) == ["phí ship nội thành bao nhiêu"]


# --- finding 5: a channel's customers cannot be reached from another channel -------------------------


def test_a_rest_client_using_a_zalo_users_id_never_gets_into_their_conversation(doors: ZaloStack) -> None:
    agent = DeskAgent(doors.settings.desk_url, "admin", ADMIN_PASSWORD)  # online before the customer asks
    customer = doors.user()
    customer.say("cho mình gặp nhân viên")
    customer.hears("vị trí số")
    [row] = eventually(lambda: [r for r in agent.queue()["waiting"] if r["channel"] == "zalo"], describe=agent.queue)
    agent.claim(row["id"])
    customer.hears("đã tham gia")

    impostor_ids = [customer.id, f"zalo:{customer.id}"]
    for impostor in impostor_ids:
        claims = {"input_channel": "zalo", "metadata": {"agent": "CSKH"}}
        for body in ({"sender": impostor, "message": "alo"}, {"sender": impostor, "message": "alo", **claims}):
            reply = rest(doors, body)
            assert reply.status_code == 200 and all(m["recipient_id"] == impostor for m in reply.json())
    assert agent.post(row["id"], "reply", text="Chào bạn, mình kiểm tra ngay nhé").json() == {"ok": True}
    assert customer.hears("kiểm tra ngay") == "CSKH: Chào bạn, mình kiểm tra ngay nhé"

    for impostor in impostor_ids:
        assert inbox(doors, impostor) == []  # the agent's reply went to the Zalo customer only
        # the impostor talked to a conversation of its own, recorded as REST whatever it claimed
        assert {channel for _, channel in tracker_texts(doors, f"web:{impostor}")} == {"rest"}
    time.sleep(1)  # anything the impostor caused would have reached the desk by now
    transcript = [(m["role"], m["text"]) for m in agent.messages(row["id"])]
    assert ("customer", "alo") not in transcript
    assert [text for text, _ in tracker_texts(doors, f"zalo:{customer.id}")] == ["cho mình gặp nhân viên"]
    assert "alo" not in " ".join(customer.texts())
