"""Health gates over HTTP: Prometheus, Alertmanager and plain health endpoints."""
