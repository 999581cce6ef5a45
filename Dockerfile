# syntax=docker/dockerfile:1
# The gameday service image: `gameday serve` on 0.0.0.0:8080, dry run unless GAMEDAY_LIVE.
#
#   docker build -t gameday:0.1.0 .
#   docker run --rm --read-only --tmpfs /tmp -p 8080:8080 -v "$PWD:/var/lib/gameday" gameday:0.1.0
#
# The home (runbooks/, schedules/ and, by default, the SQLite database gameday.db) is the
# volume /var/lib/gameday; the root filesystem can be read-only: only the home (or the
# volume GAMEDAY_DATABASE_URL points at) and /tmp are written. Tokens come from the
# environment at run time, never from the image. tests/deploy/test_image.py checks all this.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- build: the wheel, installed with its dependencies into a virtualenv ------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Only what the wheel is built from (.dockerignore keeps out the rest: tests, .git, homes).
COPY pyproject.toml README.md ./
COPY gameday/ gameday/
# The wheel carries the package data (migrations, templates, py.typed), so the runtime gets
# no source tree. Dependencies come as binary wheels; the one sdist in the tree
# (antlr4-python3-runtime, for chaoslib's jsonpath) is pure Python: no compiler anywhere.
RUN python -m pip wheel --no-deps --wheel-dir /dist . \
 && python -m venv /opt/gameday \
 && /opt/gameday/bin/python -m pip install --prefer-binary /dist/gameday-*.whl \
 && /opt/gameday/bin/python -m pip uninstall --yes pip setuptools

# -- runtime ------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="gameday" \
      org.opencontainers.image.description="Safe, routine chaos engineering on Kubernetes: scheduled GameDays and Chaos-Monkey kills inside safety windows, announced and approved in Slack." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="python:3.11-slim-bookworm"

# A fixed numeric user, so Kubernetes' runAsNonRoot can check it without a passwd lookup.
RUN groupadd --gid 10001 gameday \
 && useradd --uid 10001 --gid 10001 --no-create-home \
      --home-dir /var/lib/gameday --shell /usr/sbin/nologin gameday \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/gameday

COPY --from=build /opt/gameday /opt/gameday

# HOME is /tmp: libraries that look for ~/.kube or ~/.chaostoolkit find nothing there (in a
# pod the service account is used) and nothing writes to the read-only root. No warm
# launcher beside the service: a `kubectl exec ... gameday run` is rare, and a launcher
# idling for 10 minutes would take ~80 MB of the pod's memory limit.
ENV PATH=/opt/gameday/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GAMEDAY_WARM_RUNS=false \
    HOME=/tmp \
    GAMEDAY_HOME=/var/lib/gameday \
    GAMEDAY_PORT=8080

USER 10001:10001
WORKDIR /var/lib/gameday
VOLUME ["/var/lib/gameday"]
EXPOSE 8080

# Liveness only (the process answers); readiness is /readyz, which the chart probes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('GAMEDAY_PORT', '8080'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["gameday", "serve", "--host", "0.0.0.0"]
