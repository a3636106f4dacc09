"""How a benchmark hands its headline figures to ``scripts/bench/report.py``.

Each benchmark still prints its own table; ``record`` also appends one JSON line per
figure to the file named by ``CORTEX_BENCH_RESULTS`` (set by the report), so the report
can put every figure beside its same-run baseline in one table. Without the variable,
``record`` does nothing.
"""

from __future__ import annotations

import json
import os
from typing import Literal

ENV = "CORTEX_BENCH_RESULTS"


def record(bench: str, what: str, value: float, unit: str, *,
           baseline: float | None = None, baseline_what: str = "",
           better: Literal["higher", "lower"] = "higher",
           target: float | None = None) -> None:
    """One figure of ``bench``.

    Args:
        value: the measured figure, in ``unit``.
        baseline: the same-run baseline in the same unit (raw SQLite, bare Litestar,
            numpy brute force, a plain sha256 loop), described by ``baseline_what``.
        better: whether a higher or a lower value is better (for the target).
        target: the figure the project promised, if any (met when ``value`` is at least
            it for ``better="higher"``, at most it for ``"lower"``).
    """
    path = os.environ.get(ENV)
    if not path:
        return
    row = {"bench": bench, "what": what, "value": value, "unit": unit,
           "baseline": baseline, "baseline_what": baseline_what, "better": better,
           "target": target}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")
