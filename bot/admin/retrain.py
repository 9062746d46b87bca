"""Retrain on the admins' draft, gate on quality, swap the live model without downtime.

``python -m bot.admin.retrain`` runs one job and prints its progress; with
``--json`` each step is a JSON line (the console reads them). The steps:
1. build a training folder from data/ with the draft FAQ in it, and let Rasa
   validate it (``rasa data validate``);
2. train a candidate model (``rasa train``; progress from its epoch bars);
3. evaluate candidate and live model on the held-out set (tests/data);
4. the gate: a candidate more than ``GATE_POINTS`` below the live model is not
   deployed, and the examples it gets wrong that the live model got right are
   listed;
5. otherwise publish the draft into data/, keep the model under the name
   ``make run`` expects for that data, and ``PUT /model`` on the running Rasa
   server, which loads it while the old one keeps answering. The last
   ``KEEP_RELEASES`` releases are kept for rollback.
"""

import argparse
import fcntl
import getpass
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

from bot.admin import draft
from bot.admin.audit import AuditLog
from bot.database import database_url, engine_for
from bot.evaluation import evaluate, load_examples, model_parser
from bot.paths import CONFIG_FILE, DATA_DIR, DOMAIN_FILE, MODELS_DIR, PROJECT_ROOT, VAR_DIR
from bot.settings import current_settings, inherited_environment
from bot.shop_policy import PolicyError, write_responses
from bot.training import fingerprint

ADMIN_DIR = VAR_DIR / "admin"
RELEASES_FILE = ADMIN_DIR / "releases.json"
HELDOUT = sorted((PROJECT_ROOT / "tests" / "data").glob("nlu_heldout_*.yml"))
GATE_POINTS = 2.0
KEEP_RELEASES = 5
# Share of the bar for each stage; training takes most of the time.
STAGES = {"prepare": (0, 3), "validate": (3, 12), "train": (12, 80), "evaluate": (80, 95), "deploy": (95, 100)}
STAGE_LABELS = {
    "prepare": "Chuẩn bị dữ liệu", "validate": "Kiểm tra dữ liệu", "train": "Huấn luyện",
    "evaluate": "Đánh giá chất lượng", "deploy": "Đưa vào sử dụng",
}  # fmt: skip
EPOCHS = re.compile(r"Epochs:\s+(\d+)%")
COMPONENT = re.compile(r"(DIETClassifier|ResponseSelector)")


@dataclass
class Progress:
    stage: str
    percent: int
    label: str


@dataclass
class Outcome:
    status: str  # deployed | rejected | failed | unchanged
    message: str
    live_accuracy: float | None = None
    candidate_accuracy: float | None = None
    worse: list[dict[str, str]] = field(default_factory=list)
    model: str | None = None
    seconds: float = 0.0


Report = Callable[[Progress], None]


class RetrainError(RuntimeError):
    """A step failed; the message is for the admin."""


def _report(report: Report, stage: str, fraction: float = 0.0) -> None:
    low, high = STAGES[stage]
    report(Progress(stage, int(low + (high - low) * min(max(fraction, 0.0), 1.0)), STAGE_LABELS[stage]))


def _workspace() -> Path:
    """data/ with the draft FAQ in it, ready to train on."""
    folder = ADMIN_DIR / "build" / datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    shutil.copytree(DATA_DIR, folder / "data", ignore=shutil.ignore_patterns("responses"))
    files = draft.draft()
    shutil.copyfile(files.nlu_path, folder / "data" / "nlu" / "faq.yml")
    shutil.copyfile(files.answers_path, folder / "data" / "shop" / "answers.yml")
    try:
        write_responses(folder / "data" / "shop", folder / "data" / "responses" / "faq.yml")
    except PolicyError as error:
        raise RetrainError(f"Câu trả lời không hợp lệ: {error}") from error
    return folder


