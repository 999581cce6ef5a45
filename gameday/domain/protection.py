"""The namespaces gameday never changes, whatever a spec, a runbook or an extension asks.

The service's own namespace joins them at run time (`Settings.protected_namespaces()`):
only the process knows where it runs.
"""

from __future__ import annotations

PROTECTED_NAMESPACES: frozenset[str] = frozenset({"kube-system", "kube-public", "kube-node-lease"})
