"""Timing and leadership: the APScheduler job queue and leader election (SQLite file lock,
PostgreSQL advisory lock, Kubernetes Lease)."""
