"""Timing helpers shared by the benchmark scripts: interleaved warm runs, cold processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def interleaved(
    questions: Sequence[str],
    repeats: int,
    first: Callable[[str], object],
    second: Callable[[str], object],
) -> tuple[list[float], list[float]]:
    """Milliseconds of `first(q)` and `second(q)`, alternated question by question.

    Alternating keeps both under the same machine load, so their ratio is fair.
    """
    a, b = [], []
    for _ in range(repeats):
        for q in questions:
            t = time.perf_counter()
            first(q)
            a.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            second(q)
            b.append((time.perf_counter() - t) * 1000)
    return a, b


def cold_runs(code: str, args: Sequence[str], runs: int) -> list[tuple[float, str]]:
    """Run `python -c code args…` in a new process `runs` times: (seconds, its stdout) each."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True
        )
        out.append((time.perf_counter() - t, done.stdout))
    return out
