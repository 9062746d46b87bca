"""The website widget on the scaled stack (2 Rasa replicas behind nginx), in Debian's chromium.

The customer's socket lives on one replica; an agent's reply may reach Rasa's HTTP API on the
other. Each reply here is sent through each replica's own port, so one of them is always the replica
that does not hold the socket, whichever nginx picked: it must still arrive, without a reconnect.
"""

import asyncio
import shutil
from pathlib import Path

import pytest

from bot.sandbox import (
    ADMIN_PASSWORD,
    DeskAgent,
    agent_reply_through,
    free_port,
    isolated_settings,
    replica_urls,
    widget_customer,
)
from bot.scaled import Scale, running_scaled_stack
from tests.test_scaled import start_redis

pytestmark = pytest.mark.slow  # starts the bot's servers or loads the trained model

AGENT = "Lan"


@pytest.fixture(scope="module")
def scaled_widget(trained_model: Path, postgres_url: str, tmp_path_factory):
    """The scaled stack on the test's own PostgreSQL database and redis-server."""
    if not shutil.which("redis-server") or not Path("/usr/sbin/nginx").exists():
        pytest.fail("redis-server and nginx are needed: run `make scale-deps`")
    workdir = tmp_path_factory.mktemp("scaled-widget")
    settings = isolated_settings(workdir)
    redis_port = free_port()
    redis = start_redis(redis_port, workdir)
    scale = Scale(postgres_url, f"redis://127.0.0.1:{redis_port}/0")
    try:
        with running_scaled_stack(settings, trained_model, scale, workdir / "run", workdir / "logs") as stack:
            yield settings, stack
    finally:
        redis.terminate()
        redis.wait()


def test_a_customer_on_the_polling_fallback_chats_through_nginx(scaled_widget) -> None:
    """Where websockets are blocked the widget long-polls: every request of the session must reach the
    replica that opened it (first in the module: the browser's event loop would stop ``asyncio.run``)."""
    settings, _ = scaled_widget

    async def chat() -> list[str]:
        async with widget_customer(settings.rasa_url) as customer:
            replies = []
            for text in ("phí ship về Hà Nội bao nhiêu vậy", "bao lâu thì nhận được hàng", "có trả góp không ạ"):
                await customer.say(text)
                replies.append(await customer.next_reply())
            return replies

    replies = asyncio.run(chat())
    assert "20.000đ" in replies[0]
    assert all(replies)


def test_an_agents_reply_through_either_replica_reaches_the_widget_without_a_reconnect(scaled_widget, browser):
    settings, stack = scaled_widget
    page = browser.new_page()
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket))
    page.goto(f"{settings.rasa_url}/webhooks/socketio/demo")  # through nginx, like a customer
    page.click(".cskh-launcher")
    page.locator(".cskh-bot").first.wait_for(timeout=15_000)

    agent = DeskAgent(settings.desk_url, "admin", ADMIN_PASSWORD)
    page.fill(".cskh-input", "cho mình gặp nhân viên về đơn DH654321")
    page.click(".cskh-send")
    page.locator(".cskh-bot .cskh-text", has_text="vị trí số").wait_for(timeout=15_000)
    row = agent.waiting_for("DH654321")
    agent.claim(row["id"])
    agent.post(row["id"], "reply", text="Chào bạn, mình là nhân viên CSKH đây")  # the desk, through nginx
    page.locator(".cskh-agent", has_text="Chào bạn, mình là nhân viên CSKH đây").wait_for(timeout=10_000)

    sender = "web:" + page.evaluate("localStorage.getItem('cskh_session_id')")
    replicas = replica_urls(stack)
    assert len(replicas) == 2
    for number, replica in enumerate(replicas, start=1):
        text = f"Tin nhắn số {number} của nhân viên, gửi qua máy chủ {number}"
        agent_reply_through(replica, settings.rasa_token, sender, text, AGENT)
        reply = page.locator(".cskh-agent", has_text=text)
        reply.wait_for(timeout=5_000)
        assert reply.locator(".cskh-who").text_content() == f"Nhân viên {AGENT}"

    assert len(sockets) == 1, "the widget reconnected"
    assert not sockets[0].is_closed()
    assert page.locator(".cskh-status").is_hidden()  # never showed "Mất kết nối"
    page.close()
