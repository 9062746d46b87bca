"""Retrain on the admins' draft, gate on quality, swap the live model without downtime.

``python -m bot.admin.retrain`` runs one job and prints its progress; with
``--json`` each step is a JSON line on stdout (the console reads them; Rasa's
own output goes to stderr). The steps:
1. build a workspace: the data dir's training inputs with the draft FAQ in
   them, and let Rasa validate it (``rasa data validate``);
2. train a candidate model with ``bot.training`` (the one way the project
   trains), its progress reported after every epoch;
3. evaluate candidate and live model on the held-out sets (the data dir's
   eval/, which is never trained on);
4. the gate: a candidate more than ``GATE_POINTS`` below the live model is not
   deployed, and the examples it gets wrong that the live model got right are
   listed;
5. otherwise file the model in the models dir under the name ``make run``
   expects for the data once the draft is published, have every Rasa server
   load it (``PUT /cskh/model`` on each replica: each loads it while the old
   one keeps answering) and check each reports it in ``/status``; only then
   publish the draft into the data dir and record the release. A server that
   cannot load it puts every server back on the old model and publishes
   nothing. The last ``KEEP_RELEASES`` releases are kept for rollback.

Every folder comes from the settings (data dir, models dir, the var dir's
admin/ for the draft, releases and workspaces), so tests and benchmarks run a
retrain in a temporary folder and never touch the checkout.

Why the job is a process of its own while Rasa trains inside it: training loads
TensorFlow, takes minutes and can take gigabytes. The console starts the job as
a child process (bot/admin/web.py), so a crash or an out-of-memory kill
ends the job, never the desk; within the job, training is the same in-process
``bot.training`` call as ``make train``, with progress from a callback rather
than from Rasa's log.
"""

import argparse
import contextlib
import fcntl
import getpass
import hashlib
import json
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
from bot.admin.draft import admin_dir
from bot.database import project_engine
from bot.evaluation import evaluate, heldout_files, load_examples, model_parser
from bot.paths import DOMAIN_FILE, PROJECT_ROOT
from bot.settings import Settings, current_settings, inherited_environment
from bot.training import MODEL_INPUTS, TrainingInputError, ensure_model, render_responses, training_files

GATE_POINTS = 2.0
KEEP_RELEASES = 5
# Share of the bar for each stage; training takes most of the time.
STAGES = {"prepare": (0, 3), "validate": (3, 12), "train": (12, 80), "evaluate": (80, 95), "deploy": (95, 100)}
STAGE_LABELS = {
    "prepare": "Chuẩn bị dữ liệu", "validate": "Kiểm tra dữ liệu", "train": "Huấn luyện",
    "evaluate": "Đánh giá chất lượng", "deploy": "Đưa vào sử dụng",
}  # fmt: skip


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


def _releases_file(settings: Settings | None) -> Path:
    return admin_dir(settings) / "releases.json"


def _workspace(settings: Settings) -> Path:
    """The data dir's training inputs with the draft FAQ in them, ready to train on."""
    folder = admin_dir(settings) / "build" / datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    data = folder / "data"
    for name in MODEL_INPUTS:
        shutil.copytree(settings.data_dir / name, data / name)
    files = draft.draft(settings)
    shutil.copyfile(files.nlu_path, data / "nlu" / "faq.yml")
    shutil.copyfile(files.answers_path, data / "shop" / "answers.yml")
    try:
        render_responses(data)
    except TrainingInputError as error:
        raise RetrainError(f"Câu trả lời không hợp lệ: {error}") from error
    return folder


def _rasa(args: list[str]) -> str:
    """Runs a Rasa command; its output, or RetrainError with the lines that say why."""
    process = subprocess.run(
        [sys.executable, "-m", "rasa", *args], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, env=inherited_environment({"TF_CPP_MIN_LOG_LEVEL": "2"}),
    )  # fmt: skip
    lines = process.stdout.replace("\r", "\n").splitlines()
    if process.returncode != 0:
        problems = [line for line in lines if "Error" in line or "error" in line][-5:] or lines[-5:]
        raise RetrainError("Rasa báo lỗi:\n" + "\n".join(problems))
    return "\n".join(lines)


def _validate(data: Path, config: Path) -> None:
    """Rasa's own checks of the files it will train on (stories against the domain, conflicting rules)."""
    paths = [str(path) for path in training_files(data)]
    _rasa(["data", "validate", "--data", *paths, "--domain", str(DOMAIN_FILE), "--config", str(config)])


def _train(folder: Path, config: Path, report: Report) -> Path:
    """The candidate, trained by bot.training; its name is the fingerprint the data dir will have once published."""

    def on_progress(fraction: float, stage: str) -> None:
        if stage == "train":
            _report(report, "train", fraction)

    try:
        return ensure_model(folder / "data", folder / "models", config, on_progress=on_progress)
    except RuntimeError as error:  # TrainingInputError included
        raise RetrainError(f"Không huấn luyện được mô hình mới: {error}") from error