def _rasa(args: list[str], on_line: Callable[[str], None] | None = None) -> str:
    """Runs a Rasa command; its output, or RetrainError with the lines that say why."""
    process = subprocess.Popen(
        [sys.executable, "-m", "rasa", *args], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, env=inherited_environment({"TF_CPP_MIN_LOG_LEVEL": "2"}),
    )  # fmt: skip
    lines = []
    for raw in process.stdout:
        for line in raw.replace("\r", "\n").splitlines():
            lines.append(line)
            if on_line:
                on_line(line)
    if process.wait() != 0:
        problems = [line for line in lines if "Error" in line or "error" in line][-5:] or lines[-5:]
        raise RetrainError("Rasa báo lỗi:\n" + "\n".join(problems))
    return "\n".join(lines)


def _train(folder: Path, report: Report) -> Path:
    shares = {"DIETClassifier": (0.0, 0.5), "ResponseSelector": (0.5, 1.0)}
    current = {"share": shares["DIETClassifier"]}  # Rasa trains the NLU first

    def on_line(line: str) -> None:
        if found := COMPONENT.search(line):
            current["share"] = shares[found.group(1)]
        if found := EPOCHS.search(line):
            low, high = current["share"]
            _report(report, "train", low + (high - low) * int(found.group(1)) / 100)

    _rasa(
        ["train", "--data", str(folder / "data"), "--config", str(CONFIG_FILE), "--domain", str(DOMAIN_FILE),
         "--out", str(folder / "models"), "--fixed-model-name", "candidate"],
        on_line,
    )  # fmt: skip
    return folder / "models" / "candidate.tar.gz"


def live_model() -> Path:
    """The model the running bot serves: the last release, else the one `make run` trains for data/."""
    releases = load_releases()
    if releases:
        return Path(releases[-1]["model"])
    return MODELS_DIR / f"cskh-{fingerprint()}.tar.gz"


def load_releases() -> list[dict[str, Any]]:
    return json.loads(RELEASES_FILE.read_text()) if RELEASES_FILE.exists() else []


def _accuracy(model: Path) -> tuple[float, dict[str, str]]:
    """Held-out accuracy and each example's predicted label (cached next to the model)."""
    cache = model.with_suffix(".eval.json")
    if cache.exists():
        saved = json.loads(cache.read_text())
        return saved["accuracy"], saved["predictions"]
    report = evaluate(model_parser(model), load_examples(*HELDOUT))
    predictions = {text: got for text, _, got in report.misses}
    cache.write_text(json.dumps({"accuracy": report.accuracy, "predictions": predictions}, ensure_ascii=False))
    return report.accuracy, predictions


def _swap(model: Path) -> None:
    """Asks the running Rasa server to load ``model``; it answers with the old one meanwhile."""
    settings = current_settings()
    try:
        reply = requests.put(
            f"{settings.rasa_url}/model", params={"token": settings.rasa_token},
            json={"model_file": str(model)}, timeout=300,
        )  # fmt: skip
    except requests.ConnectionError:
        return  # no server running: `make run` will serve it (it matches data/ now)
    if reply.status_code != 204:
        raise RetrainError(f"Rasa không nạp được mô hình mới (HTTP {reply.status_code}).")


def _release(model: Path, actor: str, accuracy: float) -> Path:
    """Publishes the draft, files the model under data/'s fingerprint and remembers the release."""
    files = draft.draft()
    number = (load_releases()[-1]["number"] + 1) if load_releases() else 1
    snapshot = ADMIN_DIR / "releases" / str(number)
    snapshot.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(files.nlu_path, snapshot / "faq.yml")
    shutil.copyfile(files.answers_path, snapshot / "answers.yml")
    draft.publish(files)
    target = MODELS_DIR / f"cskh-{fingerprint()}.tar.gz"
    shutil.copyfile(model, target)
    releases = [*load_releases(), {
        "number": number, "at": datetime.now(timezone.utc).isoformat(), "actor": actor, "model": str(target),
        "accuracy": accuracy, "snapshot": str(snapshot),
    }]  # fmt: skip
    RELEASES_FILE.write_text(json.dumps(releases[-KEEP_RELEASES:], ensure_ascii=False, indent=1))
    for old in releases[:-KEEP_RELEASES]:
        shutil.rmtree(old["snapshot"], ignore_errors=True)
    return target


