"""Errors the domain raises; entry points turn them into one-line messages."""

from __future__ import annotations


class GamedayError(Exception):
    """Base of every error a user may see; its message is shown as is, on one line."""

    exit_code: int = 1


class InvalidInput(GamedayError):
    """Something a person typed or wrote in a file is not valid."""

    exit_code = 2


class NotFound(GamedayError):
    """A named thing (run, schedule, runbook, window) does not exist."""

    exit_code = 1


class IllegalTransition(GamedayError):
    """A run was asked to move to a state its lifecycle does not allow."""

    exit_code = 1


class Unavailable(GamedayError):
    """An outside system (database, Slack, Kubernetes) cannot be reached or refused us."""

    exit_code = 3
