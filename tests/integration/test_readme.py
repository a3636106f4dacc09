"""The README's examples, run as a new user would copy them: the HTTP block with curl
against ``scripts/serve``, the CLI blocks with the real executable, the Python, Python
client and MCP examples as scripts. Only the host's port and the executable's path are
substituted; a failing command fails the test."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.server_kit import free_port, stop_server

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent

# Every curl of the HTTP block must succeed (any 4xx/5xx is recorded), even inside a pipe.
CURL_GUARD = """
curl() {
    local out
    if ! out=$(command curl --fail-with-body "$@"); then
        echo "curl failed: $*: $out" >&2; echo "$*" >> "$CURL_FAILURES"; return 22
    fi
    printf '%s\\n' "$out"
}
"""


def section(heading: str) -> list[tuple[str, str]]:
    """(language, code) of each fenced block between ``heading`` and the next heading
    (a ``#`` line inside a code block is a shell comment, not a heading)."""
    found: list[tuple[str, str]] = []
    inside, fence, code = False, None, []
    for line in README.splitlines(keepends=True):
        if fence is None and line.startswith("#"):
            if inside:
                break
            inside = line.strip() == heading
        elif line.startswith("```"):
            if fence is None:
                fence, code = line[3:].strip(), []
            else:
                if inside:
                    found.append((fence, "".join(code)))
                fence = None
        elif fence is not None:
            code.append(line)
    return found


def blocks(heading: str, language: str) -> list[str]:
    found = [code for lang, code in section(heading) if lang == language]
    assert found, f"no {language} block under {heading!r}"
    return found


def environment(tmp: Path) -> dict[str, str]:
    """A user's environment: the defaults (background indexing on), the venv on PATH."""
    inherited = {k: v for k, v in os.environ.items() if k != "CORTEX_INDEX_VECTORS"}
    return {**inherited, "XDG_STATE_HOME": str(tmp / "state"), "CORTEX_LOG_LEVEL": "warning",
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def run_bash(code: str, cwd: Path, env: dict[str, str],
             pipefail: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``set -eu`` (and ``pipefail``: off where a ``| head`` may cut a
    pipe short, a SIGPIPE that is no failure; the curl guard catches those curls)."""
    code = code.replace("C=.venv/bin/cortex", f"C={BIN / 'cortex'}")
    flags = ["-euo", "pipefail"] if pipefail else ["-eu"]
    done = subprocess.run(["bash", *flags, "-c", code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, (done.returncode, done.stdout[-3000:], done.stderr[-3000:])
    return done


def run_python(code: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    return done.stdout


def on_port(code: str, port: int) -> str:
    return code.replace("localhost:8000", f"127.0.0.1:{port}").replace(
        "127.0.0.1:8000", f"127.0.0.1:{port}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """``scripts/serve`` as the quick start runs it, on a free port, data in a temp dir."""
    home = tmp_path_factory.mktemp("user")
    port = free_port()
    env = {**environment(home), "CORTEX_DB": str(home / "data" / "cortex.db"),
           "CORTEX_PORT": str(port)}
    process = subprocess.Popen([str(ROOT / "scripts" / "serve")], cwd=home, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"scripts/serve did not start: {process.communicate()[0]}")
            time.sleep(0.2)
        yield home, port
    finally:
        stop_server(process)


def test_the_http_examples_run_against_scripts_serve(served: tuple[Path, int]) -> None:
    home, port = served
    assert (home / "data" / "admin.key").stat().st_mode & 0o777 == 0o600
    failures = home / "curl-failures"
    env = {**environment(home), "CURL_FAILURES": str(failures)}
    (code,) = blocks("## HTTP", "bash")
    done = run_bash(CURL_GUARD + on_port(code, port), home, env, pipefail=False)
    assert not failures.exists(), failures.read_text()
    assert '"ok":true' in done.stdout.replace(" ", "")       # the ledger verified
    assert "Deploys go through Argo CD v3" in done.stdout    # the new version, its history


def test_the_cli_against_a_server_and_the_http_client_run(served: tuple[Path, int]) -> None:
    home, port = served
    env = environment(home)
    remote = blocks("## CLI", "bash")[2]
    assert "CORTEX_URL" in remote
    done = run_bash("C=.venv/bin/cortex\n" + on_port(remote, port), home, env)
    assert "Backups run at 02:00" in done.stdout
    (client,) = blocks("## Python client (over HTTP)", "python")
    assert run_python(on_port(client, port), home, env).split() == ["None", "True"]


def test_the_cli_examples_run_in_process(tmp_path: Path) -> None:
    local, long_running, _ = blocks("## CLI", "bash")
    assert "serve" in long_running and "serve" not in local
    done = run_bash(local, tmp_path, environment(tmp_path))
    assert "imported" in done.stdout and "backup written" in done.stdout
    assert "depends_on" in done.stdout                       # the graph path's relations
    assert len(list((tmp_path / "backups").glob("cortex-*.db"))) == 1


def test_the_python_examples_run(tmp_path: Path) -> None:
    first, sync = blocks("## Python", "python")
    env = environment(tmp_path)
    writer = run_python(first, tmp_path, env)
    assert "name='writer'" in writer and "failed=0" in writer
    assert run_python(sync, tmp_path, env).strip() == "Use WAL mode"


def test_the_feature_examples_run_on_one_store(tmp_path: Path) -> None:
    """The fragments under Python's subsections share one ``cx`` and one ``fact``."""
    (ledger, auditor) = blocks("### The verifiable ledger", "python")
    fragments = [blocks(heading, "python")[0] for heading in (
        "### Agents and votes", "### Search by meaning and by words", "### The entity graph")]
    body = "\n".join(textwrap.indent(code, " " * 8) for code in fragments)
    script = (
        "import anyio\nfrom cortex import Cortex\n\nasync def main():\n"
        '    async with Cortex.open("data/cortex.db") as cx:\n'
        '        fact = await cx.store(project="infra", content='
        '"The database file got corrupted after a power cut")\n'
        f"{body}\n{textwrap.indent(ledger, ' ' * 4)}\n{textwrap.indent(auditor, ' ' * 4)}\n"
        "    print('done')\n\nanyio.run(main)\n")
    assert run_python(script, tmp_path, environment(tmp_path)).splitlines()[-1] == "done"


def test_the_mcp_example_runs(tmp_path: Path) -> None:
    code = next(c for c in blocks("## MCP (for agents)", "python") if "call_tool" in c)
    assert run_python(code, tmp_path, environment(tmp_path)).strip() == "Backups run at 02:00"
