"""The house's floors: every module of bot/, actions/, connectors/ and bench/ sits on one layer and
imports only from its own layer or the ones below, so no package reaches up and no two packages
import each other.

Layers, lowest first (a module belongs to the longest prefix that names it):

1. pure: bot.paths, bot.settings, bot.privacy, bot.client_address, bot.doors, bot.handoff_protocol,
   bot.text, bot.observability (knobs, masking, the doors, what the processes say to each other,
   Vietnamese text, metrics and logs)
2. shared: bot.shop_policy, bot.support, bot.schema, bot.migrations, bot.database, bot.senders, bot.tickets,
   bot.ownership, bot.orders, bot.catalog, bot.outbox, bot.training, bot.evaluation, bot.topic_titles (the shop's
   configuration, every project table, its migrations and its stores, sender namespaces, the order and product
   systems, the platform outbox the channels write and the desk reads, cached training and held-out evaluation, the
   names staff read for topics and shop facts)
3. rasa server: bot.nlu, bot.rasa_plugins, connectors (what ``rasa run`` loads: graph components,
   tracker store and event broker, channels)
4. processes: actions, bot.desk, bot.admin, bot.chat (action server; desk console and service API;
   admin pages and ``cskh`` CLI; ``make shell``)
5. supervisor: bot.console_app, bot.serve, bot.run, bot.processes, bot.scaled, bot.sandbox (one process
   per server, and what starts them together: ``make run``, ``make run-scaled``, sandboxes for tests)
6. bench: bench (``make bench``)

Besides the floors: bot.text imports nothing of the shop (only bot.text and bot.paths); the NLU
components use neither the channels nor the other Rasa plugins; the processes are siblings that talk
over HTTP, never by import, except bot.admin, whose pages use the desk console's login and templates
(so bot.desk never imports bot.admin; bot.console_app mounts both); nothing imports tests/.
"""

import ast
import importlib
from collections.abc import Iterable
from pathlib import Path

import pytest
import yaml

from bot.paths import PROJECT_ROOT

PACKAGES = ("bot", "actions", "connectors", "bench")
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pure", ("bot.paths", "bot.settings", "bot.privacy", "bot.client_address", "bot.doors",
              "bot.handoff_protocol", "bot.text", "bot.observability")),
    ("shared", ("bot.shop_policy", "bot.support", "bot.schema", "bot.migrations", "bot.database", "bot.senders",
                "bot.tickets", "bot.ownership", "bot.orders", "bot.catalog", "bot.shop_api", "bot.outbox",
                "bot.training", "bot.evaluation", "bot.topic_titles", "bot.attachments", "bot.file_links",
                "bot.messaging_windows", "bot.order_updates")),
    ("rasa server", ("bot.nlu", "bot.rasa_plugins", "connectors")),
    ("processes", ("actions", "bot.desk", "bot.admin", "bot.chat")),
    ("supervisor", ("bot.console_app", "bot.serve", "bot.run", "bot.processes", "bot.scaled", "bot.sandbox")),
    ("bench", ("bench",)),
)  # fmt: skip
PROCESSES = ("actions", "bot.desk", "bot.admin", "bot.chat")
# (importer, imported) pairs allowed even though both are process packages
SIBLINGS_ALLOWED = {("bot.admin", "bot.desk")}
# importer -> the only project modules it may import
ONLY = {"bot.text": ("bot.text", "bot.paths")}
# importer -> project modules it must not import, though they are on its layer
NEVER = {"bot.nlu": ("connectors", "bot.rasa_plugins"), "bot.rasa_plugins": ("connectors",)}


def _unit(module: str) -> str | None:
    """The longest prefix of LAYERS that names ``module`` (bot.desk.queue -> bot.desk)."""
    names = [name for _, names in LAYERS for name in names if module == name or module.startswith(name + ".")]
    return max(names, key=len) if names else None


def _layer(unit: str) -> int:
    return next(index for index, (_, names) in enumerate(LAYERS) if unit in names)


