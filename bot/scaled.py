"""``make run-scaled``: the bot as several replicas behind nginx, on PostgreSQL and Redis.

- N Rasa replicas (deploy/scaled/endpoints.yml: trackers in PostgreSQL through
  Rasa's SQLTrackerStore, conversation locks in Redis through RedisLockStore), whose
  widget sockets are shared through the same Redis (connectors/webchat.py), so a reply
  any replica sends reaches the customer's socket wherever it is;
- N action servers; two desk instances (console and service API) with the project
  database in the same PostgreSQL database, sharing live updates through Redis
  (bot/desk/live.py) and their timers through the database (bot/desk/queue.py), fed
  by the replicas' event brokers through a durable RabbitMQ queue (Rasa's
  PikaEventBroker), so a desk outage loses no message;
- nginx (Debian's package, `make scale-deps`) in front: customers and channels
  reach the replicas through one port, Rasa reaches the action servers through
  another, and agents, the actions and Rasa's broker reach the desks on DESK_PORT
  (the console on DESK_HOST, the service API on DESK_API_HOST, as with one desk).

Configured by the settings (bot/settings.py): CSKH_PG_URL (default
postgresql://postgres@127.0.0.1:5432/cskh, created if missing), CSKH_REDIS_URL (default
redis://127.0.0.1:6379/0), CSKH_RABBITMQ_URL (default amqp://guest:guest@127.0.0.1:5672/),
CSKH_EVENT_QUEUE (cskh_desk_events), CSKH_REPLICAS (2), and the usual RASA_PORT (the balancer's public port),
DESK_PORT, CSKH_HOST (where nginx serves the webhooks), RASA_API_HOST (where it serves Rasa's HTTP API,
127.0.0.1), ACTION_HOST, ACTION_SERVER_TOKEN.
"""

import dataclasses
import ipaddress
import json
import shutil
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import sqlalchemy as sa

from bot import doors, migrations
from bot.database import masked_url
from bot.paths import PROJECT_ROOT
from bot.processes import Service, Stack, StartupError, rasa_service, running_services, supervise
from bot.settings import LOOPBACK, Settings, connect_address, current_settings
from bot.training import TrainingInputError, ensure_model

SCALED_ENDPOINTS = PROJECT_ROOT / "deploy" / "scaled" / "endpoints.yml"
NGINX_TEMPLATE = PROJECT_ROOT / "deploy" / "scaled" / "nginx.conf.template"
# where make run-scaled lists every server's /metrics for Prometheus (file_sd_configs), in its run folder
PROMETHEUS_TARGETS = "prometheus-targets.json"


@dataclass(frozen=True)
class Scale:
    """Where the shared stores are and how many of each server run."""

    pg_url: str
    redis_url: str
    replicas: int = 2
    desks: int = 2  # agents keep working when one desk instance dies


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_database(pg_url: str) -> None:
    """Creates the PostgreSQL database of ``pg_url`` if it does not exist yet."""
    parsed = urlparse(pg_url)
    name = parsed.path.lstrip("/")
    admin = sa.create_engine(
        pg_url.replace("postgresql://", "postgresql+psycopg2://", 1).rsplit("/", 1)[0] + "/postgres",
        isolation_level="AUTOCOMMIT", future=True,
    )  # fmt: skip
    try:
        with admin.connect() as connection:
            exists = connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def prepare_schema(pg_url: str) -> migrations.Upgrade:
    """Creates Rasa's table and upgrades the project's before the replicas start, which would otherwise race."""
    from rasa.core.tracker_store import SQLTrackerStore

    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg2://", 1), future=True)
    try:
        SQLTrackerStore.Base.metadata.create_all(engine)  # Rasa's events table
        return migrations.upgrade(engine)  # every project table
    finally:
        engine.dispose()


def _store_env(scale: Scale, rabbitmq_url: str) -> dict[str, str]:
    """The ``${VAR}``s of deploy/scaled/endpoints.yml, which Rasa reads from its environment; RabbitMQ's URL
    without its credentials, since Rasa's PikaEventBroker logs it."""
    pg, redis, rabbitmq = urlparse(scale.pg_url), urlparse(scale.redis_url), urlparse(rabbitmq_url)
    port = rabbitmq.port or (5671 if rabbitmq.scheme == "amqps" else 5672)
    return {
        "CSKH_RABBITMQ_HOST": f"{rabbitmq.scheme}://{rabbitmq.hostname}:{port}{rabbitmq.path}",
        "CSKH_RABBITMQ_PORT": str(port), "CSKH_RABBITMQ_USER": rabbitmq.username or "guest",
        "CSKH_RABBITMQ_PASSWORD": rabbitmq.password or "guest",
        "CSKH_PG_HOST": pg.hostname or "127.0.0.1", "CSKH_PG_PORT": str(pg.port or 5432),
        "CSKH_PG_DB": pg.path.lstrip("/"), "CSKH_PG_USER": pg.username or "postgres",
        "CSKH_PG_PASSWORD": pg.password or "",
        "CSKH_REDIS_HOST": redis.hostname or "127.0.0.1", "CSKH_REDIS_PORT": str(redis.port or 6379),
        "CSKH_REDIS_DB": redis.path.lstrip("/") or "0",
    }  # fmt: skip


