"""A large index of real text: opening it, its memory, questions over it, adding to it.

    python bench/grow.py [--passages 1000000] [--text bbc|seeds] [--append]

The large index holds real text: copies of a corpus's articles under distinct file
names (analysed once, as the store does), written to a corpus folder, up to the number
of passages asked for. `--text bbc` (the default when ../shared is beside the
repository) copies the BBC stories, read from their eval index when it is built;
`--text seeds` the five seed articles. Their vectors are synthetic (clustered unit
vectors, as in bench/scale.py): embedding two million sentences would take this
machine nine hours, and what is measured here is what happens around the model. Then:

- in a new process, as `make run` opens it (`Assistant(build=False)`: the saved index
  as it is, without reading the corpus folder): the time to open, the resident memory
  then, the first answer, warm `ask` p50/p95 over the corpus's eval questions, and the
  process's peak resident memory;
- in a new process, `Assistant(corpus, index)` (also checks the folder: every file read
  and hashed against the index);
- in this process, `Assistant.add_article` for new articles with real text (a line of
  their own each, since a text already in the corpus is refused): p50 and worst.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.scale import DIM, clustered  # noqa: E402
from bench.timing import write_results  # noqa: E402
from eval.corpora import corpus as eval_corpus  # noqa: E402
from eval.rows import load_rows  # noqa: E402
from rag import Assistant, store  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.corpus import scan  # noqa: E402
from rag.embedding import Embedder  # noqa: E402
from rag.types import Document  # noqa: E402

ADDS = 5
ASKS = 3  # times each question is asked, warm

OPEN = """
import json, statistics, sys, time
def rss(field="VmRSS:"):
    with open("/proc/self/status", encoding="ascii") as fh:
        return next(int(l.split()[1]) / 1024 for l in fh if l.startswith(field))
t = time.perf_counter()
from rag import Assistant
imported = time.perf_counter() - t
a = Assistant(sys.argv[1], sys.argv[2], build=sys.argv[3] == "sync")
opened = time.perf_counter() - t
if sys.argv[3] == "sync":  # the folder was read: nothing had changed
    assert a.ready and not a.report.changed, a.report
opened_rss = rss()
questions = json.loads(sys.argv[4])
t = time.perf_counter()
a.ask(questions[0])
first = time.perf_counter() - t
asks = []
for q in questions * int(sys.argv[5]):
    t = time.perf_counter()
    a.ask(q)
    asks.append((time.perf_counter() - t) * 1000)
