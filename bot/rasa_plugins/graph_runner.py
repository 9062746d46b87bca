"""Rasa's prediction graph run node after node, in an order worked out once per set of targets.

Rasa 3.6 runs its graph twice or more per message (the NLU graph, then the policies for every
action of the turn) with ``DaskGraphRunner``: each run prunes the schema to the targets again,
builds a dask task graph and hands it to dask's local scheduler, which orders it again. For a graph
of a dozen nodes, every one of them run in a row on the one thread anyway, that was about a tenth of
the Rasa server's time per message (docs/BENCHMARKS.md). This runner computes the pruned schema and
its order once per set of targets and calls the same ``GraphNode``s with the same inputs, as dask
did; errors come out as before (a ``GraphComponentException`` from a node, ``GraphRunError`` for
a clash of names).
"""

from __future__ import annotations

from graphlib import TopologicalSorter
from typing import Any

import rasa.core.processor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner


class SequentialGraphRunner(DaskGraphRunner):
    """``DaskGraphRunner``'s nodes and results, without dask."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[str, ...], list[tuple[str, tuple[str, ...]]]] = {}

    def run(self, inputs: dict[str, Any] | None = None, targets: list[str] | None = None) -> dict[str, Any]:
        """The targets' outputs ({node name: output}), as ``DaskGraphRunner.run`` returns them."""
        run_targets = tuple(targets or self._graph_schema.target_names)
        results: dict[str, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in self._graph_schema.nodes:
                raise GraphRunError(f"Input value '{value}' clashes with a node name.")
            results[name] = (name, value)
        for name, needs in self._plan(run_targets):
            results[name] = self._instantiated_nodes[name](*(results[parent] for parent in needs))
        return dict(results[target] for target in run_targets)

    def _plan(self, targets: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
        """The nodes ``targets`` need, parents first, each with the names of its inputs."""
        if targets not in self._plans:
            self._plans[targets] = self._order(targets)
        return self._plans[targets]

    def _order(self, targets: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
        schema = self._graph_schema.minimal_graph_schema(list(targets))
        needs = {name: tuple(node.needs.values()) for name, node in schema.nodes.items()}
        graph = {name: [parent for parent in parents if parent in needs] for name, parents in needs.items()}
        return [(name, needs[name]) for name in TopologicalSorter(graph).static_order()]


def install() -> None:
    """Called once by the Rasa server before it serves (bot/serve.py): models it loads use this runner."""
    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner
