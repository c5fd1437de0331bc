"""Many users at once: concurrent gradio_client sessions asking through the running UI's API.

    python bench/load.py [--clients 50] [--questions 20] [--url http://127.0.0.1:7860/]
    python bench/load.py --corpus bbc     # the BBC stories (../shared), their eval questions

Without --url it starts the app on a free loopback port itself, over the corpus of
eval/corpora.py named by --corpus (default: the seeds) and its eval index folder, asking
the first --questions of its question-answer file. Every answer must equal
the one a single client gets first; the script prints errors, p50/p95 latency and
throughput, and exits non-zero on any error or mismatch. Requests only go to loopback.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--url", default=None)
    parser.add_argument("--corpus", default="seeds", help="a corpus of eval/corpora.py")
    args = parser.parse_args()

    from eval.corpora import corpus

    chosen = corpus(args.corpus)
    missing = chosen.missing()
    if missing:
        print(f"{chosen.name}: {missing}", file=sys.stderr)
        return 2

    from gradio_client import Client

    from eval.rows import load_rows

    demo = None
    url = args.url
    if url is None:
        from rag import Assistant
        from ui.app import build_demo

        demo = build_demo(Assistant(ROOT / chosen.corpus_dir, ROOT / chosen.index_dir))
        demo.queue(default_concurrency_limit=4, max_size=512)
        port = _free_port()
        demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
        url = f"http://127.0.0.1:{port}/"
    if not url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        parser.error("the load goes to loopback addresses only")

    questions = [r.question for r in load_rows(ROOT / chosen.qa)][: args.questions]
    reference_client = Client(url, verbose=False)
    reference, alone = {}, []
    for q in questions:  # one client alone first: the answers to match, and the base latency
        t = time.perf_counter()
        reference[q] = reference_client.predict(q, api_name="/ask")
        alone.append((time.perf_counter() - t) * 1000)
    print(f"one client alone: p50 {statistics.median(alone):.0f} ms over {len(alone)} questions")

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(args.clients)

    def user(n: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as exc:  # a failed connection is an error to count, not a crash
            with lock:
                errors.append(f"client {n}: connect: {exc}")
            return
        start_gate.wait()
        for i in range(len(questions)):
            q = questions[(i + n) % len(questions)]
            t = time.perf_counter()
            try:
                got = client.predict(q, api_name="/ask")
            except Exception as exc:
                with lock:
                    errors.append(f"client {n}: {q!r}: {exc}")
                continue
            elapsed = (time.perf_counter() - t) * 1000
            with lock:
                latencies.append(elapsed)
                if got != reference[q]:
                    errors.append(f"client {n}: {q!r}: answer differs from the single-client one")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=user, args=(n,)) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    if demo is not None:
        demo.close()
    ordered = sorted(latencies)
    p95 = ordered[int(0.95 * (len(ordered) - 1))] if ordered else 0.0
    print(
        f"clients {args.clients} x questions {len(questions)}: {len(latencies)} answers, "
        f"{len(errors)} errors, p50 {statistics.median(ordered) if ordered else 0:.0f} ms, "
        f"p95 {p95:.0f} ms, {len(latencies) / wall:.1f} answers/s over {wall:.1f} s"
    )
    for e in errors[:10]:
        print("  ", e)
    return 1 if errors or len(latencies) != args.clients * len(questions) else 0


if __name__ == "__main__":
    sys.exit(main())
