"""HTTP entry points: the WSGI app with health, readiness, metrics and Slack events."""