asks.sort()
print(json.dumps({
    "imported_s": imported, "opened_s": opened, "opened_rss_mb": opened_rss,
    "first_s": first, "p50_ms": statistics.median(asks),
    "p95_ms": asks[int(0.95 * (len(asks) - 1))], "after_rss_mb": rss(),
    # VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's when it forks.
    "peak_rss_mb": rss("VmHWM:"),
}))
"""


def analysed(text: str, embedder: Embedder) -> tuple[list[store.DocRecord], list[str]]:
    """The articles to copy, analysed, and the eval questions over them."""
    settings = Settings()
    chosen = eval_corpus(text)
    if missing := chosen.missing():
        raise SystemExit(f"{text}: {missing}; use --text seeds")
    questions = [r.question for r in load_rows(ROOT / chosen.qa)][:20]
    built = store.load(ROOT / chosen.index_dir) if (ROOT / chosen.index_dir).is_dir() else None
    if built is not None and built.manifest.get("splitter") == store.SPLITTER:
        return list(built.records), questions
    documents = scan(ROOT / chosen.corpus_dir, 1 << 30).documents
    return [store.analyse(d, settings.index, embedder) for d in documents], questions


def build_base(
    corpus: Path, index: Path, passages: int, records: list[store.DocRecord], embedder: Embedder
) -> dict:
    per_round = sum(len(r.passages) for r in records)
    rounds = -(-passages // per_round)
    corpus.mkdir()
    copies = []
    for i in range(rounds):
        for r in records:
            source = f"copy-{i:04d}/{r.document.source}"
            (corpus / source).parent.mkdir(parents=True, exist_ok=True)
            (corpus / source).write_text(r.document.text, encoding="utf-8")
            d = r.document
            copies.append(store.DocRecord(Document(source, d.title, d.text, d.sha256), *_rest(r)))
    n_s = sum(len(r.sentences) for r in copies)
    n_p = sum(len(r.passages) for r in copies)
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1, (2000, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    t = time.perf_counter()
    store.write(
        index,
        copies,
        clustered(n_s, rng, centres),
        clustered(n_p, rng, centres),
        embedder,
        Settings().index,
        corpus=corpus,
    )
    return {
        "articles": len(copies),
        "sentences": n_s,
        "passages": n_p,
        "build_s": time.perf_counter() - t,
        "disk_mb": sum(f.stat().st_size for f in index.rglob("*") if f.is_file()) / 2**20,
    }


def _rest(r: store.DocRecord) -> tuple:
    return r.sentences, r.passages, r.people


def in_new_process(corpus: Path, index: Path, mode: str, questions: list[str]) -> dict:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            OPEN,
            str(corpus),
            str(index),
            mode,
            json.dumps(questions),
            str(ASKS),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"the {mode} process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    default = "bbc" if eval_corpus("bbc").missing() is None else "seeds"
    parser.add_argument("--text", choices=["bbc", "seeds"], default=default)
    parser.add_argument(
        "--append",
        action="store_true",
        help="write into bench/RESULTS.md, replacing its earlier table",
    )
    args = parser.parse_args()
    embedder = Embedder()
    embedder.encode(["load the model before timing anything"])
    records, questions = analysed(args.text, embedder)
    tmp = Path(tempfile.mkdtemp())
    try:
        corpus, index = tmp / "corpus", tmp / "index"
        base = build_base(corpus, index, args.passages, records, embedder)
        del records
        print(f"base: {base}", flush=True)
        live = in_new_process(corpus, index, "live", questions)
        print(f"open as it is: {live}", flush=True)
        synced = in_new_process(corpus, index, "sync", questions[:1])
        print(f"open and check the folder: {synced}", flush=True)
        assistant = Assistant(corpus, index, embedder=embedder, build=False)
        donor = sorted((ROOT / "seeds").glob("*.txt"))
        times = []
        for i in range(ADDS):
            # A line of its own: the same text under a new name is refused as a duplicate.
            data = donor[i % len(donor)].read_bytes() + f"\nUpload number {i}.\n".encode()
            t = time.perf_counter()
            report = assistant.add_article(f"new-{i}.txt", data)
            times.append(time.perf_counter() - t)
            assert report.added == (f"uploads/new-{i}.txt",) and report.embedded_sentences > 0
        segments = len(assistant._index.segments)
        kinds = assistant._index.segments[0].kinds
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        "",
        f"## A large index of real text (`python bench/grow.py --passages {args.passages} "
        f"--text {args.text}`)",
        "",
        f"Base: {base['articles']:,} articles (copies of the {args.text} articles under new "
        f"names), {base['sentences']:,} sentences and {base['passages']:,} passages, synthetic "
        f"vectors; FAISS {kinds['sentences']} for sentences, {kinds['passages']} for passages; "
        f"written in {base['build_s']:.0f} s, {base['disk_mb'] / 1024:.1f} GB on disk.",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| open in a new process as `make run` does (the saved index as it is), imports "
        f"included | {live['opened_s']:.2f} s (imports {live['imported_s']:.2f} s) | ≤ 5 s |",
        f"| resident memory once open | {live['opened_rss_mb']:.0f} MB | ≤ 2 GB |",
        f"| first answer after opening | {live['first_s']:.2f} s | |",
        f"| warm `ask` p50 / p95 ({len(questions)} eval questions × {ASKS}) "
        f"| {live['p50_ms']:.1f} / {live['p95_ms']:.1f} ms | p50 ≤ 100 ms |",
        f"| resident memory after the questions; peak | {live['after_rss_mb']:.0f} MB; "
        f"{live['peak_rss_mb']:.0f} MB | |",
        f"| open in a new process checking the corpus folder (every file read and hashed) "
        f"| {synced['opened_s']:.1f} s | |",
        f"| add one article (check, save, split, embed, write a segment, go live), p50 of {ADDS} "
        f"| {statistics.median(times):.2f} s | |",
        f"| add one article, worst of {ADDS} (the first reads every article once, for the "
        f"duplicate check) | {max(times):.2f} s | |",
        f"| segments after the adds | {segments} | |",
        "",
    ]
    print("\n".join(lines), flush=True)
    if args.append:
        write_results("\n".join(lines))


if __name__ == "__main__":
    main()
