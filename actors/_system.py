"""ActorSystem: the task group every actor lives in, spawning, supervision and stop."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

import anyio
import structlog
from anyio.abc import TaskGroup, TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream

from actors._actor import Actor, BatchActor
from actors._envelope import Envelope, Failure, Success, request_id_var
from actors._errors import ActorCrashed, ShuttingDown
from actors._mailbox import Mailbox
from actors._ref import ActorRef

M = TypeVar("M")
log = structlog.get_logger("actors")


class _Runner:
    """Runs one actor instance: receive, handle, reply, restart on fatal errors."""

    def __init__(
        self,
        actor: Actor[Any],
        mailbox: Mailbox[Any],
        receive: MemoryObjectReceiveStream[Envelope[Any]],
        max_batch: int,
        max_restarts: int,
    ) -> None:
        self.actor = actor
        self.mailbox = mailbox
        self.receive = receive
        self.max_batch = max_batch
        self.max_restarts = max_restarts
        self.scope = anyio.CancelScope()
        self.done = anyio.Event()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        # This task copied the spawner's context: drop its request id, or a handler not
        # given one per message (``handle_batch``) would see the spawner's, forever.
        request_id_var.set(None)
        try:
            with self.scope, self.receive:
                await self.actor.on_start()
                task_status.started()
                try:
                    await self._serve()
                finally:
                    with anyio.CancelScope(shield=True):
                        self._fail_queued()
                        await self._stop_actor()
        finally:
            self.done.set()

    async def _serve(self) -> None:
        while True:
            try:
                first = await self.receive.receive()
            except anyio.EndOfStream:
                await self._drained()
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self.receive.receive_nowait())
                except (anyio.WouldBlock, anyio.EndOfStream):
                    break
            self.mailbox.signal_room()
            await self._handle(batch)

    async def _handle(self, batch: list[Envelope[Any]]) -> None:
        mailbox = self.mailbox
        mailbox.in_flight += len(batch)
        mailbox.record_batch(len(batch))
        try:
            results = await self._invoke(batch)
        except Exception as error:  # noqa: BLE001 - the whole batch failed: tell every asker
            results = [error] * len(batch)
        except BaseException:
            # Cancelled mid-batch (stop timeout): nobody may be left waiting forever.
            for envelope in batch:
                envelope.reply(Failure(ShuttingDown(mailbox.name)))
            raise
        finally:
            mailbox.in_flight -= len(batch)
        fatal: BaseException | None = None
        for envelope, result in zip(batch, results, strict=True):
            mailbox.processed += 1
            if isinstance(result, BaseException):
                mailbox.failed += 1
                if not envelope.is_ask:
                    log.warning("actor.tell_failed", actor=mailbox.name, error=repr(result))
                envelope.reply(Failure(result))
                if fatal is None and self.actor.is_fatal(result):
                    fatal = result
            else:
                envelope.reply(Success(result))
        if fatal is not None:
            await self._restart(fatal)

    async def _invoke(self, batch: list[Envelope[Any]]) -> Sequence[object]:
        if isinstance(self.actor, BatchActor):
            results = await self.actor.handle_batch(batch)
            if len(results) != len(batch):
                raise RuntimeError(
                    f"{type(self.actor).__name__}.handle_batch returned {len(results)} "
                    f"results for {len(batch)} messages"
                )
            return results
        out: list[object] = []
        for envelope in batch:
            token = request_id_var.set(envelope.request_id)
            try:
                out.append(await self.actor.handle(envelope.message))
            except Exception as error:  # noqa: BLE001 - delivered to the asker
                out.append(error)
            finally:
                request_id_var.reset(token)
        return out

    async def _restart(self, error: BaseException) -> None:
        name = self.mailbox.name
        log.error("actor.crashed", actor=name, error=repr(error))
        for attempt in range(1, self.max_restarts + 1):
            self.mailbox.restarts += 1
            await self._stop_actor()
            try:
                await self.actor.on_start()
            except Exception as restart_error:  # noqa: BLE001 - retried, then escalated
                log.error("actor.restart_failed", actor=name, attempt=attempt,
                          error=repr(restart_error))
                await anyio.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                log.info("actor.restarted", actor=name, attempt=attempt)
                return
        self.mailbox.close()
        raise ActorCrashed(name, self.max_restarts) from error

    async def _drained(self) -> None:
        try:
            await self.actor.on_drained()
        except Exception as error:  # noqa: BLE001 - stopping must go on
            log.error("actor.on_drained_failed", actor=self.mailbox.name, error=repr(error))

    async def _stop_actor(self) -> None:
        try:
            await self.actor.on_stop()
        except Exception as error:  # noqa: BLE001 - stopping must go on
            log.error("actor.on_stop_failed", actor=self.mailbox.name, error=repr(error))

    def _fail_queued(self) -> None:
        """Answer ``ShuttingDown`` to whatever is still queued when this actor exits."""
        while True:
            try:
                envelope = self.receive.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
                return
            envelope.reply(Failure(ShuttingDown(self.mailbox.name)))


class ActorSystem:
    """Owns the task group every actor runs in.

    ``async with ActorSystem() as system:`` then ``await system.spawn(...)``. Leaving the
    block stops the actors in reverse spawn order: intake closes, queued messages are
    still served, then ``on_stop`` runs. An actor that does not finish within
    ``stop_timeout`` is cancelled and its pending asks fail with ``ShuttingDown``.
    """

    def __init__(self, *, stop_timeout: float = 30.0, max_restarts: int = 3) -> None:
        self.stop_timeout = stop_timeout
        self.max_restarts = max_restarts
        self._task_group: TaskGroup | None = None
        self._spawned: list[tuple[ActorRef[Any], Mailbox[Any], list[_Runner]]] = []

    async def __aenter__(self) -> ActorSystem:
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._task_group is not None
        with anyio.CancelScope(shield=True):
            for ref, _, _ in reversed(self._spawned):
                await self.stop(ref)
        try:
            return await self._task_group.__aexit__(exc_type, exc, tb)
        except BaseExceptionGroup as group:
            # The task group is an implementation detail: an error from the block or one
            # actor surfaces as itself, not wrapped in a group of one.
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from group.exceptions[0].__cause__
            raise

    async def spawn(
        self,
        factory: Callable[[], Actor[M]],
        *,
        name: str,
        mailbox_size: int = 1024,
        enqueue_timeout: float = 5.0,
        pool_size: int = 1,
        max_batch: int = 1,
    ) -> ActorRef[M]:
        """Start ``pool_size`` actors from ``factory`` sharing one bounded mailbox.

        Returns once every actor's ``on_start`` has finished; an ``on_start`` error is
        raised here.
        """
        if self._task_group is None:
            raise RuntimeError("spawn() needs an entered ActorSystem")
        if pool_size < 1 or max_batch < 1:
            raise ValueError("pool_size and max_batch must be >= 1")
        mailbox: Mailbox[M] = Mailbox(name, mailbox_size, enqueue_timeout, pool_size)
        ref = ActorRef(mailbox)
        runners: list[_Runner] = []
        self._spawned.append((ref, mailbox, runners))
        # Clone every receiver before the first one can exit and close the shared state.
        receivers = [mailbox.receive] + [mailbox.receive.clone() for _ in range(pool_size - 1)]
        started = 0
        try:
            for receive in receivers:
                runner = _Runner(factory(), mailbox, receive, max_batch, self.max_restarts)
                runners.append(runner)
                await self._task_group.start(runner.run)
                started += 1
        except BaseException:
            # A member failed to start: close the receivers no running member owns (the
            # failed one's, closed already or never entered, and the unused clones), or
            # they leak. The members already running are stopped with the system.
            for receive in receivers[started:]:
                receive.close()
            raise
        return ref

    async def stop(self, ref: ActorRef[Any], drain_timeout: float | None = None) -> None:
        """Stop intake for ``ref``, let its actors drain the mailbox, wait for them.

        Idempotent. After ``drain_timeout`` (default ``stop_timeout``) the actors are
        cancelled and the asks still pending fail with ``ShuttingDown``.
        """
        for candidate, mailbox, runners in self._spawned:
            if candidate is not ref:
                continue
            mailbox.close()
            limit = self.stop_timeout if drain_timeout is None else drain_timeout
            with anyio.move_on_after(limit):
                for runner in runners:
                    await runner.done.wait()
                return
            log.error("actor.stop_timeout", actor=mailbox.name)
            for runner in runners:
                runner.scope.cancel()
            for runner in runners:
                await runner.done.wait()
            return
        raise ValueError(f"{ref.name!r} was not spawned by this system")
