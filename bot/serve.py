"""Starts one server process of the stack; ``bot.processes`` supervises them.

Each reads its ``Settings`` from the environment the supervisor gave it
(bot/settings.py), once, and passes them on.

``rasa``: Rasa's own ``serve_application`` with the HTTP API behind the auth
token from the settings (never on the command line, where ``ps`` would show
it); the webhooks listen on ``CSKH_HOST``, the HTTP API answers only on
``RASA_API_HOST`` (both 127.0.0.1 by default, bot/doors.py).
``actions``: the rasa-sdk action server on ``ACTION_HOST``, obeying only
requests that carry ``ACTION_SERVER_TOKEN``.
``desk``: the agents' console on ``DESK_HOST``, its service API on ``DESK_API_HOST``.

Each also serves ``/metrics`` (with ``CSKH_METRICS_TOKEN``), ``/health`` and ``/ready`` on its
internal interface and writes one access line per request (bot/observability/).
"""

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from bot import doors
from bot.database import engine_for, project_engine, tracker_url
from bot.observability.logs import configure_logging
from bot.observability.metrics import rasa_server_metrics
from bot.observability.web import (
    HEALTH_PATH,
    METRICS_PATH,
    READY_PATH,
    database_check,
    observe,
    path_channel,
    static_check,
)
from bot.paths import CREDENTIALS_FILE, private_var_dir
from bot.settings import Settings, current_settings, publish_for_rasa

# paths the action server answers without its secret: the probes, and /metrics, which asks for its own
ACTION_SERVER_OPEN_PATHS = (HEALTH_PATH, READY_PATH, METRICS_PATH)


def _agent(app: Any) -> Any:
    """Rasa's agent once ``load_agent_on_start`` set it, else None."""
    return getattr(app.ctx, "agent", None)


def _report_model(app: Any) -> None:
    agent = _agent(app)
    if agent is not None and agent.is_ready():
        rasa_server_metrics().serving(agent.model_id, agent.processor.model_filename)
    else:
        rasa_server_metrics().serving(None, None)


def serve_rasa(settings: Settings, model: str) -> None:
    """Runs the Rasa server on the last release's model, else the given one: a replica restarted after
    a retrain must not go back to the model the stack started with."""
    from rasa.core.run import serve_application
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    from bot.admin.retrain import released_model
    from bot.rasa_plugins import action_replies, graph_runner, tracker_states
    from bot.rasa_plugins.action_endpoint import KeptSessionEndpoint

    # Rasa logs parsed messages at DEBUG: keep customers' words out of the logs unless asked.
    configure_logging_and_warnings()
    configure_structlog()
    configure_logging(settings.log_level, settings.log_format)  # after Rasa's, whose handlers it replaces
    publish_for_rasa(settings)  # endpoints.yml and credentials.yml name their values as ${VAR}s
    action_replies.install()
    graph_runner.install()
    tracker_states.install()
    endpoints = AvailableEndpoints.read_endpoints(str(settings.endpoints_file))
    if endpoints.action is not None:
        endpoints.action = KeptSessionEndpoint.like(endpoints.action)
    private_var_dir(settings.var_dir)  # the default tracker database lives there

    def split_doors(app: Any, _loop: Any) -> None:
        doors.split_by_interface(app, doors.rasa_is_internal, settings.host, settings.rasa_api_host)

    def add_observability(app: Any, _loop: Any) -> None:
        """Before the server starts, while routes can still be added (sanic fixes them at start)."""
        configure_logging(settings.log_level, settings.log_format)  # Rasa's app installed sanic's handlers
        observe(
            app, registry=rasa_server_metrics().registry, metrics_token=settings.metrics_token,
            trusted_proxies=settings.trusted_proxies, before_scrape=_report_model,
            channel_of=path_channel({"/socket.io/": "socketio"}, "api"),
            checks={
                "model": static_check(lambda: _agent(app) is not None and _agent(app).is_ready(), "no model loaded"),
                "database": database_check(project_engine(settings)),
                "trackers": database_check(engine_for(tracker_url(settings.tracker_db))),
            },
        )  # fmt: skip

    serve_application(
        model_path=str(released_model(settings) or model),
        interface=doors.bind_address(settings.host, settings.rasa_api_host),
        port=settings.rasa_port,
        credentials=str(CREDENTIALS_FILE),
        auth_token=settings.rasa_token,
        enable_api=True,
        endpoints=endpoints,
        # the widget on the shop's own site reads its inbox from here; no cookies are involved
        cors=list(settings.widget_origins),
        server_listeners=[(add_observability, "main_process_start"), (split_doors, "before_server_start")],
    )


def action_app(settings: Settings) -> Any:
    """rasa-sdk's app on the project's ``actions`` package (whose actions ask ``current_settings()``),
    obeying only ``ACTION_SERVER_TOKEN`` but for the probes and ``/metrics``, with rasa-sdk's plugins."""
    from rasa_sdk.endpoint import create_app
    from rasa_sdk.plugin import plugin_manager

    from bot.observability.actions import observe_actions

    app = create_app("actions", cors_origins=None)
    doors.require_token(app, settings.action_token, ACTION_SERVER_OPEN_PATHS)  # first: refused calls count as none
    checks = {"database": database_check(project_engine(settings))}
    observe_actions(app, settings.metrics_token, settings.trusted_proxies, checks)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)  # as rasa_sdk.endpoint.run does
    app.register_listener(_ready_for_the_first_customer, "before_server_start")
    return app


def _ready_for_the_first_customer(_app: Any, _loop: Any) -> None:
    """Before the first customer: spaCy's rules for order numbers and phones, the order backend and the
    ownership ledger were built on first use, and the first order question after every start took 100 ms
    more, on each action server (one conversation's p99 of the scaled stack in bench-latency)."""
    from actions.services import open_backends

    open_backends()


def serve_actions(settings: Settings) -> None:
    """Runs the action server on ``ACTION_HOST`` only (rasa-sdk's own ``run`` would listen everywhere)."""
    app = action_app(settings)
    app.run(host=settings.action_host, port=settings.action_port, workers=1, access_log=False, motd=False)


def desk_app(settings: Settings) -> Any:
    """The agents' console and the desk's service API, each on its own interface."""
    from bot.console_app import create_app

    app = create_app(settings)
    doors.split_by_interface(app, doors.desk_is_internal, settings.desk_host, settings.desk_api_host)
    return app


def serve_desk(settings: Settings) -> None:
    """Runs the agents' console and the desk's service API."""
    app = desk_app(settings)
    host = doors.bind_address(settings.desk_host, settings.desk_api_host)
    app.run(host=host, port=settings.desk_port, access_log=False, motd=False)


def without_tensorflow() -> None:
    """Tells Python that TensorFlow is absent, in a process that runs no Rasa model: spaCy's thinc imports
    it whenever it is installed (thinc/compat.py), which cost the action server and the desk 6-7 s of
    CPU at start and about 350 MB each. Only the Rasa server (and a retrain's own process) uses it."""
    sys.modules.setdefault("tensorflow", None)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m bot.serve rasa --model M``, ``... actions`` or ``... desk``."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("role", choices=["rasa", "actions", "desk"])
    parser.add_argument("--model")
    args = parser.parse_args(argv)
    settings = current_settings()  # the same object Rasa's channels and the actions will ask for
    configure_logging(settings.log_level, settings.log_format)
    if args.role == "rasa":
        if not args.model:
            parser.error("rasa needs --model")
        serve_rasa(settings, args.model)
        return
    without_tensorflow()
    if args.role == "desk":
        serve_desk(settings)
    else:
        serve_actions(settings)


if __name__ == "__main__":
    main()
