"""A retrained model reaches every Rasa server that answers customers, not the one nginx picks."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.admin.retrain import RetrainError, _swap
from bot.settings import Settings


class FakeRasa:
    """A Rasa server's ``PUT /model`` on a free loopback port: records the model it was asked to load."""

    def __init__(self, status: int = 204) -> None:
        self.loaded: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.loaded.append(body["model_file"])
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def replicas():
    servers = [FakeRasa(), FakeRasa()]
    yield servers
    for server in servers:
        server.close()


def test_every_replica_loads_the_new_model(tmp_path: Path, replicas) -> None:
    settings = Settings.under(tmp_path, model_servers=tuple(r.url for r in replicas))
    _swap(tmp_path / "cskh-new.tar.gz", settings)
    assert [r.loaded for r in replicas] == [[str(tmp_path / "cskh-new.tar.gz")]] * 2


def test_a_replica_that_cannot_load_it_is_an_error_not_a_silent_split(tmp_path: Path, replicas) -> None:
    broken = FakeRasa(status=500)
    try:
        settings = Settings.under(tmp_path, model_servers=(replicas[0].url, broken.url))
        with pytest.raises(RetrainError, match="1/2"):
            _swap(tmp_path / "cskh-new.tar.gz", settings)
    finally:
        broken.close()
