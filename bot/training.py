"""The one way the project trains a model: ``make train``, the admin retrain and the benchmarks all call ``train``.

What Rasa trains on is a data folder's ``nlu/`` and ``stories/`` and the FAQ
responses rendered from its ``shop/`` into ``responses/``; the model also keeps
the lexicon (``lexicon/``) and the issue types (``shop/support.yml``). The
held-out sets in ``eval/`` are never given to Rasa, so the quality gate measures
questions the model has not seen.

``ensure_model`` trains once per change: models are cached under a hash of
exactly those inputs, the pipeline config, the domain and the project's NLU
code, so editing any of them retrains and nothing else does (an edit of
``eval/`` does not). Data files are named relative to their folder, so a copy of
the data (the admin retrain's workspace) hashes like the original. A file lock
keeps two processes (say ``make run`` and ``make test``) from training the same
model at once.

Rasa trains in the caller's process, and progress comes from Rasa's own
per-epoch Keras callback (see ``_epochs_reported``), not from parsing its log.
"""

import argparse
import fcntl
import hashlib
import logging
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from bot.paths import CONFIG_FILE, DATA_DIR, DOMAIN_FILE, MODELS_DIR, PROJECT_ROOT
from bot.shop_policy import PolicyError, write_responses
from bot.text.lexicon import LexiconError

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]  # (fraction of the stage done, stage: "prepare" | "train")

TRAINING_FOLDERS = ("nlu", "stories")  # Rasa's training files, besides the rendered responses
MODEL_INPUTS = (*TRAINING_FOLDERS, "shop", "lexicon")  # everything of a data folder that shapes the model
RESPONSES = Path("responses") / "faq.yml"  # rendered from shop/, so hashed through shop/
CODE_DIRS = (PROJECT_ROOT / "bot" / "nlu", PROJECT_ROOT / "bot" / "text")
TOKENIZER = "bot.nlu.tokenizer.VietnameseTokenizer"  # config.yml's name for it; it reads the lexicon


class TrainingInputError(RuntimeError):
    """The data or config cannot be trained on; the message says which file and why."""


def _files(path: Path) -> Iterable[Path]:
    if path.is_file():
        yield path
    elif path.is_dir():
        yield from (
            p
            for p in sorted(path.rglob("*"))
            if p.is_file() and p.suffix in {".yml", ".yaml", ".py", ".json"} and "__pycache__" not in p.parts
        )


def training_files(data_dir: Path = DATA_DIR) -> list[Path]:
    """What Rasa trains on in ``data_dir``; its ``eval/``, ``shop/`` and ``lexicon/`` are not Rasa data."""
    return [*(data_dir / folder for folder in TRAINING_FOLDERS), data_dir / RESPONSES]


def fingerprint(data_dir: Path = DATA_DIR, config: Path = CONFIG_FILE, domain: Path = DOMAIN_FILE) -> str:
    """A hash of everything that changes the model trained from ``data_dir``."""
    digest = hashlib.sha256()
    named = [(config.name, config), (domain.name, domain)]
    named += [(str(f.relative_to(data_dir)), f) for folder in MODEL_INPUTS for f in _files(data_dir / folder)]
    named += [(str(f.relative_to(PROJECT_ROOT)), f) for folder in CODE_DIRS for f in _files(folder)]
    for name, path in named:
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def render_responses(data_dir: Path = DATA_DIR) -> Path:
    """Writes the FAQ answers of ``data_dir/shop`` as Rasa responses; TrainingInputError names a bad file."""
    try:
        return write_responses(data_dir / "shop", data_dir / RESPONSES)
    except (PolicyError, OSError) as error:
        raise TrainingInputError(str(error)) from error


