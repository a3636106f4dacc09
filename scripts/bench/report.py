"""The benchmark report: runs every benchmark in ``scripts/bench/`` and prints one table,
each figure beside its same-run baseline and the ratio, then the project's targets (met
or not) and the scaling table.

Each benchmark runs in its own process (as a user runs it) and hands its headline figures
over through ``scripts/bench/results.py``; its full output is kept beside the report.

    .venv/bin/python scripts/bench/report.py [--quick] [--only writes,search]
    .venv/bin/python scripts/bench/report.py --only http --into .bench-tmp/report-…
        (re-run some benchmarks into an earlier report: their rows are replaced)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlean

from scripts.bench.results import ENV

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# in the order they run; each with the arguments of a full run
BENCHES: dict[str, list[str]] = {
    "writes": [], "ledger": [], "votes": [], "search": [], "graph": [],
    "import_facts": [], "http": [], "scaling": [],
    # why the KNN is not a vec0 table: prints its own comparison, records no figure
    "vec0_quantized": [],
}
QUICK = {"import_facts": ["--facts", "10000", "--embedded", "1000"]}


def _bench_key(name: str) -> str:
    """The ``bench`` field a benchmark records under (its file name, shortened)."""
    return {"import_facts": "import"}.get(name, name)


def run_bench(name: str, quick: bool, results: Path, out_dir: Path) -> tuple[bool, float]:
    args = (QUICK.get(name, ["--quick"]) if quick else BENCHES[name])
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(HERE / f"{name}.py"), *args], cwd=ROOT,
                          env={**os.environ, ENV: str(results)}, capture_output=True,
                          text=True, timeout=3600, check=False)
    (out_dir / f"{name}.md").write_text(done.stdout + done.stderr)
    return done.returncode == 0, time.perf_counter() - started


def figure(value: float, unit: str) -> str:
    if unit in ("facts/s", "votes/s", "req/s", "texts/s"):
        return f"{value:,.0f} {unit}"
    return f"{value:,.2f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def ratio(row: dict[str, object]) -> str:
    baseline = row["baseline"]
    if not isinstance(baseline, float | int) or baseline == 0:
        return ""
    value = float(row["value"])  # type: ignore[arg-type]
    return f"{value / baseline:.2f}x"


def target_met(row: dict[str, object]) -> bool:
    value, target = float(row["value"]), float(row["target"])  # type: ignore[arg-type]
    return value >= target if row["better"] == "higher" else value <= target


def print_report(rows: list[dict[str, object]], runs: dict[str, tuple[bool, float]],
                 out_dir: Path) -> None:
    print(f"# Cortex benchmark report, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{platform.platform()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"SQLite {sqlean.sqlite_version}; full outputs in {out_dir}\n")
    print("| bench | what | Cortex | same-run baseline | ratio |")
    print("|---|---|---|---|---|")
    for row in rows:
        base = row["baseline"]
        baseline = "" if base is None else (
            f"{row['baseline_what']}: {figure(float(base), str(row['unit']))}")  # type: ignore[arg-type]
        print(f"| {row['bench']} | {row['what']} | "
              f"{figure(float(row['value']), str(row['unit']))} | {baseline} | "  # type: ignore[arg-type]
              f"{ratio(row)} |")
    print("\n| target | figure | met |")
    print("|---|---|---|")
    for row in rows:
        if row["target"] is not None:
            sign = "≥" if row["better"] == "higher" else "≤"
            print(f"| {row['what']} {sign} {figure(float(row['target']), str(row['unit']))} | "  # type: ignore[arg-type]
                  f"{figure(float(row['value']), str(row['unit']))} | "  # type: ignore[arg-type]
                  f"{'yes' if target_met(row) else '**no**'} |")
    print("\n| bench | ran | seconds |")
    print("|---|---|---|")
    for name, (ok, seconds) in runs.items():
        print(f"| {name} | {'ok' if ok else '**failed**'} | {seconds:.0f} |")
    scaling = out_dir / "scaling.md"
    if scaling.exists():
        table = [line for line in scaling.read_text().splitlines() if line.startswith("|")]
        if table:
            print("\nScaling (`scripts/bench/scaling.py`):\n")
            print("\n".join(table))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="each benchmark's quick mode")
    parser.add_argument("--only", help="comma-separated benchmark names")
    parser.add_argument("--into", type=Path, help="an earlier report's directory to update")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(BENCHES)
    unknown = sorted(set(names) - set(BENCHES))
    if unknown:
        sys.exit(f"--only: unknown benchmarks {unknown}; choose from {sorted(BENCHES)}")
    out_dir = args.into or ROOT / ".bench-tmp" / f"report-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    out_dir.mkdir(parents=True, exist_ok=args.into is not None)
    results, runs_file = out_dir / "results.jsonl", out_dir / "runs.json"
    results.touch()
    kept = [line for line in results.read_text().splitlines()
            if line and json.loads(line)["bench"] not in {_bench_key(n) for n in names}]
    results.write_text("".join(line + "\n" for line in kept))
    runs = {name: tuple(run) for name, run in json.loads(runs_file.read_text()).items()
            } if runs_file.exists() else {}
    for name in names:
        print(f"running {name} …", file=sys.stderr, flush=True)
        runs[name] = run_bench(name, args.quick, results, out_dir)
        runs_file.write_text(json.dumps(runs))
    rows = [json.loads(line) for line in results.read_text().splitlines() if line]
    print_report(rows, runs, out_dir)
    if not all(ok for ok, _ in runs.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