def released_model(settings: Settings) -> Path | None:
    """The last release's model, which every Rasa server serves (and loads when it restarts)."""
    releases = load_releases(settings)
    return Path(releases[-1]["model"]) if releases and Path(releases[-1]["model"]).exists() else None


def live_model(settings: Settings | None = None) -> Path:
    """The model the running bot serves: the last release, else the one `make run` trains for the data dir."""
    settings = settings or current_settings()
    return released_model(settings) or ensure_model(settings.data_dir, settings.models_dir, settings.model_config)


def load_releases(settings: Settings | None = None) -> list[dict[str, Any]]:
    path = _releases_file(settings)
    return json.loads(path.read_text()) if path.exists() else []


def _accuracy(model: Path, sets: Sequence[Path]) -> tuple[float, dict[str, str]]:
    """Held-out accuracy and each missed example's predicted label, cached beside the model for this
    version of the sets (they are not part of the model's fingerprint, so an edit must not reuse an old score)."""
    version = hashlib.sha256(b"\0".join(path.read_bytes() for path in sets)).hexdigest()[:12]
    cache = model.with_name(f"{model.name.removesuffix('.tar.gz')}.eval-{version}.json")
    if cache.exists():
        saved = json.loads(cache.read_text())
        return saved["accuracy"], saved["predictions"]
    report = evaluate(model_parser(model), load_examples(*sets))
    predictions = {text: got for text, _, got in report.misses}
    cache.write_text(json.dumps({"accuracy": report.accuracy, "predictions": predictions}, ensure_ascii=False))
    return report.accuracy, predictions


def _put_model(url: str, model: Path, settings: Settings) -> int | None:
    """Asks one Rasa server to load ``model`` (connectors/operations.py); its HTTP status, None when it is down."""
    try:
        reply = requests.put(
            f"{url}/cskh/model", headers={"Authorization": f"Bearer {settings.rasa_token}"},
            json={"model_file": str(model)}, timeout=300,
        )  # fmt: skip
    except requests.ConnectionError:
        return None
    return reply.status_code


def _serving(url: str, settings: Settings) -> str | None:
    """The model file a Rasa server reports in ``/status``."""
    try:
        reply = requests.get(f"{url}/status", params={"token": settings.rasa_token}, timeout=10)
    except requests.ConnectionError:
        return None
    return reply.json().get("model_file") if reply.status_code == 200 else None


def _swap(model: Path, settings: Settings) -> None:
    """Makes every Rasa server (each replica when scaled out) serve ``model``; done only when each reports it
    in ``/status``. Each loads it beside the old one, which answers meanwhile. With no server running at all
    there is nothing to swap: the next start serves the data dir's model, which is this one."""
    urls = settings.model_server_urls
    # one replica at a time: loading is CPU-bound, and loading on every replica at once made the slowest
    # customer wait 1.9 s instead of 0.6 s (make bench-swap, docs/BENCHMARKS.md)
    statuses = {url: _put_model(url, model, settings) for url in urls}
    if all(status is None for status in statuses.values()):
        return
    serving = {url: _serving(url, settings) for url in urls}
    behind = [url for url in urls if serving[url] != model.name]
    if behind:
        reasons = ", ".join("không chạy" if statuses[u] is None else f"HTTP {statuses[u]}" for u in behind)
        raise RetrainError(f"{len(behind)}/{len(urls)} máy chủ Rasa không nạp được mô hình mới ({reasons}).")


def _go_live(model: Path, previous: Path, settings: Settings) -> None:
    """Swaps every server to ``model``, or puts back ``previous`` on all of them: never a split."""
    try:
        _swap(model, settings)
    except RetrainError as error:
        try:
            _swap(previous, settings)
        except RetrainError:
            raise RetrainError(f"{error} Chưa trả lại được mô hình cũ trên mọi máy chủ: cần kiểm tra.") from error
        raise RetrainError(f"{error} Mọi máy chủ vẫn dùng mô hình cũ; dữ liệu chưa thay đổi.") from error


def _file_model(candidate: Path, settings: Settings) -> Path:
    """Moves the candidate (and its scores) into the models dir, under the name ``make run`` expects for the
    data dir once the draft is published: it was trained on a copy of the data dir with the draft in it."""
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    stem = candidate.name.removesuffix(".tar.gz")
    for path in [candidate, *candidate.parent.glob(f"{stem}.eval-*.json")]:
        shutil.move(path, settings.models_dir / path.name)
    return settings.models_dir / candidate.name


def _release(model: Path, actor: str, accuracy: float, settings: Settings) -> None:
    """Publishes the draft and remembers the release: only once every server serves ``model``."""
    files = draft.draft(settings)
    releases = load_releases(settings)
    number = releases[-1]["number"] + 1 if releases else 1
    snapshot = admin_dir(settings) / "releases" / str(number)
    snapshot.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(files.nlu_path, snapshot / "faq.yml")
    shutil.copyfile(files.answers_path, snapshot / "answers.yml")
    draft.publish(files, settings)
    releases.append({
        "number": number, "at": datetime.now(timezone.utc).isoformat(), "actor": actor, "model": str(model),
        "accuracy": accuracy, "snapshot": str(snapshot),
    })  # fmt: skip
    _releases_file(settings).write_text(json.dumps(releases[-KEEP_RELEASES:], ensure_ascii=False, indent=1))
    for old in releases[:-KEEP_RELEASES]:
        shutil.rmtree(old["snapshot"], ignore_errors=True)