def ensure_model(
    data_dir: Path = DATA_DIR,
    output: Path = MODELS_DIR,
    config: Path = CONFIG_FILE,
    on_progress: Progress | None = None,
    name: str = "cskh",
) -> Path:
    """The trained model for ``data_dir`` as it is now, training it only if missing."""
    render_responses(data_dir)
    target = output / f"{name}-{fingerprint(data_dir, config)}.tar.gz"
    if target.exists():
        return target
    output.mkdir(parents=True, exist_ok=True)
    with (output / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            with tempfile.TemporaryDirectory() as folder:
                pipeline = _reading_lexicon(config, data_dir / "lexicon", Path(folder))
                train(pipeline, training_files(data_dir), target, on_progress=on_progress)
    return target


def _reading_lexicon(config: Path, lexicon: Path, folder: Path) -> Path:
    """A copy of ``config`` in ``folder`` whose tokenizer reads the teencode lexicon of the data folder
    being trained on: the lexicon is data (the retrain's workspace has its own copy, hashed into the
    model's name), while the tokenizer's default is the checkout's ``data/lexicon``."""
    content = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    for component in content.get("pipeline") or []:
        if component.get("name") == TOKENIZER:
            component["lexicon_path"] = str(lexicon)
    copy = folder / config.name
    copy.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return copy


def train(
    config: Path,
    data: Sequence[Path],
    target: Path,
    domain: Path = DOMAIN_FILE,
    on_progress: Progress | None = None,
    nlu_only: bool = False,
) -> Path:
    """Trains on ``data`` (files or folders of Rasa data) into the model file ``target``.

    ``nlu_only`` trains the NLU pipeline alone (the NLU benchmark compares pipelines that have
    no dialogue policies); Rasa then reads one file or folder, ``data[0]``. A mistake in the
    data or config raises TrainingInputError with Rasa's own words, which name the file and line.
    """
    from rasa.model_training import train as rasa_train  # heavy import, only when training
    from rasa.model_training import train_nlu
    from rasa.shared.exceptions import RasaException

    report = on_progress or (lambda fraction, stage: None)
    started = time.monotonic()
    arguments = {
        "config": str(config), "domain": str(domain), "output": str(target.parent),
        "fixed_model_name": target.name.removesuffix(".tar.gz"),
    }  # fmt: skip
    report(1.0, "prepare")
    try:
        with _nodes_reported(report), warnings.catch_warnings():
            # Rasa's recipe validator looks for its own ResponseSelector by class; config.yml picks FAQ
            # answers with bot.nlu.linear_selector.LinearResponseSelector, so the warning is not true here
            warnings.filterwarnings("ignore", message=".*does not include a response selector component")
            if nlu_only:
                model = train_nlu(nlu_data=str(data[0]), **arguments)
            else:
                result = rasa_train(training_files=[str(p) for p in data], **arguments)
                model = result.model if result.code == 0 else None
    except (RasaException, LexiconError, ValueError) as error:
        # Rasa's own validators name the file and line; that is what an editor needs
        raise TrainingInputError(f"{type(error).__name__}: {error}") from error
    if not model:
        raise RuntimeError("Training failed; see the log above.")
    report(1.0, "train")
    logger.info("Trained %s in %.0f s", target.name, time.monotonic() - started)
    return target


@contextmanager
def _nodes_reported(report: Progress) -> Iterator[None]:
    """While Rasa trains, each finished node of its training graph is reported as a fraction of them all.

    config.yml trains no component for epochs (no DIET, ResponseSelector or TED), so the graph's nodes
    (reading the data, each component's training and processing, each policy) are what moves the bar.
    ``GraphTrainer`` builds its ``LoggingHook`` from the pruned training schema and Rasa offers no way
    to add a hook, so for the block that name in ``graph_trainer`` is a subclass that also reports. A
    node restored from Rasa's cache finishes at once, so the fraction may jump; it ends at 1 either way.
    """
    from rasa.engine.training import graph_trainer
    from rasa.engine.training.hooks import LoggingHook

    class ReportingHook(LoggingHook):
        def __init__(self, pruned_schema: Any) -> None:
            super().__init__(pruned_schema)
            self.total = max(len(pruned_schema.nodes), 1)
            self.finished = 0

        def on_after_node(self, node_name: str, *args: Any, **kwargs: Any) -> None:
            super().on_after_node(node_name, *args, **kwargs)
            self.finished += 1
            report(min(self.finished / self.total, 1.0), "train")

    graph_trainer.LoggingHook = ReportingHook
    try:
        yield
    finally:
        graph_trainer.LoggingHook = LoggingHook


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m bot.training``: print the path of the up-to-date model."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--config", type=Path, default=CONFIG_FILE)
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="the data folder (nlu/, stories/, shop/, ...)")
    parser.add_argument("--models", type=Path, default=MODELS_DIR, help="where models are kept")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        print(ensure_model(args.data, args.models, args.config))
    except TrainingInputError as error:
        raise SystemExit(f"Cannot train: {error}") from None


if __name__ == "__main__":
    main()
