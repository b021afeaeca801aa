"""Domain errors. Each says, in words an editor understands, why a command stored nothing."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal of a command; nothing was stored."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """The command's input is impossible in itself (a date in the future, an unknown party)."""


class NotFound(DomainError):
    """The command names a summit, declaration, party or event that the record does not hold."""


class Conflict(DomainError):
    """The command contradicts the record (a duplicate id, a reused idempotency key)."""


class StanceRuleViolation(Conflict):
    """The act would leave a party's stance sequence illegal at some point in valid time."""


class Duplicate(Conflict):
    """The record holds it already: an id taken, the same statement, an act already retracted."""


class IdempotencyConflict(Conflict):
    """An Idempotency-Key already answered another request."""


class Contention(Conflict):
    """Other writers changed what the command decides on, again and again; nothing was stored, try again."""
