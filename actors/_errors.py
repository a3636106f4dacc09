"""The runtime's exceptions: flat, each raised in one documented situation."""

from __future__ import annotations


class ActorError(Exception):
    """Base class of every error the actor runtime raises itself."""


class Overloaded(ActorError):
    """Raised when a message cannot be enqueued because the mailbox stayed full.

    ``ask``/``tell`` wait up to their timeout for room; the ``*_nowait`` variants raise
    at once. The message was *not* enqueued: retrying cannot duplicate it.
    """

    def __init__(self, actor: str, mailbox_size: int, waited: float) -> None:
        super().__init__(
            f"mailbox of {actor!r} is full ({mailbox_size} messages); "
            f"gave up after {waited:.3f}s"
        )
        self.actor = actor
        self.mailbox_size = mailbox_size
        self.waited = waited


class ShuttingDown(ActorError):
    """Raised when an actor is stopping or stopped and cannot serve the message."""

    def __init__(self, actor: str) -> None:
        super().__init__(f"actor {actor!r} is shutting down")
        self.actor = actor


class ActorCrashed(ActorError):
    """Raised out of the actor system when an actor cannot be restarted after a fatal error."""

    def __init__(self, actor: str, restarts: int) -> None:
        super().__init__(f"actor {actor!r} failed to restart after {restarts} attempts")
        self.actor = actor
        self.restarts = restarts
