"""A bounded mailbox shared by one actor or a pool, with its counters."""

from __future__ import annotations

from collections import deque
from typing import Generic, NamedTuple, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from actors._envelope import Envelope
from actors._errors import Overloaded, ShuttingDown

M = TypeVar("M")


class ActorStatistics(NamedTuple):
    """A snapshot of one mailbox and the actors serving it."""

    #: the name given at spawn
    name: str
    #: actors serving this mailbox (1, or the pool size)
    actors: int
    #: messages waiting in the mailbox
    queue_depth: int
    #: the mailbox bound
    mailbox_size: int
    #: messages taken by an actor and not yet answered
    in_flight: int
    #: messages answered (with a result or an error) since start
    processed: int
    #: messages whose handling raised
    failed: int
    #: times an actor was restarted after a fatal error
    restarts: int
    #: batches handled (one per message for a plain actor)
    batches: int
    #: sizes of the most recent batches, oldest first
    last_batch_sizes: tuple[int, ...]
    #: the largest batch handled so far
    max_batch_size: int


class Mailbox(Generic[M]):
    """The bounded inbox of an actor (or of a pool sharing it) and its statistics.

    Senders never wait inside ``MemoryObjectSendStream.send``: a send cancelled by a
    timeout there can still have handed the item over, so a caller told ``Overloaded``
    might see its message run anyway. Instead they retry ``send_nowait`` (atomic: the
    item is queued or it is not) each time a receiver makes room.
    """

    def __init__(self, name: str, size: int, enqueue_timeout: float, actors: int) -> None:
        if size < 1:
            raise ValueError(f"mailbox size must be >= 1, got {size}")
        self.name = name
        self.size = size
        self.enqueue_timeout = enqueue_timeout
        self.actors = actors
        send, receive = anyio.create_memory_object_stream[Envelope[M]](size)
        self._send: MemoryObjectSendStream[Envelope[M]] = send
        self.receive: MemoryObjectReceiveStream[Envelope[M]] = receive
        self._room = anyio.Event()
        self.accepting = True
        self.in_flight = 0
        self.processed = 0
        self.failed = 0
        self.restarts = 0
        self.batches = 0
        self.max_batch_size = 0
        self.recent_batches: deque[int] = deque(maxlen=32)

    def put_nowait(self, envelope: Envelope[M]) -> None:
        """Enqueue at once or raise ``Overloaded`` / ``ShuttingDown``."""
        if not self._try_put(envelope):
            raise Overloaded(self.name, self.size, 0.0)

    async def put(self, envelope: Envelope[M], enqueue_timeout: float | None) -> None:
        """Enqueue, waiting up to ``enqueue_timeout`` (default: the mailbox's) for room."""
        limit = self.enqueue_timeout if enqueue_timeout is None else enqueue_timeout
        started = anyio.current_time()
        deadline = started + limit
        while not self._try_put(envelope):
            room = self._room
            with anyio.move_on_after(deadline - anyio.current_time()):
                await room.wait()
                continue
            raise Overloaded(self.name, self.size, anyio.current_time() - started)

    def _try_put(self, envelope: Envelope[M]) -> bool:
        if not self.accepting:
            raise ShuttingDown(self.name)
        try:
            self._send.send_nowait(envelope)
        except anyio.WouldBlock:
            return False
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            raise ShuttingDown(self.name) from None
        return True

    def signal_room(self) -> None:
        """Wake senders waiting for room (called by a receiver after taking messages)."""
        self._room.set()
        self._room = anyio.Event()

    def close(self) -> None:
        """Stop intake: later puts raise ``ShuttingDown``; receivers drain, then end."""
        self.accepting = False
        self._send.close()
        self.signal_room()

    def record_batch(self, size: int) -> None:
        self.batches += 1
        self.recent_batches.append(size)
        self.max_batch_size = max(self.max_batch_size, size)

    def statistics(self) -> ActorStatistics:
        return ActorStatistics(
            name=self.name,
            actors=self.actors,
            queue_depth=self._send.statistics().current_buffer_used,
            mailbox_size=self.size,
            in_flight=self.in_flight,
            processed=self.processed,
            failed=self.failed,
            restarts=self.restarts,
            batches=self.batches,
            last_batch_sizes=tuple(self.recent_batches),
            max_batch_size=self.max_batch_size,
        )
