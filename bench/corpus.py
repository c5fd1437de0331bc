"""A real corpus through the real pipeline: the BBC stories (or any corpus of eval/corpora.py).

    python bench/corpus.py [--corpus bbc] [--build] [--asks 200]

Prints, for the corpus's saved eval index: the time a new process takes to open it and
answer a first question, that process's peak resident memory, and warm `ask` p50/p95
over the corpus's eval questions. With --build it also builds the index from nothing in
a temporary folder and reports the build time and the pipeline's throughput (sentences
embedded a second) against the model's raw `encode` of the same texts. Reads the
corpus from ../shared; says so and exits 2 when it is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

OPEN = """
import json, sys, time
t = time.perf_counter()
from rag import Assistant
a = Assistant(sys.argv[1], sys.argv[2])
opened = time.perf_counter() - t
a.ask(sys.argv[3])
answered = time.perf_counter() - t
# VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's when it forks.
with open("/proc/self/status", encoding="ascii") as fh:
    rss = next(int(l.split()[1]) / 1024 for l in fh if l.startswith("VmHWM:"))
print(json.dumps({"opened_s": opened, "answered_s": answered, "peak_rss_mb": rss,
                  "articles": len(a.documents())}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="bbc", help="a corpus of eval/corpora.py")
    parser.add_argument("--build", action="store_true", help="also build it from nothing")
    parser.add_argument("--asks", type=int, default=200, help="warm questions to time")
    args = parser.parse_args()

    from eval.corpora import corpus
    from eval.rows import load_rows

    chosen = corpus(args.corpus)
    missing = chosen.missing()
    if missing:
        print(f"{chosen.name}: {missing}; nothing measured", file=sys.stderr)
        return 2
    corpus_dir, index_dir = ROOT / chosen.corpus_dir, ROOT / chosen.index_dir
    questions = [r.question for r in load_rows(ROOT / chosen.qa)]
    lines = [f"corpus {chosen.name}: {chosen.corpus_dir.as_posix()}"]

    from rag import Assistant

    if args.build:
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            built = Assistant(corpus_dir, Path(tmp) / "index")
            build_s = time.perf_counter() - t
            r = built.report
            texts = [
                d.text[x.start : x.end]
                for d in built.documents()
                for x in built.sentences(d.source)
            ]
            from rag.text import fold

            folded = [fold(x) for x in texts]
            t = time.perf_counter()
            built.embedder.encode(folded)
            raw_s = time.perf_counter() - t
        lines.append(
            f"build from nothing: {build_s:.1f} s for {r.documents:,} articles "
            f"({len(r.skipped)} skipped), {r.embedded_sentences:,} sentences embedded: "
            f"{r.embedded_sentences / build_s:.0f} sentences/s; the model's raw encode of the "
            f"same texts {raw_s:.1f} s, {len(folded) / raw_s:.0f}/s: pipeline throughput "
            f"{raw_s / build_s:.2f}x raw"
        )
    assistant = Assistant(corpus_dir, index_dir)  # up to date before the timings
    runs = []
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", OPEN, str(corpus_dir), str(index_dir), questions[0]],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=True,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    opened = statistics.median(x["opened_s"] for x in runs)
    answered = statistics.median(x["answered_s"] for x in runs)
    rss = statistics.median(x["peak_rss_mb"] for x in runs)
    lines.append(
        f"a new process opens the saved index ({runs[0]['articles']:,} articles) in "
        f"{opened:.2f} s and answers its first question at {answered:.2f} s (median of 3); "
        f"peak resident memory {rss:.0f} MB"
    )
    for q in questions[:5]:
        assistant.ask(q)
    times = []
    for i in range(args.asks):
        t = time.perf_counter()
        assistant.ask(questions[i % len(questions)])
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    lines.append(
        f"warm ask over {args.asks} of its eval questions: p50 {statistics.median(times):.1f} ms, "
        f"p95 {times[int(0.95 * (len(times) - 1))]:.1f} ms"
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
