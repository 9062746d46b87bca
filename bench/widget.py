"""``make bench-widget``: how fast an agent's reply shows in the website widget on the scaled stack.

Starts ``make run-scaled``'s stack (2 Rasa replicas behind nginx, on this machine's PostgreSQL and
Redis: BENCH_PG_URL, BENCH_REDIS_URL), opens the demo shop page in Debian's chromium on replica 1's
own port (so its socket is known to live there), hands the chat to an agent, then times each reply
from the moment it is sent to the moment its bubble is added to the page, by three paths in turn:
- through replica 2's own port (the replica without the socket: across Redis);
- through replica 1's own port (the socket's replica);
- from the agent's console (desk → nginx → either replica), what an agent actually does.
"""

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.handoff import percentiles
from bot.sandbox import ADMIN_PASSWORD, DeskAgent, agent_reply_through, isolated_settings, replica_urls
from bot.scaled import Scale, running_scaled_stack
from bot.settings import current_settings
from bot.training import ensure_model

CHROMIUM = "/usr/bin/chromium"  # Debian's, installed by `make setup`
AGENT = "Lan"
# when each agent bubble was added to the page, by its text (ms since the epoch, the page's clock)
WATCH_ARRIVALS = """() => {
  window.arrivals = {};
  new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) {
      if (node.nodeType !== 1 || !node.matches(".cskh-agent")) continue;
      window.arrivals[node.querySelector(".cskh-text").textContent] = Date.now();
    }
  }).observe(document.body, { childList: true, subtree: true });
}"""


def measure(replies: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    stores = current_settings()  # the bench's own stores, not those `make run-scaled` uses
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        workdir = Path(folder)
        settings = isolated_settings(workdir)
        scale = Scale(stores.bench_pg_url, stores.bench_redis_url)
        with running_scaled_stack(settings, ensure_model(), scale, workdir / "run", workdir / "logs") as stack:
            holder, other = replica_urls(stack)
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(f"{holder}/webhooks/socketio/demo")
            page.click(".cskh-launcher")
            page.locator(".cskh-bot").first.wait_for(timeout=30_000)
            agent = DeskAgent(settings.desk_url, "admin", ADMIN_PASSWORD)
            page.fill(".cskh-input", "cho mình gặp nhân viên về đơn DH123456")
            page.click(".cskh-send")
            row = agent.waiting_for("DH123456", timeout=30)
            agent.claim(row["id"])
            sender = "web:" + page.evaluate("localStorage.getItem('cskh_session_id')")
            page.evaluate(WATCH_ARRIVALS)
            paths: dict[str, Callable[[str], object]] = {
                "replica without the socket (across Redis)": lambda text: agent_reply_through(
                    other, settings.rasa_token, sender, text, AGENT
                ),
                "the socket's own replica": lambda text: agent_reply_through(
                    holder, settings.rasa_token, sender, text, AGENT
                ),
                "agent console (desk → nginx → either replica)": lambda text: agent.post(row["id"], "reply", text=text),
            }
            samples: dict[str, list[float]] = {path: [] for path in paths}
            for number in range(replies):
                for index, (path, send) in enumerate(paths.items()):
                    text = f"Trả lời số {number}.{index}"
                    sent = time.time()
                    send(text)
                    page.wait_for_function("(text) => window.arrivals[text]", arg=text, timeout=10_000)
                    samples[path].append(page.evaluate("(text) => window.arrivals[text]", text) / 1000 - sent)
                    time.sleep(0.2)
            browser.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=20, help="replies by each path")
    samples = measure(parser.parse_args().replies)
    print("agent reply sent → bubble in the widget (2 replicas; the socket on replica 1):")
    for path, seconds in samples.items():
        print(f"  {path:48} {percentiles(seconds)}")


if __name__ == "__main__":
    main()
