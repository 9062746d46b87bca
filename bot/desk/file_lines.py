"""The transcript line of an agent's picture or PDF, as the console shows it.

The desk stores such a line as its caption led by the file's kind and id (bot/handoff_protocol.py
``FILE_LINE``); the page gets the caption as ``text`` and the file as ``file`` (kind, and the staff-only URL
of bot/desk/attachment_files.py), only on agents' lines: a customer cannot make the console show a file.
"""

import re
from typing import Any

from bot.desk.queue import AGENT

FILE_LINE = re.compile(r"^\[(ảnh|tệp):([0-9a-f]{32})\] ")


def with_file(line: dict[str, Any]) -> dict[str, Any]:
    """``line`` with the file it carried split off its text, or as it is."""
    found = FILE_LINE.match(line["text"]) if line["role"] == AGENT else None
    if found is None:
        return line
    kind = "image" if found.group(1) == "ảnh" else "file"
    url = f"/attachments/{found.group(2)}"
    return {**line, "text": line["text"][found.end() :], "file": {"url": url, "kind": kind}}
