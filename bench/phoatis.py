"""``make bench-phoatis PHOATIS_DIR=…``: our NLU pipeline against Rasa's default on a public Vietnamese set.

PhoATIS (VinAI's Vietnamese ATIS, in VinAIResearch/JointIDSF, research use only) is
never copied into this repository: point ``PHOATIS_DIR`` at a checkout's ``PhoATIS``
folder (the one holding ``syllable-level/`` and ``word-level/``). Without it the
benchmark says where to get it and stops. Only the intent labels are used: each
pipeline is trained on ``train`` and scored on ``dev`` (to tune) and ``test`` (to
report), a label being right only when it matches exactly (a multi-intent label
such as "airfare#flight" included, written the Rasa way: "airfare+flight"). The
shop's own rules (FAQ retrieval, fallback, mood, ratings…) know the shop's
intents, not airline ones, so they are left out of both pipelines.
"""

import argparse
import copy
import logging
import math
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from bench.nlu import percentile, write_nlu
from bot.evaluation import model_parser
from bot.paths import CONFIG_FILE, PROJECT_ROOT
from bot.settings import publish
from bot.training import train

DEFAULT_CONFIG = PROJECT_ROOT / "bench" / "rasa_default_config.yml"
WHERE = "https://github.com/VinAIResearch/JointIDSF (folder PhoATIS)"
# Components that read or write the shop's own intents, responses or entities: nothing to do with PhoATIS.
SHOP_ONLY = {
    "ResponseSelector",
    "bot.nlu.linear_selector.LinearResponseSelector",
    "FallbackClassifier",
    "EntitySynonymMapper",
    "bot.nlu.entities.VietnameseEntityExtractor",
    "bot.nlu.coverage.TopicCoverageGuard",
    "bot.nlu.rating.RatingReader",
    "bot.nlu.mood.MoodClassifier",
    "bot.nlu.order_complaint.OrderComplaintRouter",
    "bot.nlu.details.DetailReader",
    "bot.nlu.decline.DeclineReader",
    "bot.nlu.language.LanguageDetector",
}


@dataclass(frozen=True)
class Split:
    """One part of PhoATIS: the utterances and their intent labels."""

    texts: list[str]
    labels: list[str]


@dataclass(frozen=True)
class Result:
    """One pipeline's figures on one level of PhoATIS."""

    name: str
    dev: float
    test: float
    train_seconds: float
    p50_ms: float
    p99_ms: float
    model_mb: float


def read_split(folder: Path) -> Split:
    """One part's utterances and labels; PhoATIS's "airfare#flight" becomes Rasa's multi-intent "airfare+flight"."""
    texts = (folder / "seq.in").read_text(encoding="utf-8").splitlines()
    labels = [label.replace("#", "+") for label in (folder / "label").read_text(encoding="utf-8").splitlines()]
    if len(texts) != len(labels):
        raise ValueError(f"{folder}: {len(texts)} utterances but {len(labels)} labels")
    return Split(texts, labels)


def intents_only(config: dict) -> dict:
    """The pipeline without the shop's own components, and without dialogue policies."""
    config = copy.deepcopy(config)
    config["pipeline"] = [c for c in config["pipeline"] if c["name"] not in SHOP_ONLY]
    config["policies"] = []
    config["assistant_id"] = "bench-phoatis"
    return config


def training_yaml(split: Split, target: Path) -> Path:
    """The training utterances as Rasa NLU data, one intent per PhoATIS label."""
    by_label: dict[str, list[str]] = {}
    for text, label in zip(split.texts, split.labels, strict=True):
        by_label.setdefault(label, []).append(text)
    return write_nlu(by_label, target)


def run_one(name: str, config: dict, train_split: Split, scored: dict[str, Split], workdir: Path) -> Result:
    """Trains one pipeline on ``train_split`` and scores it on each of ``scored``."""
    workdir.mkdir(parents=True)
    config_file = workdir / "config.yml"
    config_file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    (workdir / "data").mkdir()
    training_yaml(train_split, workdir / "data" / "nlu.yml")
    started = time.monotonic()
    model = train(config_file, [workdir / "data"], workdir / "model.tar.gz", nlu_only=True)
    train_seconds = time.monotonic() - started
    parse = model_parser(model)
    parse("xin chào")  # the first call builds the graph
    accuracy: dict[str, float] = {}
    latencies: list[float] = []
    for part, split in scored.items():
        right = 0
        for text, label in zip(split.texts, split.labels, strict=True):
            began = time.perf_counter()
            parsed = parse(text)
            latencies.append((time.perf_counter() - began) * 1000)
            right += (parsed.get("intent") or {}).get("name") == label
        accuracy[part] = right / len(split.texts)
    return Result(
        name,
        accuracy.get("dev", float("nan")),
        accuracy.get("test", float("nan")),
        train_seconds,
        statistics.median(latencies),
        percentile(latencies, 0.99),
        model.stat().st_size / 1e6,
    )


def _share(accuracy: float) -> str:
    return "—" if math.isnan(accuracy) else f"{accuracy:.4f}"


def table(results: Sequence[Result]) -> str:
    lines = [
        "| pipeline | dev acc. | test acc. | train (s) | parse p50 (ms) | parse p99 (ms) | model (MB) |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.name} | {_share(r.dev)} | {_share(r.test)} | {r.train_seconds:.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
        f"| {r.model_mb:.1f} |"
        for r in results
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="the PhoATIS folder")
    parser.add_argument("--level", choices=["syllable", "word", "both"], default="syllable")
    parser.add_argument("--config", type=Path, default=CONFIG_FILE, help="our pipeline (default: config.yml)")
    parser.add_argument("--no-default", action="store_true", help="skip Rasa's default (about an hour here)")
    parser.add_argument("--dev-only", action="store_true", help="score dev only: for tuning, test stays unseen")
    args = parser.parse_args(argv)
    folder = args.dir
    if folder is None or not (folder / "syllable-level" / "train" / "seq.in").is_file():
        print(
            "PhoATIS is not here, so this benchmark is skipped. It is research-use data and is never copied into\n"
            f"this repository: get it from {WHERE} and run `make bench-phoatis PHOATIS_DIR=<that PhoATIS folder>`."
        )
        return
    logging.basicConfig(level=logging.WARNING)
    publish({"RASA_MAX_CACHE_SIZE": "0"})  # cold training: Rasa would reuse cached components
    ours = intents_only(yaml.safe_load(args.config.read_text(encoding="utf-8")))
    default = intents_only(yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8")))
    pipelines = [("ours", ours)] + ([] if args.no_default else [("rasa default", default)])
    levels = ["syllable", "word"] if args.level == "both" else [args.level]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for level in levels:
            root = folder / f"{level}-level"
            scored = {"dev": read_split(root / "dev")}
            if not args.dev_only:
                scored["test"] = read_split(root / "test")
            for name, config in pipelines:
                label = f"{name}, {level} level"
                results.append(run_one(label, config, read_split(root / "train"), scored, Path(tmp) / label))
                print(f"done: {label}", flush=True)
    print(f"\nPhoATIS intents, {date.today()}, {platform.machine()}, {os.cpu_count()} cores\n")
    print(table(results))


if __name__ == "__main__":
    main()
