"""Test actors and helpers shared by the ``test_actors_*`` modules.

Interleavings are pinned with events, never with sleeps: a ``Hold`` message parks the
handler until the test releases it, so the test decides what is queued meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskStatus

from actors import Actor, ActorError, ActorRef


class Boom(Exception):
    """A handler error raised on purpose (not fatal)."""


class Fatal(Exception):
    """A handler error that ``Probe.is_fatal`` says broke the actor's state."""


@dataclass(eq=False)
class Hold:
    """A message whose handler signals ``entered`` and then waits for ``release``.

    With ``error`` set, the handler raises it once released.
    """

    error: Exception | None = None
    entered: anyio.Event = field(default_factory=anyio.Event)
    release: anyio.Event = field(default_factory=anyio.Event)


@dataclass(frozen=True)
class Fail:
    """A message whose handler raises ``error`` at once."""

    error: Exception


class Probe(Actor[object]):
    """Echoes messages and writes every lifecycle call and message to ``log``.

    ``log`` may be shared between instances (pools, restarts) to see one ordering.
    """

    def __init__(self, log: list[object] | None = None) -> None:
        self.log: list[object] = [] if log is None else log
        self.seen: list[object] = []

    async def on_start(self) -> None:
        self.log.append("start")

    async def on_drained(self) -> None:
        self.log.append("drained")

    async def on_stop(self) -> None:
        self.log.append("stop")

    def is_fatal(self, error: BaseException) -> bool:
        return isinstance(error, Fatal)

    async def handle(self, message: object) -> object:
        self.seen.append(message)
        self.log.append(("handle", message))
        if isinstance(message, Hold):
            message.entered.set()
            await message.release.wait()
            if message.error is not None:
                raise message.error
            return "held"
        if isinstance(message, Fail):
            raise message.error
        return ("echo", message)


async def capture(ref: ActorRef[Any], message: object, outcomes: dict[object, object]) -> None:
    """Ask and record the reply, or the runtime / handler error, under ``message``."""
    try:
        outcomes[message] = await ref.ask(message)
    except (ActorError, Boom, Fatal, RuntimeError) as error:
        outcomes[message] = error


async def ask_in_scope(
    ref: ActorRef[Any],
    message: object,
    *,
    task_status: TaskStatus[anyio.CancelScope] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Ask inside a cancel scope handed to the starter, so the test can cancel the asker."""
    with anyio.CancelScope() as scope:
        task_status.started(scope)
        await ref.ask(message)
