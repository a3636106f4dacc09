"""The ceiling for the HTTP benchmark: bare Litestar, same server, no Cortex."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, get, post


@get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}


@post("/echo")
async def echo(data: dict[str, Any]) -> dict[str, Any]:
    return data


app = Litestar(route_handlers=[ping, echo])
