import pytest
from fastapi.testclient import TestClient

from lotline.api.app import create_app


@pytest.fixture
def client(connection):
    """The HTTP API in-process; requests run inside the test's outer transaction."""
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c
