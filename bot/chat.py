"""``make shell``: chat with the running bot from a terminal over the REST channel.

Buttons are shown as a numbered list; typing the number sends that button's
payload, as a customer on a channel without buttons would. Messages that
arrive between the customer's own (an agent's reply, a queue update, the CSAT
question) are fetched from the REST inbox every second and printed too.
"""

import sys
import threading
import time
import uuid

import requests

from bot.senders import SESSION_HEADER
from bot.settings import current_settings

POLL_SECONDS = 1.0


class Conversation:
    """One customer's chat: sends messages, prints replies, remembers the latest buttons."""

    def __init__(self, rasa_url: str) -> None:
        self.webhook = f"{rasa_url}/webhooks/rest/webhook"
        self.inbox = f"{rasa_url}/webhooks/rest/inbox"
        self.sender = f"shell-{uuid.uuid4().hex}"  # the conversation's secret: whoever has it reads the inbox
        self.buttons: list[dict] = []
        self.seen_until = time.time()
        self._lock = threading.Lock()

    def send(self, text: str) -> None:
        with self._lock:
            if text.isdigit() and 0 < int(text) <= len(self.buttons):
                text = self.buttons[int(text) - 1]["payload"]
        response = requests.post(self.webhook, json={"sender": self.sender, "message": text}, timeout=30)
        response.raise_for_status()
        self.show(response.json())

    def show(self, replies: list[dict]) -> None:
        with self._lock:
            if replies:
                self.buttons = []
            for reply in replies:
                speaker = f"Nhân viên {reply['agent']}" if reply.get("agent") else "Bot"
                if "text" in reply:
                    print(f"{speaker}: {reply['text']}", flush=True)
                for button in reply.get("buttons", []):
                    self.buttons.append(button)
                    print(f"  {len(self.buttons)}. {button['title']}", flush=True)

    def poll_inbox(self, stop: threading.Event) -> None:
        while not stop.wait(POLL_SECONDS):
            try:
                reply = requests.get(
                    self.inbox, params={"since": self.seen_until}, headers={SESSION_HEADER: self.sender}, timeout=10
                )
                messages = reply.json().get("messages", []) if reply.ok else []
            except (requests.RequestException, ValueError):
                continue
            if messages:
                self.seen_until = max(m["timestamp"] for m in messages)
                self.show(messages)


def main() -> int:
    """Reads lines until EOF or "/stop"."""
    conversation = Conversation(current_settings().rasa_url)
    stop = threading.Event()
    threading.Thread(target=conversation.poll_inbox, args=(stop,), daemon=True).start()
    print("Nhập tin nhắn (gõ /stop hoặc Ctrl-D để thoát).")
    try:
        for line in sys.stdin if not sys.stdin.isatty() else iter(lambda: input("Bạn: "), None):
            text = line.strip()
            if text == "/stop":
                break
            try:
                conversation.send(text)
            except requests.RequestException as error:
                print(f"(Không kết nối được với bot tại {conversation.webhook}: {error}. Bạn đã chạy `make run` chưa?)")
                return 1
    finally:
        stop.set()
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except (EOFError, KeyboardInterrupt):
        print()