def _within(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = PROJECT_ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported(module: str, source: str, is_package: bool = False) -> set[str]:
    """Every project module (or tests) that ``source`` imports, in functions too, relative ones resolved."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from bot import schema" imports the module bot.schema, "from bot.schema import metadata" bot.schema
            names = [f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base for alias in node.names]
        else:
            continue
        found |= {name for name in names if name.split(".")[0] in (*PACKAGES, "tests")}
    return found


def violations(module: str, targets: Iterable[str]) -> list[str]:
    """Why each import of ``module`` breaks the layering (empty when none does)."""
    if module == "bot":  # the namespace of the foundation and the processes alike: it imports nothing
        return [f"bot/__init__.py imports {target}" for target in sorted(targets)]
    unit = _unit(module)
    if unit is None:
        return [f"{module} is on no layer: add it to LAYERS in tests/test_layering.py"]
    problems = []
    for target in sorted(targets):
        if target.split(".")[0] == "tests":
            problems.append(f"{module} imports {target}: project code never imports the tests")
            continue
        other = _unit(target)
        if other is None or other == unit or target in ("bot", *PACKAGES):
            continue
        if unit in ONLY and not _within(target, ONLY[unit]):
            problems.append(f"{module} imports {target}: {unit} may import only {', '.join(ONLY[unit])}")
        elif _layer(other) > _layer(unit):
            problems.append(f"{module} imports {target}, a layer above it ({LAYERS[_layer(other)][0]})")
        elif _within(target, NEVER.get(unit, ())):
            problems.append(f"{module} imports {target}: {unit} must not use {', '.join(NEVER[unit])}")
        elif unit in PROCESSES and other in PROCESSES and (unit, other) not in SIBLINGS_ALLOWED:
            problems.append(f"{module} imports {target}: the processes {unit} and {other} talk over HTTP only")
    return problems


def project_modules() -> dict[str, set[str]]:
    """Every module under PACKAGES and what it imports."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            name = module_name(path)
            modules[name] = imported(name, path.read_text(encoding="utf-8"), path.name == "__init__.py")
    return modules


def test_every_module_imports_only_from_its_own_layer_or_below() -> None:
    problems = [problem for module, targets in project_modules().items() for problem in violations(module, targets)]
    assert problems == []


def test_no_two_packages_import_each_other() -> None:
    """A cycle between units (bot.desk <-> bot.admin, connectors <-> bot.rasa_plugins) is a house with no floors."""
    edges: dict[str, set[str]] = {}
    for module, targets in project_modules().items():
        if (unit := _unit(module)) is None:
            continue  # the bare "bot" package, held to importing nothing by the test above
        edges.setdefault(unit, set()).update(t for t in map(_unit, targets) if t and t != unit)
    assert find_cycle(edges) is None


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``edges`` as a path that returns to its start, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, nxt])):
                return cycle
        state[node] = "done"
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start, [start])):
            return cycle
    return None


@pytest.mark.parametrize(
    ("module", "source", "complaint"),
    [
        ("bot.text.entities", "from bot.support import load_issue_types", "may import only"),
        ("bot.desk.console", "def f():\n    from bot.admin.web import admin", "talk over HTTP only"),
        ("actions.handoff", "import bot.desk.queue", "talk over HTTP only"),
        ("bot.admin.analytics", "from bot import console_app", "a layer above it"),
        ("bot.tickets", "from connectors.dedupe import seen_messages", "a layer above it"),
        ("bot.nlu.tokenizer", "from connectors.core import take_turn", "must not use"),
        ("bench.flood", "from tests.conftest import free_port", "never imports the tests"),
        ("connectors.rest", "from ..bot.desk import texts", "a layer above it"),
        ("bot.newcomer", "import json", "on no layer"),
    ],
)  # fmt: skip
def test_a_bad_import_is_caught(module: str, source: str, complaint: str) -> None:
    problems = violations(module, imported(module, source))
    assert any(complaint in problem for problem in problems), problems


def test_allowed_imports_pass() -> None:
    """The admin pages on the console's login; a channel on the tracker store; bench on the admin's analytics."""
    assert violations("bot.admin.web", {"bot.desk.console", "bot.schema", "bot.text.normalize"}) == []
    assert violations("connectors.rest", {"bot.rasa_plugins.tracking", "bot.handoff_protocol"}) == []
    assert violations("bench.unanswered", {"bot.admin.analytics"}) == []


def test_a_cycle_between_packages_is_found() -> None:
    assert find_cycle({"bot.desk": {"bot.admin"}, "bot.admin": {"bot.desk", "bot.schema"}}) in (
        ["bot.desk", "bot.admin", "bot.desk"], ["bot.admin", "bot.desk", "bot.admin"],
    )  # fmt: skip
    assert find_cycle({"bot.admin": {"bot.desk"}, "bot.desk": {"bot.schema"}}) is None


def _class(path: str) -> object:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _yaml(name: str) -> dict:
    return yaml.safe_load((PROJECT_ROOT / name).read_text(encoding="utf-8"))


def test_the_classes_rasa_is_told_to_load_exist() -> None:
    """A moved module must take its class paths in config.yml, endpoints.yml and credentials.yml along."""
    named = [c["name"] for c in _yaml("config.yml")["pipeline"] if "." in c["name"]]
    for endpoints in map(_yaml, ("endpoints.yml", "deploy/scaled/endpoints.yml")):
        named += [endpoints[key]["type"] for key in ("tracker_store", "event_broker") if key in endpoints]
    named += list(_yaml("credentials.yml"))
    assert len(named) > 10
    for path in named:
        assert isinstance(_class(path), type), path
