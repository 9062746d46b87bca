"""Train once per change: models are cached under a hash of what shapes them.

The fingerprint covers the pipeline config, the domain, all training data
(including the shop policy and lexicon) and the project's NLU code, so editing
any of them retrains and nothing else does. A file lock keeps two processes
(say ``make run`` and ``make test``) from training the same model at once.
"""

import argparse
import fcntl
import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from bot.paths import (
    CONFIG_FILE,
    DATA_DIR,
    DOMAIN_FILE,
    GENERATED_RESPONSES,
    MODELS_DIR,
    PROJECT_ROOT,
)
from bot.shop_policy import PolicyError, write_responses
from bot.text.lexicon import LexiconError

logger = logging.getLogger(__name__)


class TrainingInputError(RuntimeError):
    """The data or config cannot be trained on; the message says which file and why."""


CODE_DIRS = (PROJECT_ROOT / "bot" / "nlu", PROJECT_ROOT / "bot" / "text")


def _files(paths: Iterable[Path]) -> Iterable[Path]:
    for path in paths:
        if path.is_dir():
            yield from (
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix in {".yml", ".yaml", ".py", ".json"} and "__pycache__" not in p.parts
            )
        elif path.is_file():
            yield path


def fingerprint(
    config: Path = CONFIG_FILE,
    data: Sequence[Path] = (DATA_DIR,),
    domain: Path = DOMAIN_FILE,
) -> str:
    """A hash of everything that changes the trained model."""
    digest = hashlib.sha256()
    for path in _files([config, domain, *data, *CODE_DIRS]):
        if path == GENERATED_RESPONSES:
            continue  # derived from data/shop, which is hashed itself
        name = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
        digest.update(str(name).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def ensure_model(
    config: Path = CONFIG_FILE,
    data: Sequence[Path] = (DATA_DIR,),
    output: Path = MODELS_DIR,
    name: str = "cskh",
) -> Path:
    """The trained model for the current inputs, training it only if missing."""
    try:
        write_responses()
    except (PolicyError, OSError) as error:
        raise TrainingInputError(str(error)) from error
    target = output / f"{name}-{fingerprint(config, data)}.tar.gz"
    if target.exists():
        return target
    output.mkdir(parents=True, exist_ok=True)
    with (output / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            _train(config, data, output, target.name.removesuffix(".tar.gz"))
    return target


def _train(config: Path, data: Sequence[Path], output: Path, model_name: str) -> None:
    from rasa.model_training import train  # heavy import, only when training
    from rasa.shared.exceptions import RasaException

    started = time.monotonic()
    try:
        result = train(
            domain=str(DOMAIN_FILE),
            config=str(config),
            training_files=[str(p) for p in data],
            output=str(output),
            fixed_model_name=model_name,
        )
    except (RasaException, LexiconError, ValueError) as error:
        # Rasa's own validators name the file and line; that is what an editor needs
        raise TrainingInputError(f"{type(error).__name__}: {error}") from error
    if result.code != 0 or not result.model:
        raise RuntimeError(f"Training failed (code {result.code}); see the log above.")
    logger.info("Trained %s in %.0f s", model_name, time.monotonic() - started)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m bot.training``: print the path of the up-to-date model."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--config", type=Path, default=CONFIG_FILE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        print(ensure_model(args.config))
    except TrainingInputError as error:
        raise SystemExit(f"Cannot train: {error}") from None


if __name__ == "__main__":
    main()
