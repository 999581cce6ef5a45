"""Every knob of the service, each a GAMEDAY_* environment variable (pydantic-settings)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from gameday.domain.protection import PROTECTED_NAMESPACES as PROTECTED_NAMESPACES


class Settings(BaseSettings):
    """Service configuration; secrets are SecretStr so they never print by accident."""

    model_config = SettingsConfigDict(env_prefix="GAMEDAY_", extra="ignore", populate_by_name=True)

    home: Path = Field(default_factory=Path.cwd, description="folder with runbooks/ and schedules/")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<home>/gameday.db"
    )
    live: bool = Field(default=False, description="send mutating requests; dry run otherwise")
    timezone: str = Field(default="UTC", description="zone used to show times to people")

    # Kubernetes. One rule chooses the cluster for the service and for every runbook (the
    # worker passes it on to Chaos Toolkit extensions): GAMEDAY_KUBECONFIG, else the first
    # file of KUBECONFIG, else ~/.kube/config; the context GAMEDAY_KUBE_CONTEXT, else
    # KUBERNETES_CONTEXT (Chaos Toolkit's name), else the file's current one; with no file
    # at all, inside a pod, the pod's service account.
    kubeconfig: Annotated[Path | None, NoDecode] = Field(
        default=None,
        validation_alias=AliasChoices("GAMEDAY_KUBECONFIG", "KUBECONFIG"),
        description="kubeconfig file (also read from KUBECONFIG)",
    )
    kube_context: str | None = Field(
        default=None,
        validation_alias=AliasChoices("GAMEDAY_KUBE_CONTEXT", "KUBERNETES_CONTEXT"),
        description="kubeconfig context (also read from KUBERNETES_CONTEXT)",
    )
    kubernetes_service_host: str | None = Field(
        default=None,
        validation_alias="KUBERNETES_SERVICE_HOST",
        description="set by Kubernetes inside a pod: the service account may be used",
    )
    namespace: str = Field(default="gameday", description="the service's own namespace")
    pod_name: str | None = Field(default=None, description="this replica's pod, never a target")
    target_namespaces: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="the only namespaces chaos may change (comma-separated); empty: any "
        "namespace that is not protected",
    )
    allow_cluster_scoped: bool = Field(
        default=False,
        description="let runbooks send mutating requests to cluster-scoped objects (nodes); "
        "refused otherwise",
    )

    # Chaos Toolkit
    chaostoolkit_settings: Path | None = Field(
        default=None,
        description="Chaos Toolkit settings file (controls, auths); "
        "default ~/.chaostoolkit/settings.yaml",
    )

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None
    default_channel: str = "#gameday"
    slack_operators: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="who may /gameday run, resume, pause and unpause: Slack user ids (U…, W…) "
        "and user group ids (S…), comma-separated; empty: every approver the specs name",
    )

    # HTTP server
    host: str = "127.0.0.1"
    port: int = 8080
    halt_token: SecretStr | None = Field(
        default=None, description="bearer token for POST /halt; the endpoint is off without it"
    )
    web_token: SecretStr | None = Field(
        default=None,
        description="token every web page and the calendar feed require (bearer header or "
        "?token=); pages are open without it",
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="bearer token /metrics requires; open without it"
    )
    alerts_token: SecretStr | None = Field(
        default=None,
        description="bearer token POST /alerts (Alertmanager's webhook) requires; open without "
        "it (it can only record alerts on running drills)",
    )
    public_url: str | None = Field(
        default=None,
        description="the service's address as people reach it (https://gameday.example.com); "
        "Slack messages link to run pages when set",
    )

    # The service (`gameday serve`)
    leader_election: Literal["auto", "kubernetes", "postgres", "sqlite"] = Field(
        default="auto",
        description="auto: a Lease in a cluster, an advisory lock on PostgreSQL, else a file lock",
    )
    lease_duration: int = Field(default=15, ge=2, description="seconds a leader's Lease lasts")
    leader_retry: float = Field(default=2.0, gt=0, description="seconds between election tries")
    shutdown_grace: float = Field(
        default=30.0, ge=0, description="seconds running runs get to finish on SIGTERM"
    )
    fire_tolerance: float = Field(
        default=30.0, gt=0, description="seconds a job may fire late before its run is skipped"
    )
    plan_horizon_hours: int = Field(default=48, ge=1, le=24 * 366)
    plan_refresh: float = Field(default=60.0, gt=0, description="seconds between re-plans")

    # The warm launcher of `gameday run` and `gameday validate` (gameday.launcher). Read
    # from the environment by the `gameday` command before anything else loads; here so
    # that they are documented and checked with the rest.
    warm_runs: bool = Field(
        default=True,
        description="hand `gameday run`/`validate` to a warm launcher (started by the first "
        "run, gone after 10 idle minutes); false: every command starts cold",
    )
    runtime_dir: Path | None = Field(
        default=None,
        description="folder of the launcher's socket (private to the user); "
        "default $XDG_RUNTIME_DIR/gameday, else $TMPDIR (or /tmp)/gameday-<uid>",
    )

    @field_validator("target_namespaces", mode="before")
    @classmethod
    def _split_namespaces(cls, value: Any) -> Any:
        # One variable, comma-separated, as people write it: GAMEDAY_TARGET_NAMESPACES=a,b
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("slack_operators", mode="before")
    @classmethod
    def _split_operators(cls, value: Any) -> Any:
        # Comma-separated like target_namespaces; ids only, since Slack sends ids, never
        # names: a name here would match nobody and lock everyone out unnoticed.
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for item in value if isinstance(value, list) else []:
            if not re.fullmatch(r"[UWS][A-Z0-9]{2,}", str(item)):
                raise ValueError(f"{item!r} is not a Slack user (U…, W…) or user group (S…) id")
        return value

    @field_validator("kubeconfig", mode="before")
    @classmethod
    def _first_kubeconfig(cls, value: Any) -> Any:
        # KUBECONFIG may list several files; like kubectl's loaders, use the first.
        if isinstance(value, str):
            first = next((part for part in value.split(os.pathsep) if part.strip()), None)
            return Path(first).expanduser() if first else None
        return value

    @property
    def in_cluster(self) -> bool:
        """True inside a Kubernetes pod (its service account may be used)."""
        return bool(self.kubernetes_service_host)

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to an embedded SQLite file in the home folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'gameday.db').resolve()}"

    def protected_namespaces(self) -> frozenset[str]:
        """Namespaces never touched whatever a spec says, including our own."""
        return PROTECTED_NAMESPACES | {self.namespace}

    def target_namespace_set(self) -> frozenset[str] | None:
        """The only namespaces chaos may change, or None when any unprotected one may be."""
        return frozenset(self.target_namespaces) or None


def process_environment() -> Mapping[str, str]:
    """The process environment, for what must pass it on whole (a worker process's
    environment, a runbook's `env` secrets to mask). This module is the one place that
    reads it; everything else gets what it needs from here."""
    return os.environ
