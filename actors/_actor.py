"""The actor base classes: subclass, override ``handle`` (or ``handle_batch``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from actors._envelope import Envelope, request_id_var

M = TypeVar("M")


class Actor(Generic[M]):
    """Handles one message at a time from its mailbox.

    Lifecycle: ``on_start`` runs before the first message (and again after a restart),
    ``on_stop`` after the last one. An exception raised by ``handle`` while serving an
    ``ask`` is re-raised at the asker and the actor keeps running; when ``is_fatal``
    says the exception broke the actor's state, the runtime restarts it
    (``on_stop`` then ``on_start``) and goes on with the queued messages.
    """

    async def on_start(self) -> None:
        """Acquire resources (connections, caches). Called again after a restart."""

    async def on_drained(self) -> None:
        """Last words at a graceful stop: intake closed and every queued message was
        handled. Not called on restart or when the actor is cancelled."""

    async def on_stop(self) -> None:
        """Release resources. Called after the mailbox drained, or before a restart."""

    async def handle(self, message: M) -> object:
        """Handle one message and return the reply (``None`` for a ``tell``)."""
        raise NotImplementedError(f"{type(self).__name__} must implement handle()")

    def is_fatal(self, error: BaseException) -> bool:
        """Return True when ``error`` means this actor must be restarted."""
        return False


class BatchActor(Actor[M]):
    """Receives messages in batches: the first one, then whatever is already queued.

    Used where one unit of work serves many messages (a group commit). The batch size
    limit is given at spawn (``max_batch``).
    """

    async def handle_batch(self, batch: Sequence[Envelope[M]]) -> Sequence[object]:
        """Handle a batch and return one result per envelope, in order.

        A result that is an exception instance is raised at that message's asker; the
        others succeed. Raising from here fails the whole batch with that exception.
        """
        results: list[object] = []
        for envelope in batch:
            # As for a plain Actor, ``handle`` sees the request id of its own message.
            token = request_id_var.set(envelope.request_id)
            try:
                results.append(await self.handle(envelope.message))
            except Exception as error:  # noqa: BLE001 - delivered to the asker
                results.append(error)
            finally:
                request_id_var.reset(token)
        return results
