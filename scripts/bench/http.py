"""HTTP benchmark: Cortex routes against bare Litestar on the same server, same run.

Load comes from ``wrk`` (Debian package ``wrk``; 127.0.0.1 only, bounded by ``--duration``)
with 50 connections. Ceilings: a bare Litestar ``GET /ping`` and ``POST /echo`` under the
same uvicorn. Measured: ``POST /v1/facts`` (synchronous=FULL), ``GET /v1/facts/{id}`` and
``GET /v1/facts`` (recall), each with a real API key.

    .venv/bin/python scripts/bench/http.py [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named http.py, as the issue asks; run as a script, its folder comes first on
# sys.path and would shadow the standard library's http package that httpx imports.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx

from scripts.bench.results import record

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(command: list[str], port: int, env: dict[str, str]) -> Iterator[str]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, **env}, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(url + "/ping" if "bare_app" in " ".join(command) else url + "/health")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def wrk(url: str, duration: int, script: str | None = None) -> dict[str, float]:
    """Run wrk (2 threads, 50 connections); return rps and p50/p99 in ms."""
    command = ["wrk", "-t2", "-c50", f"-d{duration}s", "--latency", url]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        if script:
            lua.write(script)
            command[1:1] = ["-s", lua.name]
    output = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    codes = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": rps, "p50": _latency(output, "50%"), "p99": _latency(output, "99%"),
            "errors": float(codes.group(1)) if codes else 0.0}


def _latency(output: str, which: str) -> float:
    value, unit = re.search(rf"{which}\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def lua(method: str, body: dict[str, object] | None, key: str | None) -> str:
    lines = [f'wrk.method = "{method}"', 'wrk.headers["Content-Type"] = "application/json"']
    if body is not None:
        lines.append(f"wrk.body = [[{json.dumps(body)}]]")
    if key:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {key}"')
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s per route instead of 10")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    duration = 3 if args.quick else 10
    tmp = Path(tempfile.mkdtemp(prefix="cortex-bench-http-"))
    env = {"XDG_STATE_HOME": str(tmp / "state"), "CORTEX_LOG_LEVEL": "warning",
           "CORTEX_RATE_LIMIT_PER_S": "0"}
    rows: list[tuple[str, dict[str, float], float]] = []
    port = free_port()
    bare = [PYTHON, "-m", "uvicorn", "scripts.bench.bare_app:app", "--port", str(port),
            "--log-level", "warning", "--no-access-log"]
    with serving(bare, port, env) as url:
        ping = wrk(url + "/ping", duration)
        echo = wrk(url + "/echo", duration, lua("POST", {"project": "p", "content": "x" * 100},
                                                None))
    rows += [("bare Litestar GET /ping (ceiling)", ping, ping["rps"]),
             ("bare Litestar POST /echo (ceiling)", echo, echo["rps"])]
    db = tmp / "served" / "cortex.db"
    key = subprocess.run([PYTHON, "-m", "cortex", "keys", "create", "--role", "admin",
                          "--db", str(db)], capture_output=True, text=True, env={
                              **os.environ, **env}, check=True).stdout.strip()
    port = free_port()
    served = [PYTHON, "-m", "cortex", "serve", "--db", str(db), "--port", str(port)]
    with serving(served, port, env) as url:
        store = wrk(url + "/v1/facts", duration,
                    lua("POST", {"project": "bench", "content": "x" * 100}, key))
        fact = httpx.post(url + "/v1/facts", json={"project": "bench", "content": "one"},
                          headers={"Authorization": f"Bearer {key}"}).json()
        get_one = wrk(f"{url}/v1/facts/{fact['id']}", duration, lua("GET", None, key))
        recall = wrk(f"{url}/v1/facts?project=bench&limit=10", duration, lua("GET", None, key))
    rows += [("Cortex POST /v1/facts (FULL)", store, echo["rps"]),
             ("Cortex GET /v1/facts/{id}", get_one, ping["rps"]),
             ("Cortex GET /v1/facts (recall, 10)", recall, ping["rps"])]
    print(f"# Cortex HTTP benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.platform()}, {os.cpu_count()} CPUs, uvicorn, wrk -t2 -c50 -d{duration}s")
    print("\n| route | req/s | p50 ms | p99 ms | non-2xx | vs ceiling |")
    print("|---|---|---|---|---|---|")
    for name, result, ceiling in rows:
        print(f"| {name} | {result['rps']:,.0f} | {result['p50']:.2f} | {result['p99']:.2f} | "
              f"{result['errors']:.0f} | {result['rps'] / ceiling:.0%} |")
    record("http", "POST /v1/facts (FULL)", store["rps"], "req/s", baseline=echo["rps"],
           baseline_what="bare Litestar POST /echo", target=1000)
    record("http", "POST /v1/facts p99", store["p99"], "ms", baseline=echo["p99"],
           baseline_what="bare Litestar POST /echo p99", better="lower", target=20)
    record("http", "GET /v1/facts/{id}", get_one["rps"], "req/s", baseline=ping["rps"],
           baseline_what="bare Litestar GET /ping")
    record("http", "GET /v1/facts (recall 10)", recall["rps"], "req/s", baseline=ping["rps"],
           baseline_what="bare Litestar GET /ping")
    store_ok = store["rps"] >= 3000 and store["p99"] <= 20 and store["rps"] >= 0.3 * echo["rps"]
    seed_ok = store["rps"] >= 1000 and store["p99"] <= 20
    print(f"\nseed target (store >= 1000 rps, p99 <= 20 ms): {'MET' if seed_ok else 'NOT MET'}")
    print(f"our target (store >= 3000 rps, p99 <= 20 ms, >= 30% of bare POST): "
          f"{'MET' if store_ok else 'NOT MET'}")


if __name__ == "__main__":
    main()