def _api_addresses(api_host: str) -> tuple[str, str]:
    """nginx's ``map`` of the local addresses that may reach a door bound to ``api_host`` (Rasa's HTTP API,
    the desk's console or service API): (default, entries)."""
    if api_host in doors.WILDCARDS:
        return "1", ""
    if doors.arrived_on("127.0.0.1", api_host):  # loopback, whichever spelling
        return "0", '        "127.0.0.1" 1;\n        "::1" 1;'
    return "0", f'        "{api_host.strip("[]")}" 1;'


def _listen(host: str) -> str:
    return f"[{host.strip('[]')}]" if ":" in host else host


def _nginx_config(run_dir: Path, settings: Settings, actions_port: int, rasa_ports: list[int],
                  action_ports: list[int], desk_ports: Sequence[int]) -> Path:  # fmt: skip
    for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (run_dir / folder).mkdir(parents=True, exist_ok=True)
    hosts = dict.fromkeys([settings.host, settings.rasa_api_host])  # one listen per distinct address
    api_default, api_addresses = _api_addresses(settings.rasa_api_host)
    desk_api_default, desk_api_addresses = _api_addresses(settings.desk_api_host)
    desk_console_default, desk_console_addresses = _api_addresses(settings.desk_host)
    desk_hosts = dict.fromkeys([settings.desk_host, settings.desk_api_host])
    config = NGINX_TEMPLATE.read_text().format(
        run_dir=run_dir, actions_port=actions_port, actions_host=settings.action_host,
        public_listens="\n".join(f"        listen {_listen(h)}:{settings.rasa_port};" for h in hosts),
        api_host=settings.rasa_api_host, api_default=api_default, api_addresses=api_addresses,
        # three failures before a replica is skipped: one slow answer from the last replica standing
        # must not leave nginx with "no live upstreams" (a 502 for everyone) while another is down
        rasa_servers="\n".join(f"        server 127.0.0.1:{p} max_fails=3 fail_timeout=5s;" for p in rasa_ports),
        action_servers="\n".join(f"        server 127.0.0.1:{p} max_fails=3 fail_timeout=5s;" for p in action_ports),
        desk_listens="\n".join(f"        listen {_listen(h)}:{settings.desk_port};" for h in desk_hosts),
        desk_api_default=desk_api_default, desk_api_addresses=desk_api_addresses,
        desk_console_default=desk_console_default, desk_console_addresses=desk_console_addresses,
        # one failure and a dead desk is skipped for 5 s: an agent's click must not wait on it twice
        desk_servers="\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in desk_ports),
    )  # fmt: skip
    path = run_dir / "nginx.conf"
    path.write_text(config)
    return path


def write_prometheus_targets(path: Path, rasa_ports: list[int], action_ports: list[int], desk_url: str) -> None:
    """Every server's own ``/metrics`` for Prometheus's ``file_sd_configs`` (docs/OPERATIONS.md): each replica
    on its loopback port, since a scrape through nginx would read whichever replica it happened to pick."""
    desk = urlparse(desk_url).netloc
    groups = [
        {"targets": [f"{LOOPBACK}:{port}" for port in rasa_ports], "labels": {"role": "rasa"}},
        {"targets": [f"{LOOPBACK}:{port}" for port in action_ports], "labels": {"role": "actions"}},
        {"targets": [desk], "labels": {"role": "desk"}},
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(groups, indent=2) + "\n", encoding="utf-8")


