"""``make shell``: chat with the running bot from a terminal over the REST channel.

Buttons are shown as a numbered list; typing the number sends that button's
payload, as a customer on a channel without buttons would.
"""

import sys
import uuid

import requests

from bot.settings import load_settings


def send(url: str, sender: str, text: str) -> list[dict]:
    """Sends one message and returns the bot's replies."""
    response = requests.post(url, json={"sender": sender, "message": text}, timeout=30)
    response.raise_for_status()
    return response.json()


def main() -> int:
    """Reads lines until EOF or "/stop"."""
    url = f"{load_settings().rasa_url}/webhooks/rest/webhook"
    sender = f"shell-{uuid.uuid4().hex[:8]}"
    buttons: list[dict] = []
    print("Nhập tin nhắn (gõ /stop hoặc Ctrl-D để thoát).")
    for line in sys.stdin if not sys.stdin.isatty() else iter(lambda: input("Bạn: "), None):
        text = line.strip()
        if text == "/stop":
            break
        if text.isdigit() and 0 < int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        try:
            replies = send(url, sender, text)
        except requests.RequestException as error:
            print(f"(Không kết nối được với bot tại {url}: {error}. Bạn đã chạy `make run` chưa?)")
            return 1
        buttons = []
        for reply in replies:
            if "text" in reply:
                print(f"Bot: {reply['text']}")
            for button in reply.get("buttons", []):
                buttons.append(button)
                print(f"  {len(buttons)}. {button['title']}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except (EOFError, KeyboardInterrupt):
        print()