def deploy(candidate: Path, actor: str, accuracy: float, settings: Settings) -> Path:
    """Every server onto the candidate, then the draft published and the release recorded; a failed swap
    leaves the data dir, the releases and every server as they were."""
    previous = live_model(settings)
    model = _file_model(candidate, settings)
    _go_live(model, previous, settings)
    _release(model, actor, accuracy, settings)
    return model


def rollback(number: int, actor: str, settings: Settings | None = None) -> Path:
    """Serves an earlier release again, its FAQ files included."""
    settings = settings or current_settings()
    releases = load_releases(settings)
    release = next((r for r in releases if r["number"] == number), None)
    if release is None or not Path(release["model"]).exists():
        raise RetrainError(f"Không còn bản phát hành số {number}.")
    snapshot = Path(release["snapshot"])
    _go_live(Path(release["model"]), live_model(settings), settings)
    draft.publish(draft.FaqFiles(snapshot / "faq.yml", snapshot / "answers.yml"), settings)
    draft.discard(settings)
    releases = [r for r in releases if r["number"] != number] + [release]
    _releases_file(settings).write_text(json.dumps(releases, ensure_ascii=False, indent=1))
    AuditLog(project_engine(settings)).record(actor, "rollback", f"release {number}")
    return Path(release["model"])


def retrain(actor: str, report: Report, settings: Settings) -> Outcome:
    """One whole job; never raises for the admin's mistakes (they come back as the outcome)."""
    started = time.monotonic()
    admin_dir(settings).mkdir(parents=True, exist_ok=True)
    with (admin_dir(settings) / "retrain.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return Outcome("failed", "Một lần huấn luyện khác đang chạy; bạn đợi nó xong nhé.")
        try:
            outcome = _run(actor, report, settings)
        except RetrainError as error:
            outcome = Outcome("failed", str(error))
    outcome.seconds = round(time.monotonic() - started, 1)
    AuditLog(project_engine(settings)).record(actor, f"retrain_{outcome.status}", "faq", **asdict(outcome))
    return outcome


def _run(actor: str, report: Report, settings: Settings) -> Outcome:
    if not draft.has_changes(settings):
        return Outcome("unchanged", "Không có thay đổi nào cần huấn luyện.")
    _report(report, "prepare")
    folder = _workspace(settings)
    try:
        _report(report, "validate")
        _validate(folder / "data", settings.model_config)
        _report(report, "train")
        candidate = _train(folder, settings.model_config, report)
        _report(report, "evaluate")
        sets = heldout_files(settings.data_dir)
        live_accuracy, live_predictions = _accuracy(live_model(settings), sets)
        _report(report, "evaluate", 0.5)
        accuracy, predictions = _accuracy(candidate, sets)
        worse = [
            {"text": text, "expected": label, "got": predictions[text]}
            for text, label in load_examples(*sets)
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
        model = deploy(candidate, actor, accuracy, settings)
        _report(report, "deploy", 1.0)
        return Outcome(
            "deployed", f"Đã đưa mô hình mới vào sử dụng (độ chính xác {accuracy:.1%}).",
            live_accuracy, accuracy, worse, str(model),
        )  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    """One job with this process's settings (or ``settings``); stdout carries only the job's own lines."""
    parser = argparse.ArgumentParser(description="Retrain on the FAQ draft and deploy if it passes the gate")
    parser.add_argument("--as", dest="actor", default=getpass.getuser())
    parser.add_argument("--json", action="store_true", help="progress and outcome as JSON lines")
    args = parser.parse_args(argv)
    out = sys.stdout

    def show(progress: Progress) -> None:
        if args.json:
            print(json.dumps({"event": "progress", **asdict(progress)}, ensure_ascii=False), file=out, flush=True)
        else:
            bar = "#" * (progress.percent // 4)
            print(f"\r[{bar:<25}] {progress.percent:3d}% {progress.label:<24}", end="", file=out, flush=True)

    with contextlib.redirect_stdout(sys.stderr):  # Rasa prints as it trains, in this process
        outcome = retrain(args.actor, show, settings or current_settings())
    if args.json:
        print(json.dumps({"event": "done", **asdict(outcome)}, ensure_ascii=False), flush=True)
    else:
        print(f"\n{outcome.message} ({outcome.seconds:.0f} s)")
        for item in outcome.worse[:20]:
            print(f"  - “{item['text']}”: cần {item['expected']}, mô hình mới ra {item['got']}")
    return 0 if outcome.status in ("deployed", "unchanged") else 1


if __name__ == "__main__":
    raise SystemExit(main())