def rollback(number: int, actor: str) -> Path:
    """Serves an earlier release again, its FAQ files included."""
    release = next((r for r in load_releases() if r["number"] == number), None)
    if release is None or not Path(release["model"]).exists():
        raise RetrainError(f"Không còn bản phát hành số {number}.")
    snapshot = Path(release["snapshot"])
    draft.publish(draft.FaqFiles(snapshot / "faq.yml", snapshot / "answers.yml"))
    draft.discard()
    _swap(Path(release["model"]))
    releases = [r for r in load_releases() if r["number"] != number] + [release]
    RELEASES_FILE.write_text(json.dumps(releases, ensure_ascii=False, indent=1))
    AuditLog(engine_for(database_url())).record(actor, "rollback", f"release {number}")
    return Path(release["model"])


def retrain(actor: str, report: Report) -> Outcome:
    """One whole job; never raises for the admin's mistakes (they come back as the outcome)."""
    started = time.monotonic()
    ADMIN_DIR.mkdir(parents=True, exist_ok=True)
    with (ADMIN_DIR / "retrain.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return Outcome("failed", "Một lần huấn luyện khác đang chạy; bạn đợi nó xong nhé.")
        try:
            outcome = _run(actor, report)
        except RetrainError as error:
            outcome = Outcome("failed", str(error))
    outcome.seconds = round(time.monotonic() - started, 1)
    AuditLog(engine_for(database_url())).record(actor, f"retrain_{outcome.status}", "faq", **asdict(outcome))
    return outcome


def _run(actor: str, report: Report) -> Outcome:
    if not draft.has_changes():
        return Outcome("unchanged", "Không có thay đổi nào cần huấn luyện.")
    _report(report, "prepare")
    folder = _workspace()
    try:
        _report(report, "validate")
        _rasa(["data", "validate", "--data", str(folder / "data"), "--domain", str(DOMAIN_FILE),
               "--config", str(CONFIG_FILE)])  # fmt: skip
        _report(report, "train")
        candidate = _train(folder, report)
        _report(report, "evaluate")
        live_accuracy, live_predictions = _accuracy(live_model())
        _report(report, "evaluate", 0.5)
        accuracy, predictions = _accuracy(candidate)
        worse = [
            {"text": text, "expected": label, "got": predictions[text]}
            for text, label in load_examples(*HELDOUT)
            if text in predictions and text not in live_predictions
        ]
        if accuracy * 100 < live_accuracy * 100 - GATE_POINTS:
            return Outcome(
                "rejected",
                f"Mô hình mới đạt {accuracy:.1%}, thấp hơn mô hình đang chạy ({live_accuracy:.1%}) quá "
                f"{GATE_POINTS:.0f} điểm nên chưa được đưa vào sử dụng. Các câu bị trả lời sai thêm ở dưới.",
                live_accuracy, accuracy, worse,
            )  # fmt: skip
        _report(report, "deploy")
        model = _release(candidate, actor, accuracy)
        _swap(model)
        _report(report, "deploy", 1.0)
        return Outcome(
            "deployed", f"Đã đưa mô hình mới vào sử dụng (độ chính xác {accuracy:.1%}).",
            live_accuracy, accuracy, worse, str(model),
        )  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Retrain on the FAQ draft and deploy if it passes the gate")
    parser.add_argument("--as", dest="actor", default=getpass.getuser())
    parser.add_argument("--json", action="store_true", help="progress and outcome as JSON lines")
    args = parser.parse_args(argv)

    def show(progress: Progress) -> None:
        if args.json:
            print(json.dumps({"event": "progress", **asdict(progress)}, ensure_ascii=False), flush=True)
        else:
            bar = "#" * (progress.percent // 4)
            print(f"\r[{bar:<25}] {progress.percent:3d}% {progress.label:<24}", end="", flush=True)

    outcome = retrain(args.actor, show)
    if args.json:
        print(json.dumps({"event": "done", **asdict(outcome)}, ensure_ascii=False), flush=True)
    else:
        print(f"\n{outcome.message} ({outcome.seconds:.0f} s)")
        for item in outcome.worse[:20]:
            print(f"  - “{item['text']}”: cần {item['expected']}, mô hình mới ra {item['got']}")
    return 0 if outcome.status in ("deployed", "unchanged") else 1


if __name__ == "__main__":
    raise SystemExit(main())
