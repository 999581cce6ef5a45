"""HTTP entry points: the Flask app (health, readiness, metrics, POST /halt, Slack events,
the read-only pages and the calendar feed) and the waitress server that serves it."""
