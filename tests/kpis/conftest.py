import json

import pytest
from fastapi.testclient import TestClient

from lotline.api.app import create_app
from lotline.cli import main


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def cli(connection, capsys, monkeypatch):
    """Run `lotline ARGS...` in-process inside the test transaction; returns code, stdout, stderr."""
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def client(connection):
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c
