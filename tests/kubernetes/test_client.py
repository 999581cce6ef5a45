"""Building the client from a kubeconfig: explicit path, KUBECONFIG, context; no secrets shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client

from gameday.adapters.kubernetes.client import build_api_client
from gameday.adapters.kubernetes.cluster import KubeCluster
from gameday.domain.errors import InvalidInput
from gameday.settings import Settings
from tests.fakes import kube_objects as ko
from tests.fakes.kube_api import FakeKubeApi

TOKEN = "s3cr3t-token-value"


@pytest.fixture
def kubeconfig(tmp_path: Path, kube_api: FakeKubeApi) -> Path:
    kube_api.put(ko.pod("shop", "a"))
    return ko.write_kubeconfig(tmp_path / "config", kube_api.url, context="fake", token=TOKEN)


def _names(api_client: client.ApiClient) -> list[str]:
    return [p.name for p in KubeCluster(api_client).pods("shop", None)]


def test_explicit_path_and_context(kubeconfig: Path, kube_api: FakeKubeApi) -> None:
    api_client = build_api_client(kubeconfig=kubeconfig, context="fake")

    assert _names(api_client) == ["a"]
    assert api_client.configuration.host == kube_api.url


def test_kubeconfig_environment_variable(kubeconfig: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", f"{kubeconfig}:{kubeconfig.parent / 'other'}")
    monkeypatch.setenv("KUBERNETES_CONTEXT", "fake")
    settings = Settings()

    api_client = build_api_client(kubeconfig=settings.kubeconfig, context=settings.kube_context)
    assert _names(api_client) == ["a"]


def test_unknown_context_names_the_known_ones_and_no_secret(kubeconfig: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        build_api_client(kubeconfig=kubeconfig, context="prod")

    assert str(caught.value) == f"context 'prod' is not in kubeconfig {kubeconfig} (known: fake)"
    assert TOKEN not in str(caught.value)


def test_missing_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        build_api_client(kubeconfig=tmp_path / "nope")


def test_broken_file_does_not_echo_its_contents(tmp_path: Path) -> None:
    broken = tmp_path / "config"
    broken.write_text(f"users: [{{name: x, user: {{token: {TOKEN}}}}}]\ncontexts: 7\n")

    with pytest.raises(InvalidInput) as caught:
        build_api_client(kubeconfig=broken)

    assert TOKEN not in str(caught.value)
    assert str(broken) in str(caught.value)


def test_in_cluster_without_a_service_account_is_invalid_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)

    with pytest.raises(InvalidInput, match="in-cluster service account"):
        build_api_client(in_cluster=True)
