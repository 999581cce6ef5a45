"""Observability: structured logs (JSON, or human on a TTY) and Prometheus metrics."""
