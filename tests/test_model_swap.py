"""A retrained model reaches every Rasa server that answers customers, never a split between them.

A release is live only when every replica reports the new model in ``/status``; a replica that cannot load
it puts every replica back on the old model, and the data dir and the release record stay as they were.
On the Rasa side, ``PUT /cskh/model`` loads beside the serving model: customers are answered meanwhile.
"""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from sanic import Sanic, response

from bot.admin import draft, retrain
from bot.admin.retrain import RetrainError
from bot.sandbox import free_port
from bot.settings import Settings
from connectors.operations import OperationsInput
from tests.served import served

TOKEN = "rasa-token-for-tests"


class FakeRasa:
    """A Rasa server's ``PUT /cskh/model`` and ``/status`` on a loopback port: it serves what it last loaded,
    unless it is one that cannot load (answers 500 and keeps its model)."""

    def __init__(self, serving: str, can_load: bool = True) -> None:
        self.loaded: list[str] = []
        self.serving = serving
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                assert self.path == "/cskh/model" and self.headers["Authorization"] == f"Bearer {TOKEN}"
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.loaded.append(Path(body["model_file"]).name)
                if can_load:
                    fake.serving = Path(body["model_file"]).name
                self.send_response(200 if can_load else 500)
                self.end_headers()

            def do_GET(self) -> None:
                payload = json.dumps({"model_file": fake.serving}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop(tmp_path: Path) -> Settings:
    """A shop whose live release is ``cskh-old`` and whose admin drafted an FAQ edit."""
    data, models = tmp_path / "data", tmp_path / "models"
    (data / "nlu").mkdir(parents=True)
    (data / "shop").mkdir()
    (data / "nlu" / "faq.yml").write_text('version: "3.1"\nnlu: []\n', encoding="utf-8")
    (data / "shop" / "answers.yml").write_text("answers: {}\n", encoding="utf-8")
    models.mkdir()
    (models / "cskh-old.tar.gz").write_bytes(b"old")
    settings = Settings.under(tmp_path / "var", data_dir=data, models_dir=models, rasa_token=TOKEN)
    (tmp_path / "var" / "admin").mkdir(parents=True)
    first = {
        "number": 1, "at": "2026-12-01T00:00:00+00:00", "actor": "admin", "accuracy": 0.9,
        "model": str(models / "cskh-old.tar.gz"), "snapshot": str(tmp_path / "var" / "admin" / "releases" / "1"),
    }  # fmt: skip
    (tmp_path / "var" / "admin" / "releases.json").write_text(json.dumps([first]))
    edited = draft.draft(settings)
    edited.answers_path.write_text("answers: {goi_qua: Có gói quà bạn nhé.}\n", encoding="utf-8")
    return settings


def replicas_of(shop: Settings, *fakes: FakeRasa) -> Settings:
    return Settings.under(shop.var_dir, data_dir=shop.data_dir, models_dir=shop.models_dir, rasa_token=TOKEN,
                          model_servers=tuple(f.url for f in fakes))  # fmt: skip


@pytest.fixture
def two_replicas() -> Iterator[list[FakeRasa]]:
    fakes = [FakeRasa("cskh-old.tar.gz"), FakeRasa("cskh-old.tar.gz")]
    yield fakes
    for fake in fakes:
        fake.close()


def candidate(tmp_path: Path) -> Path:
    folder = tmp_path / "workspace" / "models"
    folder.mkdir(parents=True)
    (folder / "cskh-new.tar.gz").write_bytes(b"new")
    return folder / "cskh-new.tar.gz"


def test_a_release_goes_live_on_every_replica_then_publishes(shop: Settings, two_replicas, tmp_path: Path) -> None:
    settings = replicas_of(shop, *two_replicas)
    model = retrain.deploy(candidate(tmp_path), "admin", 0.92, settings)
    assert [r.serving for r in two_replicas] == ["cskh-new.tar.gz"] * 2
    assert "goi_qua" in draft.live(settings).answers_path.read_text(encoding="utf-8")
    assert retrain.load_releases(settings)[-1]["model"] == str(model) == str(settings.models_dir / "cskh-new.tar.gz")


def test_a_replica_that_cannot_load_it_puts_every_replica_back_and_publishes_nothing(
    shop: Settings, tmp_path: Path
) -> None:
    good, broken = FakeRasa("cskh-old.tar.gz"), FakeRasa("cskh-old.tar.gz", can_load=False)
    try:
        settings = replicas_of(shop, good, broken)
        with pytest.raises(RetrainError, match=r"1/2.*HTTP 500.*vẫn dùng mô hình cũ"):
            retrain.deploy(candidate(tmp_path), "admin", 0.92, settings)
        assert good.loaded == ["cskh-new.tar.gz", "cskh-old.tar.gz"] and good.serving == "cskh-old.tar.gz"
        assert broken.serving == "cskh-old.tar.gz"
        assert "goi_qua" not in draft.live(settings).answers_path.read_text(encoding="utf-8")
        assert [r["number"] for r in retrain.load_releases(settings)] == [1]
        assert draft.has_changes(settings)  # the admin's edit waits for the next try
    finally:
        good.close()
        broken.close()


def test_a_replica_that_is_down_is_a_split_too(shop: Settings, two_replicas, tmp_path: Path) -> None:
    two_replicas[1].close()
    settings = replicas_of(shop, *two_replicas)
    with pytest.raises(RetrainError, match=r"1/2.*không chạy"):
        retrain.deploy(candidate(tmp_path), "admin", 0.92, settings)
    assert two_replicas[0].serving == "cskh-old.tar.gz"
    assert [r["number"] for r in retrain.load_releases(settings)] == [1]


def test_with_no_server_running_the_release_is_published_for_the_next_start(shop: Settings, tmp_path: Path) -> None:
    nobody = FakeRasa("cskh-old.tar.gz")
    nobody.close()
    settings = replicas_of(shop, nobody)
    retrain.deploy(candidate(tmp_path), "admin", 0.92, settings)
    assert "goi_qua" in draft.live(settings).answers_path.read_text(encoding="utf-8")
    assert Path(retrain.load_releases(settings)[-1]["model"]).name == "cskh-new.tar.gz"


class SlowAgent:
    """Rasa's agent as the route sees it: ``load_model`` holds the thread that runs it for a while."""

    def __init__(self) -> None:
        self.processor = SimpleNamespace(model_filename="cskh-old.tar.gz")

    def load_model(self, model_path: str) -> None:
        time.sleep(1.5)  # what building the new MessageProcessor costs, without releasing anything
        self.processor = SimpleNamespace(model_filename=Path(model_path).name)


@pytest.fixture
def rasa_with_operations() -> Iterator[str]:
    port = free_port()
    app = Sanic(f"rasa_operations_{port}")
    app.ctx.agent = SlowAgent()
    operations = OperationsInput(TOKEN)
    app.blueprint(operations.blueprint(lambda message: None), url_prefix=operations.url_prefix())

    @app.get("/webhooks/rest/webhook")
    async def customer(request) -> response.HTTPResponse:
        return response.json({"model": request.app.ctx.agent.processor.model_filename})

    with served(app, port):
        yield f"http://127.0.0.1:{port}"


def test_customers_are_answered_by_the_old_model_while_the_new_one_loads(
    rasa_with_operations: str, tmp_path: Path
) -> None:
    url = rasa_with_operations
    new = tmp_path / "cskh-new.tar.gz"
    new.write_bytes(b"new")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    swap = threading.Thread(
        target=lambda: requests.put(f"{url}/cskh/model", json={"model_file": str(new)}, headers=headers, timeout=30)
    )
    swap.start()
    time.sleep(0.3)
    slowest, answers = 0.0, []
    while swap.is_alive():
        started = time.monotonic()
        answers.append(requests.get(f"{url}/webhooks/rest/webhook", timeout=5).json()["model"])
        slowest = max(slowest, time.monotonic() - started)
        time.sleep(0.05)
    swap.join()
    assert answers[0] == "cskh-old.tar.gz" and slowest < 0.5, (answers, slowest)
    assert requests.get(f"{url}/webhooks/rest/webhook", timeout=5).json()["model"] == "cskh-new.tar.gz"


def test_only_the_operator_with_rasas_token_swaps_the_model(rasa_with_operations: str, tmp_path: Path) -> None:
    url = rasa_with_operations
    new = tmp_path / "cskh-new.tar.gz"
    new.write_bytes(b"new")
    body = {"model_file": str(new)}
    assert requests.put(f"{url}/cskh/model", json=body, timeout=5).status_code == 401
    wrong = {"Authorization": "Bearer guessed"}
    assert requests.put(f"{url}/cskh/model", json=body, headers=wrong, timeout=5).status_code == 403
    right = {"Authorization": f"Bearer {TOKEN}"}
    missing = {"model_file": str(tmp_path / "nowhere.tar.gz")}
    assert requests.put(f"{url}/cskh/model", json=missing, headers=right, timeout=5).status_code == 400
    assert requests.get(f"{url}/webhooks/rest/webhook", timeout=5).json()["model"] == "cskh-old.tar.gz"


def test_a_restarted_replica_serves_the_last_release_not_the_model_it_started_with(shop: Settings) -> None:
    assert retrain.released_model(shop) == shop.models_dir / "cskh-old.tar.gz"
    (shop.models_dir / "cskh-old.tar.gz").unlink()  # a release whose model was removed is not served
    assert retrain.released_model(shop) is None
