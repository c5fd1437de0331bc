"""Adding an article to a large index: what a user's upload costs at 100k passages.

    python bench/grow.py [--passages 100000] [--append]

The large index holds real text: copies of the five seed articles under distinct file
names (split and attributed once, as the store does), written to a corpus folder, up
to the number of passages asked for. Their vectors are synthetic (clustered unit
vectors, as in bench/scale.py): embedding 300k texts would take this machine over half
an hour, and what is measured here is what happens around the model. Then, through
the public API as the UI does it:

- opening: a new `Assistant` reads the saved index (checksums, FAISS, term counts);
- adding: `Assistant.add_article` for new articles with real text (the seeds under new
  names, each with a line of its own, since a text already in the corpus is refused),
  each checked, saved, split, embedded with the real model, written as a new segment
  and made live; p50 and worst of several (the first also reads every article's text
  once, for the duplicate check);
- a warm question over the grown index, and the process's resident memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
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
from eval.rows import load_rows  # noqa: E402
from rag import Assistant, store  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.corpus import scan  # noqa: E402
from rag.embedding import Embedder  # noqa: E402
from rag.types import Document  # noqa: E402

ADDS = 5


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_base(corpus: Path, index: Path, passages: int, embedder: Embedder) -> dict:
    settings = Settings()
    seeds = [
        store.analyse(d, settings.index, embedder) for d in scan(ROOT / "seeds", 1 << 30).documents
    ]
    per_round = sum(len(r.passages) for r in seeds)
    rounds = -(-passages // per_round)
    corpus.mkdir()
    records = []
    for i in range(rounds):
        for r in seeds:
            source = f"copy-{i:05d}-{r.document.source}"
            (corpus / source).write_text(r.document.text, encoding="utf-8")
            d = r.document
            copy = Document(source, d.title, d.text, d.sha256)
            records.append(store.DocRecord(copy, r.sentences, r.passages))
    n_s = sum(len(r.sentences) for r in records)
    n_p = sum(len(r.passages) for r in records)
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1, (2000, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    t = time.perf_counter()
    store.write(
        index,
        records,
        clustered(n_s, rng, centres),
        clustered(n_p, rng, centres),
        embedder,
        settings.index,
        corpus=corpus,
    )
    return {
        "articles": len(records),
        "sentences": n_s,
        "passages": n_p,
        "build_s": time.perf_counter() - t,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument(
        "--append",
        action="store_true",
        help="write into bench/RESULTS.md, replacing its earlier table",
    )
    args = parser.parse_args()
    embedder = Embedder()
    embedder.encode(["load the model before timing anything"])
    tmp = Path(tempfile.mkdtemp())
    try:
        corpus, index = tmp / "corpus", tmp / "index"
        base = build_base(corpus, index, args.passages, embedder)
        print(f"base: {base}", flush=True)
        before = rss_mb()
        t = time.perf_counter()
        assistant = Assistant(corpus, index, embedder=embedder)
        open_s = time.perf_counter() - t
        assert not assistant.report.changed, assistant.report
        opened_rss = rss_mb() - before
        seeds = sorted((ROOT / "seeds").glob("*.txt"))
        times = []
        for i in range(ADDS):
            # A line of its own: the same text under a new name is refused as a duplicate.
            data = seeds[i % len(seeds)].read_bytes() + f"\nUpload number {i}.\n".encode()
            t = time.perf_counter()
            report = assistant.add_article(f"new-{i}.txt", data)
            times.append(time.perf_counter() - t)
            assert report.added == (f"uploads/new-{i}.txt",) and report.embedded_sentences > 0
        segments = len(assistant._index.segments)
        questions = [r.question for r in load_rows(ROOT / "eval" / "qa.jsonl")][:20]
        for q in questions:
            assistant.ask(q)
        asks = []
        for q in questions * 3:
            t = time.perf_counter()
            assistant.ask(q)
            asks.append((time.perf_counter() - t) * 1000)
        kinds = assistant._index.segments[0].kinds
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        "",
        f"## Adding an article to a large index (`python bench/grow.py --passages {args.passages}`)",
        "",
        f"Base: {base['articles']:,} articles (copies of the seeds under new names), "
        f"{base['sentences']:,} sentences and {base['passages']:,} passages, synthetic "
        f"vectors; FAISS {kinds['sentences']} for sentences, {kinds['passages']} for passages; "
        f"written in {base['build_s']:.0f} s.",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| add one article (check, save, split, embed, write a segment, go live), p50 of {ADDS} "
        f"| {statistics.median(times):.2f} s | ≤ 1 s |",
        f"| add one article, worst of {ADDS} | {max(times):.2f} s | |",
        f"| segments after the adds | {segments} | |",
        f"| open the saved index in a running process (scan 2 × checksums, FAISS, terms) "
        f"| {open_s:.1f} s | |",
        f"| resident memory the opened index added | {opened_rss:.0f} MB | |",
        f"| warm `ask` p50 over the grown index (20 eval questions × 3) "
        f"| {statistics.median(asks):.1f} ms | |",
        "",
    ]
    print("\n".join(lines), flush=True)
    if args.append:
        write_results("\n".join(lines))


if __name__ == "__main__":
    main()