@contextmanager
def running_scaled_stack(
    settings: Settings, model: Path, scale: Scale, run_dir: Path, log_dir: Path | None = None,
    extra_env: dict[str, str] | None = None, desk_ports: Sequence[int] = (),
) -> Iterator[Stack]:  # fmt: skip
    """Replicas of Rasa and the action server, and desk instances (``desk-1``… on ``desk_ports``, free ports
    if none given), behind nginx; ``settings.rasa_port`` and ``settings.desk_port`` are the balancer's."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise StartupError("nginx is not installed: run `make scale-deps` (Debian's nginx-light)")
    ensure_database(scale.pg_url)
    print(prepare_schema(scale.pg_url).describe(masked_url(scale.pg_url)), flush=True)
    rasa_ports = [_free_port() for _ in range(scale.replicas)]
    action_ports = [_free_port() for _ in range(scale.replicas)]
    actions_port = _free_port()
    desk_ports = list(desk_ports) or [_free_port() for _ in range(scale.desks)]
    config = _nginx_config(run_dir, settings, actions_port, rasa_ports, action_ports, desk_ports)
    pg_url = scale.pg_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    settings = dataclasses.replace(
        settings, database_url=pg_url, tracker_db=pg_url, endpoints_file=SCALED_ENDPOINTS,
        action_balancer_url=f"http://{connect_address(settings.action_host)}:{actions_port}/webhook",
        model_servers=tuple(f"http://{LOOPBACK}:{port}" for port in rasa_ports),  # a new model reaches every replica
        widget_redis_url=scale.redis_url,
        events_via_rabbitmq=True,  # the desk consumes the queue the replicas' event brokers publish to
    )  # fmt: skip
    # the replicas behind nginx listen on loopback only: nginx is their one door
    # and believe the client address nginx forwards (X-Forwarded-For) for the guard's per-address limits
    replica = dataclasses.replace(
        settings, host=LOOPBACK, rasa_api_host=LOOPBACK, action_host=LOOPBACK,
        trusted_proxies=(ipaddress.ip_network(LOOPBACK),),
    )  # fmt: skip
    write_prometheus_targets(run_dir / PROMETHEUS_TARGETS, rasa_ports, action_ports, settings.desk_url)
    services: dict[str, Service] = {}
    for index, port in enumerate(action_ports, start=1):
        services[f"actions-{index}"] = Service(
            "action server", ["actions"], f"http://{LOOPBACK}:{port}/health",
            dataclasses.replace(replica, action_port=port).to_environment(),
        )  # fmt: skip
    for index, port in enumerate(desk_ports, start=1):
        # behind nginx on loopback like the replicas, sharing live updates through Redis
        desk = dataclasses.replace(
            settings, desk_host=LOOPBACK, desk_api_host=LOOPBACK, desk_port=port, desk_live_url=scale.redis_url,
            trusted_proxies=(ipaddress.ip_network(LOOPBACK),),
        )  # fmt: skip
        services[f"desk-{index}"] = Service(
            "agent console", ["desk"], f"http://{LOOPBACK}:{port}/health", desk.to_environment()
        )
    for index, port in enumerate(rasa_ports, start=1):
        own = dataclasses.replace(replica, rasa_port=port)
        services[f"rasa-{index}"] = rasa_service(own, model, own.to_environment())
    services["nginx"] = Service(
        "nginx", [], f"{settings.rasa_url}/", program=[nginx, "-c", str(config), "-e",
                                                        str(run_dir / "nginx-error.log")],
    )  # fmt: skip
    shared = {**_store_env(scale, settings.rabbitmq_url), **(extra_env or {})}
    with running_services(settings, services, log_dir, shared) as stack:
        yield stack


def main() -> int:
    """Runs until Ctrl-C; prints where everything is."""
    settings = current_settings()
    scale = Scale(settings.pg_url, settings.redis_url, settings.replicas)
    try:
        model = ensure_model(settings.data_dir, settings.models_dir, settings.model_config)
    except TrainingInputError as error:
        print(f"Cannot train: {error}")
        return 1
    run_dir = settings.var_dir / "scaled"
    desk_ports = [_free_port() for _ in range(scale.desks)]
    stack = running_scaled_stack(settings, model, scale, run_dir, log_dir=run_dir / "logs", desk_ports=desk_ports)
    return supervise(stack, lambda: banner(settings, scale, run_dir, desk_ports))


def banner(settings: Settings, scale: Scale, run_dir: Path, desk_ports: Sequence[int]) -> str:
    """Where everything is; the stores' URLs without their passwords, since this lands in logs."""
    console = f"http://{connect_address(settings.desk_host)}:{settings.desk_port}"
    instances = ", ".join(f"{LOOPBACK}:{port}" for port in desk_ports)
    return (
        f"\ncskh-bot, {scale.replicas} Rasa replicas and {scale.replicas} action servers behind nginx:\n"
        f"  REST / widget / channels   {settings.rasa_url}/webhooks/rest/webhook\n"
        f"  Agent console              {console}/  ({len(desk_ports)} desk instances: {instances})\n"
        f"  Trackers and project data  {masked_url(scale.pg_url)}\n"
        f"  Locks, sockets, live feed  {masked_url(scale.redis_url)}\n"
        f"  Events to the desk         {masked_url(settings.rabbitmq_url)} queue {settings.event_queue}\n"
        f"  Logs                       {run_dir / 'logs'}\n"
        f"  Prometheus targets         {run_dir / PROMETHEUS_TARGETS}\nPress Ctrl-C to stop everything.\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
