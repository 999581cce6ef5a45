"""Build a kubernetes ApiClient from a kubeconfig (path, context) or in-cluster.

Kubeconfig contents and tokens never reach a message: errors name the file and context only.
"""

from __future__ import annotations

from pathlib import Path

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from gameday.domain.errors import InvalidInput

DEFAULT_KUBECONFIG = Path("~/.kube/config")


def build_api_client(
    *, kubeconfig: Path | None = None, context: str | None = None, in_cluster: bool = False
) -> client.ApiClient:
    """An ApiClient for the chosen cluster (the settings' rule, see gameday.settings).

    Rules: the kubeconfig given, else ~/.kube/config; when there is no such file and we
    run in a pod (`in_cluster`), the pod's service account. Errors are InvalidInput naming
    the file and context, never their contents.
    """
    path = (kubeconfig or DEFAULT_KUBECONFIG).expanduser()
    if in_cluster and kubeconfig is None and not path.exists():
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
