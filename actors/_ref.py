"""ActorRef: the only way to talk to an actor (ask, ask_nowait, tell, tell_nowait)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from actors._envelope import Envelope, Failure, Outcome, current_request_id
from actors._errors import ShuttingDown
from actors._mailbox import ActorStatistics, Mailbox

M = TypeVar("M")


class ActorRef(Generic[M]):
    """A handle on a mailbox served by one actor or a pool of actors.

    ``ask`` waits for the reply and re-raises the handler's exception; ``tell`` only
    enqueues. Both wait up to a timeout for room in a full mailbox and then raise
    ``Overloaded``; the ``*_nowait`` forms raise it at once. After stop begins, every
    call raises ``ShuttingDown``.
    """

    def __init__(self, mailbox: Mailbox[M]) -> None:
        self._mailbox = mailbox

    @property
    def name(self) -> str:
        return self._mailbox.name

    async def ask(
        self, message: M, *, enqueue_timeout: float | None = None, request_id: str | None = None
    ) -> Any:
        """Send ``message`` and return the handler's reply.

        Args:
            enqueue_timeout: seconds to wait for room in the mailbox (default: the
                mailbox's).
                The reply itself is awaited without limit; cancel the caller to give up.
            request_id: carried to the handler (default: the caller's current one).

        Raises:
            Overloaded: the mailbox stayed full for ``enqueue_timeout`` seconds.
            ShuttingDown: the actor stopped before it could answer.
            Exception: whatever the handler raised.
        """
        send, receive = anyio.create_memory_object_stream[Outcome](1)
        envelope = Envelope(message, request_id or current_request_id(), send)
        with receive:
            try:
                await self._mailbox.put(envelope, enqueue_timeout)
            except BaseException:
                send.close()
                raise
            return await self._await_reply(receive)

    async def ask_nowait(self, message: M, *, request_id: str | None = None) -> Any:
        """Like ``ask``, but raise ``Overloaded`` at once if the mailbox is full."""
        send, receive = anyio.create_memory_object_stream[Outcome](1)
        envelope = Envelope(message, request_id or current_request_id(), send)
        with receive:
            try:
                self._mailbox.put_nowait(envelope)
            except BaseException:
                send.close()
                raise
            return await self._await_reply(receive)

    async def tell(
        self, message: M, *, enqueue_timeout: float | None = None, request_id: str | None = None
    ) -> None:
        """Enqueue ``message`` without waiting for it to be handled."""
        envelope = Envelope(message, request_id or current_request_id(), None)
        await self._mailbox.put(envelope, enqueue_timeout)

    def tell_nowait(self, message: M, *, request_id: str | None = None) -> None:
        """Enqueue ``message`` at once or raise ``Overloaded``."""
        self._mailbox.put_nowait(Envelope(message, request_id or current_request_id(), None))

    def statistics(self) -> ActorStatistics:
        """Return a snapshot of the mailbox and its actors' counters."""
        return self._mailbox.statistics()

    async def _await_reply(self, receive: MemoryObjectReceiveStream[Outcome]) -> Any:
        try:
            outcome = await receive.receive()
        except anyio.EndOfStream:
            # The envelope was dropped unanswered: the actor stopped without serving it.
            raise ShuttingDown(self.name) from None
        if isinstance(outcome, Failure):
            raise outcome.error
        return outcome.value
