"""Errors a rater or an admin of a listening test can cause, with messages meant for them."""

from studio.errors import StudioError


class ListeningError(StudioError):
    """A listening-test request that cannot be honoured: unknown test, closed test, vote refused."""


class AdminOnly(ListeningError):
    """An admin action without the right admin token."""
