"""``make bench-handoff``: how fast a customer's message reaches the agent, and back.

Starts the real stack (Rasa, action server, desk) on free loopback ports in a
temporary folder, logs an agent in, opens a handoff over REST and measures:
- customer → console: from sending on the REST webhook to the line arriving
  on the agent's live stream (SSE);
- agent → customer: from posting the reply in the console to the message
  being readable from the customer's REST inbox.
"""

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.sandbox import ADMIN_PASSWORD, DeskAgent, LiveStream, RestCustomer, stack_in
from bot.training import ensure_model
from connectors.guard import BURST, BURST_SECONDS

# the customer writes no faster than the guard lets one sender write (a faster one hears "slow down")
MESSAGE_SPACING = BURST_SECONDS / (BURST - 1)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"p50 {statistics.median(ordered) * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms   "
        f"max {ordered[-1] * 1000:6.1f} ms   (n={len(ordered)})"
    )


def _says(text: str) -> Callable[[dict[str, Any]], bool]:
    """Whether an inbox message is ``text``: one predicate per reply, bound to it (not to the loop variable)."""
    return lambda message: message["text"] == text


def measure(messages: int) -> None:
    with tempfile.TemporaryDirectory() as folder, stack_in(Path(folder), ensure_model()) as settings:
        agent = DeskAgent(settings.desk_url, "admin", ADMIN_PASSWORD)
        customer = RestCustomer(settings.rasa_url, f"bench-{uuid.uuid4().hex[:8]}")
        customer.say("cho mình gặp nhân viên về đơn DH123456")
        row = agent.waiting_for("DH123456")
        agent.claim(row["id"])
        customer.wait_for(lambda m: "tham gia" in m["text"])
        stream = LiveStream(agent, row["id"])
        time.sleep(0.5)
        to_agent, to_customer = [], []
        next_message = time.monotonic()
        for number in range(messages):
            time.sleep(max(0.0, next_message - time.monotonic()))
            next_message = time.monotonic() + MESSAGE_SPACING
            text = f"tin nhắn số {number} của khách"
            sent = time.time()
            customer.say(text)
            to_agent.append(stream.wait_for_message(text) - sent)
            reply = f"trả lời số {number}"
            sent = time.time()
            agent.post(row["id"], "reply", text=reply)
            customer.wait_for(_says(reply))
            to_customer.append(time.time() - sent)
        stream.close()
    print(f"customer message → agent console (SSE):  {percentiles(to_agent)}")
    print(f"agent reply → customer's REST inbox:      {percentiles(to_customer)}")
    print("(the inbox figure includes the client's 0.2 s polling interval)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=30)
    measure(parser.parse_args().messages)


if __name__ == "__main__":
    main()
