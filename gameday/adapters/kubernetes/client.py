"""Build a kubernetes ApiClient from a kubeconfig (path, KUBECONFIG, context) or in-cluster.

Kubeconfig contents and tokens never reach a message: errors name the file and context only.
"""

from __future__ import annotations

import os
from pathlib import Path

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from gameday.domain.errors import InvalidInput

_SERVICE_HOST = "KUBERNETES_SERVICE_HOST"


def _kubeconfig_path(explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    env = os.environ.get("KUBECONFIG", "")
    first = next((p for p in env.split(os.pathsep) if p), None)
    return Path(first) if first else Path.home() / ".kube" / "config"


def build_api_client(
    *, kubeconfig: Path | None = None, context: str | None = None, in_cluster: bool | None = None
) -> client.ApiClient:
    """An ApiClient for the chosen cluster.

    Rules: an explicit kubeconfig path wins, then $KUBECONFIG, then ~/.kube/config; when
    none exists and we run in a pod (KUBERNETES_SERVICE_HOST set) the service account is
    used. `in_cluster=True` forces the service account. Errors are InvalidInput naming the
    file and context, never their contents.
    """
    path = _kubeconfig_path(kubeconfig)
    if in_cluster is None:
        in_cluster = (
            kubeconfig is None
            and not os.environ.get("KUBECONFIG")
            and not path.exists()
            and bool(os.environ.get(_SERVICE_HOST))
        )
    if in_cluster:
        configuration = client.Configuration()
        try:
            config.load_incluster_config(client_configuration=configuration)
        except ConfigException as exc:
            raise InvalidInput(f"cannot use the in-cluster service account: {exc}") from None
        return client.ApiClient(configuration)
    if not path.is_file():
        raise InvalidInput(
            f"kubeconfig {path} does not exist: set GAMEDAY_KUBECONFIG or KUBECONFIG, "
            "or run inside the cluster"
        )
    try:
        contexts, active = config.list_kube_config_contexts(config_file=str(path))
    except Exception as exc:  # the library fails in many ways on a bad file; name none of it
        raise InvalidInput(
            f"kubeconfig {path} cannot be read: {type(exc).__name__} (expected a kubeconfig "
            "with contexts)"
        ) from None
    names = [c.get("name", "") for c in contexts or []]
    if context is not None and context not in names:
        raise InvalidInput(
            f"context {context!r} is not in kubeconfig {path} (known: {', '.join(names) or 'none'})"
        )
    if context is None and not active:
        raise InvalidInput(f"kubeconfig {path} has no current-context: pass --context")
    try:
        return config.new_client_from_config(config_file=str(path), context=context)
    except Exception as exc:  # the library fails in many ways on a bad file; name none of it
        # The library's messages can quote parts of the file; keep only the kind of failure.
        raise InvalidInput(
            f"kubeconfig {path} (context {context or active.get('name')!r}) cannot be used: "
            f"{type(exc).__name__}"
        ) from None
