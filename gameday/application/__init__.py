"""The application: one replica of `gameday serve` as a whole (leadership, scheduler,
Slack, outbox, housekeeping, reload and shutdown), above the adapters it drives."""
