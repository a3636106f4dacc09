"""What travels through a mailbox: the message, who asked, and where the answer goes."""

from __future__ import annotations

from contextlib import suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Generic, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectSendStream

M = TypeVar("M")

#: The request id of the message being handled (or of the caller, on the asking side).
#: Actors run in tasks started at system start, so they do not inherit the caller's
#: context: the runtime sets this from the envelope for each message it handles.
request_id_var: ContextVar[str | None] = ContextVar("actors_request_id", default=None)


def current_request_id() -> str | None:
    """Return the request id bound to the current task, if any."""
    return request_id_var.get()


@dataclass(frozen=True, slots=True)
class Success:
    """A handler's return value, on its way back to the asker."""

    value: object


@dataclass(frozen=True, slots=True)
class Failure:
    """A handler's exception, on its way back to the asker (who re-raises it)."""

    error: BaseException


Outcome = Success | Failure


@dataclass(frozen=True, slots=True)
class Envelope(Generic[M]):
    """One message in a mailbox.

    ``reply_to`` is a one-shot stream for an ``ask`` and ``None`` for a ``tell``.
    """

    message: M
    request_id: str | None
    reply_to: MemoryObjectSendStream[Outcome] | None

    def reply(self, outcome: Outcome) -> None:
        """Deliver the outcome to the asker, if any, and close the reply stream.

        Never blocks and never raises: a caller that gave up (cancelled, timed out)
        has closed its end, and that must not hurt the actor.
        """
        if self.reply_to is None:
            return
        with self.reply_to, suppress(
            anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.WouldBlock
        ):
            self.reply_to.send_nowait(outcome)

    @property
    def is_ask(self) -> bool:
        return self.reply_to is not None
