"""Timing helpers shared by the benchmark scripts: interleaved warm runs, cold processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"


def _key(block: str) -> str:
    """A block's heading without its parenthesised details (which carry figures)."""
    return block.split("\n", 1)[0].split("(", 1)[0].strip()


def write_results(text: str) -> None:
    """Put one benchmark's part into bench/RESULTS.md, replacing its earlier version.

    The part is the file's head ("# Benchmark results" and the first table) or a
    "## " section; the other parts stay as they are, so one script can run alone.
    """
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.is_file() else ""
    blocks = [b for b in re.split(r"(?m)^(?=## )", old) if b.strip()]
    if blocks and not blocks[0].startswith("## "):
        head, sections = blocks[0], blocks[1:]
    else:
        head, sections = "", blocks
    head = head.rstrip("\n") + "\n\n" if head.strip() else ""
    sections = [b.rstrip("\n") + "\n\n" for b in sections]  # a blank line between parts
    text = text.strip("\n") + "\n\n"  # a part may come with blank lines around it
    if text.startswith("## "):
        keys = [_key(b) for b in sections]
        if _key(text) in keys:
            sections[keys.index(_key(text))] = text
        else:
            sections.append(text)
    else:
        head = text
    RESULTS.write_text((head + "".join(sections)).rstrip("\n") + "\n", encoding="utf-8")


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
