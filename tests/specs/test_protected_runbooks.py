"""A runbook naming a protected namespace in its arguments is an error: which arguments count,
which do not, and the service's own namespace added at run time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gameday.adapters.specfiles.folder import FolderSpecSource
from gameday.domain.protection import PROTECTED_NAMESPACES
from gameday.domain.runbook_namespaces import protected_namespace_uses
from gameday.services.catalog import build_catalog
from tests.support import noop_runbook


def python(**arguments: Any) -> dict[str, Any]:
    return {"type": "python", "module": "m", "func": "f", "arguments": arguments}


def process(arguments: Any) -> dict[str, Any]:
    return {"type": "process", "path": "kubectl", "arguments": arguments}


def action(provider: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "action", "name": "a", "provider": provider, **extra}


@pytest.mark.parametrize(
    ("experiment", "paths"),
    [
        ({"method": [action(python(ns="kube-system"))]}, ["method[0].provider.arguments.ns"]),
        (
            {"method": [action(python(namespace="kube-public"))]},
            ["method[0].provider.arguments.namespace"],
        ),
        (
            {"rollbacks": [action(python(namespaces=["a", "kube-node-lease"]))]},
            ["rollbacks[0].provider.arguments.namespaces[1]"],
        ),
        (
            {"steady-state-hypothesis": {"probes": [action(process("get pods -n kube-system"))]}},
            ["steady-state-hypothesis.probes[0].provider.arguments"],
        ),
        (
            {"method": [action(process(["get", "pods", "--namespace", "kube-system"]))]},
            ["method[0].provider.arguments[3]"],
        ),
        (
            {"method": [action(process("delete pod x --namespace=kube-system;"))]},
            ["method[0].provider.arguments"],
        ),
        ({"method": [action(process("get pods -nkube-system"))]}, ["method[0].provider.arguments"]),
        (
            {"method": [action(process({"-n": "kube-system"}))]},
            ["method[0].provider.arguments.-n"],
        ),
        (
            {"controls": [{"name": "c", "provider": python(ns="kube-system")}]},
            ["controls[0].provider.arguments.ns"],
        ),
        (
            {
                "steady-state-hypothesis": {
                    "controls": [{"name": "c", "provider": python(ns="kube-system")}]
                }
            },
            ["steady-state-hypothesis.controls[0].provider.arguments.ns"],
        ),
        (
            {
                "method": [
                    action(
                        python(ns="shop"),
                        controls=[{"name": "c", "provider": python(ns="kube-system")}],
                    )
                ]
            },
            ["method[0].controls[0].provider.arguments.ns"],
        ),
        (
            {"configuration": {"n": "kube-system"}, "method": [action(python(ns="${n}"))]},
            ["method[0].provider.arguments.ns"],
        ),
        (
            {"configuration": {"n": "kube-system"}, "method": [action(process(["-n", "${n}"]))]},
            ["method[0].provider.arguments[1]"],
        ),
        # Not literal, not a namespace argument, or not protected: left to the request guard.
        (
            {
                "configuration": {"n": {"type": "env", "key": "NS"}},
                "method": [action(python(ns="${n}"))],
            },
            [],
        ),
        ({"method": [action(python(ns="shop", label_selector="ns=kube-system"))]}, []),
        ({"method": [action(process("get pods -n shop kube-system"))]}, []),
        ({"method": [action(process("get pods -n"))]}, []),
        ({"method": [action(process("echo 'unbalanced"))]}, []),
        ({"method": ["a-reference", {"ref": "a"}]}, []),
        (
            {"method": [action({"type": "http", "url": "http://x/kube-system", "arguments": {}})]},
            [],
        ),
        ({"method": "not a list", "controls": {"x": 1}}, []),
    ],
)
def test_which_arguments_name_a_protected_namespace(
    experiment: dict[str, Any], paths: list[str]
) -> None:
    uses = protected_namespace_uses(experiment, PROTECTED_NAMESPACES)
    assert [message.split(": ", 1)[0] for _, message in uses] == paths


def test_the_service_adds_its_own_namespace(
    make_home: Callable[[dict[str, str | bytes]], Path],
) -> None:
    runbook = noop_runbook().replace(
        "method: []\n",
        "method:\n  - type: action\n    name: act\n    provider:\n      type: python\n"
        "      module: chaosk8s.pod.actions\n      func: terminate_pods\n"
        "      arguments:\n        ns: gameday\n",
    )
    source = FolderSpecSource(make_home({"runbooks/r.yaml": runbook}))

    default = build_catalog(source)
    own = build_catalog(source, protected=PROTECTED_NAMESPACES | {"gameday"})

    assert default.errors == []
    assert "r" in default.catalog.runbooks
    assert [str(e) for e in own.errors] == [
        "runbooks/r.yaml:20:13: method[0].provider.arguments.ns: namespace 'gameday' is "
        "protected: gameday never changes it"
    ]
    assert "r" not in own.catalog.runbooks
