"""A revocation racing a key's first lookup (SPEC §3: revocation takes effect on the next
request). The authentication cache is filled after an awaited read; a read that saw the
key before the revocation committed, answered after it, must not cache the key alive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from cortex import Cortex
from cortex.engine.messages import KeyByHash
from cortex.errors import Unauthenticated

pytestmark = [pytest.mark.chaos, pytest.mark.anyio]


async def test_a_key_revoked_while_its_first_lookup_is_in_flight_is_refused_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with Cortex.open(tmp_path / "data" / "cortex.db", log_level="warning") as cx:
        created = await cx.keys.create("write", tenant="acme")
        looked_up, release = anyio.Event(), anyio.Event()
        read = cx._read

        async def answered_late(query: Any) -> Any:
            result = await read(query)
            if isinstance(query, KeyByHash):
                looked_up.set()
                await release.wait()  # the reader answered; the asker resumes only later
            return result

        monkeypatch.setattr(cx, "_read", answered_late)
        async with anyio.create_task_group() as tg:
            tg.start_soon(cx.keys.authenticate, created.key)  # in flight: it may pass
            await looked_up.wait()
            revoked = await cx.keys.revoke(created.id, tenant="acme")
            assert revoked.revoked_at is not None
            release.set()
        monkeypatch.setattr(cx, "_read", read)
        with pytest.raises(Unauthenticated):
            await cx.keys.authenticate(created.key)
        other = await cx.keys.create("read", tenant="acme")
        assert (await cx.keys.authenticate(other.key)).id == other.id
        assert (await cx.keys.authenticate(other.key)).id == other.id  # cached, still fine


async def test_a_revocation_whose_caller_gave_up_still_takes_effect_on_the_next_request(
    tmp_path: Path,
) -> None:
    async with Cortex.open(tmp_path / "data" / "cortex.db", log_level="warning") as cx:
        created = await cx.keys.create("write", tenant="acme")
        assert (await cx.keys.authenticate(created.key)).id == created.id  # now cached
        with anyio.move_on_after(0):
            await cx.keys.revoke(created.id, tenant="acme")
        with pytest.raises(Unauthenticated):
            await cx.keys.authenticate(created.key)
        assert (await cx.keys.list(include_revoked=True, tenant="acme"))[0].revoked_at
