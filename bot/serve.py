"""Starts one server process of the stack; ``bot.processes`` supervises them.

``rasa``: Rasa's own ``serve_application`` with the HTTP API behind the auth
token read from the environment (never on the command line, where ``ps``
would show it), bound to 127.0.0.1 by default.
``actions``: the rasa-sdk action server, bound the same way (rasa-sdk reads
``SANIC_HOST`` and otherwise listens on every interface).
``desk``: the agents' console and the desk's service API (bot/desk).
"""

import argparse
import logging
import os
from collections.abc import Sequence

from bot.paths import CREDENTIALS_FILE, ENDPOINTS_FILE
from bot.settings import load_settings


def serve_rasa(model: str) -> None:
    """Runs the Rasa server on the given model."""
    from rasa.core.run import serve_application
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # Rasa logs parsed messages at DEBUG: keep customers' words out of the logs unless asked.
    configure_logging_and_warnings()
    configure_structlog()
    settings = load_settings()
    os.environ.setdefault("ACTION_SERVER_URL", settings.action_url)
    os.environ.setdefault("TRACKER_DB", settings.tracker_db)
    os.environ.setdefault("DESK_URL", settings.desk_url)
    os.environ.setdefault("DESK_SERVICE_TOKEN", settings.desk_token)
    serve_application(
        model_path=model,
        interface=settings.host,
        port=settings.rasa_port,
        credentials=str(CREDENTIALS_FILE),
        auth_token=settings.rasa_token,
        enable_api=True,
        endpoints=AvailableEndpoints.read_endpoints(os.environ.get("CSKH_ENDPOINTS") or str(ENDPOINTS_FILE)),
        # the widget on the shop's own site reads its inbox from here; no cookies are involved
        cors=os.environ.get("CSKH_WIDGET_ORIGINS", "*").split(),
    )


def serve_actions() -> None:
    """Runs the action server on the project's ``actions`` package."""
    from rasa_sdk.endpoint import run

    settings = load_settings()
    os.environ["SANIC_HOST"] = settings.host
    run("actions", port=settings.action_port, cors_origins=None)


def serve_desk() -> None:
    """Runs the agents' console and the desk's service API."""
    from bot.desk.app import create_app

    settings = load_settings()
    create_app(settings).run(host=settings.host, port=settings.desk_port, access_log=False, motd=False)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m bot.serve rasa --model M``, ``... actions`` or ``... desk``."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("role", choices=["rasa", "actions", "desk"])
    parser.add_argument("--model")
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    if args.role == "rasa":
        if not args.model:
            parser.error("rasa needs --model")
        serve_rasa(args.model)
    elif args.role == "desk":
        serve_desk()
    else:
        serve_actions()


if __name__ == "__main__":
    main()
