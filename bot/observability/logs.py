"""Logging for every server process: one handler, the level and format from the settings, nothing personal.

``LOG_LEVEL`` sets the level and ``CSKH_LOG_FORMAT=json`` makes each record one JSON object per
line (for a log collector). Whatever a library writes passes ``bot.privacy.redact`` on its way
out, so a phone number, an e-mail or a token in a message is masked even where the code that
logged it forgot. Sanic's own access logger writes an empty message per request with the fields
as extras; it is switched off and ``access_line`` writes a readable one instead (bot/observability/web.py).
"""

import json
import logging
import sys
import time
from typing import Any

from bot.privacy import mask_address, redact

ACCESS_LOGGER = "cskh.access"
# what sanic's logging config gives handlers of their own when an app is created with configure_logging
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access", "sanic.server")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if key not in _STANDARD}


class RedactingTextFormatter(logging.Formatter):
    """``time level logger: message``, masked."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingJsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the record's extras, the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


def configure_logging(level: str, log_format: str) -> None:
    """The root logger's one handler (stderr) at ``level``; whatever was installed before is replaced
    (Rasa's coloured handler, ``basicConfig``, sanic's), so a line is written once and always masked.
    Called again after a library that configures logging itself (Rasa's sanic app) created its app."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingJsonFormatter() if log_format == "json" else RedactingTextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in SANIC_LOGGERS:  # sanic's own handlers write unmasked (a failing request's whole URL): through root
        sanic_logger = logging.getLogger(name)
        for old in list(sanic_logger.handlers):
            sanic_logger.removeHandler(old)
        sanic_logger.propagate = True
    logging.getLogger("sanic.access").disabled = True  # an empty line per request; access_line replaces it
    logging.getLogger(ACCESS_LOGGER).setLevel(level)


def access_line(method: str, path: str, status: int, duration_ms: float, client: str, channel: str) -> None:
    """The one line per request: its fields both in the text and as extras (JSON keys); the client's address
    only as its network (an address can name a household)."""
    client = mask_address(client)
    fields = {
        "method": method, "path": path, "status": status,
        "duration_ms": round(duration_ms, 1), "client": client, "channel": channel,
    }  # fmt: skip
    logging.getLogger(ACCESS_LOGGER).info(
        "%s %s %s %.1f ms %s %s", method, path, status, duration_ms, client, channel or "-", extra=fields
    )
