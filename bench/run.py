"""Benchmarks that print their figures and write bench/RESULTS.md. Never a timed test.

    make bench        (or: python bench/run.py)

1. Warm question: p50/p95 of `Assistant.ask` over the eval questions, against embedding
   the question alone by the same route (the floor), timed the same way.
2. Cold start: a new process that opens the saved index and answers one question.
3. Build: sentences and passages per second through the whole indexing pipeline
   against the model's raw `encode` on the same texts, and on the texts the pipeline
   gives the model (passage vectors are means of sentence vectors).
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.timing import cold_runs, interleaved, write_results  # noqa: E402
from eval.rows import load_rows  # noqa: E402
from rag import Assistant  # noqa: E402
from rag.corpus import default_index_dir  # noqa: E402
from rag.text import fold  # noqa: E402

REPEATS = 20
COLD_RUNS = 5
COLD = (
    "import time; t=time.perf_counter(); from rag import Assistant; "
    "a=Assistant({corpus!r}, {index!r}); a.ask('What did Rutte say about China?'); "
    "print(time.perf_counter()-t)"
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def warm(assistant: Assistant, questions: list[str]) -> dict[str, float]:
    for q in questions:  # warm caches and BLAS threads
        assistant.ask(q)
    ask, embed = interleaved(
        questions, REPEATS, assistant.ask, lambda q: assistant.embedder.encode_queries([fold(q)])
    )
    return {
        "ask_p50": statistics.median(ask),
        "ask_p95": pct(ask, 0.95),
        "embed_p50": statistics.median(embed),
        "embed_p95": pct(embed, 0.95),
        "ratio_p50": statistics.median(ask) / statistics.median(embed),
    }


def cold(corpus: Path, index: Path) -> dict[str, float]:
    runs = cold_runs(COLD.format(corpus=str(corpus), index=str(index)), (), COLD_RUNS)
    outer = [seconds for seconds, _ in runs]
    inner = [float(stdout.strip().splitlines()[-1]) for _, stdout in runs]
    return {
        "cold_p50_s": statistics.median(outer),
        "cold_max_s": max(outer),
        "in_process_p50_s": statistics.median(inner),
    }


def build(assistant: Assistant) -> dict[str, float]:
    """The whole indexing pipeline (fresh index of the seeds) against raw `encode`.

    Two raw figures: encoding every text the index holds (sentences and passages), the
    issue's "same texts", and encoding just what the pipeline gives the model (the
    sentences; passage vectors are their means). The pipeline with passages embedded
    whole is timed too, as the earlier design.
    """
    from dataclasses import replace

    from rag import store

    tmp = Path(tempfile.mkdtemp())
    try:
        documents = assistant.documents()
        assistant.embedder.encode(["warm up the model first"])  # loading is not throughput
        settings = assistant.settings.index
        t = time.perf_counter()
        index, _ = store.sync(tmp / "index", documents, assistant.embedder, settings)
        pipeline = time.perf_counter() - t
        whole = replace(settings, passage_vectors="embedded")
        t = time.perf_counter()
        store.sync(tmp / "whole", documents, assistant.embedder, whole)
        pipeline_whole = time.perf_counter() - t
        sentences = [
            fold(r.sentence_text(i)) for r in index.records for i in range(len(r.sentences))
        ]
        passages = [fold(r.passage_text(p)) for r in index.records for p in range(len(r.passages))]
        t = time.perf_counter()
        assistant.embedder.encode(sentences + passages)
        raw_all = time.perf_counter() - t
        t = time.perf_counter()
        assistant.embedder.encode(sentences)
        raw_sentences = time.perf_counter() - t
        n = len(sentences) + len(passages)
        return {
            "texts": n,
            "passages": len(passages),
            "pipeline_s": pipeline,
            "pipeline_whole_s": pipeline_whole,
            "raw_all_s": raw_all,
            "raw_sentences_s": raw_sentences,
            "ratio_all": raw_all / pipeline,
            "ratio_model": raw_sentences / pipeline,
            "ratio_whole": raw_all / pipeline_whole,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ui(index: Path) -> dict[str, float]:
    """Seconds from starting the UI process to the page answering, and one API round trip."""
    import socket
    import urllib.request

    from gradio_client import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "RAG_INDEX_DIR": str(index)}
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "ui" / "app.py")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.perf_counter() - t > 120:
                    raise
                time.sleep(0.2)
        ready = time.perf_counter() - t
        client = Client(url, verbose=False)
        client.predict("What did Rutte say about China?", api_name="/ask")
        trips = []
        for _ in range(10):
            t = time.perf_counter()
            client.predict("What did Rutte say about China?", api_name="/ask")
            trips.append(time.perf_counter() - t)
        return {"ready_s": ready, "round_trip_ms": statistics.median(trips) * 1000}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    corpus = ROOT / "seeds"
    index = default_index_dir(corpus, ROOT / "index")
    assistant = Assistant(corpus, index)
    questions = [r.question for r in load_rows(ROOT / "eval" / "qa.jsonl")]
    w = warm(assistant, questions)
    c = cold(corpus, index)
    b = build(assistant)
    u = ui(index)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine}. Command: `make bench`. Model: `{assistant.embedder.name}`.",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| warm `ask` p50 ({len(questions)} questions × {REPEATS}) | {w['ask_p50']:.2f} ms | ≤ 25 ms |",
        f"| warm `ask` p95 | {w['ask_p95']:.2f} ms | |",
        f"| embedding the question alone, p50 | {w['embed_p50']:.2f} ms | |",
        f"| ratio ask / embedding, p50 | {w['ratio_p50']:.2f} | ≤ 1.5 (≤ 1.3 stretch) |",
        f"| cold start: new process, open saved index, first answer (p50 of {COLD_RUNS}) | {c['cold_p50_s']:.2f} s | ≤ 6 s (≤ 2 s stretch) |",
        f"| cold start, worst of {COLD_RUNS} | {c['cold_max_s']:.2f} s | |",
        f"| cold start measured inside the process (imports included) | {c['in_process_p50_s']:.2f} s | |",
        f"| build: sentences + passages indexed per second, whole pipeline | {b['texts'] / b['pipeline_s']:.1f} ({b['texts']} texts, {b['pipeline_s']:.2f} s) | |",
        f"| build: raw `encode` of the same texts, per second | {b['texts'] / b['raw_all_s']:.1f} ({b['raw_all_s']:.2f} s) | |",
        f"| build ratio pipeline / raw `encode` of the same texts | {b['ratio_all']:.2f} | ≥ 0.9 |",
        f"| build ratio pipeline / raw `encode` of what the model is given (the sentences) | {b['ratio_model']:.2f} | |",
        f"| build with passages embedded whole (earlier design): ratio to raw, same texts | {b['ratio_whole']:.2f} ({b['pipeline_whole_s']:.2f} s) | |",
        f"| UI: page answering after the server process starts | {u['ready_s']:.1f} s | ≤ 15 s |",
        f"| UI: an answer through the `ask` API, p50 of 10 | {u['round_trip_ms']:.0f} ms | ≤ 1 s |",
        "",
    ]
    text = "\n".join(lines)
    write_results(text)
    print(text)


if __name__ == "__main__":
    main()
