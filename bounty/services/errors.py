"""Errors services raise; the web, API and CLI edges turn them into answers."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of refusals a user can act on."""


class InvalidInput(ServiceError):
    """Bad input, naming the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(ServiceError):
    pass


class PermissionDenied(ServiceError):
    pass


class Conflict(ServiceError):
    """The request clashes with the current state (already claimed, key reused, ...)."""


class AlreadyClaimed(Conflict):
    """Someone else holds the claim on the bounty (the API answers 409)."""

    def __init__(self, message: str = "already claimed") -> None:
        super().__init__(message)
