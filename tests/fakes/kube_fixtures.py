"""pytest fixtures for the fake Kubernetes API server; import them in a conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from tests.fakes.kube_api import FakeKubeApi


@pytest.fixture
def kube_api() -> Iterator[FakeKubeApi]:
    """A running fake API server, stopped after the test."""
    api = FakeKubeApi().start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def kube_client(kube_api: FakeKubeApi) -> Iterator[client.ApiClient]:
    """The real kubernetes ApiClient pointed at the fake server."""
    api_client = client.ApiClient(client.Configuration(host=kube_api.url))
    try:
        yield api_client
    finally:
        api_client.close()
