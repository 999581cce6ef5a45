"""Leader election on a Kubernetes `Lease` (coordination.k8s.io/v1), as client-go does it:
the holder renews `renewTime` well within `leaseDurationSeconds`; anyone may take a lease
whose renewal is older than its duration; every write carries the resourceVersion it read,
so of two replicas racing for an expired lease exactly one wins (the other gets 409).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from gameday.domain.ports import Clock

log = logging.getLogger("gameday.leader")

DEFAULT_LEASE_SECONDS = 15


class KubernetesLease:
    """One replica's view of the shared Lease object."""

    mode = "kubernetes-lease"

    def __init__(
        self,
        api: client.CoordinationV1Api,
        *,
        name: str,
        namespace: str,
        identity: str,
        clock: Clock,
        duration_seconds: int = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self._api = api
        self.name = name
        self.namespace = namespace
        self.identity = identity
        self._clock = clock
        self.duration_seconds = duration_seconds

    def try_acquire(self) -> bool:
        """Create the Lease, or take it over if it is free or expired; True if ours."""
        now = self._clock.now()
        try:
            lease = self._api.read_namespaced_lease(self.name, self.namespace)
        except ApiException as exc:
            if exc.status != 404:
                log.warning("lease %s/%s unreadable: %s", self.namespace, self.name, exc.status)
                return False
            return self._create(now)
        spec = lease.spec or client.V1LeaseSpec()
        holder = spec.holder_identity
        if holder and holder != self.identity and not self._expired(spec, now):
            return False
        transitions = spec.lease_transitions or 0
        if holder != self.identity:
            transitions += 1
            spec.acquire_time = now
        spec.holder_identity = self.identity
        spec.renew_time = now
        spec.lease_duration_seconds = self.duration_seconds
        spec.lease_transitions = transitions
        lease.spec = spec
        return self._replace(lease)

    def renew(self) -> bool:
        """Move renewTime forward if we still hold the Lease; False once someone else does."""
        try:
            lease = self._api.read_namespaced_lease(self.name, self.namespace)
        except ApiException as exc:
            log.warning("lease %s/%s unreadable: %s", self.namespace, self.name, exc.status)
            return False
        spec = lease.spec
        if spec is None or spec.holder_identity != self.identity:
            return False
        spec.renew_time = self._clock.now()
        return self._replace(lease)

    def release(self) -> None:
        """Hand the Lease back (empty holder, 1 s duration) so a follower takes over at once."""
        try:
            lease = self._api.read_namespaced_lease(self.name, self.namespace)
        except ApiException:
            return
        spec = lease.spec
        if spec is None or spec.holder_identity != self.identity:
            return
        spec.holder_identity = None
        spec.lease_duration_seconds = 1
        spec.renew_time = self._clock.now()
        self._replace(lease)

    def _expired(self, spec: client.V1LeaseSpec, now: datetime) -> bool:
        renewed = spec.renew_time or spec.acquire_time
        if renewed is None:
            return True
        duration = spec.lease_duration_seconds or self.duration_seconds
        return bool(renewed + timedelta(seconds=duration) < now)

    def _create(self, now: datetime) -> bool:
        body = client.V1Lease(
            metadata=client.V1ObjectMeta(name=self.name, namespace=self.namespace),
            spec=client.V1LeaseSpec(
                holder_identity=self.identity,
                acquire_time=now,
                renew_time=now,
                lease_duration_seconds=self.duration_seconds,
                lease_transitions=0,
            ),
        )
        try:
            self._api.create_namespaced_lease(self.namespace, body)
        except ApiException as exc:
            if exc.status == 409:  # another replica created it first
                return False
            log.warning("lease %s/%s not created: %s", self.namespace, self.name, exc.status)
            return False
        return True

    def _replace(self, lease: client.V1Lease) -> bool:
        try:
            self._api.replace_namespaced_lease(self.name, self.namespace, lease)
        except ApiException as exc:
            if exc.status == 409:  # resourceVersion moved: someone else wrote first
                return False
            log.warning("lease %s/%s not written: %s", self.namespace, self.name, exc.status)
            return False
        return True
