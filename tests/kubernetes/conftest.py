"""Fixtures of the Kubernetes adapter tests: the fake API server and clients of it."""

from __future__ import annotations

import pytest
from kubernetes import client

from gameday.adapters.kubernetes.cluster import KubeCluster
from tests.fakes.kube_fixtures import kube_api, kube_client

__all__ = ["kube_api", "kube_client"]


@pytest.fixture
def live_cluster(kube_client: client.ApiClient) -> KubeCluster:
    """A cluster adapter allowed to terminate pods, with small pages."""
    return KubeCluster(kube_client, read_only=False, page_size=3)


@pytest.fixture
def read_only_cluster(kube_client: client.ApiClient) -> KubeCluster:
    """A cluster adapter built for a dry run."""
    return KubeCluster(kube_client, read_only=True, page_size=3)
