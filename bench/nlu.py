"""``make bench-nlu``: our NLU pipeline against Rasa's default, side by side.

Each pipeline is trained from scratch on the same data, then evaluated on the
held-out set as written and with its diacritics stripped.
"""

import argparse
import logging
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from bot.evaluation import IN_DOMAIN, evaluate, heldout_files, load_examples, model_parser, stripped
from bot.paths import CONFIG_FILE, DATA_DIR, GENERATED_RESPONSES, PROJECT_ROOT
from bot.settings import publish
from bot.training import render_responses, train

# in-domain questions (the uncovered ones are tests/test_nlu_honesty.py's)
HELDOUT = heldout_files(parts=IN_DOMAIN)
DEFAULT_CONFIG = PROJECT_ROOT / "bench" / "rasa_default_config.yml"


@dataclass
class Result:
    """One pipeline's figures."""

    name: str
    accuracy: float
    stripped_accuracy: float
    train_seconds: float
    p50_ms: float
    p99_ms: float
    model_mb: float


def training_files() -> list[Path]:
    """The NLU examples and the rendered FAQ responses the ResponseSelector needs."""
    return [*sorted((DATA_DIR / "nlu").glob("*.yml")), GENERATED_RESPONSES]


def write_nlu(examples: dict[str, list[str]], target: Path) -> Path:
    """``examples`` (intent -> texts) as a Rasa NLU training file."""
    nlu = [{"intent": k, "examples": "".join(f"- {t}\n" for t in v)} for k, v in examples.items()]
    target.write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True), encoding="utf-8")
    return target


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_one(name: str, config: dict, data: Sequence[Path], workdir: Path) -> Result:
    """Trains one pipeline (NLU only: Rasa's default config would add dialogue policies) and measures it."""
    config_file = workdir / f"{name}.yml"
    config_file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    nlu_dir = workdir / f"{name}-data"
    nlu_dir.mkdir()
    for path in data:
        (nlu_dir / f"{path.parent.name}-{path.name}").write_bytes(path.read_bytes())
    started = time.monotonic()
    model = train(config_file, [nlu_dir], workdir / f"{name}.tar.gz", nlu_only=True)
    train_seconds = time.monotonic() - started
    parse = model_parser(model)
    examples = load_examples(*HELDOUT)
    parse("xin chào")  # warm-up: the first call builds the graph
    report = evaluate(parse, examples)
    report_stripped = evaluate(parse, stripped(examples))
    latencies = report.latencies_ms + report_stripped.latencies_ms
    return Result(
        name,
        report.accuracy,
        report_stripped.accuracy,
        train_seconds,
        statistics.median(latencies),
        percentile(latencies, 0.99),
        model.stat().st_size / 1e6,
    )


def table(results: Sequence[Result]) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| pipeline | intent acc. | acc. without diacritics | train (s) "
        "| parse p50 (ms) | parse p99 (ms) | model (MB) |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.name} | {r.accuracy:.3f} | {r.stripped_accuracy:.3f} | {r.train_seconds:.0f} "
        f"| {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.model_mb:.1f} |"
        for r in results
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Trains, evaluates and prints the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    # Rasa reuses trained components from .rasa/cache; timings must be of cold training.
    publish({"RASA_MAX_CACHE_SIZE": "0"})
    render_responses()
    ours = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))
    default = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    runs: list[tuple[str, Callable[[Path], tuple[dict, list[Path]]]]] = [
        ("ours (both views)", lambda w: (ours, training_files())),
        ("rasa default", lambda w: (default, training_files())),
    ]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, make) in enumerate(runs):
            workdir = Path(tmp) / f"run{index}"
            workdir.mkdir()
            config, data = make(workdir)
            results.append(run_one(f"run{index}", config, data, workdir))
            results[-1].name = name
            print(f"done: {name}", flush=True)
    print(f"\nNLU benchmark, {date.today()}, {platform.machine()}, {os.cpu_count()} cores\n")
    print(table(results))


if __name__ == "__main__":
    main()
